"""Shared set-up for the oracle tests: a deployed oracle with dev reporters and its fleet register (one order, one
lease, the whole order delivered and attested), and a manifest pointing at them."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from rwa.build.compile import load_build
from rwa.chain.interface import Chain
from rwa.chain.tx import deploy
from rwa.model.fleet import LeaseRow, LeaseTerms, OrderTerms, RegisterTerms
from rwa.model.units import FX_RATE_SCALE, fx_convert_down, fx_rate_of
from rwa.onchain.deployment import Manifest, Roles, save_manifest
from rwa.onchain.oracle import Report, RevenueOracle, tape_hash
from rwa.onchain.register import Delivery, FleetRegister, serials_hash
from rwa.oracle.attest import sign_delivery
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
    register: FleetRegister
    terms: RegisterTerms


SERVERS = 800
"""The test register's one order and one lease: every server, delivered at once (what :func:`sample_report` bills)."""
RENT_PER_SERVER = 12_500
CONTRACTED_RENT = SERVERS * RENT_PER_SERVER
"""The contracted rent of every period of the test register: its one lease's rent for all its servers."""
UNIT_PRICE = 1_000_000
PERIODS = 60
SERIALS = tuple(f"TEST-{n:05d}" for n in range(1, SERVERS + 1))


def small_terms(admin: str, first_start: int, period_length: int = PERIOD) -> RegisterTerms:
    """The test register: one order of :data:`SERVERS` servers, one lease of all of them at
    :data:`RENT_PER_SERVER` over the :data:`PERIODS` periods, a long-stop after the last period."""
    order = OrderTerms("Test supplier", admin, SERVERS, UNIT_PRICE)
    lease = LeaseTerms("Test lessee", SERVERS, RENT_PER_SERVER, 1, PERIODS)
    stop = first_start + (PERIODS + 1) * max(period_length, PERIOD)
    return RegisterTerms((order,), (lease,), stop, PERIODS, PERIODS, admin)


def deploy_oracle(
    chain: Chain,
    ended: int = 2,
    threshold: int = THRESHOLD,
    bound: bool = False,
    terms: RegisterTerms | None = None,
    deliver: bool = True,
    *,
    first_start: int | None = None,
    period_length: int = PERIOD,
) -> OracleSetup:
    """An oracle of :data:`PERIOD`-second periods whose first ``ended`` periods have ended at the chain's current time
    (and the next has not); or, given ``first_start`` and ``period_length`` (``CALENDAR_MONTHS`` for a deal's
    calendar), periods from there. With ``bound``, its pool is the distribution-status stub (nothing distributed),
    so amendments are accepted. Its register (bound to it) holds ``terms`` (default :func:`small_terms`); with
    ``deliver`` the whole test order is attested as delivered before period 1 ends (``terms`` of a deal: the
    caller attests the deal's schedule)."""
    admin = chain.accounts[0].address
    reporters = dev_reporters(chain)
    stub = deploy(chain, "StubDistributionStatus", sender=admin, gas=500_000)
    coin = deploy(chain, "TestStablecoin", "Test USD", "TUSD", admin, sender=admin, gas=2_000_000)
    if first_start is None:
        first_start = chain.now() - ended * PERIOD - 60
    oracle = RevenueOracle.deploy(
        chain, admin, [r.address for r in reporters], threshold, first_start, period_length, GRACE, MULTIPLE_BPS,
        PERIODS,
    )
    own = terms is None
    terms = terms or small_terms(admin, first_start, period_length)
    register = FleetRegister.deploy(chain, terms, stablecoin=str(coin.address), oracle=oracle.address, sender=admin)
    oracle.bind_register(register.address, sender=admin)
    if bound:
        oracle.bind_pool(str(stub.address), sender=admin)
    setup = OracleSetup(chain, oracle, str(stub.address), str(coin.address), reporters, admin, first_start, register,
                        terms)
    if deliver and own:
        attest(setup, Delivery(0, SERVERS, serials_hash(SERIALS), min(first_start, chain.now()), "Test site", 0))
    return setup


def attest(setup: OracleSetup, delivery: Delivery, signers: Sequence[LocalAccount] | None = None) -> None:
    """Send ``delivery`` to the register, signed by ``signers`` (default: the first quorum of reporters)."""
    keys = list(signers) if signers is not None else setup.reporters[:setup.oracle.threshold()]
    sigs = sign_delivery(delivery, keys, setup.chain.chain_id, setup.oracle.address)
    setup.register.attest_delivery(delivery, sigs, sender=setup.admin)


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
    period: int, revenue: int = 9_000_000, rent: int = CONTRACTED_RENT, tag: bytes = b"x",
    fx_rate: int = FX_RATE_SCALE, days_past_due: int = 0,
) -> Report:
    """A consistent report: ``revenue`` converted from the least source revenue that gives it at ``fx_rate`` (a rate
    of at most 10**18, so every revenue has one; the revenue itself at the default rate, no conversion), and its
    tape: the test register's one lease, all :data:`SERVERS` servers, billing the source revenue, collected in full
    unless ``days_past_due``."""
    from eth_utils import keccak

    report = Report(period, 0, 8_700, SERVERS, rent, bytes(keccak(tag + period.to_bytes(8, "big"))), source_revenue=0,
                    fx_rate=fx_rate, tape=(LeaseRow(1, SERVERS, 0, 0, days_past_due),))
    return restated(report, revenue)


