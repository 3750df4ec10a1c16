"""What a node leaves out of its logs is not silence: a node that drops entries or caps its answers without an error
gives no verdict (exit 3, the outputs untouched), and the ledger it filled is repaired by the next honest read."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from eth_utils.crypto import keccak

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.onchain.deployed import DeployedDeal
from rwa.replay.run import ReplayFailure
from tests.support.anvil import AnvilNode
from tests.support.lifecycle import replay, run_lifecycle
from tests.support.rpc_proxy import capped_logs_proxy

TRANSFER = "0x" + keccak(text="Transfer(address,address,uint256)").hex()
CLAIMED = "0x" + keccak(text="FundsClaimed(address,uint256)").hex()
ZERO_TOPIC = "0x" + "00" * 32


def _holder_transfers(deal: DeployedDeal) -> Callable[[dict[str, Any]], bool]:
    """The senior token's transfers between two holders: no total, supply or claim counts them."""
    senior = deal.tokens["senior"].address.lower()
    return lambda log: (log["address"].lower() == senior and log["topics"][0] == TRANSFER
                        and ZERO_TOPIC not in log["topics"][1:3])


def _claims(deal: DeployedDeal) -> Callable[[dict[str, Any]], bool]:
    return lambda log: log["topics"][0] == CLAIMED


@pytest.mark.parametrize(("dropped", "figure"), [
    (_holder_transfers, "senior.balanceOf("),
    (_claims, "totalClaimed"),
    (None, "figures disagree"),  # at most five entries an answer
])
def test_a_node_that_leaves_logs_out_gives_no_verdict_and_its_ledger_is_repaired_by_the_next_honest_read(
    anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path,
    dropped: Callable[[DeployedDeal], Callable[[dict[str, Any]], bool]] | None, figure: str,
) -> None:
    deal, manifest = run_lifecycle(anvil_chain, tmp_path, periods=2)
    honest = replay(anvil_chain, manifest, tmp_path)
    assert honest.exit_code == 0, [f.detail for f in honest.findings]
    outputs = {p.name: p.read_bytes() for p in (tmp_path / "audit").iterdir()}
    drop = None if dropped is None else dropped(deal)
    with capped_logs_proxy(anvil.url, 10**9, drop=drop, max_results=None if drop else 5) as proxy, \
            connect(rpc_url=proxy.url) as lossy:
        with pytest.raises(ReplayFailure) as failure:
            replay(lossy, manifest, tmp_path)
        with pytest.raises(ReplayFailure):
            replay(lossy, manifest, tmp_path / "fresh")  # a ledger of its own, filled by this node alone
    assert proxy.dropped > 0
    message = str(failure.value)
    assert message.startswith("incomplete read: the node's eth_getLogs left out") and figure in message
    assert failure.value.exit_code == 3
    assert {p.name: p.read_bytes() for p in (tmp_path / "audit").iterdir()} == outputs
    assert not (tmp_path / "fresh" / "audit").exists()
    again = replay(anvil_chain, manifest, tmp_path)
    assert again.exit_code == 0 and any("differs from the chain" in note for note in again.notes)
