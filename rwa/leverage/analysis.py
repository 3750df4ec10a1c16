"""Returns, breakevens and the stress grid of a sized deal.

Conventions: cash of period p is received at the end of period p (``periods.start_of(p + 1)``); investors pay in
at ``periods.first_start``. Rates are per period unless the name says annual; annual figures from monthly ones
are effective (compounded), except ``senior_yield_nominal`` which is monthly x 12 like the coupon.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np
import numpy.typing as npt

from rwa.leverage.cashflows import (
    BASE,
    Scenario,
    ScenarioFlows,
    billable_rent,
    largest_supplier,
    lessee_default,
    refunds,
    scenario_cashflows,
)
from rwa.leverage.path_engine import PathResults, PathTerms, run_paths
from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal
from rwa.model.fleet import SHORTFALL_DELIVERED, SHORTFALL_ORDERED
from rwa.model.terms import refund_schedule, reserve_at_close
from rwa.model.units import BPS
from rwa.model.waterfall import PoolState, fund_reserve, reserve_target, run_period

HAIRCUT_STEPS = 10_000  # the haircut search resolves to 1 bp


def path_terms(deal: Deal, sizing: Sizing) -> PathTerms:
    """The deployed terms of a sized deal (``rwa.model.terms``) in the path engine's floats."""
    return sizing.path_terms(deal)


# ---------------------------------------------------------------------------------------------- rates of return


def npv(rate: float, flows: Sequence[float]) -> float:
    """Net present value at ``rate`` per period of flows at periods 0, 1, 2, ..."""
    return sum(f / (1 + rate) ** t for t, f in enumerate(flows))


def irr(flows: Sequence[float]) -> float | None:
    """Per-period internal rate of return (pyxirr); None if the flows never change sign or no rate solves them."""
    import pyxirr

    if not any(f < 0 for f in flows) or not any(f > 0 for f in flows):
        return None
    scale = max(abs(f) for f in flows)  # the rate does not depend on the unit; pyxirr converges on unit-sized flows
    try:
        rate = pyxirr.irr([f / scale for f in flows])
    except pyxirr.InvalidPaymentsError:
        return None
    return None if rate is None or not math.isfinite(rate) else float(rate)


def xirr(flows: Sequence[float], dates: Sequence[datetime]) -> float | None:
    """Annual rate on actual dates (actual/365), as spreadsheets compute XIRR (pyxirr)."""
    import pyxirr

    if not any(f < 0 for f in flows) or not any(f > 0 for f in flows):
        return None
    scale = max(abs(f) for f in flows)
    try:
        rate = pyxirr.xirr(list(dates), [f / scale for f in flows])
    except pyxirr.InvalidPaymentsError:
        return None
    return None if rate is None or not math.isfinite(rate) else float(rate)


def payback(flows: Sequence[float], rate: float = 0.0) -> int | None:
    """First period at which cumulative (discounted) flows turn non-negative; None if they never do."""
    total = 0.0
    for t, f in enumerate(flows):
        total += f / (1 + rate) ** t
        if t > 0 and total >= 0:
            return t
    return None


def _annual(monthly: float | None) -> float | None:
    return None if monthly is None else (1 + monthly) ** 12 - 1


@dataclass(frozen=True)
class Returns:
    """Investor returns in the base case."""

    senior_yield_nominal: float | None
    senior_yield_effective: float | None
    junior_irr: float | None
    junior_xirr: float | None
    junior_moic: float | None
    junior_payback_periods: int | None
    junior_discounted_payback_periods: int | None
    junior_distributions: int


def _junior_cash(deal: Deal, sizing: Sizing) -> npt.NDArray[np.float64]:
    """The junior's base-case cash per period, the maturity settlement added to the last."""
    flows = scenario_cashflows(deal, BASE, sizing.servicing_fee_per_period)
    run = run_paths(np.asarray([flows.cfads], dtype=np.float64), path_terms(deal, sizing), flows.residual_value)
    junior_cash: npt.NDArray[np.float64] = run.junior[0].copy()
    junior_cash[-1] += run.junior_final[0]
    return junior_cash


@dataclass(frozen=True)
class TrancheFigures:
    """What an investor prices a tranche with, in the base case, bought at par at ``periods.first_start`` and paid at
    each period's end: ``ytm`` the annual effective yield on actual dates (XIRR, actual/365); ``wal_years`` the
    weighted average life (principal-weighted for the senior, cash-weighted for the junior, which has no principal
    schedule); ``modified_duration`` the Macaulay duration at ``ytm`` over (1 + ``ytm``), in years."""

    ytm: float | None
    wal_years: float | None
    modified_duration: float | None


