"""One way to reach a chain: the embedded eth-tester chain (persisted to a state file) or any JSON-RPC node.

``connect()`` returns a :class:`Chain`: a ready ``web3`` whose transactions are signed locally by the accounts it
holds, whichever backend is underneath. The embedded chain keeps its py-evm key-value database in SQLite: every
write is flushed to the file when a request that changed it returns, so separate processes share one local chain and
a crash loses at most the request in flight. Only one process holds the state file at a time (an exclusive lock).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import sqlite3
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3
from web3.middleware import SignAndSendRawMiddlewareBuilder
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import RPCEndpoint, RPCResponse

from rwa.chain.embedded_views import view_computation, view_state
from rwa.errors import ChainError, InputError, NodeUnreachableError, StateFileError
from rwa.paths import SQLITE_HEADER, read_only_uri, state_dir
from rwa.settings import env_number

STATE_FORMAT = "rwa-embedded-chain/2"
"""The key-value pairs as an append-only log (``kv_log``): a block's writes append a few pages."""
_STATE_FORMAT_V1 = "rwa-embedded-chain/1"
"""The pairs in a table keyed by the key (``kv``): each block rewrote pages all over its B-tree. Migrated on open."""
COMPACT_AFTER = 100_000
"""A log holding this many rows more than twice its live keys is rewritten when it is opened."""
DEV_CHAIN_IDS = frozenset({131277322940537, 31337, 1337})
"""eth-tester's chain id and the usual ids of local development nodes (anvil, hardhat, ganache)."""

EMBEDDED_ACCOUNTS = 20
DEV_ROLE_SLOTS = 5
"""On a development chain the local keys 0..4 sign as deployer/issuer, servicer, compliance agent, fee recipient and
trustee."""
DEV_REPORTER_SLOT = 10
"""... and the oracle's reporters sign with the keys from this slot on."""
_GENESIS_TIMESTAMP = 1_767_225_600  # 2026-01-01T00:00:00Z
GENESIS_SALT_BYTES = 32
"""A new state file's genesis carries this many random bytes (its header's ``extra_data``, stored in the file's
``salt`` meta row): every embedded chain then has a genesis, and block hashes, of its own, though its chain id, keys
and contract addresses are those of every other embedded chain. A file without the row is older, and its genesis
the fixed one every such file shares."""

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


@functools.lru_cache(maxsize=65_536)
def checksummed(address: str | bytes) -> str:
    """EIP-55 form of ``address`` (hex or 20 bytes), once per process per address: a deal's calls, receipts and
    events name the same few thousand accounts over and over, and each checksum is a keccak."""
    return str(Web3.to_checksum_address(address))


def default_state_path() -> Path:
    return Path(os.environ.get("RWA_STATE") or state_dir() / "chain.sqlite")


# -- the embedded chain's state file --------------------------------------------------------------------------


