"""Shared set-up for the oracle tests: a deployed oracle with dev reporters, and a manifest pointing at it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from rwa.build.compile import load_build
from rwa.chain.interface import Chain
from rwa.chain.tx import deploy
from rwa.model.units import FX_RATE_SCALE, fx_convert_down, fx_rate_of
from rwa.onchain.deployment import Manifest, Roles, save_manifest
from rwa.onchain.oracle import Report, RevenueOracle
from rwa.oracle.keys import dev_reporters

PERIOD = 30 * 24 * 3600
GRACE = 5 * 24 * 3600
MULTIPLE_BPS = 15_000
THRESHOLD = 3
_ROOT = Path(__file__).resolve().parents[2]
DEAL = _ROOT / "examples" / "deal-h800.toml"


def deal_path() -> Path:
    """The demo deal: the simulator reads a whole ``rwa.model.deal.Deal``."""
    return DEAL


@dataclass
class OracleSetup:
    chain: Chain
    oracle: RevenueOracle
    stub: str
    stablecoin: str
    reporters: list[LocalAccount]
    admin: str
    first_start: int


CONTRACTED_RENT = 10_000_000
"""The contracted rent of every period of the test oracle's schedule (what :func:`sample_report` reports)."""
PERIODS = 60


def deploy_oracle(
    chain: Chain,
    ended: int = 2,
    threshold: int = THRESHOLD,
    bound: bool = False,
    schedule: list[int] | None = None,
    *,
    first_start: int | None = None,
    period_length: int = PERIOD,
) -> OracleSetup:
    """An oracle of :data:`PERIOD`-second periods whose first ``ended`` periods have ended at the chain's current time
    (and the next has not); or, given ``first_start`` and ``period_length`` (``CALENDAR_MONTHS`` for a deal's
    calendar), periods from there. With ``bound``, its pool is the distribution-status stub (nothing distributed),
    so amendments are accepted. Its contracted-rent ``schedule`` defaults to :data:`CONTRACTED_RENT` for each of
    :data:`PERIODS` periods (the example deal's own schedule for the simulator's figures)."""
    admin = chain.accounts[0].address
    reporters = dev_reporters(chain)
    stub = deploy(chain, "StubDistributionStatus", sender=admin, gas=500_000)
    coin = deploy(chain, "TestStablecoin", "Test USD", "TUSD", admin, sender=admin, gas=2_000_000)
    if first_start is None:
        first_start = chain.now() - ended * PERIOD - 60
    oracle = RevenueOracle.deploy(
        chain, admin, [r.address for r in reporters], threshold, first_start, period_length, GRACE, MULTIPLE_BPS,
        schedule or [CONTRACTED_RENT] * PERIODS,
    )
    if bound:
        oracle.bind_pool(str(stub.address), sender=admin)
    return OracleSetup(chain, oracle, str(stub.address), str(coin.address), reporters, admin, first_start)


def deal_file(dest_dir: Path) -> Path:
    """A copy of the demo deal in ``dest_dir``."""
    source = deal_path()
    dest = dest_dir / "deal.toml"
    shutil.copyfile(source, dest)
    return dest


def write_manifest(setup: OracleSetup, path: Path, deal: Path) -> Manifest:
    """A manifest for an oracle-only deployment: its pool is the distribution-status stub."""
    chain = setup.chain
    manifest = Manifest(
        chain_id=chain.chain_id,
        network=chain.network,
        deployment_block=0,
        deal_file=str(deal),
        deal_hash="",
        compiler_version=load_build().compiler_version,
        contracts={"stablecoin": setup.stablecoin, "oracle": setup.oracle.address, "pool": setup.stub},
        roles=Roles(
            admin=setup.admin,
            issuer=setup.admin,
            servicer=setup.admin,
            agent=setup.admin,
            fee_recipient=setup.admin,
            trustee=setup.admin,
            reporters=[r.address for r in setup.reporters],
            threshold=setup.oracle.threshold(),
            delay_seconds=PERIOD + 86_400,
        ),
        senior_size=0,
        junior_size=0,
    )
    save_manifest(manifest, path)
    return manifest


def sample_report(
    period: int, revenue: int = 9_000_000, rent: int = 10_000_000, tag: bytes = b"x", fx_rate: int = FX_RATE_SCALE
) -> Report:
    """A consistent report: ``revenue`` converted from the least source revenue that gives it at ``fx_rate`` (a rate
    of at most 10**18, so every revenue has one); the revenue itself at the default rate, no conversion."""
    from eth_utils import keccak

    report = Report(period, 0, 8_700, 800, rent, bytes(keccak(tag + period.to_bytes(8, "big"))), source_revenue=0,
                    fx_rate=fx_rate)
    return restated(report, revenue)


def restated(report: Report, revenue: int, **changes: Any) -> Report:
    """``report`` with ``revenue`` (and ``changes``), converted from the least source revenue that gives it at the
    report's own rate (at most 10**18, so every revenue has one): the rule the oracle holds reports to."""
    source = -(-revenue * FX_RATE_SCALE // report.fx_rate)
    out = replace(report, revenue=revenue, source_revenue=source, **changes)
    assert fx_convert_down(out.source_revenue, out.fx_rate) == revenue
    return out


CLI = "from rwa.cli.main import main; main()"


def run_cli(args: list[str], env: dict[str, str] | None = None, timeout: float = 120):  # type: ignore[no-untyped-def]
    """Run ``rwa oracle ...`` through the ``rwa`` entry point, in a fresh process."""
    import os
    import subprocess
    import sys

    root = _ROOT
    full_env = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
    return subprocess.run([sys.executable, "-c", CLI, "oracle", *args], cwd=root, env=full_env, capture_output=True,
                          text=True, timeout=timeout)


RMB_RATE = fx_rate_of(7.2)
"""The example deal's rate (7.2 RMB per USDC) as a report's ``fxRate``."""


def billing_rows(periods: range, rent: int = 10_000_000) -> list[dict[str, object]]:
    """Plausible export rows for ``periods``, in the format before reports carried a conversion (no source revenue
    or rate: the revenue is the stablecoin's); :func:`converted_rows` gives both."""
    return [
        {"period": p, "revenue": rent * 87 // 100 + p, "utilization_bps": 8_700, "active_servers": 800,
         "contracted_rent": rent, "invoice": f"INV-{p:03d}"}
        for p in periods
    ]


def converted_rows(periods: range, rent: int = 10_000_000, fx_rate: int = RMB_RATE) -> list[dict[str, object]]:
    """:func:`billing_rows` billed in the source currency: each revenue is its source revenue at ``fx_rate``."""
    rows = billing_rows(periods, rent)
    for row in rows:
        source = int(str(row["revenue"])) * FX_RATE_SCALE // fx_rate
        row.update(revenue=fx_convert_down(source, fx_rate), source_revenue=source, fx_rate=fx_rate)
    return rows


def write_export(rows: list[dict[str, object]], path: Path) -> Path:
    import csv
    import json

    if path.suffix == ".json":
        path.write_text(json.dumps(rows), encoding="utf-8")
        return path
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path