def purchase_and_payment_dates(deal: Deal, periods: int) -> list[datetime]:
    """A tranche bought at the first start and paid at the end of periods 1..``periods``: the dates of its flows."""
    return [deal.periods.first_start, *(deal.periods.start_of(p + 1) for p in range(1, periods + 1))]


def _years(deal: Deal, periods: int) -> list[float]:
    t0 = deal.periods.first_start
    return [(deal.periods.start_of(p + 1) - t0).total_seconds() / (365 * 86_400) for p in range(1, periods + 1)]


def _figures(deal: Deal, price: float, cash: Sequence[float], weights: Sequence[float]) -> TrancheFigures:
    if price <= 0 or not any(cash):
        return TrancheFigures(None, None, None)
    years = _years(deal, len(cash))
    dates = purchase_and_payment_dates(deal, len(cash))
    y = xirr([-price, *cash], dates)
    wal = sum(w * t for w, t in zip(weights, years, strict=True)) / sum(weights) if sum(weights) else None
    if y is None:
        return TrancheFigures(None, wal, None)
    pv = [c / (1 + y) ** t for c, t in zip(cash, years, strict=True)]
    macaulay = sum(v * t for v, t in zip(pv, years, strict=True)) / sum(pv)
    return TrancheFigures(y, wal, macaulay / (1 + y))


def tranche_figures(deal: Deal, sizing: Sizing) -> dict[str, TrancheFigures]:
    """Yield to maturity, weighted average life and modified duration of each tranche (see :class:`TrancheFigures`)."""
    senior_cash = [float(d) for d in sizing.debt_service]
    junior_cash = [float(c) for c in _junior_cash(deal, sizing)]
    return {
        "senior": _figures(deal, float(sizing.senior_size), senior_cash, [float(p) for p in sizing.principal_schedule]),
        "junior": _figures(deal, float(sizing.junior_size), junior_cash, junior_cash),
    }


def returns(deal: Deal, sizing: Sizing) -> Returns:
    """Senior yield and junior IRR, XIRR, multiple, static and discounted payback in the base case."""
    senior_flows = [-float(sizing.senior_size), *(float(s) for s in sizing.debt_service)]
    junior_cash = _junior_cash(deal, sizing)
    junior_flows = [-float(sizing.junior_size), *junior_cash.tolist()]
    dates = [deal.periods.start_of(p + 1) for p in range(len(junior_flows))]
    monthly_senior = irr(senior_flows) if sizing.senior_size else None
    hurdle = (1 + deal.financing.junior_discount_rate_bps / BPS) ** (1 / 12) - 1
    return Returns(
        senior_yield_nominal=None if monthly_senior is None else monthly_senior * 12,
        senior_yield_effective=_annual(monthly_senior),
        junior_irr=_annual(irr(junior_flows)),
        junior_xirr=xirr(junior_flows, dates),
        junior_moic=float(junior_cash.sum()) / sizing.junior_size if sizing.junior_size else None,
        junior_payback_periods=payback(junior_flows),
        junior_discounted_payback_periods=payback(junior_flows, hurdle),
        junior_distributions=math.floor(float(junior_cash.sum())),
    )


# ------------------------------------------------------------------------------------------------------ DSRA


@dataclass(frozen=True)
class Dsra:
    """The debt service reserve in the base case, integer smallest units, as the pool holds it
    (``rwa.model.waterfall``).

    ``target_at_close``: the scheduled senior debt service of the first ``reserve_periods`` periods; ``funded_at_close``
    what the offering routes into the pool at its close (0 without an offering: the pool then fills it from the
    first periods' cash); ``reserve_after``: the reserve after each period 1..N, 0 from the period that repays the
    senior."""

    target_at_close: int
    funded_at_close: int
    reserve_after: list[int]


def dsra(deal: Deal, sizing: Sizing) -> Dsra:
    """The reserve of the base case: the pool's own integer waterfall on the deal's base deposits."""
    terms = sizing.pool_terms(deal)
    funded = reserve_at_close(deal, terms)
    state = PoolState.opening(terms)
    if funded:
        state = fund_reserve(state, funded)
    flows = scenario_cashflows(deal, BASE, sizing.servicing_fee_per_period)
    scheduled = refund_schedule(deal)
    after: list[int] = []
    for p in range(1, terms.period_count + 1):
        revenue, refund = flows.revenue[p - 1], scheduled[p - 1]
        state, legs = run_period(terms, state, p, revenue + refund, revenue, refund=refund)
        after.append(legs.reserve_after)
    return Dsra(target_at_close=reserve_target(terms, 0, terms.face), funded_at_close=funded, reserve_after=after)


