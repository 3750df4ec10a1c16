"""How the embedded chain's direct path runs view calls: py-evm's EVM and state, with three costs it pays on every
call taken out, and the results and gas unchanged (tests compare both with py-evm's own on every view the project
makes).

- **Jump analysis.** py-evm decides whether a JUMP lands on a JUMPDEST (and not inside PUSH data) by looking back
  from the target, and remembers the answer in the code stream of one computation only: every call re-analysed the
  same code, a tenth of a small view's time. Whether a position is an instruction depends on the code's bytes alone
  (EIP-3541 rules aside, which concern creation), so the answers are kept per code and shared by every view (and
  every call a view makes) of it, as nodes keep a jump-destination map per code hash.
- **Static gas.** py-evm charges an instruction's static gas through three calls (the opcode object, the
  computation, its gas meter) before the instruction's logic runs. The view computation's loop makes the same check
  (out of gas when the cost exceeds what remains) and the same subtraction itself, then calls the same logic.
- **State reads.** Every account and storage slot a view reads walks the state tries from their roots: about 70 us
  a read, mostly decoding the same trie nodes again (a new block changes the nodes on a few paths only) and turning
  keys into nibble tuples. A trie node is named by its hash, so a decoded node is kept by hash and shared by every
  view of every block; a key's path is walked as its hex digits. About 15 us a read.

Transactions run py-evm's own computation and state, untouched: the chain's floor is py-evm's.
"""

from __future__ import annotations

import functools
from typing import Any, cast

import rlp
from eth.db.storage import StorageLookup
from trie.constants import BLANK_NODE_HASH
from trie.exceptions import InvalidNode
from trie.hexary import HexaryTrie

JUMP_ANALYSIS_CODES = 256
"""Contract codes whose jump-destination analysis view calls keep."""
_jump_analysis: dict[bytes, tuple[set[int], set[int]]] = {}

TRIE_NODES = 65_536
"""Decoded trie nodes view calls keep, by hash (a few tens of megabytes at most)."""
_BLANK, _LEAF, _EXTENSION, _BRANCH = range(4)
_trie_nodes: dict[bytes, tuple[Any, ...]] = {}


@functools.cache
def view_computation(computation_class: type) -> type:
    """``computation_class`` (a fork's EVM) for view calls: each contract code's jump-destination analysis is kept,
    and each instruction's static gas is charged in the interpreter's loop (see the module's notes)."""
    from eth.exceptions import Halt, OutOfGas
    from eth.vm.code_stream import CodeStream
    from eth.vm.computation import NO_RESULT
    from eth.vm.logic.invalid import InvalidOpcode
    from eth.vm.opcode import _FastOpcode

    # per opcode byte: (static gas, logic function) for py-evm's plain opcodes (their logic charges any gas that
    # depends on operands), (None, the opcode) for those py-evm writes as classes (calls, creations, self-destruct)
    # and for bytes that are no opcode
    opcodes: dict[int, Any] = cast(Any, computation_class).opcodes
    table: list[tuple[int | None, Any]] = []
    for byte in range(256):
        opcode = opcodes.get(byte)
        if opcode is None:
            table.append((None, InvalidOpcode(byte)))
        elif type(opcode) is _FastOpcode:
            table.append((opcode.gas_cost, opcode.logic_fn))
        else:
            table.append((None, opcode))

    class ViewComputation(computation_class):  # type: ignore[misc, valid-type]
        def __init__(self, state: Any, message: Any, transaction_context: Any) -> None:
            super().__init__(state, message, transaction_context)
            code = bytes(message.code)
            known = _jump_analysis.get(code)
            if known is None:
                if len(_jump_analysis) >= JUMP_ANALYSIS_CODES:
                    _jump_analysis.clear()
                known = _jump_analysis[code] = (set(), set())
            stream = CodeStream(code)
            stream.valid_positions, stream.invalid_positions = known
            self.code = stream

        @classmethod
        def apply_computation(cls, state: Any, message: Any, transaction_context: Any,
                              parent_computation: Any = None) -> Any:
            """py-evm's ``apply_computation`` (same prologue, same checks in the same order), with each plain
            opcode's static gas charged in the loop instead of through three calls per instruction."""
            with cls(state, message, transaction_context) as computation:
                if computation.is_origin_computation:
                    computation.contracts_created = []
                    if message.is_create:
                        cls.consume_initcode_gas_cost(computation)
                if parent_computation is not None:
                    computation.contracts_created = parent_computation.contracts_created
                if message.is_create:
                    computation.contracts_created.append(message.storage_address)
                precompile = computation.precompiles.get(message.code_address, NO_RESULT)
                if precompile is not NO_RESULT:
                    if not message.is_delegation:
                        precompile(computation)
                    return computation
                meter = computation._gas_meter
                try:
                    for opcode in computation.code:
                        cost, logic = table[opcode]
                        if cost is None:
                            logic(computation=computation)
                            continue
                        if cost > meter.gas_remaining:
                            raise OutOfGas(f"Out of gas: Needed {cost} - Remaining {meter.gas_remaining}")
                        meter.gas_remaining -= cost
                        logic(computation)
                except Halt:
                    pass
            return computation

    ViewComputation.__name__ = ViewComputation.__qualname__ = f"View{computation_class.__name__}"
    return ViewComputation


