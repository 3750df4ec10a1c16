"""The backend interface: what the project asks of a chain, answered by each backend of :mod:`rwa.chain`.

The project holds a :class:`rwa.chain.interface.Chain`, a thin front over one :class:`Backend`; only the package's
own modules see a backend.
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.types import BlockIdentifier, FilterParams, LogReceipt


@functools.lru_cache(maxsize=65_536)
def checksummed(address: str | bytes) -> str:
    """EIP-55 form of ``address`` (hex or 20 bytes), once per process per address: a deal's calls, receipts and
    events name the same few thousand accounts over and over, and each checksum is a keccak."""
    return str(Web3.to_checksum_address(address))


class Backend(ABC):
    """What the project asks of a chain, answered by one backend. Transaction hashes are 32 bytes, addresses 0x-hex;
    receipts and logs are in web3.py's form (``AttributeDict``s with the same fields on every backend)."""

    w3: Web3
    """A web3.py connection to the same chain (contract bindings, ABI encoding, and any request not listed here)."""
    kind: str
    """A label for people: 'embedded' or 'rpc'."""
    location: str
    """The state file's path or the node's URL."""

    # -- capabilities ---------------------------------------------------------------------------------------------

    @property
    @abstractmethod
    def is_dev(self) -> bool:
        """A local development chain: its clock may be moved, snapshots taken and test tokens deployed."""

    @property
    @abstractmethod
    def network(self) -> str:
        """What a manifest records as the network: 'embedded' or the node's URL."""

    @functools.cached_property
    def chain_id(self) -> int:
        """The chain's id, asked once: a connection stays on one chain."""
        return int(self.w3.eth.chain_id)

    default_gas_limit: int | None = None
    """The gas a transaction is sent with when the caller gives none; None lets the node estimate it. The embedded
    chain presets a limit near its blocks' (estimating re-runs the call about twenty times there; a revert refunds
    what is unused and is decoded from the receipt)."""
    local_views: bool = False
    """A view call costs no round trip and no request formatting: several views run one by one cost less than one
    batched call (whose ABI work in the EVM is not free)."""
    logs_complete: bool = False
    """The logs are read from the chain's own blocks in this process, so a query cannot leave one out."""
    mines_at_once: bool = False
    """Each transaction is mined as it is sent, before the send returns: nothing is gained by sending several before
    waiting, and a transaction may be estimated on the state its predecessor left."""

    # -- reads ----------------------------------------------------------------------------------------------------

    @abstractmethod
    def head(self) -> tuple[int, int]:
        """The latest block's number and timestamp."""

    @abstractmethod
    def pending_timestamp(self) -> int:
        """The timestamp the next block will carry."""

    @abstractmethod
    def block(self, number: int) -> tuple[bytes, int]:
        """Canonical block ``number``'s hash and timestamp."""

    @abstractmethod
    def sender_of(self, tx_hash: bytes, number: int) -> str:
        """Who signed the transaction ``tx_hash`` mined in block ``number`` (checksummed)."""

    @abstractmethod
    def nonce(self, address: str) -> int:
        """The nonce ``address``'s next transaction takes (its pending transactions counted)."""

    @abstractmethod
    def gas_price(self) -> int:
        """A legacy fee per gas the next blocks take."""

    @abstractmethod
    def code_hash(self, address: str) -> bytes:
        """The keccak of the code at ``address`` at the head."""

    @abstractmethod
    def call(self, to: str | None, data: bytes, sender: str, block: BlockIdentifier = "latest") -> tuple[bool, bytes]:
        """A view call; ``(True, output)``, or ``(False, revert data)`` when it reverts (empty when the EVM failed
        otherwise). Without ``to`` the data is creation code, run and never deployed."""

    @abstractmethod
    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] = (),
                 topics: Sequence[Any] = ()) -> list[LogReceipt]:
        """``eth_getLogs`` over mined blocks; ``topics`` as in a filter (per position None, one topic or a list)."""

    def get_logs_of(self, queries: Sequence[FilterParams]) -> list[list[LogReceipt]]:
        """Each query's logs, query by query (numbered ``fromBlock``/``toBlock``)."""
        return [self.get_logs(*query_parts(q)) for q in queries]

    # -- sends ----------------------------------------------------------------------------------------------------

    @abstractmethod
    def add_keys(self, accounts: Sequence[LocalAccount]) -> None:
        """Let these local keys sign what the backend sends."""

    @abstractmethod
    def transact(self, sender: str, to: str | None, data: bytes, gas: int | None, value: int = 0) -> bytes:
        """Sign a transaction with ``sender``'s local key and send it; its hash. Without ``gas`` the node estimates
        it, and a revert in the estimate raises (web3.py's error, whose revert data :mod:`rwa.chain.reverts`
        reads)."""

    @abstractmethod
    def send_raw(self, raw: bytes) -> bytes:
        """Broadcast a signed transaction; its hash."""

    @abstractmethod
    def send_raw_unless_reverted(self, raw: bytes) -> bytes | None:
        """Broadcast a signed transaction unless it reverts: None, and nothing of it on the chain, when it does."""

    @abstractmethod
    def receipt(self, tx_hash: bytes, timeout: float) -> Any:
        """The receipt of ``tx_hash``, waiting up to ``timeout`` seconds for it to be mined (web3.py's
        ``TimeExhausted`` when it is not)."""

    # -- the development clock and snapshots ----------------------------------------------------------------------

    @abstractmethod
    def time_travel(self, timestamp: int) -> None:
        """Mine a block so that the next one (or the latest) is stamped ``timestamp``."""

    @abstractmethod
    def mine(self) -> None:
        """Mine a block now (empty unless transactions wait)."""

    @abstractmethod
    def take_snapshot(self) -> object:
        """Remember the chain's state; an opaque id."""

    @abstractmethod
    def revert_to(self, snapshot: object) -> None:
        """Go back to a state from :meth:`take_snapshot`."""

    @abstractmethod
    def close(self) -> None:
        """Let go of what the backend holds (the state file's lock)."""


def query_parts(query: FilterParams) -> tuple[int, int, list[str], list[Any]]:
    address = query.get("address") or []
    addresses = [address] if isinstance(address, str) else list(address)
    return (int(query["fromBlock"]), int(query["toBlock"]),  # type: ignore[arg-type]
            [str(a) for a in addresses], list(query.get("topics") or []))
