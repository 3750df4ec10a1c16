"""The base demo against the embedded chain's own floor: the demo's wall time, and the time the chain takes to run
only the demo's transactions, replayed raw in the same order on a fresh chain, both measured in this one run.

1. ``rwa demo`` (base scenario, 60 months, 50 holders, seed 7) runs in this process on a fresh embedded chain, with
   every request counted: view calls (EVM runs on the direct path, ``eth_call`` through web3.py), transactions,
   and the calls made in each month's loop and inside each claim.
2. The demo's chain is read back: every block's timestamp and signed transactions, in order.
3. A fresh embedded chain with the same genesis (its salt read from the demo's state file) mines the same blocks:
   each block's timestamp is set, then its transactions are handed over as raw bytes through
   ``send_raw_transaction``, the call the direct path makes. Only this loop is timed: the floor. Its final state
   root must equal the demo's, so the floor ran the very same transactions to the very same state (and every
   receipt's status must match).

    python benchmarks/bench_demo.py [--months 60] [--holders 50]

Prints both times, their ratio (target: the demo at most 1.5 times the floor) and the call counts.
"""

from __future__ import annotations

import argparse
import collections
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console

import rwa.cli.demo as demo
from rwa.chain.connect import connect
from rwa.chain.embedded import EmbeddedProvider, genesis_params
from rwa.chain.embedded_direct import DirectNode
from rwa.chain.keys import EMBEDDED_ACCOUNTS


@dataclass
class Counts:
    """Requests the demo made: EVM view runs on the direct path, requests through web3.py, transactions."""

    direct_calls: int = 0
    evm_views: int = 0
    """direct view calls that ran the EVM (the others were answered from the same head's earlier answers)"""
    web3_requests: collections.Counter[str] = field(default_factory=collections.Counter)
    transactions: int = 0

    @property
    def calls(self) -> int:
        return self.direct_calls + self.web3_requests["eth_call"]


@contextmanager
def counting(counts: Counts) -> Iterator[None]:
    """Count every view call and transaction while the body runs (the direct path and web3.py's)."""
    direct_call, direct_send_raw = DirectNode.call, DirectNode.send_raw
    message, creation = DirectNode._message, DirectNode._creation
    make_request = EmbeddedProvider.make_request

    def call(self: DirectNode, *args: Any, **kwargs: Any) -> Any:
        counts.direct_calls += 1
        return direct_call(self, *args, **kwargs)

    def evm_message(*args: Any) -> Any:
        counts.evm_views += 1
        return message(*args)

    def evm_creation(self: DirectNode, *args: Any) -> Any:
        counts.evm_views += 1
        return creation(self, *args)

    def send_raw(self: DirectNode, raw: bytes) -> Any:
        counts.transactions += 1
        return direct_send_raw(self, raw)

    def request(self: EmbeddedProvider, method: Any, params: Any) -> Any:
        counts.web3_requests[str(method)] += 1
        if method in ("eth_sendRawTransaction", "eth_sendTransaction"):
            counts.transactions += 1
        return make_request(self, method, params)

    DirectNode.call, DirectNode.send_raw = call, send_raw  # type: ignore[method-assign]
    DirectNode._message, DirectNode._creation = staticmethod(evm_message), evm_creation  # type: ignore[method-assign, assignment]
    EmbeddedProvider.make_request = request  # type: ignore[method-assign]
    try:
        yield
    finally:
        DirectNode.call, DirectNode.send_raw = direct_call, direct_send_raw  # type: ignore[method-assign]
        DirectNode._message, DirectNode._creation = staticmethod(message), creation  # type: ignore[method-assign, assignment]
        EmbeddedProvider.make_request = make_request  # type: ignore[method-assign]


def per_step(counts: Counts, target: Any, name: str, tally: list[int]) -> Callable[[], None]:
    """Wrap ``target.name`` so that each run adds the calls it made to ``tally`` ([runs, calls]); returns undo."""
    original = getattr(target, name)

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        before = counts.calls
        try:
            return original(*args, **kwargs)
        finally:
            tally[0] += 1
            tally[1] += counts.calls - before

    setattr(target, name, wrapped)
    return lambda: setattr(target, name, original)


@dataclass(frozen=True)
class Block:
    timestamp: int
    transactions: list[bytes]
    statuses: list[int]