class _TrackingDict(dict[bytes, bytes]):
    """py-evm's in-memory key-value store, remembering which keys changed since the last flush."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dirty: set[bytes] = set()

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        self.dirty.add(key)

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        self.dirty.add(key)


class StateFile:
    """A SQLite file holding the embedded chain: a ``meta`` table and the py-evm key-value pairs.

    The pairs are a log (``kv_log``: sequence, key, value; a deleted key is a row without a value): the whole
    chain is read into memory when the file is opened, so the file is only ever read whole, in order, and each
    block's writes are appended at the end of one table instead of updating pages all over a keyed index (py-evm's
    keys are hashes: an index by key rewrote about 30 scattered pages a block, four times the cost of appending)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None
        self._meta_written: dict[str, str] = {}
        """the meta rows as the file holds them (read at open, then as written)"""

    def open(self) -> tuple[dict[str, str], dict[bytes, bytes]]:
        """Lock and read the file; an absent file gives empty meta (a new chain).

        A file that is not an embedded-chain state file is refused before anything in it changes: its tables are
        checked before the journal mode is switched to WAL (which rewrites the file's header)."""
        if self.path.is_dir():
            raise StateFileError(f"--state {self.path}: is a folder; give the embedded chain's state file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateFileError(f"--state {self.path}: cannot create its folder ({exc.strerror or exc})") from None
        if self.path.exists() and self.path.stat().st_size > 0:
            _check_state_file(self.path)  # read-only, before the lock file is made beside it
        try:
            return self._open_locked()
        except BaseException:
            self.close()
            raise

    def lock(self, timeout: float | None = None) -> None:
        """Take the file's exclusive lock, waiting up to ``timeout`` seconds (default ``RWA_STATE_LOCK_TIMEOUT``)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self._lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise StateFileError(f"--state {self.path}: cannot create its lock {lock_path} ({exc.strerror or exc})"
                                 ) from None
        wait = env_number("RWA_STATE_LOCK_TIMEOUT", float, 60.0) if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StateFileError(f"{self.path} is in use by another process (lock {lock_path})") from None
                time.sleep(0.05)

    def _open_locked(self) -> tuple[dict[str, str], dict[bytes, bytes]]:
        self.lock()
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            # one process holds the file (the lock above); its threads (e.g. a scheduler's) may share the connection
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # a commit reaches the WAL file before it returns, so a crash of this process loses nothing; NORMAL
            # leaves the fsync to the checkpoint, so an operating-system crash may lose the last blocks of a
            # development chain, never corrupt it (SQLite's WAL guarantee); FULL would fsync every block
            self._db.execute("PRAGMA synchronous=NORMAL")
            # the file is only read whole when opened: a larger WAL between checkpoints costs nothing to read,
            # and each checkpoint (which syncs) moves ten times the blocks
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
            if not existed:
                self._db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._db.execute(_KV_LOG_TABLE)
                return {}, {}
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") == _STATE_FORMAT_V1:
                meta = self._migrate_v1()
            kv: dict[bytes, bytes] = {}
            rows = 0
            for k, v in self._db.execute("SELECT k, v FROM kv_log ORDER BY seq"):
                rows += 1
                if v is None:
                    kv.pop(bytes(k), None)
                else:
                    kv[bytes(k)] = bytes(v)
            if rows > 2 * len(kv) + COMPACT_AFTER:
                self._compact(kv)
            self._meta_written = dict(meta)
            return meta, kv
        except sqlite3.DatabaseError as exc:
            raise StateFileError(
                f"{self.path} is corrupt or not a SQLite file ({exc}); "
                "nothing was changed: restore it or run `rwa chain reset --yes`"
            ) from None

    def _migrate_v1(self) -> dict[str, str]:
        """Turn a format-1 file's keyed table into the log, in one transaction; the new meta."""
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_KV_LOG_TABLE)
            db.execute("INSERT INTO kv_log(k, v) SELECT k, v FROM kv")
            db.execute("DROP TABLE kv")
            db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (STATE_FORMAT,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def _compact(self, kv: dict[bytes, bytes]) -> None:
        """Rewrite the log as its live pairs, in one transaction."""
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM kv_log")
            db.executemany("INSERT INTO kv_log(k, v) VALUES (?, ?)", kv.items())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def write(self, meta: dict[str, str], store: dict[bytes, bytes], keys: set[bytes]) -> None:
        """Append the values of ``keys`` (a key no longer in ``store`` as deleted) and the meta, in one
        transaction."""
        assert self._db is not None
        db = self._db
        changed = [(k, v) for k, v in meta.items() if self._meta_written.get(k) != v]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", changed)
            db.executemany("INSERT INTO kv_log(k, v) VALUES (?, ?)", [(k, store.get(k)) for k in keys])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._meta_written.update(changed)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


_KV_LOG_TABLE = "CREATE TABLE kv_log (seq INTEGER PRIMARY KEY, k BLOB NOT NULL, v BLOB)"


def _check_state_file(path: Path) -> None:
    """Refuse ``path`` unless it is an embedded-chain state file: a SQLite file with the ``meta`` and ``kv`` tables
    and this format. Reads only (a read-only connection): the file is never changed, whatever it is."""
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StateFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if header != SQLITE_HEADER:
        raise StateFileError(f"{path} is not an embedded-chain state file (not a SQLite file); pass another --state")
    try:
        db = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StateFileError(
            f"{path} is corrupt or not a SQLite file ({exc}); nothing was changed: restore it or pass another --state"
        ) from None
    kv_table = "kv" if meta.get("format") == _STATE_FORMAT_V1 else "kv_log"
    if not {"meta", kv_table} <= tables:
        raise StateFileError(
            f"{path} is not an embedded-chain state file (no meta/kv tables); nothing was changed: pass another --state"
        )
    if meta.get("format") not in (STATE_FORMAT, _STATE_FORMAT_V1):
        raise StateFileError(
            f"{path} has format {meta.get('format')!r}, expected {STATE_FORMAT!r}; "
            "use `rwa chain reset --yes` to start a new chain"
        )


class EmbeddedProvider(EthereumTesterProvider):
    """eth-tester's provider, flushing changed key-values to the state file after each request that wrote any.

    ``direct`` is the same chain without web3.py's request pipeline, for the calls and transactions that
    :mod:`rwa.chain.tx` sends."""

    def __init__(self, tester: Any, store: _TrackingDict, state: StateFile, meta: dict[str, str]) -> None:
        super().__init__(tester)
        self._store = store
        self._state = state
        self._meta = meta
        self.direct = DirectNode(tester, self)

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        response = super().make_request(method, params)
        if method in _MUTATING or method.startswith("evm_"):
            self.direct.forget_head()
        if self._store.dirty and (method in _MUTATING or "result" in response):
            self.flush()
        return response

    def flush(self) -> None:
        if not self._store.dirty:
            return
        dirty, self._store.dirty = self._store.dirty, set()
        self._state.write(self._meta, self._store, dirty)


LOG_CACHE_BLOCKS = 8_192
"""Blocks whose decoded logs the direct path keeps (the queries of one replay range share them)."""
CALL_GAS = 30_000_000
"""The gas a view call may use on the embedded chain (eth-tester's own cap)."""
PRIORITY_FEE = 10**9


MINED_BLOCKS = 4_096
"""Blocks (and their receipts) the embedded chain keeps in memory after mining them."""


@functools.cache
def _recording(chain_class: type) -> type:
    """``chain_class`` (eth-tester's mining chain) remembering the blocks it mines with their receipts, as its own
    ``apply_transaction`` returned them: the receipt of a transaction just sent, and a log scan over those blocks,
    are then built without reading the blocks back from the database. Blocks are mined exactly as by
    ``chain_class``."""

    class RecordingChain(chain_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._applied: list[tuple[bytes, Any]] = []
            self.mined: dict[bytes, tuple[Any, tuple[Any, ...]]] = {}
            """the latest blocks mined here with their receipts, by block hash (a log scan reads them from here)"""

        def apply_transaction(self, transaction: Any) -> Any:
            block, receipt, computation = super().apply_transaction(transaction)
            self._applied.append((transaction.hash, receipt))
            return block, receipt, computation

        def mine_block(self, *args: Any, **kwargs: Any) -> Any:
            applied, self._applied = self._applied, []
            block = super().mine_block(*args, **kwargs)
            if [h for h, _ in applied] == [t.hash for t in block.transactions]:  # every receipt seen applied
                if len(self.mined) >= MINED_BLOCKS:
                    self.mined.clear()
                self.mined[bytes(block.hash)] = (block, tuple(r for _, r in applied))
            return block

        def import_block(self, *args: Any, **kwargs: Any) -> Any:
            self._applied = []
            return super().import_block(*args, **kwargs)

    RecordingChain.__name__ = RecordingChain.__qualname__ = f"Recording{chain_class.__name__}"
    return RecordingChain


class DirectNode:
    """The embedded chain reached without web3.py's request pipeline.

    web3.py formats, validates and routes every request through its middlewares, which on the in-process chain
    costs more than the EVM work of most calls. Here a call runs on the head's state, kept warm between calls until
    the next block, and a transaction is signed locally and handed to eth-tester as raw bytes (the same
    ``send_raw_transaction`` a JSON-RPC client reaches). The semantics are eth-tester's own: a call sees the latest
    block's header (number and timestamp), a transaction is mined in a block of its own and flushed to the state
    file before its receipt is read. Only what the project's typed wrappers send goes this way; anything else
    still goes through web3.py, and both see one chain.
    """

    def __init__(self, tester: Any, provider: EmbeddedProvider) -> None:
        self._tester = tester
        self._provider = provider
        self._keys: dict[str, LocalAccount] = {}
        self._head: tuple[bytes, Any, Any] | None = None
        """(hash, VM, state) of the head that calls run on; dropped by anything that moves the chain"""
        self._answers: dict[tuple[str | None, bytes, str], tuple[bool, bytes]] = {}
        """the answers of the calls made on that head, by (to, data, sender): the same call on the same state
        answers the same (a view's changes are reverted), so a step that asks again is answered at once"""
        self._log_cache: dict[bytes, list[dict[str, Any]]] = {}
        """each block's logs in web3.py's form, by block hash"""
        self._headers: dict[int, tuple[bytes, int]] = {}
        """hash and timestamp of canonical blocks by number, as the last log queries read them"""
        self._signers: dict[str, Any] = {}
        """secp256k1 signing keys by lowercase address"""
        self._nonces: dict[str, int] = {}
        self._sent: tuple[bytes, bytes] = (b"", b"")
        """hash and sender of the transaction this node signed last (its receipt need not recover the sender)"""
        self._nonce_head: bytes | None = None
        """the head block's hash at which ``_nonces`` hold: nonces read there or set by a send that mined it"""

    def add_keys(self, accounts: Sequence[LocalAccount]) -> None:
        from coincurve import PrivateKey

        for acct in accounts:
            self._keys[acct.address.lower()] = acct
            self._signers[acct.address.lower()] = PrivateKey(bytes(acct.key))

    @property
    def py_evm_chain(self) -> Any:
        """py-evm's chain underneath (blocks, receipts, state), for tools that read it directly."""
        return self._tester.backend.chain

    def head(self) -> tuple[int, int]:
        """The latest block's number and timestamp."""
        header = self._head_header()
        return int(header.block_number), int(header.timestamp)

    def _head_hash(self) -> bytes:
        """The head block's hash, as py-evm's database keeps it (without decoding the header)."""
        from eth.db.schema import SchemaV1

        return bytes(self._tester.backend.chain.chaindb.db[SchemaV1.make_canonical_head_hash_lookup_key()])

    def _fresh(self) -> tuple[Any, tuple[Any, ...]] | None:
        """The head block and its receipts when this process mined it (kept by the recording chain), else None."""
        from rwa.chain.embedded_logs import mined_block

        return mined_block(self._tester.backend.chain, self._head_hash())

    def _sender(self, transaction: Any) -> bytes:
        """Who signed ``transaction``: known without recovering the signature when this node signed it last."""
        return self._sent[1] if transaction.hash == self._sent[0] else bytes(transaction.sender)

    def _head_header(self) -> Any:
        fresh = self._fresh()
        return fresh[0].header if fresh is not None else self._tester.backend.chain.get_canonical_head()

    def pending_timestamp(self) -> int:
        """The timestamp the next block will carry (what ``eth_getBlockByNumber('pending')`` answers)."""
        return int(self._tester.backend.chain.header.timestamp)

    def forget_head(self) -> None:
        """Something moved the chain (a request through web3.py): the head's state, and block numbers' headers
        (a revert may give a number another block), are read afresh."""
        self._head = None
        self._headers.clear()
        self._nonce_head = None

    def _vm_at(self, block: Any) -> tuple[Any, Any]:
        """The VM and state of ``block`` ('latest' or a number), as eth-tester runs a call there; the state reads
        through :func:`rwa.chain.embedded_views.view_state`'s node cache."""
        chain = self._tester.backend.chain
        if block == "latest" or block is None:
            if self._head is None or self._head[0] != self._head_hash():
                header = self._head_header()
                vm = chain.get_vm(at_header=header)
                self._head = (header.hash, vm, view_state(vm))
                self._answers.clear()
            return self._head[1], self._head[2]
        if not isinstance(block, int):
            raise ChainError(f"a direct call reads the latest block or a mined one by number, not {block!r}")
        vm = chain.get_vm(at_header=chain.get_canonical_block_header_by_number(block))
        return vm, view_state(vm)

    def call(self, to: str | None, data: bytes, sender: str, block: Any = "latest") -> tuple[bool, bytes]:
        """Run a view call from ``sender``; ``(True, output)``, or ``(False, revert data)`` when it reverts (empty
        when the EVM failed otherwise, e.g. out of gas). Without ``to`` the data is creation code, and the output
        what its constructor returns (``ReadBatch``).

        A call to a contract runs as the message alone, as a node's ``eth_call`` does (no signature, nonce or fee to
        check, nothing to refund), which halves the cost of a small view; creation code goes through eth-tester's
        spoofed transaction. Either way every change is reverted."""
        vm, state = self._vm_at(block)
        latest = block == "latest" or block is None
        key = (to, data, sender.lower())
        if latest and to:
            known = self._answers.get(key)
            if known is not None:
                return known
        origin = bytes.fromhex(sender[2:])
        snapshot = state.snapshot()
        try:
            if to:
                computation = self._message(state, origin, bytes.fromhex(to[2:]), data)
            else:
                computation = self._creation(vm, state, origin, data)
        finally:
            state.revert(snapshot)
        answer = (not computation.is_error, bytes(computation.output))
        if latest and to:
            self._answers[key] = answer
        return answer

    @staticmethod
    def _message(state: Any, origin: bytes, to: bytes, data: bytes) -> Any:
        from eth.vm.message import Message
        from eth_typing import Address

        context = state.get_transaction_context_class()(gas_price=state.execution_context.base_fee_per_gas,
                                                        origin=origin)
        state.mark_address_warm(origin)  # EIP-2929: the sender and the recipient are warm from the start
        state.mark_address_warm(to)
        message = Message(gas=CALL_GAS, to=Address(to), sender=Address(origin), value=0, data=data,
                          code=state.get_code(to))
        computation: Any = view_computation(state.computation_class)
        return computation.apply_message(state, message, context)

    def _creation(self, vm: Any, state: Any, origin: bytes, data: bytes) -> Any:
        from eth.vm.spoof import SpoofTransaction

        unsigned = vm.get_transaction_builder().new_unsigned_dynamic_fee_transaction(
            chain_id=self._tester.backend.chain.chain_id,
            nonce=state.get_nonce(origin),
            max_priority_fee_per_gas=0,
            max_fee_per_gas=state.execution_context.base_fee_per_gas,
            gas=CALL_GAS,
            to=b"",
            value=0,
            data=data,
            access_list=(),
        )
        return state.apply_transaction(SpoofTransaction(unsigned, from_=origin))

    def code_hash(self, address: str) -> bytes:
        """The keccak of the code at ``address`` at the head: it fixes a contract's immutables."""
        _, state = self._vm_at("latest")
        return bytes(state.get_code_hash(bytes.fromhex(address[2:])))

    def block(self, number: int) -> tuple[bytes, int]:
        """Block ``number``'s hash and timestamp (remembered from a log query that read the block)."""
        known = self._headers.get(number)
        if known is not None:
            return known
        header = self._tester.backend.chain.get_canonical_block_header_by_number(number)
        return bytes(header.hash), int(header.timestamp)

    def sender_of(self, tx_hash: bytes, number: int) -> str:
        """Who signed the transaction ``tx_hash`` mined in block ``number``."""
        block = self._tester.backend.chain.get_canonical_block_by_number(number)
        for transaction in block.transactions:
            if transaction.hash == tx_hash:
                return Web3.to_checksum_address(transaction.sender)
        raise ChainError(f"transaction 0x{tx_hash.hex()} is not in block {number}")

    def _mined(self, tx_hash: bytes) -> tuple[Any, int]:
        """The block holding ``tx_hash`` and its index there, searched from the head down (eth-tester keeps no
        index of transactions; one just sent is in the head block)."""
        chain = self._tester.backend.chain
        for number in range(chain.get_canonical_head().block_number, 0, -1):
            block = chain.get_canonical_block_by_number(number)
            for index, transaction in enumerate(block.transactions):
                if transaction.hash == tx_hash:
                    return block, index
        raise ChainError(f"transaction 0x{tx_hash.hex()} is not on the chain")

    def receipt(self, tx_hash: bytes) -> Any:
        """The receipt of a mined transaction as web3.py returns it (``AttributeDict`` with the same fields)."""
        from web3.datastructures import AttributeDict

        fresh = self._fresh()
        index = -1
        if fresh is not None:
            index = next((i for i, t in enumerate(fresh[0].transactions) if t.hash == tx_hash), -1)
        if index >= 0:
            assert fresh is not None
            block, receipts = fresh
        else:
            block, index = self._mined(tx_hash)
            receipts = block.get_receipts(self._tester.backend.chain.chaindb)
        number = int(block.number)
        transaction = block.transactions[index]
        receipt = receipts[index]
        used = receipt.gas_used - (receipts[index - 1].gas_used if index else 0)
        created = None
        if not transaction.to:
            from eth._utils.address import generate_contract_address
            from eth_utils.address import to_canonical_address

            created = Web3.to_checksum_address(generate_contract_address(
                to_canonical_address(transaction.sender), transaction.nonce))
        base_fee = int(block.header.base_fee_per_gas)
        return AttributeDict({
            "transactionHash": HexBytes(tx_hash),
            "transactionIndex": index,
            "blockHash": HexBytes(block.hash),
            "blockNumber": number,
            "from": checksummed(self._sender(transaction)),
            "to": checksummed(transaction.to) if transaction.to else None,
            "cumulativeGasUsed": receipt.gas_used,
            "gasUsed": used,
            "effectiveGasPrice": min(int(transaction.max_fee_per_gas),
                                     base_fee + int(transaction.max_priority_fee_per_gas)),
            "contractAddress": created if receipt.state_root == b"\x01" else None,
            "logs": [AttributeDict({k: v for k, v in entry.items() if k != "_address"})
                     for entry in self._logs_of(block, receipts) if entry["transactionIndex"] == index],
            "status": 1 if receipt.state_root == b"\x01" else 0,
            "type": transaction.type_id if transaction.type_id is not None else 0,
        })

    def get_logs(self, from_block: int, to_block: int, addresses: Sequence[str] = (),
                 topics: Sequence[Any] = ()) -> list[Any]:
        """``eth_getLogs`` over mined blocks, as web3.py returns it (log index counted within each receipt, as
        eth-tester counts it). ``topics`` as in a filter: per position None, one topic or a list of topics.

        A block whose bloom rules out every address asked for is skipped, and each block's logs are decoded once
        and kept by block hash (a reorg gives another hash), so the queries of one range share the work."""
        from web3.datastructures import AttributeDict

        from rwa.chain.embedded_logs import candidate_headers

        chain = self._tester.backend.chain
        wanted = {bytes.fromhex(a[2:]) for a in addresses}
        positions = [None if t is None else {bytes(HexBytes(x)) for x in (t if isinstance(t, list) else [t])}
                     for t in topics]
        out = []
        for header, possible, memo in candidate_headers(chain, from_block, to_block, wanted):
            self._headers[header.block_number] = (bytes(header.hash), int(header.timestamp))
            if not possible:
                continue
            entries = self._log_cache.get(header.hash)
            if entries is None:
                entries = (self._logs_of(*memo) if memo is not None
                           else self._logs_of(chain.get_canonical_block_by_number(header.block_number)))
                if len(self._log_cache) >= LOG_CACHE_BLOCKS:
                    self._log_cache.clear()  # the replay reads ranges in order: what it read before is done
                    self._headers.clear()
                self._log_cache[header.hash] = entries
            for entry in entries:
                if wanted and entry["_address"] not in wanted:
                    continue
                log_topics = entry["topics"]
                if len(positions) > len(log_topics) or any(
                    want is not None and bytes(log_topics[i]) not in want for i, want in enumerate(positions)
                ):
                    continue
                out.append(AttributeDict({k: v for k, v in entry.items() if k != "_address"}))
        return out

    def _logs_of(self, block: Any, receipts: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        """Every log of ``block`` in web3.py's form (plus the raw ``_address`` to filter on); ``receipts`` when
        the caller has them, else they are read."""
        from rwa.chain.embedded_logs import receipt_logs

        entries = []
        for tx_index, transaction, log_index, log in receipt_logs(self._tester.backend.chain, block, receipts):
            entries.append({
                "_address": bytes(log.address),
                "address": checksummed(log.address),
                "topics": [HexBytes(t.to_bytes(32, "big")) for t in log.topics],
                "data": HexBytes(log.data),
                "blockNumber": int(block.number),
                "blockHash": HexBytes(block.hash),
                "transactionHash": HexBytes(transaction.hash),
                "transactionIndex": tx_index,
                "logIndex": log_index,
                "type": "mined",
            })
        return entries

    def nonce(self, address: str) -> int:
        """The next nonce of ``address`` (every transaction is mined at once: pending is latest). Remembered while
        the head stays the block it was read at, and across the blocks this node mines on it (each moves only its
        own senders' nonces); anything else that moves the chain drops them."""
        head = self._head_hash()
        if head != self._nonce_head:
            self._nonces.clear()
            self._nonce_head = head
        key = address.lower()
        known = self._nonces.get(key)
        if known is None:
            _, state = self._vm_at("latest")
            known = self._nonces[key] = int(state.get_nonce(bytes.fromhex(address[2:])))
        return known

    def gas_price(self) -> int:
        """A fee per gas that the next block takes: twice the head's base fee (it can rise 12.5% a block) plus the
        priority fee."""
        return 2 * int(self._head_header().base_fee_per_gas) + PRIORITY_FEE

    def send(self, sender: str, to: str | None, data: bytes, gas: int, value: int = 0) -> HexBytes:
        """Sign and send a transaction from a local key; it is mined and flushed before this returns its hash.

        It is built by py-evm's own transaction builder and signed over its signing message (EIP-1559: the bytes
        eth-account would sign, which the tests compare), then handed over raw, as a client hands it to a node."""
        key = sender.lower()
        signer = self._signers.get(key)
        if signer is None:
            raise InputError(f"no signing key for {sender}: add it to RWA_PRIVATE_KEYS or RWA_KEYSTORE")
        chain = self._tester.backend.chain
        fields = (chain.chain_id, self.nonce(sender), PRIORITY_FEE, self.gas_price(), gas,
                  bytes.fromhex(to[2:]) if to is not None else b"", value, data, ())
        builder = chain.get_vm_class(chain.header).get_transaction_builder()
        # py-evm's own signing makes a secp256k1 key object per signature; the node keeps one per signer
        digest = keccak(builder.new_unsigned_dynamic_fee_transaction(*fields).get_message_for_signing())
        signature = signer.sign_recoverable(digest, hasher=None)
        raw = builder.new_dynamic_fee_transaction(
            *fields, signature[64], int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:64], "big")
        ).encode()
        self._sent = (bytes(keccak(raw)), bytes.fromhex(sender[2:]))
        return self.send_raw(raw)

    def _mined_on(self, before: bytes | None) -> None:
        """The chain has just mined a block (a transaction's, or a clock move's empty one): if it stands on
        ``before``, the head the remembered nonces held at, only its transactions' senders moved; else they are
        read afresh."""
        fresh = self._fresh()
        if before is None or fresh is None or fresh[0].header.parent_hash != before:
            self._nonce_head = None
            return
        for transaction in fresh[0].transactions:
            self._nonces["0x" + self._sender(transaction).hex()] = int(transaction.nonce) + 1
        self._nonce_head = bytes(fresh[0].hash)

    @contextlib.contextmanager
    def _mining(self) -> Iterator[None]:
        """Around anything that mines a block here: the head's state is read afresh, the block is flushed to the
        state file whatever happens, and the remembered nonces follow it (:meth:`_mined_on`)."""
        before, self._head, self._nonce_head = self._nonce_head, None, None
        try:
            yield
        finally:
            self._provider.flush()
        self._mined_on(before)

    def time_travel(self, timestamp: int) -> None:
        """Mine an empty block so that the next one is stamped ``timestamp`` (eth-tester's ``time_travel``, as
        ``testing_timeTravel`` reaches it), and flush it to the state file."""
        with self._mining():
            self._tester.time_travel(timestamp)

    def send_raw(self, raw: bytes) -> HexBytes:
        """Hand a signed transaction to the chain (mined in a block of its own), flush it to the state file and
        return its hash."""
        tx_hash = self._mine(raw, take_back_reverted=False)
        assert tx_hash is not None
        return tx_hash

    def send_raw_unless_reverted(self, raw: bytes) -> HexBytes | None:
        """:meth:`send_raw`, except that a transaction that reverts is taken back: the chain returns to the block
        before it, so nothing of it stays (no block, no nonce used), and None is returned. A caller that would
        otherwise dry-run a transaction before sending it (so that a rejection sends nothing) runs it once."""
        return self._mine(raw, take_back_reverted=True)

    def _mine(self, raw: bytes, take_back_reverted: bool) -> HexBytes | None:
        with self._mining():
            snapshot = self._tester.take_snapshot() if take_back_reverted else None
            tx_hash = HexBytes(self._tester.send_raw_transaction("0x" + raw.hex()))
            if snapshot is not None and self.receipt(bytes(tx_hash))["status"] != 1:
                self._tester.revert_to_snapshot(snapshot)
                self.forget_head()
                return None
        return tx_hash


def genesis_params(salt: bytes | None) -> dict[str, Any]:
    """The embedded chain's genesis header fields: fixed, but for ``salt`` (:data:`GENESIS_SALT_BYTES`) in its
    extra data when the chain has one."""
    from eth_tester import PyEVMBackend

    overrides: dict[str, Any] = {"timestamp": _GENESIS_TIMESTAMP}
    if salt is not None:
        overrides["extra_data"] = salt
    params: dict[str, Any] = PyEVMBackend.generate_genesis_params(overrides=overrides)
    return params


def _recorded_salt(meta: dict[str, str], state_path: Path) -> bytes | None:
    """The salt a state file's genesis carries; None for a file made before salts."""
    recorded = meta.get("salt")
    if recorded is None:
        return None
    try:
        salt = bytes.fromhex(recorded)
    except ValueError:
        salt = b""
    if len(salt) != GENESIS_SALT_BYTES:
        raise StateFileError(f"{state_path}: its genesis salt {recorded!r} is not {GENESIS_SALT_BYTES} hex bytes; "
                             "the file was edited: restore it or `rwa chain reset --yes`")
    return salt


def _embedded(state_path: Path) -> tuple[Web3, list[LocalAccount], StateFile]:
    from eth_tester import PyEVMBackend

    from rwa.chain.embedded_logs import FastLogsTester

    state = StateFile(state_path)
    meta, kv = state.open()
    try:
        new_salt = os.urandom(GENESIS_SALT_BYTES)
        salt = _recorded_salt(meta, state_path) if meta else new_salt
        params = genesis_params(salt)
        genesis_state = PyEVMBackend.generate_genesis_state(num_accounts=EMBEDDED_ACCOUNTS)
        backend = PyEVMBackend(genesis_parameters=params, genesis_state=genesis_state)
        base_db = backend.chain.chaindb.db
        memory = base_db.wrapped_db
        genesis_hash = backend.chain.get_canonical_block_header_by_number(0).hash.hex()
        if meta:
            if meta.get("genesis") != genesis_hash:
                raise StateFileError(
                    f"{state_path} holds a chain with another genesis ({meta.get('genesis')}); "
                    "it was made by another tool or version: pass another --state or `rwa chain reset --yes`"
                )
            store = _TrackingDict(kv)
            memory.kv_store = store
        else:
            store = _TrackingDict(memory.kv_store)
            memory.kv_store = store
            store.dirty = set(store)
            meta = {
                "format": STATE_FORMAT,
                "genesis": genesis_hash,
                "salt": new_salt.hex(),
                "chain_id": str(backend.chain.chain_id),
                "created": str(int(time.time())),
            }
        chain_class: Any = type(backend.chain)
        backend.chain = _recording(chain_class)(base_db)
        tester = FastLogsTester(backend)
        provider = EmbeddedProvider(tester, store, state, meta)
        if store.dirty:
            provider.flush()
        w3 = Web3(provider)
        accounts = [Account.from_key(k.to_bytes()) for k in backend.account_keys]
        return w3, accounts, state
    except BaseException:
        state.close()
        raise


def direct_node(w3: Web3) -> DirectNode | None:
    """The embedded chain's direct path under ``w3``, or None when ``w3`` talks to a JSON-RPC node."""
    provider = w3.provider
    return provider.direct if isinstance(provider, EmbeddedProvider) else None


# -- JSON-RPC nodes -------------------------------------------------------------------------------------------


def keys_from_environment() -> list[LocalAccount]:
    """Signing keys for a node: ``RWA_PRIVATE_KEYS`` (comma-separated hex) and/or ``RWA_KEYSTORE`` files.

    ``RWA_KEYSTORE`` is a path-separated list of encrypted keystore JSON files, decrypted with
    ``RWA_KEYSTORE_PASSWORD``. Keys are never read from the project's files.
    """
    accounts: list[LocalAccount] = []
    raw = os.environ.get("RWA_PRIVATE_KEYS", "").strip()
    for i, key in enumerate(k.strip() for k in raw.split(",") if k.strip()):
        try:
            accounts.append(Account.from_key(key))
        except (ValueError, TypeError):
            raise InputError(f"RWA_PRIVATE_KEYS entry {i + 1} is not a 32-byte hex private key") from None
    for path in filter(None, os.environ.get("RWA_KEYSTORE", "").split(os.pathsep)):
        accounts.append(load_keystore(Path(path), os.environ.get("RWA_KEYSTORE_PASSWORD", "")))
    return accounts


def load_keystore(path: Path, password: str, what: str = "keystore", password_env: str = "RWA_KEYSTORE_PASSWORD"
                  ) -> LocalAccount:
    """Decrypt one encrypted keystore file; an unreadable file or a wrong password is one line naming it."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"{what} {path}: cannot read it ({exc})") from None
    try:
        key = Account.decrypt(data, password)
    except (ValueError, KeyError, TypeError):
        raise InputError(f"{what} {path}: wrong password or not a keystore (set {password_env})") from None
    account: LocalAccount = Account.from_key(key)
    return account


def _rpc(url: str, timeout: float) -> Web3:
    if url.startswith(("http://", "https://")):
        w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": timeout}))
    elif url.endswith(".ipc") or url.startswith("/"):
        w3 = Web3(Web3.IPCProvider(url, timeout=int(timeout)))
    else:
        raise InputError(f"--rpc-url {url}: not an http(s):// URL or an IPC path")
    try:
        w3.eth.chain_id  # noqa: B018 - the first request proves the node answers
    except Exception as exc:
        raise NodeUnreachableError(f"cannot reach a JSON-RPC node at {url}: {type(exc).__name__}") from None
    return w3


# -- the one entry point --------------------------------------------------------------------------------------


@dataclass
class Chain:
    """A connected chain: ``w3`` plus the local accounts that sign for it."""

    w3: Web3
    kind: Literal["embedded", "rpc"]
    accounts: list[LocalAccount]
    location: str
    _state: StateFile | None = field(default=None, repr=False)

    @functools.cached_property
    def chain_id(self) -> int:
        """The chain's id, asked once: a connection stays on one chain."""
        return int(self.w3.eth.chain_id)

    @property
    def direct(self) -> DirectNode | None:
        """The embedded chain's direct path (None on a JSON-RPC node)."""
        return direct_node(self.w3)

    @property
    def is_dev(self) -> bool:
        """True on a local development chain, where test tokens and clock moves are allowed."""
        return self.kind == "embedded" or self.chain_id in DEV_CHAIN_IDS

    def account(self, address: str) -> LocalAccount:
        for acct in self.accounts:
            if acct.address.lower() == address.lower():
                return acct
        raise InputError(f"no signing key for {address}: add it to RWA_PRIVATE_KEYS or RWA_KEYSTORE")

    def add_accounts(self, accounts: Sequence[LocalAccount]) -> None:
        """Let more local keys sign (e.g. the demo's investors)."""
        known = {a.address for a in self.accounts}
        new = [a for a in accounts if a.address not in known]
        if not new:
            return
        self.accounts.extend(new)
        if self.direct is not None:
            self.direct.add_keys(new)
        self.w3.middleware_onion.remove("signer")
        self.w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(self.accounts), "signer", layer=0)

    def now(self) -> int:
        """The time the next transaction will see: the pending block's timestamp (on eth-tester it is stamped with
        the wall clock when the previous block is mined, which can be far past the latest block's)."""
        if self.direct is not None:
            return self.direct.pending_timestamp()
        return int(self.w3.eth.get_block("pending")["timestamp"])

    def head(self) -> tuple[int, int]:
        """The latest block's number and timestamp."""
        if self.direct is not None:
            return self.direct.head()
        block = self.w3.eth.get_block("latest")
        return int(block["number"]), int(block["timestamp"])

    def block_hash(self, number: int) -> str | None:
        """The 0x-hex hash of canonical block ``number``; None past the head."""
        if number < 0 or number > self.head()[0]:
            return None
        if self.direct is not None:
            return "0x" + self.direct.block(number)[0].hex()
        block = self.w3.eth.get_block(number)
        return "0x" + bytes(block["hash"]).hex()

    def nonce(self, address: str) -> int:
        """The nonce ``address``'s next transaction takes (its pending transactions counted)."""
        if self.direct is not None:
            return self.direct.nonce(address)
        return int(self.w3.eth.get_transaction_count(Web3.to_checksum_address(address), "pending"))

    def gas_price(self) -> int:
        """A legacy fee per gas the next blocks take."""
        if self.direct is not None:
            return self.direct.gas_price()
        return int(self.w3.eth.gas_price)

    def send_raw(self, raw: bytes) -> str:
        """Broadcast a signed transaction; its hash (0x-hex). On the embedded chain it is mined when this returns."""
        if self.direct is not None:
            return "0x" + self.direct.send_raw(raw).hex()
        return "0x" + bytes(self.w3.eth.send_raw_transaction(raw)).hex()

    @property
    def takes_back_reverted(self) -> bool:
        """Whether :meth:`send_raw_unless_reverted` takes back a transaction that reverts (the embedded chain runs
        it at once); a node only broadcasts, so a caller that must send nothing on a rejection dry-runs first."""
        return self.direct is not None

    def send_raw_unless_reverted(self, raw: bytes) -> str | None:
        """:meth:`send_raw`; on the embedded chain a transaction that reverts is taken back (no block, no nonce
        used) and None returned (:meth:`DirectNode.send_raw_unless_reverted`)."""
        if self.direct is not None:
            tx_hash = self.direct.send_raw_unless_reverted(raw)
            return None if tx_hash is None else "0x" + bytes(tx_hash).hex()
        return self.send_raw(raw)

    def wait_for_receipt(self, tx_hash: str, timeout: float) -> Any:
        """The receipt of ``tx_hash``, waiting up to ``timeout`` seconds for it to be mined (web3.py's
        ``TimeExhausted`` when it is not); on the embedded chain a sent transaction is mined already."""
        if self.direct is not None:
            return self.direct.receipt(bytes.fromhex(tx_hash.removeprefix("0x")))
        return self.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=timeout)

    def time_travel(self, timestamp: int) -> None:
        """Move a development chain's clock forward to ``timestamp`` (mines one block)."""
        if not self.is_dev:
            raise ChainError("the clock can only be moved on a local development chain")
        if timestamp <= self.now():
            return  # the next block is stamped at or past the target already
        if self.direct is not None:
            # eth-tester stamps the block it mines one second early; ask for one more so "latest" reaches it
            self.direct.time_travel(timestamp + 1)
        else:
            self.w3.provider.make_request(RPCEndpoint("evm_setNextBlockTimestamp"), [timestamp])
            self.w3.provider.make_request(RPCEndpoint("evm_mine"), [])

    def take_snapshot(self) -> object:
        """Remember the chain's state (``evm_snapshot``: eth-tester and development nodes such as anvil); the id is
        opaque (an integer on eth-tester, a hex string on anvil)."""
        return self.w3.provider.make_request(RPCEndpoint("evm_snapshot"), [])["result"]

    def revert_to(self, snapshot: object) -> None:
        """Go back to a state from :meth:`take_snapshot`; later blocks are forgotten."""
        self.w3.provider.make_request(RPCEndpoint("evm_revert"), [snapshot])

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[Chain]:
        """Run the body, then put the chain back as it was (the tests' isolation; development chains only)."""
        if not self.is_dev:
            raise ChainError("snapshots are for local development chains")
        taken = self.take_snapshot()
        try:
            yield self
        finally:
            self.revert_to(taken)

    def close(self) -> None:
        if self._state is not None:
            self._state.close()
            self._state = None

    def __enter__(self) -> Chain:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def connect(
    rpc_url: str | None = None,
    state: Path | None = None,
    accounts: Sequence[LocalAccount] | None = None,
    timeout: float = 10.0,
) -> Chain:
    """Connect to ``rpc_url`` (or ``RWA_RPC_URL``) if given, else open the embedded chain at ``state``."""
    url = rpc_url or os.environ.get("RWA_RPC_URL") or None
    if url:
        w3 = _rpc(url, timeout)
        signers = list(accounts) if accounts is not None else keys_from_environment()
        chain = Chain(w3=w3, kind="rpc", accounts=signers, location=url)
    else:
        path = Path(state) if state else default_state_path()
        w3, dev_accounts, state_file = _embedded(path)
        signers = list(accounts) if accounts is not None else dev_accounts
        chain = Chain(w3=w3, kind="embedded", accounts=signers, location=str(path), _state=state_file)
    if chain.accounts:
        if chain.direct is not None:
            chain.direct.add_keys(chain.accounts)
        w3.middleware_onion.inject(SignAndSendRawMiddlewareBuilder.build(chain.accounts), "signer", layer=0)
        w3.eth.default_account = chain.accounts[0].address
    return chain


def reset_state(path: Path) -> bool:
    """Delete the embedded chain's state file (and its lock and WAL); True when there was one.

    Refuses a folder and any file that is not an embedded-chain state file (another app's database, a manifest, a
    typo), leaving it as it was."""
    if path.is_dir():
        raise StateFileError(f"--state {path}: is a folder, not an embedded-chain state file; nothing was deleted")
    existed = path.exists()
    if existed and path.stat().st_size > 0:
        _check_state_file(path)
    lock = StateFile(path)
    try:
        if existed:
            lock.lock(timeout=0.0)  # a chain another process has open is not deleted from under it
        for suffix in ("", "-wal", "-shm", ".lock"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(path) + suffix).unlink()
    finally:
        lock.close()
    return existed
