"""The auditor's replay of a deal with many holders in one tranche, on the embedded chain.

For each holder count: issue the example deal to that many senior investors (one basis point or more each) and a
few junior ones, publish and distribute ``--periods`` periods, then replay from an empty ledger. Prints issuance
time, replay time, the time to fetch the replay's logs alone, the ratio of the two, and checks that holders.csv has
a line for every holder and that the verdict is "reconciled".

    python benchmarks/bench_replay_holders.py [--holders 100 1000 10000] [--periods 2]
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from eth_account import Account
from rich.console import Console
from rich.table import Table

from rwa.chain import connect
from rwa.demo import EXAMPLE_DEAL as EXAMPLE
from rwa.deployment import load_manifest
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import distribute_period
from rwa.onchain.deployed import open_deployment
from rwa.oracle.publisher import publish
from rwa.paths import project_root
from rwa.replay.ingest import DEFAULT_RANGE, range_queries
from rwa.replay.run import _sources, read_links, run_replay
from rwa.units import BPS

JUNIOR_HOLDERS = 10


def write_deal(folder: Path, senior: int, start: datetime) -> Path:
    """The example deal with ``senior`` senior investors sharing 10,000 bps and a few junior ones."""
    text = (project_root() / EXAMPLE).read_text(encoding="utf-8")
    head = text.split("\n[[investors]]", 1)[0].rstrip() + "\n"
    lines = [head.replace(head.split("first_start = ", 1)[1].split("\n", 1)[0],
                          start.strftime("%Y-%m-%dT%H:%M:%SZ"), 1)]
    kyc = (start + timedelta(days=365 * 7)).date().isoformat()
    for tranche, count in (("senior", senior), ("junior", JUNIOR_HOLDERS)):
        shares = [BPS // count] * count
        shares[0] += BPS - sum(shares)
        for i, share in enumerate(shares):
            address = Account.create().address
            lines.append(f'\n[[investors]]\nname = "{tranche} {i}"\naddress = "{address}"\ntranche = "{tranche}"\n'
                         f'share_bps = {share}\nkyc_expiry = {kyc}\njurisdiction = "SG"\n')
    path = folder / "deal.toml"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def run(holders: int, periods: int, folder: Path) -> dict[str, object]:
    with connect(state=folder / "chain.sqlite") as chain:
        start = datetime.fromtimestamp(chain.now(), tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        deal_path = write_deal(folder, holders, start + timedelta(days=1))
        t = time.perf_counter()
        manifest = issue(chain, plan_issue(deal_path), folder / "deployment.json", lambda _m: None)
        issuance = time.perf_counter() - t
        deal = open_deployment(chain, manifest)
        t = time.perf_counter()
        for period in range(1, periods + 1):
            publish(chain, manifest, period=period, simulate=True, move_clock=True, outbox=folder / "outbox.sqlite")
            distribute_period(deal, period)
        per_period = (time.perf_counter() - t) / periods
        manifest_path = folder / "deployment.json"
        loaded = load_manifest(manifest_path)
        head = int(chain.w3.eth.block_number)
        sources = _sources(loaded, read_links(chain, loaded, head))
        t = time.perf_counter()
        logs = 0
        for frm in range(loaded.deployment_block, head + 1, DEFAULT_RANGE):
            for query in range_queries(sources, frm, min(head, frm + DEFAULT_RANGE - 1)):
                logs += len(chain.w3.eth.get_logs(query))
        fetch = time.perf_counter() - t
        t = time.perf_counter()
        result = run_replay(chain, manifest_path, folder / "audit", db=folder / "ledger.sqlite")
        replay = time.perf_counter() - t
    with (folder / "audit" / "holders.csv").open(encoding="utf-8") as fh:
        lines = Counter(row["tranche"] for row in csv.DictReader(fh))
    assert lines["senior"] == holders, (lines, holders)
    assert result.exit_code == 0, [f.detail for f in result.findings[:5]]
    return {"holders": holders, "issuance": issuance, "per_period": per_period, "logs": logs, "fetch": fetch,
            "replay": replay, "csv_senior": lines["senior"], "events": result.events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--periods", type=int, default=2)
    args = parser.parse_args()
    table = Table(title=f"replay with many senior holders ({args.periods} periods, embedded chain)")
    for col in ("senior holders", "issuance s", "s / period", "events", "fetch logs s", "replay s", "replay / fetch",
                "holders.csv senior lines"):
        table.add_column(col, justify="right")
    for holders in args.holders:
        with tempfile.TemporaryDirectory(prefix=f"bench-holders-{holders}-") as tmp:
            r = run(holders, args.periods, Path(tmp))
        table.add_row(f"{holders:,}", f"{r['issuance']:.1f}", f"{r['per_period']:.2f}", f"{r['events']:,}",
                      f"{r['fetch']:.2f}", f"{r['replay']:.2f}", f"{float(r['replay']) / float(r['fetch']):.2f}x",
                      f"{r['csv_senior']:,}")
    Console().print(table)


if __name__ == "__main__":
    main()
