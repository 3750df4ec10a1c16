"""The embedded backend: eth-tester's in-process chain, kept in a state file (:mod:`rwa.chain.state_log`).

Two forms of one chain. :class:`EmbeddedBackend` answers through plain eth-tester and web3.py, as a node would be
asked. :class:`FastEmbeddedBackend`, the default, answers the same questions straight from py-evm
(:class:`rwa.chain.embedded_direct.DirectNode`: calls on the head's state kept warm, transactions signed and mined
without web3.py's request pipeline, a log scan that reads each block once), with the same answers; its deep end, the
view interpreter loop and the trie node cache of :mod:`rwa.chain.embedded_views`, touches private names of py-evm,
eth-tester, trie and web3.py. ``RWA_FAST_PATH=0`` (or ``connect(fast=False)``) opens the plain form: slower, and
reliant on public interfaces only.

On both, a transaction is mined in a block of its own when it is sent, and a transaction that would revert can be
taken back (:meth:`EmbeddedBackend.send_raw_unless_reverted`) instead of being dry-run first.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import BlockIdentifier, FilterParams, LogReceipt, RPCEndpoint, RPCResponse

from rwa.chain.backend import query_parts
from rwa.chain.embedded_direct import PRIORITY_FEE, DirectNode, recording
from rwa.chain.keys import EMBEDDED_ACCOUNTS
from rwa.chain.rpc import Web3Backend
from rwa.chain.state_log import (
    GENESIS_SALT_BYTES,
    STATE_FORMAT,
    ChainStateLog,
    TrackingDict,
    recorded_salt,
)
from rwa.errors import StateFileError

EMBEDDED_GAS_LIMIT = 25_000_000
"""The gas sent with a transaction on the embedded chain when none is given (its blocks hold 30M)."""
_GENESIS_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z

_MUTATING = frozenset(
    {
        "eth_sendTransaction",
        "eth_sendRawTransaction",
        "evm_mine",
        "evm_revert",
        "testing_timeTravel",
        "testing_mine",
        "evm_setNextBlockTimestamp",
    }
)


class EmbeddedProvider(EthereumTesterProvider):
    """eth-tester's provider, flushing changed key-values to the state file after each request that wrote any.

    ``direct`` is the fast path over the same chain when it is on: it forgets what it read of the head whenever a
    request through web3.py moves the chain."""

    def __init__(self, tester: Any, store: TrackingDict, state: ChainStateLog, meta: dict[str, str]) -> None:
        super().__init__(tester)
        self._store = store
        self._state = state
        self._meta = meta
        self.tester = tester
        self.direct: DirectNode | None = None

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        response = super().make_request(method, params)
        if self.direct is not None and (method in _MUTATING or method.startswith("evm_")):
            self.direct.forget_head()
        if self._store.dirty and (method in _MUTATING or "result" in response):
            self.flush()
        return response

    def flush(self) -> None:
        if not self._store.dirty:
            return
        dirty, self._store.dirty = self._store.dirty, set()
        self._state.write(self._meta, self._store, dirty)


class EmbeddedBackend(Web3Backend):
    """The embedded chain asked through web3.py (eth-tester's provider), as a node is."""

    kind = "embedded"
    default_gas_limit = EMBEDDED_GAS_LIMIT
    logs_complete = True
    mines_at_once = True

    def __init__(self, w3: Web3, location: str, provider: EmbeddedProvider, state: ChainStateLog | None) -> None:
        super().__init__(w3, location)
        self._provider = provider
        self._state = state

    @property
    def is_dev(self) -> bool:
        return True

    @property
    def network(self) -> str:
        return "embedded"

    def gas_price(self) -> int:
        """Twice the head's base fee (it can rise 12.5% a block) plus the priority fee."""
        return 2 * int(self.w3.eth.get_block("latest")["baseFeePerGas"]) + PRIORITY_FEE

    def send_raw_unless_reverted(self, raw: bytes) -> bytes | None:
        """The transaction is mined at once; one that reverts is taken back (the chain returns to the block before
        it: no block, no nonce used) and None returned. A caller that would dry-run it first runs it once."""
        snapshot = self.take_snapshot()
        tx_hash = self.send_raw(raw)
        if self.receipt(tx_hash, 0.0)["status"] != 1:
            self.revert_to(snapshot)
            return None
        return tx_hash

    def receipt(self, tx_hash: bytes, timeout: float) -> Any:
        """A sent transaction is mined already: its receipt is there."""
        return self.w3.eth.get_transaction_receipt(HexBytes(tx_hash))

    def time_travel(self, timestamp: int) -> None:
        # eth-tester stamps the block it mines one second early; ask for one more so "latest" reaches it
        self.w3.provider.make_request(RPCEndpoint("testing_timeTravel"), [timestamp + 1])

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None


class FastEmbeddedBackend(EmbeddedBackend):
    """The embedded chain reached straight through py-evm (:class:`DirectNode`); the same answers, faster.

    A view at another block than the latest or a numbered one goes through web3.py."""

    local_views = True

    def __init__(self, w3: Web3, location: str, provider: EmbeddedProvider, state: ChainStateLog | None) -> None:
        super().__init__(w3, location, provider, state)
        self.direct = DirectNode(provider.tester, provider.flush)
        provider.direct = self.direct

    def add_keys(self, accounts: Sequence[LocalAccount]) -> None:
        super().add_keys(accounts)
        self.direct.add_keys(accounts)

    def head(self) -> tuple[int, int]:
        return self.direct.head()

    def pending_timestamp(self) -> int:
        return self.direct.pending_timestamp()

    def block(self, number: int) -> tuple[bytes, int]:
        return self.direct.block(number)

    def sender_of(self, tx_hash: bytes, number: int) -> str:
        return self.direct.sender_of(tx_hash, number)

    def nonce(self, address: str) -> int:
        return self.direct.nonce(address)

    def gas_price(self) -> int:
        return self.direct.gas_price()

    def code_hash(self, address: str) -> bytes:
        return self.direct.code_hash(address)

    def call(self, to: str | None, data: bytes, sender: str, block: BlockIdentifier = "latest") -> tuple[bool, bytes]:
        if block == "latest" or isinstance(block, int):
            return self.direct.call(to, data, sender, block)
        return super().call(to, data, sender, block)

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] = (),
                 topics: Sequence[Any] = ()) -> list[LogReceipt]:
        return self.direct.get_logs(from_block, to_block, addresses, topics)

    def get_logs_of(self, queries: Sequence[FilterParams]) -> list[list[LogReceipt]]:
        """The queries' blocks scanned once for all their addresses, then each query's logs picked from the scan, as
        a node would answer it (a scan decodes every block header of its range)."""
        if not queries:
            return []
        parts = [query_parts(q) for q in queries]
        everything = any(not addresses for _, _, addresses, _ in parts)
        union = [] if everything else list(dict.fromkeys(a.lower() for _, _, addresses, _ in parts for a in addresses))
        logs = self.direct.get_logs(min(p[0] for p in parts), max(p[1] for p in parts), union)
        return [[log for log in logs if matcher(log)] for matcher in (_Matcher(*p) for p in parts)]

    def transact(self, sender: str, to: str | None, data: bytes, gas: int | None, value: int = 0) -> bytes:
        return bytes(self.direct.send(sender, to, data, gas or EMBEDDED_GAS_LIMIT, value))

    def send_raw(self, raw: bytes) -> bytes:
        return bytes(self.direct.send_raw(raw))

    def send_raw_unless_reverted(self, raw: bytes) -> bytes | None:
        tx_hash = self.direct.send_raw_unless_reverted(raw)
        return None if tx_hash is None else bytes(tx_hash)

    def receipt(self, tx_hash: bytes, timeout: float) -> Any:
        return self.direct.receipt(tx_hash)

    def time_travel(self, timestamp: int) -> None:
        # eth-tester stamps the block it mines one second early; ask for one more so "latest" reaches it
        self.direct.time_travel(timestamp + 1)


