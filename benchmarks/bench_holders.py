"""A deal's whole life with 100, 1,000 and 10,000 holders on the embedded chain: issue, 60 periods, every holder
claims, the auditor replays.

For each holder count, on a fresh embedded chain: the example deal is issued in a private placement to that many
investors (70% senior, 30% junior, each allocated pro rata to an amount: basis points could not list more than
10,000 holders of a tranche), the 60 periods are published, deposited and distributed, each holder gets gas money
and claims both tranches with its own key, the pool is finalized with the residual value and the holders claim
again, and the auditor replays the whole history from an empty ledger, which must reconcile. Timed apart:

- issuance (and the gas of every issuance transaction);
- one period: publishing the oracle's report, the servicer's deposit and the waterfall (60 of them, averaged);
- the claims of every holder after the 60th period;
- the replay, and fetching its logs alone through the same reader (the replay's floor).

    python benchmarks/bench_holders.py [--holders 100 1000 10000] [--periods 60]

Prints the table and the ratios the targets are about: per-period time of the largest count against the smallest
(target <= 1.1), issuance and claim time per holder (linear: flat per holder), replay / fetching its logs at the
largest count (target <= 2).
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

from rwa.chain.connect import connect
from rwa.chain.tx import send_value
from rwa.cli.demo import EXAMPLE_DEAL, GAS_FUNDING, deal_head, investor_entry
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import claim_all, distribute_period, finalize_deal
from rwa.leverage import collateral_value
from rwa.model.deal_file import load_deal
from rwa.onchain.deployed import open_deployment
from rwa.onchain.deployment import load_manifest
from rwa.oracle.publisher import publish
from rwa.paths import project_root
from rwa.replay.ingest import DEFAULT_RANGE, LogReader, range_queries
from rwa.replay.run import _sources, read_links, run_replay

TICKET = 1_000  # whole USDC each investor asks for: the tranche is shared pro rata to these


def write_deal(folder: Path, holders: list[str], start: datetime) -> Path:
    """The example deal placed with ``holders``: the first 70% senior, the rest junior, equal amounts each."""
    n_senior = max(1, round(len(holders) * 0.7))
    kyc = (start + timedelta(days=365 * 7)).date().isoformat()
    parts = [deal_head(project_root() / EXAMPLE_DEAL, start)]
    for i, address in enumerate(holders):
        tranche = "senior" if i < n_senior else "junior"
        parts.append(investor_entry(f"{tranche} investor {i + 1}", address, tranche, kyc, amount=TICKET))
    path = folder / "deal.toml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def run(count: int, periods: int, folder: Path) -> dict[str, float]:
    with connect(state=folder / "chain.sqlite") as chain:
        keys = [Account.create() for _ in range(count)]
        chain.add_accounts(keys)
        start = datetime.fromtimestamp(chain.now(), tz=UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        deal_path = write_deal(folder, [k.address for k in keys], start + timedelta(days=1))
        manifest_path = folder / "deployment.json"

        first = chain.head()[0] + 1
        t = time.perf_counter()
        manifest = issue(chain, plan_issue(deal_path), manifest_path, lambda _m: None)
        issuance = time.perf_counter() - t
        issued = chain.head()[0]
        direct = chain.backend.direct
        assert direct is not None
        issuance_gas = sum(int(direct.receipt(tx.hash)["gasUsed"]) for n in range(first, issued + 1)
                           for tx in direct.py_evm_chain.get_canonical_block_by_number(n).transactions)

        deal = open_deployment(chain, manifest)
        t = time.perf_counter()
        for period in range(1, periods + 1):
            publish(chain, manifest, period=period, simulate=True, move_clock=True, outbox=folder / "outbox.sqlite")
            distribute_period(deal, period)
        per_period = (time.perf_counter() - t) / periods

        # gas money, so that each holder claims with its own key: sent now, so that the periods above run with the
        # tranche tokens' holders in the state but without the benchmark's own funding of 10,000 accounts
        for key in keys:
            send_value(chain, chain.accounts[0].address, key.address, GAS_FUNDING)
        holders = [k.address for k in keys]
        t = time.perf_counter()
        claimed = claim_all(deal, holders)
        claiming = time.perf_counter() - t
        assert len(claimed) == count, f"{len(claimed)} of {count} holders claimed"
        if periods == deal.pool.terms().period_count:
            finalize_deal(deal, collateral_value(load_deal(deal_path))[-1])
            claim_all(deal, holders)

        loaded = load_manifest(manifest_path)
        head = chain.head()[0]
        sources = _sources(loaded, read_links(chain, loaded, head))
        reader = LogReader(chain.w3)
        t = time.perf_counter()
        logs = 0
        for frm in range(loaded.deployment_block, head + 1, DEFAULT_RANGE):
            for query in range_queries(sources, frm, min(head, frm + DEFAULT_RANGE - 1)):
                logs += len(reader.logs(query))
        fetch = time.perf_counter() - t
        t = time.perf_counter()
        result = run_replay(chain, manifest_path, folder / "audit", db=folder / "ledger.sqlite")
        replay = time.perf_counter() - t
    assert result.exit_code == 0, [f.detail for f in result.findings[:5]]
    with (folder / "audit" / "holders.csv").open(encoding="utf-8") as fh:
        lines = Counter(row["tranche"] for row in csv.DictReader(fh))
    assert sum(lines.values()) >= count, (lines, count)
    return {"issuance": issuance, "issuance_gas": issuance_gas, "per_period": per_period, "claims": claiming,
            "logs": logs, "events": result.events, "fetch": fetch, "replay": replay}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--holders", type=int, nargs="+", default=[100, 1_000, 10_000])
    parser.add_argument("--periods", type=int, default=60)
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-holders-warmup-") as tmp:
        run(4, 3, Path(tmp))  # imports, the build and ABI caches stay out of the first figures
    figures: dict[int, dict[str, float]] = {}
    for count in args.holders:
        with tempfile.TemporaryDirectory(prefix=f"bench-holders-{count}-") as tmp:
            figures[count] = run(count, args.periods, Path(tmp))
    table = Table(title=f"{args.periods} periods with many holders (embedded chain)")
    for col in ("holders", "issuance s", "issuance gas", "s / period", "claim all s", "ms / claim", "events",
                "fetch logs s", "replay s", "replay / fetch"):
        table.add_column(col, justify="right")
    for count, f in figures.items():
        table.add_row(f"{count:,}", f"{f['issuance']:.1f}", f"{int(f['issuance_gas']):,}", f"{f['per_period']:.3f}",
                      f"{f['claims']:.1f}", f"{1000 * f['claims'] / count:.1f}", f"{int(f['events']):,}",
                      f"{f['fetch']:.2f}", f"{f['replay']:.2f}", f"{f['replay'] / f['fetch']:.2f}x")
    Console(width=160).print(table)
    small, large = min(figures), max(figures)
    s, lg = figures[small], figures[large]
    print(f"per period, {large:,} vs {small:,} holders: {lg['per_period'] / s['per_period']:.3f}x (target <= 1.1)")
    print(f"issuance per holder, {large:,} vs {small:,}: "
          f"{(lg['issuance'] / large) / (s['issuance'] / small):.2f}x time, "
          f"{(lg['issuance_gas'] / large) / (s['issuance_gas'] / small):.2f}x gas (linear or better: <= 1)")
    print(f"claims per holder, {large:,} vs {small:,}: {(lg['claims'] / large) / (s['claims'] / small):.2f}x "
          "(linear: about 1)")
    print(f"replay / fetching its logs at {large:,} holders: {lg['replay'] / lg['fetch']:.2f}x (target <= 2)")
    print(f"whole benchmark: {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
