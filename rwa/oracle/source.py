"""Where a run's figures come from: a billing export, or the simulator for the deployment's deal.

Both are a :class:`FigureSource`: the report of a period, a check of the periods the source holds against the
periods that have ended, and two plain facts the planner needs, ``simulated`` (the figures are invented, so a
development chain's clock may follow them) and ``last_period`` (the last period the source can ever have figures
for: the deal's term for the simulator; ``None`` for an export, which gains a row each month).
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from pathlib import Path

from rwa.errors import InputError, RwaError
from rwa.model.deal_file import load_deal
from rwa.model.fleet import register_terms
from rwa.model.units import ZERO_ADDRESS
from rwa.onchain.deployment import Manifest
from rwa.onchain.oracle import Report
from rwa.oracle.attest import PlannedDelivery, scheduled_deliveries
from rwa.oracle.billing import BillingExport, read_billing
from rwa.oracle.simulator import SimulatorScenario, simulate_cached

DEFAULT_SEED = 20250701

log = logging.getLogger("rwa.oracle.source")


class FigureSource(ABC):
    """The figures of each period, validated before anything is signed."""

    simulated: bool
    """The figures come from the simulator, not from billing."""
    last_period: int | None
    """The last period this source can ever have figures for; ``None`` when it grows with time."""
    planned: list[PlannedDelivery] | None = None
    """The deliveries a simulated deal attests before each period's report (its schedule); ``None`` for billing,
    whose deliveries the reporters attest by hand (``rwa oracle sign --delivery``)."""

    @abstractmethod
    def report(self, period: int) -> Report:
        """The report of ``period``; a period the source has no figures for is an ``InputError``."""

    @abstractmethod
    def check_ended(self, last_ended: int) -> None:
        """Refuse figures for a period that has not ended (``last_ended`` is the last one that has)."""


class BillingSource(FigureSource):
    """A billing export (CSV or JSON, :mod:`rwa.oracle.billing`)."""

    simulated = False
    last_period = None

    def __init__(self, path: Path, tape: Path | None = None) -> None:
        self.export: BillingExport = read_billing(path, tape)

    def report(self, period: int) -> Report:
        return self.export.row(period).to_report()

    def check_ended(self, last_ended: int) -> None:
        self.export.check_ended(last_ended)


class SimulatedSource(FigureSource):
    """The cluster simulator (:mod:`rwa.oracle.simulator`) run over the deployment's deal file."""

    simulated = True

    def __init__(self, deal_file: Path, seed: int = DEFAULT_SEED,
                 scenario: SimulatorScenario = SimulatorScenario.BASE) -> None:
        if not deal_file.is_file():
            raise InputError(f"deployment's deal_file {deal_file} does not exist: --simulate needs the deal")
        deal = load_deal(deal_file)
        rows = simulate_cached(deal, seed, scenario)
        self.export = BillingExport(rows, f"simulator({deal_file.name})")
        self.last_period = len(rows)
        # the order indexes are the deal file's; the treasury plays no part in them
        self.planned = scheduled_deliveries(deal, register_terms(deal, ZERO_ADDRESS), scenario.shortfall)

    def report(self, period: int) -> Report:
        return self.export.row(period).to_report()

    def check_ended(self, last_ended: int) -> None:
        """Nothing to refuse: the simulator has every period of the deal, and the planner asks only for ended ones."""


def open_source(
    manifest: Manifest, source: Path | None, simulate: bool, seed: int | None = None, scenario: str = "base",
    tape: Path | None = None,
) -> FigureSource:
    """The source the options name: ``--source FILE`` (with its ``--tape`` companion) or ``--simulate`` (exactly
    one)."""
    market = SimulatorScenario.parse(scenario)
    if (source is None) == (not simulate):
        raise InputError("give exactly one of --source FILE or --simulate")
    if tape is not None and source is None:
        raise InputError("--tape: the lease tapes of a billing export; give it with --source FILE")
    if source is not None:
        billing = BillingSource(source, tape)
        _warn_unconverted(billing, Path(manifest.deal_file))
        return billing
    return SimulatedSource(Path(manifest.deal_file), DEFAULT_SEED if seed is None else seed, market)


def _warn_unconverted(billing: BillingSource, deal_file: Path) -> None:
    """An export without the conversion columns is reported as stablecoin revenue (source = revenue at the rate
    10**18); say so when the deal bills in another currency. A reporter's machine may not have the deal file: then
    nothing is said."""
    if all(row.converted for row in billing.export.rows.values()) or not deal_file.is_file():
        return
    try:
        deal = load_deal(deal_file)
    except RwaError:
        return
    if deal.rmb_per_unit is not None:
        log.warning("%s has no source_revenue and fx_rate columns: its revenue is reported as %s revenue at the "
                    "rate 1, although the deal bills in %s", billing.export.name, deal.currency,
                    deal.source_currency or "another currency")