class _Matcher:
    """Whether a log is one an ``eth_getLogs`` query (block bounds, addresses, topics by position) asks for."""

    def __init__(self, lower: int, upper: int, addresses: list[str], topics: list[Any]) -> None:
        self.lower, self.upper = lower, upper
        self.addresses = {a.lower() for a in addresses}
        self.topics = [None if t is None else {bytes(HexBytes(x)) for x in (t if isinstance(t, list) else [t])}
                       for t in topics]

    def __call__(self, log: LogReceipt) -> bool:
        if not self.lower <= int(log["blockNumber"]) <= self.upper:
            return False
        if self.addresses and str(log["address"]).lower() not in self.addresses:
            return False
        topics = log["topics"]
        return len(self.topics) <= len(topics) and all(
            want is None or bytes(topics[i]) in want for i, want in enumerate(self.topics))


def genesis_params(salt: bytes | None) -> dict[str, Any]:
    """The embedded chain's genesis header fields: fixed, but for ``salt`` (:data:`GENESIS_SALT_BYTES`) in its
    extra data when the chain has one."""
    from eth_tester import PyEVMBackend

    overrides: dict[str, Any] = {"timestamp": _GENESIS_TIMESTAMP}
    if salt is not None:
        overrides["extra_data"] = salt
    params: dict[str, Any] = PyEVMBackend.generate_genesis_params(overrides=overrides)
    return params


