"""What every contract wrapper shares: binding, addresses, gas, sending, calling and AccessControl roles.

A wrapper is a thin typed class over one web3 contract. Every transaction names its ``sender``. ``gas``, when the
wrapper is given one, is sent with every single-call transaction instead of an estimate; on the embedded chain a
method may name its own limit (estimation re-runs the call about twenty times there), and on a real node the node
estimates. A revert is decoded into the contract's custom error either way (``rwa.chain.tx``).
"""

from __future__ import annotations

import enum
import functools
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self

from eth_utils.crypto import keccak
from web3 import Web3
from web3.contract import Contract
from web3.contract.contract import ContractFunction
from web3.types import BlockIdentifier, TxReceipt

from rwa.chain import tx
from rwa.chain.interface import Chain, checksummed
from rwa.errors import InputError
from rwa.model.units import ZERO_ADDRESS

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch


class HasAddress(Protocol):
    """Anything deployed: a wrapper or a web3 contract."""

    @property
    def address(self) -> str: ...


def to_address(target: str | HasAddress) -> str:
    """The checksummed address of an address string or of anything with an ``address``."""
    return _checksummed(target if isinstance(target, str) else target.address)


def account_input(value: str, option: str, *, zero: bool = False) -> str:
    """An account a person typed for ``option``, checksummed: a mixed-case address must carry a valid EIP-55
    checksum (a mistyped character is caught, not turned into another account), and the zero address is refused
    unless ``zero``. Raises ``InputError`` naming the option."""
    text = value.strip()
    if not Web3.is_address(text):
        raise InputError(f"{option} {value!r}: not an Ethereum address (0x and 40 hex digits)")
    body = text.removeprefix("0x").removeprefix("0X")
    if body != body.lower() and body != body.upper() and not Web3.is_checksum_address(text):
        raise InputError(f"{option} {value}: the mixed-case checksum is wrong (a mistyped character?); "
                         f"copy the address again, or give it in lower case")
    address = checksummed(text)
    if not zero and int(body, 16) == 0:
        raise InputError(f"{option} {value}: the zero address is no account")
    return address


@functools.lru_cache(maxsize=65_536)
def _checksummed(raw: str) -> str:
    """``raw`` checksummed (once per process per string: every wrapper call names addresses)."""
    if not Web3.is_address(raw):
        raise InputError(f"{raw!r} is not an Ethereum address")
    return checksummed(raw)


ANYONE = ZERO_ADDRESS
"""Every account: the member that opens a role to all (OpenZeppelin's ``onlyRoleOrOpenRole``, the timelock's open
executor) and the buyer of an order any account may fill."""


def create(chain: Chain, name: str, *args: Any, sender: str | None, gas: int | None = None,
           batch: Batch | None = None) -> Contract:
    """Deploy the build's contract ``name``; with ``batch``, add its creation there instead and bind the address
    it will have (:meth:`rwa.chain.pipeline.Batch.deploy`)."""
    if batch is None:
        return tx.deploy(chain, name, *args, sender=sender, gas=gas)
    return tx.contract_at(chain, name, batch.deploy(name, *args, sender=sender or chain.accounts[0].address, gas=gas))


class Role(enum.StrEnum):
    """The AccessControl roles of the project's contracts, by their Solidity names."""

    DEFAULT_ADMIN_ROLE = "DEFAULT_ADMIN_ROLE"
    ISSUER_ROLE = "ISSUER_ROLE"
    SERVICER_ROLE = "SERVICER_ROLE"
    AGENT_ROLE = "AGENT_ROLE"
    COMPLIANCE_ROLE = "COMPLIANCE_ROLE"
    DISTRIBUTOR_ROLE = "DISTRIBUTOR_ROLE"
    TRUSTEE_ROLE = "TRUSTEE_ROLE"
    PROPOSER_ROLE = "PROPOSER_ROLE"
    EXECUTOR_ROLE = "EXECUTOR_ROLE"
    CANCELLER_ROLE = "CANCELLER_ROLE"

    @property
    def id(self) -> bytes:
        """The role's 32-byte id: keccak of its name, the zero id for the admin role."""
        return bytes(32) if self is Role.DEFAULT_ADMIN_ROLE else bytes(keccak(text=self.value))


