"""Blocks, not round trips: how many blocks issuing a deal and running a month span on a node that mines on a clock.

Starts anvil mining a block every second (``--block-time 1``, as a real network does), then, on it:

1. issues the example deal with its offering (``examples/deal-h800-offering.toml``; its investors are the embedded
   chain's development keys 15..19, funded here with the node's coin);
2. runs the offering: every investor subscribes (the senior about 1.2 times over, the junior in full), the offering is
   closed (the development clock moves to the window's end) and every allocation is claimed;
3. once period 1 has ended (the clock moves there first, outside the measure): the reporters' attestations of the
   batches of servers delivered in period 1, sent together (the escrow releases their price);
4. runs that month: the oracle's report is published, the servicer deposits the reported revenue and the pool
   distributes.

For each phase it prints the transactions sent, the blocks they span (from the first block holding one of them to
the last) and the wall time, with the targets of the issuance and the month (at most 5 and 2 blocks).

    python benchmarks/bench_blocks.py
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.chain.tx import send_value
from rwa.issuance import offering as ops
from rwa.issuance.issue import issue, plan_issue
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.deployment import Manifest
from tests.support.anvil import start_anvil

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_OFFERING = ROOT / "examples" / "deal-h800-offering.toml"
TARGETS = {"issue": 5, "month": 2}
INVESTOR_SLOTS = slice(15, 20)
"""The example's investors are the embedded chain's development accounts 15..19."""
COIN = 10**20


@dataclass(frozen=True)
class Phase:
    name: str
    transactions: int
    blocks: int
    seconds: float

    def line(self) -> str:
        target = TARGETS.get(self.name)
        verdict = "" if target is None else f"  target <= {target}: {'met' if self.blocks <= target else 'MISSED'}"
        return (f"{self.name:<9} {self.transactions:>4} transactions in {self.blocks:>3} blocks, "
                f"{self.seconds:6.1f} s{verdict}")


def measure(chain: Chain, name: str, action: Callable[[], object]) -> Phase:
    """Run ``action`` and count the blocks from the first holding one of its transactions to the last."""
    before = chain.head()[0]
    started = time.monotonic()
    action()
    seconds = time.monotonic() - started
    after = chain.head()[0]
    busy = [(n, len(chain.w3.eth.get_block(n)["transactions"])) for n in range(before + 1, after + 1)]
    busy = [(n, count) for n, count in busy if count]
    blocks = busy[-1][0] - busy[0][0] + 1 if busy else 0
    return Phase(name, sum(count for _, count in busy), blocks, seconds)


def example_investors() -> list[LocalAccount]:
    """The development keys the example deal's investors are (the embedded chain's accounts 15..19)."""
    with connect(state=Path(tempfile.mkdtemp(prefix="bench-blocks-")) / "chain.sqlite") as embedded:
        return list(embedded.accounts[INVESTOR_SLOTS])


def run_offering(deal: DeployedDeal) -> None:
    """Every investor of the deal subscribes (senior about 1.2 times over, the junior in full), the offering closes,
    and everything is claimed."""
    from rwa.model.deal_file import load_deal

    model = load_deal(Path(deal.manifest.deal_file))
    seniors = [i.address for i in model.investors if i.tranche == "senior"]
    juniors = [i.address for i in model.investors if i.tranche == "junior"]
    for tranche, members, size in (("senior", seniors, deal.manifest.senior_size * 12 // 10),
                                   ("junior", juniors, deal.manifest.junior_size)):
        asks = [size // len(members)] * len(members)
        asks[-1] += size - sum(asks)
        for who, amount in zip(members, asks, strict=True):
            ops.subscribe(deal, tranche, who, amount)
    ops.close(deal, deal.manifest.roles.issuer, str)
    ops.claim(deal, deal.manifest.roles.issuer)


def attest_period_1(chain: Chain, manifest: Manifest, deal: DeployedDeal, folder: Path) -> None:
    """The reporters' attestations of period 1's delivered batches, sent together (:class:`rwa.cli.demo.Fleet`)."""
    from rwa.cli.demo import Fleet
    from rwa.model.deal_file import load_deal
    from rwa.oracle.publisher import Publisher

    with Publisher(chain, manifest, outbox=folder / "outbox.sqlite") as publisher:
        Fleet.of(deal, load_deal(Path(manifest.deal_file)), shortfall=False).attest(publisher, 1)


def run_month_of(chain: Chain, manifest: Manifest, deal: DeployedDeal, folder: Path) -> None:
    """Publish period 1's report and deposit its revenue together, then distribute (:func:`rwa.cli.demo.run_month`)."""
    from rwa.cli.demo import run_month
    from rwa.oracle.publisher import Publisher
    from rwa.oracle.source import open_source

    figures = open_source(manifest, None, simulate=True)
    with Publisher(chain, manifest, outbox=folder / "outbox.sqlite") as publisher:
        run_month(deal, publisher, figures, 1)


def main() -> None:
    folder = Path(tempfile.mkdtemp(prefix="bench-blocks-"))
    investors = example_investors()
    node = start_anvil(block_time=1)
    try:
        chain = connect(rpc_url=node.url, accounts=[Account.from_key(k) for k in node.private_keys])
        chain.add_accounts(investors)
        for who in investors:
            send_value(chain, chain.accounts[0].address, who.address, COIN)
        plan = plan_issue(EXAMPLE_OFFERING)
        phases = []
        box: dict[str, Manifest] = {}
        phases.append(measure(chain, "issue", lambda: box.update(m=issue(chain, plan, folder / "deployment.json",
                                                                          lambda _m: None))))
        manifest = box["m"]
        deal = open_deployment(chain, manifest)
        phases.append(measure(chain, "offering", lambda: run_offering(deal)))
        chain.time_travel(deal.pool.period_end(1))
        phases.append(measure(chain, "deliveries", lambda: attest_period_1(chain, manifest, deal, folder)))
        phases.append(measure(chain, "month", lambda: run_month_of(chain, manifest, deal, folder)))
        assert deal.pool.last_distributed_period() == 1
        print(f"anvil mining a block every second; {plan.deal.name}, issued with its offering")
        for phase in phases:
            print(phase.line())
    finally:
        node.stop()


if __name__ == "__main__":
    main()