def read_blocks(state: Path) -> tuple[list[Block], bytes, bytes | None]:
    """Every block after genesis of the demo's chain (timestamp, raw transactions, receipt statuses), the final
    state root and the genesis salt."""
    db = sqlite3.connect(f"{state.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT value FROM meta WHERE key = 'salt'").fetchone()
    finally:
        db.close()
    salt = bytes.fromhex(row[0]) if row else None
    with connect(state=state) as chain:
        direct = chain.backend.direct
        assert direct is not None
        py_chain = direct.py_evm_chain
        head = py_chain.get_canonical_head()
        blocks = []
        for number in range(1, head.block_number + 1):
            block = py_chain.get_canonical_block_by_number(number)
            receipts = block.get_receipts(py_chain.chaindb)
            blocks.append(Block(block.header.timestamp, [tx.encode() for tx in block.transactions],
                                [r.state_root == b"\x01" for r in receipts]))  # post-Byzantium: status byte
        return blocks, head.state_root, salt


def floor(blocks: list[Block], salt: bytes | None) -> tuple[float, bytes, list[int]]:
    """Mine ``blocks`` on a fresh chain of the same genesis, timing only the transactions and the mining."""
    from eth_tester import EthereumTester, PyEVMBackend

    backend = PyEVMBackend(genesis_parameters=genesis_params(salt),
                           genesis_state=PyEVMBackend.generate_genesis_state(num_accounts=EMBEDDED_ACCOUNTS))
    tester = EthereumTester(backend)
    statuses: list[int] = []
    started = time.perf_counter()
    for block in blocks:
        # the next block carries the original's timestamp; a block of no transaction was a move of the clock
        backend.chain.header = backend.chain.header.copy(timestamp=block.timestamp)
        if not block.transactions:
            tester.mine_blocks()
        for raw in block.transactions:
            tester.send_raw_transaction("0x" + raw.hex())
    elapsed = time.perf_counter() - started
    for number in range(1, len(blocks) + 1):
        mined = backend.chain.get_canonical_block_by_number(number)
        statuses.extend(r.state_root == b"\x01" for r in mined.get_receipts(backend.chain.chaindb))
    return elapsed, backend.chain.get_canonical_head().state_root, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--holders", type=int, default=50)
    args = parser.parse_args()
    console = Console(quiet=True)
    with tempfile.TemporaryDirectory(prefix="bench-demo-warmup-") as tmp:
        demo.run_demo(console, months=2, holders=4, out=Path(tmp))  # imports and ABI caches stay out of the figure

    counts = Counts()
    month, claim = [0, 0], [0, 0]
    with tempfile.TemporaryDirectory(prefix="bench-demo-") as tmp, counting(counts):
        out = Path(tmp)
        undo = [per_step(counts, demo, "distribute_period", month),
                per_step(counts, demo, "claim_all", claim)]
        started = time.perf_counter()
        summary = demo.run_demo(console, months=args.months, holders=args.holders, out=out)
        wall = time.perf_counter() - started
        for u in undo:
            u()
        blocks, root, salt = read_blocks(out / "chain.sqlite")
    assert summary.replay_exit_code == 0, "the demo's replay did not reconcile"
    floor_s, floor_root, floor_statuses = floor(blocks, salt)
    assert floor_root == root, "the replayed transactions did not reach the demo's state"
    assert floor_statuses == [s for b in blocks for s in b.statuses], "a replayed receipt's status differs"

    txs = sum(len(b.transactions) for b in blocks)
    print(f"demo ({args.months} months, {args.holders} holders): {wall:.2f} s wall, {len(blocks)} blocks, {txs} "
          f"transactions, {counts.calls} view calls ({counts.direct_calls} direct, of which {counts.evm_views} ran "
          f"the EVM and the rest were answered from the same head's answers; {counts.web3_requests['eth_call']} "
          f"eth_call), {sum(counts.web3_requests.values())} other requests through web3.py")
    print(f"floor: the same {txs} transactions replayed raw on a fresh chain: {floor_s:.2f} s (same state root)")
    print(f"ratio demo / floor: {wall / floor_s:.2f} (target <= 1.5)")
    print(f"view calls per month's deposit and distribution: {month[1] / max(month[0], 1):.1f}; per claim: "
          f"{claim[1] / max(summary.claims, 1):.1f} ({claim[1]} calls in the claim rounds, every candidate's read "
          f"included, for {summary.claims} claims)")
    print("web3.py requests: " + ", ".join(f"{k} {v}" for k, v in counts.web3_requests.most_common()))


if __name__ == "__main__":
    main()