def role_id(role: Role | str) -> bytes:
    """The id of ``role``, given as a :class:`Role` or its name; an unknown name is an ``InputError``."""
    try:
        return Role(role).id
    except ValueError:
        raise InputError(f"{role!r} is not a role of these contracts ({', '.join(Role)})") from None


class ContractWrapper:
    """A deployed contract of the project's build, named ``CONTRACT``."""

    CONTRACT: ClassVar[str]
    ROLES: ClassVar[tuple[Role, ...]] = ()

    def __init__(self, chain: Chain, contract: Contract, gas: int | None = None) -> None:
        self.chain = chain
        self.contract = contract
        self.gas = gas

    @classmethod
    def at(cls, chain: Chain, address: str | HasAddress, gas: int | None = None) -> Self:
        return cls(chain, tx.contract_at(chain, cls.CONTRACT, to_address(address)), gas)

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def _limit(self, gas: int | None = None, embedded_default: int | None = None) -> int | None:
        """The gas to send: the call's, else the wrapper's, else the method's own limit where the chain sends with
        preset limits (:meth:`rwa.chain.interface.Chain.preset_gas`); None lets ``rwa.chain.tx.send`` decide (the
        chain's default: a block-sized limit on the embedded chain, the node's estimate elsewhere)."""
        if gas is not None:
            return gas
        if self.gas is not None:
            return self.gas
        return self.chain.preset_gas(embedded_default)

    def _send(self, fn: ContractFunction, sender: str, gas: int | None = None,
              embedded_default: int | None = None) -> TxReceipt:
        return tx.send(fn, sender, self._limit(gas, embedded_default))

    def _send_estimated(self, fn: ContractFunction, sender: str) -> TxReceipt:
        """Send with the node's estimate: batches need far more gas than one call."""
        return tx.send(fn, sender)

    def _call(self, fn: ContractFunction, block: BlockIdentifier = "latest") -> Any:
        return tx.call(fn, block=block)

    def _call_many(self, fns: list[ContractFunction], block: BlockIdentifier = "latest") -> list[Any]:
        """Several views read together at one block (:func:`rwa.chain.tx.call_many`)."""
        return tx.call_many(fns, block=block)

    # -- AccessControl -----------------------------------------------------------------------------------------

    def has_role(self, role: Role | str, account: str | HasAddress) -> bool:
        return bool(self._call(self.contract.functions.hasRole(role_id(role), to_address(account))))

    def grant_role(self, role: Role | str, account: str | HasAddress, *, sender: str) -> TxReceipt:
        """Grant ``role`` to ``account``; ``sender`` needs the role's admin role."""
        return self._send(self.contract.functions.grantRole(role_id(role), to_address(account)), sender)

    def renounce_role(self, role: Role | str, *, sender: str) -> TxReceipt:
        """Give up ``role`` held by ``sender`` itself."""
        return self._send(self.contract.functions.renounceRole(role_id(role), to_address(sender)), sender)

    def revoke_role(self, role: Role | str, account: str | HasAddress, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.revokeRole(role_id(role), to_address(account)), sender)


def eip712_message(
    name: str, version: str, chain_id: int, contract: str, primary: str, fields: list[dict[str, str]],
    message: dict[str, Any], extra_types: dict[str, list[dict[str, str]]] | None = None,
) -> dict[str, Any]:
    """An EIP-712 message under a contract's domain (OpenZeppelin's ``EIP712``: name, version, chain, contract);
    ``extra_types`` are the struct types ``fields`` refer to."""
    return {
        "types": {
            "EIP712Domain": [
                {"name": "name", "type": "string"},
                {"name": "version", "type": "string"},
                {"name": "chainId", "type": "uint256"},
                {"name": "verifyingContract", "type": "address"},
            ],
            primary: fields,
            **(extra_types or {}),
        },
        "primaryType": primary,
        "domain": {"name": name, "version": version, "chainId": chain_id,
                   "verifyingContract": Web3.to_checksum_address(contract)},
        "message": message,
    }


def eip712_digest(full_message: dict[str, Any]) -> bytes:
    """The 32-byte digest a key signs for ``full_message`` (what the contract's ``_hashTypedDataV4`` computes)."""
    from eth_account.messages import encode_typed_data

    signable = encode_typed_data(full_message=full_message)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)