def with_tape(report: Report, rows: Sequence[LeaseRow]) -> Report:
    """``report`` with the tape ``rows`` and their hash (``replace`` alone would keep the old hash)."""
    return replace(report, tape=tuple(rows), tape_hash=tape_hash(rows))


def retaped(report: Report) -> Report:
    """``report`` with its tape billing its source revenue: each row keeps its share of what the tape billed (rounded
    down), the first row takes the rest; what a row bills is collected unless it is past due."""
    total = sum(r.billed for r in report.tape)
    source = report.source_revenue
    billed = [r.billed * source // total if total else 0 for r in report.tape]
    billed[0] = source - sum(billed[1:])
    rows = [replace(r, billed=b, collected=0 if r.days_past_due else b) for r, b in zip(report.tape, billed,
                                                                                       strict=True)]
    return with_tape(report, rows)


def restated(report: Report, revenue: int, **changes: Any) -> Report:
    """``report`` with ``revenue`` (and ``changes``), converted from the least source revenue that gives it at the
    report's own rate (at most 10**18, so every revenue has one): the rule the oracle holds reports to; its tape
    follows (:func:`retaped`)."""
    source = -(-revenue * FX_RATE_SCALE // report.fx_rate)
    out = replace(report, revenue=revenue, source_revenue=source, **changes)
    assert fx_convert_down(out.source_revenue, out.fx_rate) == revenue
    return retaped(out) if out.tape else out


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


def tape_of(servers: int, billed: int) -> list[dict[str, int]]:
    """The test register's tape as an export carries it: its one lease, ``servers`` in service, ``billed``
    collected in full."""
    return [{"lease": 1, "servers": servers, "billed": billed, "collected": billed, "days_past_due": 0}]


def billing_rows(periods: range, rent: int = CONTRACTED_RENT) -> list[dict[str, object]]:
    """Plausible export rows for ``periods`` of the test register, in the format before reports carried a
    conversion (no source revenue or rate: the revenue is the stablecoin's); :func:`converted_rows` gives both.
    Each row's tape bills its revenue: change a revenue with :func:`set_revenue`."""
    rows: list[dict[str, object]] = []
    for p in periods:
        revenue = rent * 87 // 100 + p
        rows.append({"period": p, "revenue": revenue, "utilization_bps": 8_700, "active_servers": SERVERS,
                     "contracted_rent": rent, "invoice": f"INV-{p:03d}", "tape": tape_of(SERVERS, revenue)})
    return rows


def set_revenue(row: dict[str, object], revenue: int) -> dict[str, object]:
    """``row`` (of :func:`billing_rows`, unconverted) with another revenue, its tape billing it."""
    row.update(revenue=revenue, tape=tape_of(int(str(row["active_servers"])), revenue))
    return row


def converted_rows(periods: range, rent: int = CONTRACTED_RENT, fx_rate: int = RMB_RATE) -> list[dict[str, object]]:
    """:func:`billing_rows` billed in the source currency: each revenue is its source revenue at ``fx_rate``, the
    tape bills the source revenue."""
    rows = billing_rows(periods, rent)
    for row in rows:
        source = int(str(row["revenue"])) * FX_RATE_SCALE // fx_rate
        row.update(revenue=fx_convert_down(source, fx_rate), source_revenue=source, fx_rate=fx_rate,
                   tape=tape_of(SERVERS, source))
    return rows


def write_export(rows: list[dict[str, object]], path: Path) -> Path:
    """``rows`` as a JSON or CSV export (a CSV cell holds a tape as JSON)."""
    import csv
    import json

    if path.suffix == ".json":
        path.write_text(json.dumps(rows), encoding="utf-8")
        return path
    fields = list(dict.fromkeys(k for row in rows for k in row))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: json.dumps(v) if isinstance(v, list | dict) else v for k, v in row.items()})
    return path


def onchain_report(oracle: RevenueOracle, period: int) -> Report:
    """``period``'s report as the oracle holds it, with its tape from the ``LeaseTape`` log of its version (the
    contract's storage keeps only the tape's hash)."""
    report = oracle.report_of(period)
    assert report is not None, f"period {period} has no report"
    [rows] = [rows for p, version, rows in oracle.tape_events() if (p, version) == (period, report.version)]
    out = replace(report, tape=rows)
    assert out.tape_hash == tape_hash(rows)
    return out


def register_tape(register: FleetRegister, oracle: RevenueOracle, period: int, billed: int
                  ) -> tuple[tuple[LeaseRow, ...], int]:
    """A tape of ``period`` the register accepts, billing ``billed`` (on the first lease with servers), each lease
    with the servers the register's rule gives it (:func:`rwa.model.fleet.allocate` of the fleet delivered by the
    period's end), and the contracted rent the register counts."""
    from rwa.model.fleet import allocate, contracted_rent

    leases = register.leases()
    fleet = register.fleet_at(oracle.period_end(period))
    servers = allocate(leases, fleet, period)
    first = next(i for i, n in enumerate(servers) if n)
    rows = tuple(LeaseRow(i + 1, n, billed if i == first else 0, billed if i == first else 0)
                 for i, n in enumerate(servers))
    return rows, contracted_rent(leases, fleet, period)
