"""The deal's whole life on the other JSON-RPC nodes the project is tested on: anvil mining a block every second, as
a real network does (every command waits for its receipts, the clock moves while the node mines on its own), and
Hardhat's node, a second implementation. The auditor's replay must reconcile on each."""

from __future__ import annotations

import itertools
import json
import time
from pathlib import Path

import pytest
from web3 import Web3
from web3.types import BlockData

from rwa.chain.interface import Chain
from rwa.issuance.operate import distribute_period
from rwa.onchain.deployed import DeployedDeal
from rwa.oracle.publisher import publish
from tests.support.hardhat_node import hardhat_version
from tests.support.lifecycle import replay, run_lifecycle


def _lifecycle_and_replay(chain: Chain, folder: Path) -> tuple[DeployedDeal, list[BlockData]]:
    """Issue, publish and distribute period 1 (with a transfer and two claims), move the clock to period 2's end,
    publish and distribute it, and replay; returns the deal and the blocks the lifecycle was mined in."""
    first = chain.w3.eth.block_number + 1
    deal, manifest = run_lifecycle(chain, folder, periods=1)
    publish(chain, deal.manifest, simulate=True, move_clock=True, outbox=folder / "outbox.sqlite")
    distribute_period(deal, 2)
    last = chain.w3.eth.block_number
    result = replay(chain, manifest, folder)
    assert result.exit_code == 0 and not result.findings, [f.detail for f in result.findings]
    summary = json.loads((folder / "audit" / "summary.json").read_text())
    assert summary["verdict"] == "reconciled"
    assert summary["periods_distributed"] == 2 and summary["claims"] == 2
    assert deal.pool.last_distributed_period() == 2
    return deal, [chain.w3.eth.get_block(n) for n in range(first, last + 1)]


def _next_block(w3: Web3, after: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while (number := w3.eth.block_number) <= after:
        assert time.monotonic() < deadline, f"no block after {after} in {timeout}s"
        time.sleep(0.05)
    return int(number)


@pytest.mark.anvil
def test_lifecycle_and_replay_on_anvil_mining_a_block_every_second(anvil_interval_chain: Chain,
                                                                    tmp_path: Path) -> None:
    chain = anvil_interval_chain
    _, blocks = _lifecycle_and_replay(chain, tmp_path)
    sent = [b for b in blocks if b["transactions"]]
    # a step's independent transactions share a block (rwa.chain.pipeline): fewer blocks than transactions
    assert sum(len(b["transactions"]) for b in sent) > 50 > len(sent)
    # every batch waited for a block of the node's interval, so the lifecycle spans about a second of chain time per
    # block it sent to (an automining node stamps them all within a few seconds); the clock move is the one jump of a
    # month among them. Two blocks may share a second (anvil's interval miner right after a clock move does)
    stamps = [int(b["timestamp"]) for b in blocks]
    steps = [later - earlier for earlier, later in itertools.pairwise(stamps)]
    assert min(steps) >= 0 and sum(1 for s in steps if s >= 86_400) == 1, steps
    assert sum(s for s in steps if s < 86_400) >= len(sent) // 2, steps
    # the node mines on its clock, with no transaction to include: an automining node would not
    last = chain.w3.eth.block_number
    assert not chain.w3.eth.get_block(_next_block(chain.w3, last, timeout=10))["transactions"]


@pytest.mark.hardhat
def test_lifecycle_and_replay_on_the_hardhat_node(hardhat_chain: Chain, tmp_path: Path, repo_root: Path) -> None:
    chain = hardhat_chain
    assert chain.w3.client_version.startswith(f"HardhatNetwork/{hardhat_version()}/")
    assert f"| Hardhat {hardhat_version()}'s node" in (repo_root / "README.md").read_text()  # the README says which
    _, blocks = _lifecycle_and_replay(chain, tmp_path)
    assert sum(1 for b in blocks if b["transactions"]) > 50