def _node_of(items: list[Any]) -> tuple[Any, ...]:
    """A decoded trie node as (kind, ...): a branch's sixteen children and its value; a leaf's or an extension's
    path, one hex digit per nibble, and its value or child. Tuples of bytes, which Python's garbage collector stops
    tracking: tens of thousands of kept nodes add nothing to its collections."""
    if len(items) == 17:
        return (_BRANCH, tuple(items[:16]), items[16])
    if len(items) == 2 and isinstance(items[0], bytes) and items[0]:
        prefixed = items[0].hex()
        flags = int(prefixed[0], 16)  # hex-prefix encoding: 2 marks a leaf, 1 an odd number of nibbles
        return (_LEAF if flags & 2 else _EXTENSION, prefixed[1:] if flags & 1 else prefixed[2:], items[1])
    raise InvalidNode(f"not a trie node: {items!r}")


class NodeCachedTrie(HexaryTrie):
    """A hexary trie whose reads walk decoded nodes kept by hash (:data:`TRIE_NODES` of them, for every trie of
    every block); a missing node is reported by py-trie's own read. Writes are py-trie's."""

    __slots__ = ()

    def get(self, key: bytes) -> bytes:
        path, ref, db = key.hex(), self.root_hash, self.db
        try:
            while True:
                if isinstance(ref, list):  # a node under 32 bytes is embedded in its parent
                    node = _node_of(ref)
                elif ref == b"" or ref == BLANK_NODE_HASH:
                    return b""
                else:
                    known = _trie_nodes.get(ref)
                    if known is None:
                        if len(_trie_nodes) >= TRIE_NODES:
                            _trie_nodes.clear()
                        known = _trie_nodes[ref] = _node_of(rlp.decode(db[ref]))
                    node = known
                kind = node[0]
                if kind == _BRANCH:
                    if not path:
                        return cast(bytes, node[2])
                    ref, path = node[1][int(path[0], 16)], path[1:]
                elif kind == _LEAF:
                    return cast(bytes, node[2]) if node[1] == path else b""
                else:
                    if not path.startswith(node[1]):
                        return b""
                    ref, path = node[2], path[len(node[1]):]
        except KeyError:
            return super().get(key)


class _ViewStorageLookup(StorageLookup):
    """An account's storage lookup whose trie reads go through :class:`NodeCachedTrie`."""

    __slots__ = ()

    def _get_read_trie(self) -> HexaryTrie:
        read_trie = super()._get_read_trie()
        if type(read_trie) is HexaryTrie:
            read_trie.__class__ = NodeCachedTrie
        return read_trie


@functools.cache
def _view_account_db(account_db_class: type) -> type:
    """``account_db_class`` (py-evm's ``AccountDB``) reading accounts and storage through :class:`NodeCachedTrie`.
    Its layers (journals, caches, access logs) are py-evm's; only the hexary tries at the bottom read faster."""

    class ViewAccountDB(account_db_class):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            accounts = self._trie._db  # the hash trie's hexary trie
            if type(accounts) is HexaryTrie:
                accounts.__class__ = NodeCachedTrie

        def _get_address_store(self, address: Any) -> Any:
            store = super()._get_address_store(address)
            if type(store._storage_lookup) is StorageLookup:
                store._storage_lookup.__class__ = _ViewStorageLookup
            return store

    ViewAccountDB.__name__ = ViewAccountDB.__qualname__ = f"View{account_db_class.__name__}"
    return ViewAccountDB


@functools.cache
def _view_state_class(state_class: type) -> type:
    account_db = _view_account_db(cast(Any, state_class).account_db_class)
    return type(f"View{state_class.__name__}", (state_class,), {"account_db_class": account_db})


def view_state(vm: Any) -> Any:
    """The state ``vm.state`` would build (py-evm's ``build_state``: the same database, execution context and
    state root), reading through :class:`NodeCachedTrie`."""
    header = vm.get_header()
    context = vm.create_execution_context(header, vm.previous_hashes, vm.chain_context)
    return _view_state_class(vm.get_state_class())(vm.chaindb.db, context, header.state_root)