def open_embedded(state: ChainStateLog, meta: dict[str, str], kv: dict[bytes, bytes],
                  fast: bool = True) -> tuple[EmbeddedBackend, list[LocalAccount]]:
    """The embedded chain kept in ``state``, opened already (:meth:`ChainStateLog.open` gave its ``meta`` and
    key-values ``kv``; empty meta for a new chain): its backend, fast or plain, and its development keys. The caller
    closes ``state`` when this fails."""
    from eth_tester import EthereumTester, PyEVMBackend

    from rwa.chain.embedded_logs import FastLogsTester

    state_path = state.path
    new_salt = os.urandom(GENESIS_SALT_BYTES)
    salt = recorded_salt(meta, state_path) if meta else new_salt
    params = genesis_params(salt)
    genesis_state = PyEVMBackend.generate_genesis_state(num_accounts=EMBEDDED_ACCOUNTS)
    evm = PyEVMBackend(genesis_parameters=params, genesis_state=genesis_state)
    base_db = evm.chain.chaindb.db
    memory = base_db.wrapped_db
    genesis_hash = evm.chain.get_canonical_block_header_by_number(0).hash.hex()
    if meta:
        if meta.get("genesis") != genesis_hash:
            raise StateFileError(
                f"{state_path} holds a chain with another genesis ({meta.get('genesis')}); "
                "it was made by another tool or version: pass another --state or `rwa chain reset --yes`"
            )
        store = TrackingDict(kv)
        memory.kv_store = store
    else:
        store = TrackingDict(memory.kv_store)
        memory.kv_store = store
        store.dirty = set(store)
        meta = {
            "format": STATE_FORMAT,
            "genesis": genesis_hash,
            "salt": new_salt.hex(),
            "chain_id": str(evm.chain.chain_id),
            "created": str(int(time.time())),
        }
    # the chain is made again over the database just filled: it reads its head (and the pending block on it)
    # from there
    chain_class: Any = type(evm.chain)
    evm.chain = (recording(chain_class) if fast else chain_class)(base_db)
    tester = FastLogsTester(evm) if fast else EthereumTester(evm)
    provider = EmbeddedProvider(tester, store, state, meta)
    if store.dirty:
        provider.flush()
    w3 = Web3(provider)
    kind = FastEmbeddedBackend if fast else EmbeddedBackend
    backend = kind(w3, str(state_path), provider, state)
    accounts = [Account.from_key(k.to_bytes()) for k in evm.account_keys]
    return backend, accounts