# ------------------------------------------------------------------------------------------------- breakevens


@dataclass(frozen=True)
class Breakevens:
    """Lowest utilization and rent that keep every period's DSCR at 1.0 and at the covenant; largest haircut."""

    utilization_at_dscr_1: float | None
    utilization_at_covenant: float | None
    rent_factor_at_dscr_1: float | None
    rent_factor_at_covenant: float | None
    rent_per_server_month_at_dscr_1: int | None
    rent_per_server_month_at_covenant: int | None
    max_cfads_haircut: float


def _breakeven_scale(deal: Deal, sizing: Sizing, dscr: float, per_unit: list[float], on_coverage: bool) -> float | None:
    """Smallest x with x * per_unit[p] (+ refunds[p] unless ``on_coverage``: the covenant leaves them out) - fee >=
    dscr * service[p] in every period with service."""
    fee = sizing.servicing_fee_per_period
    need = 0.0
    for base, refund, service in zip(per_unit, refunds(deal), sizing.debt_service, strict=True):
        if service == 0:
            continue
        shortfall = dscr * service - (0 if on_coverage else refund) + fee
        if base <= 0:
            if shortfall > 0:
                return None
            continue
        need = max(need, shortfall / base)
    return need


def breakevens(deal: Deal, sizing: Sizing) -> Breakevens:
    """Breakeven utilization and rent (at the base utilization) at DSCR 1.0 and the covenant; largest haircut."""
    contracted = [float(c) for c in billable_rent(deal)]
    util = deal.utilization.base
    covenant = deal.financing.cash_trap_dscr
    u1 = _breakeven_scale(deal, sizing, 1.0, contracted, on_coverage=False)
    uc = _breakeven_scale(deal, sizing, covenant, contracted, on_coverage=True)
    r1 = _breakeven_scale(deal, sizing, 1.0, [c * util for c in contracted], on_coverage=False)
    rc = _breakeven_scale(deal, sizing, covenant, [c * util for c in contracted], on_coverage=True)
    server_months = sum(lease.servers * lease.term_periods for lease in deal.leases)
    rent_total = sum(lease.servers * lease.term_periods * lease.rent_per_server_month for lease in deal.leases)
    average_rent = rent_total / server_months

    def rent(factor: float | None) -> int | None:
        return None if factor is None else math.ceil(average_rent * factor)

    return Breakevens(
        utilization_at_dscr_1=u1,
        utilization_at_covenant=uc,
        rent_factor_at_dscr_1=r1,
        rent_factor_at_covenant=rc,
        rent_per_server_month_at_dscr_1=rent(r1),
        rent_per_server_month_at_covenant=rent(rc),
        max_cfads_haircut=max_haircut(deal, sizing),
    )


def max_haircut(deal: Deal, sizing: Sizing) -> float:
    """Largest uniform CFADS haircut (to 1 bp) after which the senior is still repaid in full from cash alone.

    Cash alone: the reserve and cash trap work as in the waterfall, arrears are caught up later, but the sale of
    the hardware is left out.
    """
    cfads = np.asarray(scenario_cashflows(deal, BASE, sizing.servicing_fee_per_period).cfads, dtype=np.float64)
    cuts = np.arange(HAIRCUT_STEPS + 1) / HAIRCUT_STEPS
    run = run_paths(np.outer(1 - cuts, cfads), path_terms(deal, sizing), 0.0)
    survives = run.loss <= 1.0  # within one smallest unit: float dust, not a loss
    failing = np.flatnonzero(~survives)
    first_fail = int(failing[0]) if failing.size else HAIRCUT_STEPS + 1
    return float(cuts[first_fail - 1]) if first_fail > 0 else 0.0


# ----------------------------------------------------------------------------------------------------- stress


@dataclass(frozen=True)
class StressResult:
    """One scenario of the stress grid."""

    key: str
    label: str
    min_dscr: float
    cash_trap: bool
    senior_repaid: bool
    senior_loss: int
    junior_distributions: int
    dscr_path: list[float]


FX_DEPRECIATIONS = (10, 20)  # per cent the source currency loses against the stablecoin from period 1
STRESS_DELIVERY_DELAY = 6  # periods the largest supplier's deliveries arrive late


