"""The embedded chain's fast path: py-evm reached directly, without web3.py's request pipeline.

Used by :class:`rwa.chain.embedded.FastEmbeddedBackend` only; ``RWA_FAST_PATH=0`` turns it off and the embedded chain
answers through plain eth-tester and web3.py. The deep end (the view interpreter loop and the trie node cache) is
:mod:`rwa.chain.embedded_views`; the log scan is :mod:`rwa.chain.embedded_logs`.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from eth_account.signers.local import LocalAccount
from eth_utils.crypto import keccak
from hexbytes import HexBytes
from web3 import Web3

from rwa.chain.backend import checksummed
from rwa.chain.embedded_views import view_computation, view_state
from rwa.errors import ChainError, InputError

LOG_CACHE_BLOCKS = 8_192
"""Blocks whose decoded logs the direct path keeps (the queries of one replay range share them)."""
CALL_GAS = 30_000_000
"""The gas a view call may use on the embedded chain (eth-tester's own cap)."""
PRIORITY_FEE = 10**9


MINED_BLOCKS = 4_096
"""Blocks (and their receipts) the embedded chain keeps in memory after mining them."""


@functools.cache
def recording(chain_class: type) -> type:
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

    def __init__(self, tester: Any, flush: Callable[[], None]) -> None:
        self._tester = tester
        self._flush = flush
        """writes what the chain changed to the state file"""
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
            self._flush()
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


