"""Monthly distributions cost the same whatever the number of holders: 60 periods with 10 and with 1,000 holders.

For each holder count, on a fresh embedded chain: issue the example deal to that many investors, then time the 60
monthly distributions (the servicer's deposit of the reported revenue and the pool's waterfall, which credits every
holder through the tranche tokens' per-share accumulator). The oracle's publishing is timed apart. Both runs are
in this one process, one after the other, and the script prints the ratio (target: at most 1.1).

    python benchmarks/bench_lifecycle.py [--periods 60] [--small 10] [--large 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account import Account

from rwa.chain.connect import connect
from rwa.cli.demo import write_demo_deal
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import distribute_period
from rwa.onchain.deployed import open_deployment
from rwa.oracle.publisher import publish
from tests.support.deals import EXAMPLE_DEAL


def run(holders: int, periods: int, folder: Path) -> dict[str, float]:
    with connect(state=folder / "chain.sqlite") as chain:
        investors = [Account.create() for _ in range(holders)]
        start = datetime.fromtimestamp(chain.now(), tz=UTC) + timedelta(days=1)
        deal_path = write_demo_deal(EXAMPLE_DEAL, folder, investors, start)
        t0 = time.perf_counter()
        manifest = issue(chain, plan_issue(deal_path), folder / "deployment.json", lambda _m: None)
        issued = time.perf_counter() - t0
        deal = open_deployment(chain, manifest)
        publishing = distributing = 0.0
        gas = 0
        for period in range(1, periods + 1):
            t = time.perf_counter()
            publish(chain, manifest, period=period, simulate=True, move_clock=True, outbox=folder / "outbox.sqlite")
            publishing += time.perf_counter() - t
            t = time.perf_counter()
            result = distribute_period(deal, period)
            distributing += time.perf_counter() - t
            assert result.legs is not None
        for ev in deal.pool.period_events(manifest.deployment_block):
            receipt = chain.w3.eth.get_transaction_receipt(ev.tx_hash)  # type: ignore[arg-type]
            gas += int(receipt["gasUsed"])
        return {"issue_s": issued, "publish_s": publishing, "distribute_s": distributing, "distribute_gas": gas}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--periods", type=int, default=60)
    parser.add_argument("--small", type=int, default=10)
    parser.add_argument("--large", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-warmup-") as tmp:
        run(2, 2, Path(tmp))  # one-off costs (imports, first compiles of the ABIs) stay out of both figures
    figures = {}
    for holders in (args.small, args.large):
        with tempfile.TemporaryDirectory(prefix=f"bench-{holders}-") as tmp:
            figures[holders] = run(holders, args.periods, Path(tmp))
        f = figures[holders]
        print(f"{holders:>5} holders: issue {f['issue_s']:7.2f} s | {args.periods} distributions "
              f"{f['distribute_s']:7.2f} s ({f['distribute_gas']:,} gas) | publishing {f['publish_s']:7.2f} s")
    small, large = figures[args.small], figures[args.large]
    print(f"ratio of the {args.periods} monthly distributions, {args.large} vs {args.small} holders: "
          f"time {large['distribute_s'] / small['distribute_s']:.3f} (target <= 1.1), "
          f"gas {large['distribute_gas'] / small['distribute_gas']:.4f}")


if __name__ == "__main__":
    main()