def stress_scenarios(deal: Deal, sizing: Sizing | None = None) -> list[tuple[str, str, Scenario]]:
    """The grid: (stable key, label, scenario). Each row is one a senior lender would ask for and moves at least
    one senior figure of the example deal; the lessee default is at the deal's ``risk.default_period``, else at
    the period the sizing found worst."""
    fin, risk = deal.financing, deal.risk
    p90 = BASE.with_(name="p90", utilization=deal.utilization.p90, rent_factor=1 - fin.p90_rent_haircut_bps / BPS,
                     refund_factor=1 - fin.p90_refund_haircut_bps / BPS)
    period = risk.default_period or (sizing.worst_default_period if sizing else None) or 1
    default = lessee_default(deal, period)
    rows: list[tuple[str, str, Scenario]] = [("base", "base case", BASE)]
    for cut in (20, 50, 90):
        label = f"rent -{cut}%" + (" (inference price collapse)" if cut == 90 else "")
        rows.append((f"rent_minus_{cut}", label, BASE.with_(name=label, rent_factor=1 - cut / 100)))
    for level in (80, 50, 30):
        label = f"utilization {level}%"
        rows.append((f"utilization_{level}", label, BASE.with_(name=label, utilization=level / 100)))
    label = "rent -20% and utilization 50%"
    rows.append(("rent_minus_20_utilization_50", label, BASE.with_(name=label, rent_factor=0.8, utilization=0.5)))
    vacancy = f"empty {risk.relet_vacancy_periods} periods, re-let {risk.relet_discount_bps / 100:g}% below market"
    rows.append(("largest_lessee_default", f"{default.name} ({vacancy})", default))
    rows.append(("p90_and_largest_lessee_default", f"P90 case and {default.name}",
                 default.with_(utilization=p90.utilization, rent_factor=p90.rent_factor,
                               refund_factor=p90.refund_factor)))
    supplier = largest_supplier(deal) or "the supplier"
    label = f"{supplier} delivers {SHORTFALL_DELIVERED} of {SHORTFALL_ORDERED}"
    rows.append(("delivery_12_of_330", label, BASE.with_(name=label, delivery_shortfall=True)))
    label = f"{supplier} delivers {STRESS_DELIVERY_DELAY} periods late"
    rows.append(("delivery_delay", label, BASE.with_(name=label, delivery_delay=STRESS_DELIVERY_DELAY)))
    rows.append(("power_plus_50", "power price +50%", BASE.with_(name="power", power_factor=1.5)))
    rows.append(("opex_plus_30", "operating costs +30%", BASE.with_(name="opex", opex_factor=1.3)))
    # no refund row: the sizing's downside case and the covenant leave refunds out, so a late or lost refund
    # moves no senior figure (rows that test nothing are not shown)
    source = deal.source_currency or "source currency"
    for dep in FX_DEPRECIATIONS:
        label = f"{source} -{dep}% against {deal.currency}"
        rows.append((f"fx_minus_{dep}", label, BASE.with_(name=label, fx_factor=1 - dep / 100)))
    return rows


def run_scenario(
    deal: Deal, sizing: Sizing, scenario: Scenario, terms: PathTerms | None = None
) -> tuple[ScenarioFlows, PathResults]:
    """``scenario``'s cash and the deployed waterfall on it (one path); the covenant leaves out the refunds the
    scenario actually deposits."""
    flows = scenario_cashflows(deal, scenario, sizing.servicing_fee_per_period)
    base = path_terms(deal, sizing) if terms is None else terms
    run = run_paths(np.asarray([flows.cfads], dtype=np.float64),
                    replace(base, uncovered=[float(r) for r in flows.refunds]),
                    float(flows.residual_value), scenario.rate_shift_bps)
    return flows, run


def stress(deal: Deal, sizing: Sizing) -> list[StressResult]:
    """Run the stress grid through the waterfall with the deployed schedule and fixed servicing fee."""
    terms = path_terms(deal, sizing)
    out: list[StressResult] = []
    for key, label, scenario in stress_scenarios(deal, sizing):
        _, run = run_scenario(deal, sizing, scenario, terms)
        loss = float(run.loss[0])
        out.append(
            StressResult(
                key=key,
                label=label,
                min_dscr=float(run.min_dscr[0]),
                cash_trap=bool(run.trapped[0]),
                senior_repaid=loss <= 1.0,
                senior_loss=math.ceil(loss) if loss > 1.0 else 0,
                junior_distributions=math.floor(float(run.junior[0].sum() + run.junior_final[0])),
                dscr_path=[float(x) for x in run.dscr[0]],
            )
        )
    return out
