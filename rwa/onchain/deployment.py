"""The deployment manifest: where a deal's contracts live and what they were built from; and opening it on a chain.

Written atomically (temp file + rename) by the issuer; read by every later command (publish, distribute, claim,
status, replay). ``progress`` records each completed issuance step so that a run that died halfway resumes.

:func:`open_session` is the one way a command gets from ``--deployment`` to a chain it may act on: it loads the
manifest, connects, and checks that the chain is the manifest's (chain id, and code at the contract it needs).
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, Field, ValidationError

from rwa.errors import InputError
from rwa.model.terms import RecordedTerms
from rwa.paths import state_dir, writable_file, write_json_atomic

if TYPE_CHECKING:  # the chain's libraries are imported when a chain is reached: reading a manifest needs none
    from rwa.chain.interface import Chain

MANIFEST_FORMAT = "rwa-deployment/3"


def default_manifest_path() -> Path:
    return Path(os.environ.get("RWA_DEPLOYMENT") or state_dir() / "deployment.json")


class Roles(BaseModel):
    """Who holds which power in the deployment. ``admin`` deploys and wires the contracts, then renounces every
    role it held; the deal's timelock (``contracts["timelock"]``) holds the admin roles after issuance."""

    admin: str = Field(description="the deployer: no role left once issuance is complete")
    issuer: str = Field(description="proposes privileged calls to the timelock")
    servicer: str
    agent: str = Field(description="the compliance agent: KYC records, freezes, pauses")
    fee_recipient: str
    trustee: str = Field(description="acts for the holders: cancels timelocked calls, declares and cures default")
    reporters: list[str]
    threshold: int
    delay_seconds: int = Field(description="the timelock's delay")


class PendingDeploy(BaseModel):
    """A contract creation about to be sent: if the process dies, the next run looks for its CREATE address."""

    key: str
    sender: str
    nonce: int


class PendingTransaction(BaseModel):
    """One transaction of a batch about to be broadcast (:mod:`rwa.chain.pipeline`)."""

    step: str = Field(description="the issuance step it is for; a deployment's is its contract's key")
    sender: str
    nonce: int
    tx_hash: str | None = Field(default=None, description="None on the embedded chain (mined when sent)")
    created: str | None = Field(default=None, description="the address a deployment creates")


class PendingBatch(BaseModel):
    """Transactions about to be broadcast together: if the process dies, the next run adopts what was mined (a
    contract at its CREATE address) and plans the rest again from the chain's state, with the nonces left free."""

    transactions: list[PendingTransaction]


class Manifest(BaseModel):
    """What a deployment is. Contract names are the keys of ``contracts``:
    ``stablecoin``, ``registry``, ``oracle``, ``senior``, ``junior``, ``pool``."""

    format: str = MANIFEST_FORMAT
    chain_id: int
    network: str = Field(description="'embedded' or the JSON-RPC URL used at issuance")
    deployment_block: int
    deployment_block_hash: str = Field(default="", description="tells apart chains reset to the same addresses")
    deal_file: str
    deal_hash: str
    compiler_version: str
    contracts: dict[str, str] = Field(default_factory=dict)
    abi_hashes: dict[str, str] = Field(default_factory=dict)
    roles: Roles
    senior_size: int
    junior_size: int
    terms: RecordedTerms | None = None
    progress: list[str] = Field(default_factory=list)
    pending_deploy: PendingDeploy | None = None
    pending_batch: PendingBatch | None = None
    complete: bool = False

    def address(self, name: str) -> str:
        try:
            return self.contracts[name]
        except KeyError:
            raise InputError(f"deployment has no {name!r} contract; has {sorted(self.contracts)}") from None


def load_manifest(path: Path) -> Manifest:
    if path.is_dir():
        raise InputError(f"--deployment {path}: is a folder; give the deployment manifest's JSON file")
    if not path.is_file():
        raise InputError(f"no deployment manifest at {path}: run `rwa issue --deal FILE` first or pass --deployment")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{path}: not a JSON deployment manifest ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{path}: not a deployment manifest (format is not {MANIFEST_FORMAT!r})")
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{path}: {field}: {first['msg']}") from None


def save_manifest(manifest: Manifest, path: Path) -> None:
    """Write atomically: a reader sees the old manifest or the new one, never half of one."""
    writable_file(path, "--out")
    write_json_atomic(path, manifest.model_dump())


def check_same_chain(chain: Chain, manifest: Manifest, what: str = "the deployment") -> None:
    """Refuse a chain that is not the one ``manifest`` was written on: another chain id, or another block where the
    manifest's anchor block stands (its ``deployment_block_hash``). Embedded chains share their chain id and their
    addresses; each has a genesis of its own (:data:`rwa.chain.state_log.GENESIS_SALT_BYTES`), so a manifest anchored at
    another one's genesis or later blocks is refused here."""
    if manifest.chain_id != chain.chain_id:
        raise InputError(
            f"{what} is on chain {manifest.chain_id} but this is chain {chain.chain_id}: "
            "pass the matching --rpc-url/--state or another --deployment"
        )
    if not manifest.deployment_block_hash:
        return  # written before manifests recorded their anchor
    number = manifest.deployment_block
    here = chain.block_hash(number)
    if here is None or here.lower() != manifest.deployment_block_hash.lower():
        shown = "no such block" if here is None else here
        raise InputError(
            f"{what} was written on another chain: its block {number} is {manifest.deployment_block_hash}, "
            f"this chain's is {shown}; pass the matching --rpc-url/--state or this chain's --deployment"
        )


_FUNCTIONS = {
    "pool": ("lastDistributedPeriod()", "distribute(uint256)"),
    "oracle": ("latestPeriod()", "threshold()"),
}
"""Functions every version of the contract a command starts from has: a contract's dispatcher holds each of its
selectors in its code (the optimizer drops a selector's leading zero bytes), so another contract is told apart
before it is called."""


def check_chain(chain: Chain, manifest: Manifest, contract: str = "pool") -> None:
    """Refuse a chain that is not the manifest's (:func:`check_same_chain`), or has no code at the ``contract`` it
    names."""
    from web3 import Web3

    check_same_chain(chain, manifest)
    address = manifest.address(contract)
    code = bytes(chain.w3.eth.get_code(Web3.to_checksum_address(address)))
    if len(code) == 0:
        raise InputError(
            f"no {contract} contract at {address} on chain {chain.chain_id}: a foreign manifest or the wrong chain "
            "(was it reset?)"
        )
    missing = [f for f in _FUNCTIONS.get(contract, ()) if Web3.keccak(text=f)[:4].lstrip(b"\0") not in code]
    if missing:
        raise InputError(f"the manifest's {contract} {address} is not a {contract} (its code has no {missing[0]}): "
                         "the manifest was edited or names another contract; pass the deployment's own manifest")


@contextlib.contextmanager
def open_session(
    deployment: Path | None,
    rpc_url: str | None = None,
    state: Path | None = None,
    *,
    contract: str = "pool",
    connector: Callable[[], Chain] | None = None,
) -> Iterator[tuple[Manifest, Chain]]:
    """The manifest and a connected chain checked against it (:func:`check_chain`), closed afterwards.

    The manifest is read before connecting, so a missing or malformed one never touches the chain; ``connector``
    replaces the plain :func:`rwa.chain.connect.connect` (the oracle retries it while a node is down).
    """
    from rwa.chain.connect import connect

    manifest = load_manifest(deployment or default_manifest_path())
    chain = connector() if connector is not None else connect(rpc_url=rpc_url, state=state)
    try:
        check_chain(chain, manifest, contract)
        yield manifest, chain
    finally:
        chain.close()
