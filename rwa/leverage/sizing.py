"""Senior and junior sizing of a deal, and the integer schedule the pool is deployed with.

The senior debt is the smallest of four capacities, and the one that binds is named:

- ``dscr_base``: base-case CFADS sculpted at ``dscr_target`` over the requested tenor;
- ``dscr_p90``: downside CFADS (P90 utilization, P90 rent haircut) sculpted at ``p90_dscr_target`` over the
  requested tenor;
- ``ltv``: the largest size whose balance path (the deployed shape, scaled) stays within ``ltv_cap`` of the
  depreciating hardware value at closing and at the end of every period;
- ``tenor``: the tighter of the two DSCR capacities over the effective tenor, which ends ``tail_periods`` before
  the last lease does; it binds (it is below both DSCR capacities) only when the requested tenor runs into that
  tail, and then it is named, not the DSCR it is measured with;
- ``largest_lessee_default``: the largest size (on the deployed shape) that stays paid on time when the largest
  lessee defaults in the worst period of the tenor (:func:`lessee_default_capacity`).

The deployed schedule is sculpted, period by period, to the tighter of the base and the P90 debt-service ceilings
(so every base DSCR is at least ``dscr_target`` and every P90 DSCR at least ``p90_dscr_target``), and the LTV
capacity is measured on that shape. The deployed size is the largest whole stablecoin amount under the minimum
capacity whose integer schedule repays in full under those ceilings; it can fall below ``max_senior`` when the
two ceilings cross from period to period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rwa.errors import DealConfigError
from rwa.leverage.cashflows import (
    BASE,
    collateral_value,
    lessee_default,
    scenario_cashflows,
    servicing_fee_per_period,
)
from rwa.leverage.path_engine import PathTerms
from rwa.leverage.sculpt import (
    IntRow,
    integer_schedule,
    max_integer_debt,
    size_by_dscr,
)
from rwa.model.deal import Deal
from rwa.model.terms import pool_terms, reserve_at_close
from rwa.model.units import BPS, MONTHLY_BPS_DIVISOR, format_money
from rwa.model.waterfall import PoolTerms

CONSTRAINTS = ("dscr_base", "dscr_p90", "ltv", "tenor", "largest_lessee_default")
UNBOUNDED_MULTIPLE = 16  # a lessee default that leaves 16x the other capacities paid on time never binds
LESSEE_SEARCH_STEPS = 48  # bisection steps of the lessee-default capacity: far below one smallest unit


@dataclass(frozen=True)
class ScheduleRow:
    """One period of the deployed senior schedule; money in integer smallest units, ratios as floats.

    ``dscr`` is base-case CFADS over debt service, ``dscr_p90`` the same in the P90 case, ``llcr`` the base CFADS
    left to the tenor's end discounted at the coupon over the opening balance. All are ``inf`` once the senior is
    repaid (no debt service, no balance).
    """

    period: int
    cfads: int
    interest: int
    principal: int
    balance: int
    dscr: float
    llcr: float
    dscr_p90: float = math.inf


@dataclass(frozen=True)
class Sizing:
    """The calculator's answer for a deal."""

    senior_size: int
    junior_size: int
    max_senior: int
    binding_constraint: str
    constraints: dict[str, int | None]
    servicing_fee_per_period: int
    tenor_periods: int
    coupon_bps: int
    schedule: list[ScheduleRow]
    cfads_p90: list[int] = field(default_factory=list)
    worst_default_period: int | None = None

    @property
    def principal_schedule(self) -> list[int]:
        """Scheduled senior principal per period: the schedule the pool is deployed with."""
        return [r.principal for r in self.schedule]

    def pool_terms(self, deal: Deal) -> PoolTerms:
        """The terms the pool is deployed with for this sizing of ``deal`` (the one derivation, ``rwa.model.terms``)."""
        return pool_terms(deal, self.principal_schedule, self.servicing_fee_per_period)

    def path_terms(self, deal: Deal) -> PathTerms:
        """The deployed terms in the path engine's floats, with the reserve the offering funds at close."""
        terms = self.pool_terms(deal)
        return PathTerms.of(terms, reserve_at_close(deal, terms))

    @property
    def debt_service(self) -> list[int]:
        """Scheduled interest + principal per period."""
        return [r.interest + r.principal for r in self.schedule]

    @property
    def min_dscr(self) -> float:
        """Lowest base-case DSCR over the periods with debt service."""
        return min((r.dscr for r in self.schedule if r.interest + r.principal > 0), default=math.inf)


def effective_tenor(deal: Deal) -> int:
    """Requested tenor, cut so that the senior is repaid ``tail_periods`` before the last lease ends."""
    lease_end = max(lease.end_period for lease in deal.leases)
    limit = lease_end - deal.financing.tail_periods
    if limit < 1:
        raise DealConfigError(
            f"deal.financing.tail_periods: a tail of {deal.financing.tail_periods} leaves no period before the "
            f"last lease ends (period {lease_end})"
        )
    return min(deal.financing.tenor_periods, limit)


def junior_for(senior: int, min_junior_share_bps: int) -> int:
    """Smallest junior with junior / (senior + junior) >= the minimum share (ceil division)."""
    return -(-senior * min_junior_share_bps // (BPS - min_junior_share_bps))


def p90_cfads(deal: Deal, fee: int) -> list[int]:
    """Downside CFADS: P90 utilization, the P90 rent haircut and the P90 refund haircut."""
    scenario = BASE.with_(
        name="p90",
        utilization=deal.utilization.p90,
        rent_factor=1 - deal.financing.p90_rent_haircut_bps / BPS,
        refund_factor=1 - deal.financing.p90_refund_haircut_bps / BPS,
    )
    return scenario_cashflows(deal, scenario, fee).cfads


def size_deal(deal: Deal) -> Sizing:
    """Size the senior and junior tranches of ``deal`` and build the deployed schedule."""
    fin = deal.financing
    fee = servicing_fee_per_period(deal)
    cfads = scenario_cashflows(deal, BASE, fee).cfads
    cfads_p90 = p90_cfads(deal, fee)
    rate = fin.senior_coupon_bps / MONTHLY_BPS_DIVISOR
    tenor = effective_tenor(deal)

    # the deployed shape: in each period the tighter of the base and the P90 debt-service ceilings
    caps = [
        min(max(c, 0) / fin.dscr_target, max(d, 0) / fin.p90_dscr_target)
        for c, d in zip(cfads[:tenor], cfads_p90[:tenor], strict=True)
    ]
    capacities = {
        "dscr_base": size_by_dscr(cfads, rate, fin.dscr_target, fin.tenor_periods).debt,
        "dscr_p90": size_by_dscr(cfads_p90, rate, fin.p90_dscr_target, fin.tenor_periods).debt,
        "ltv": _ltv_capacity(deal, caps, rate),
        "tenor": min(size_by_dscr(cfads, rate, fin.dscr_target, tenor).debt,
                     size_by_dscr(cfads_p90, rate, fin.p90_dscr_target, tenor).debt),
    }
    upper = min(capacities.values())
    capacities["largest_lessee_default"], worst = lessee_default_capacity(deal, caps, fee, tenor, upper)
    constraints: dict[str, int | None] = {k: max(math.floor(v), 0) if math.isfinite(v) else None
                                          for k, v in capacities.items()}
    binding = min(CONSTRAINTS, key=lambda k: (capacities[k], CONSTRAINTS.index(k)))
    max_senior = max(math.floor(capacities[binding]), 0) if math.isfinite(capacities[binding]) else 0

    fits = max_integer_debt([math.floor(c) for c in caps], fin.senior_coupon_bps, max_senior)
    senior = fits // deal.unit * deal.unit
    if senior <= 0:
        raise DealConfigError(_infeasible(deal, cfads, cfads_p90, tenor, binding))
    rows = integer_schedule(senior, cfads, fin.dscr_target, fin.senior_coupon_bps, tenor, caps=caps)
    schedule = _with_ratios(rows, cfads, cfads_p90, rate, tenor)
    return Sizing(
        senior_size=senior,
        junior_size=junior_for(senior, fin.min_junior_share_bps),
        max_senior=max_senior,
        binding_constraint=binding,
        constraints=constraints,
        servicing_fee_per_period=fee,
        tenor_periods=tenor,
        coupon_bps=fin.senior_coupon_bps,
        schedule=schedule,
        cfads_p90=cfads_p90,
        worst_default_period=worst,
    )


def shape_terms(deal: Deal, principal: list[float], fee: int, size: float) -> PathTerms:
    """The deployed terms for a senior of ``size`` on the ``principal`` shape (scaled, in whole smallest units),
    with the reserve the offering would fund at close for them (``rwa.model.terms``)."""
    total = sum(principal)
    schedule = [math.floor(size * a / total) for a in principal]
    terms = pool_terms(deal, schedule + [0] * (deal.periods.count - len(schedule)), fee)
    return PathTerms.of(terms, reserve_at_close(deal, terms))


def lessee_default_capacity(
    deal: Deal, caps: list[float], fee: int, tenor: int, upper: float
) -> tuple[float, int | None]:
    """Largest senior (on the deployed shape ``caps``, up to ``upper``) that the largest lessee's default in any
    period of the tenor leaves paid on time, and the default period that binds (None when none does).

    On time: every period's scheduled debt service is paid when due from the period's cash and the reserve, with
    no arrears, while the defaulted lessee's servers stand empty and after they are re-let
    (:func:`rwa.leverage.cashflows.lessee_default`). The reserve is what the deal funds at close, then the pool's.
    """
    from rwa.leverage.path_engine import run_paths

    if not deal.leases or upper <= 0:
        return upper, None
    rate = deal.financing.senior_coupon_bps / MONTHLY_BPS_DIVISOR
    principal = [max(row.principal, 0.0) for row in size_by_dscr(caps, rate, 1.0).schedule]
    if sum(principal) <= 0:
        return 0.0, None
    rows = np.asarray([scenario_cashflows(deal, lessee_default(deal, d), fee).cfads for d in range(1, tenor + 1)],
                      dtype=np.float64)

    def failing(size: float) -> npt.NDArray[np.bool_]:
        run = run_paths(rows, shape_terms(deal, principal, fee, size), 0.0)
        return run.late | (run.loss > 1.0)

    lo, hi = 0.0, upper
    while not failing(hi).any():  # the default costs nothing at the other capacities: find where it would bind
        lo, hi = hi, 2 * hi
        if hi > UNBOUNDED_MULTIPLE * upper:
            return math.inf, None
    for _ in range(LESSEE_SEARCH_STEPS):
        mid = (lo + hi) / 2
        if failing(mid).any():
            hi = mid
        else:
            lo = mid
    return lo, int(np.flatnonzero(failing(hi))[0]) + 1


def _infeasible(deal: Deal, cfads: list[int], cfads_p90: list[int], tenor: int, binding: str) -> str:
    """One line naming why ``deal`` carries no senior debt at all."""
    best = max(cfads[:tenor], default=0)
    if best <= 0:
        return (f"deal.leases: the cash flow after operating costs and the servicing fee is not positive in any of "
                f"the tenor's {tenor} periods (best {format_money(best, deal.decimals, deal.currency)}): it carries "
                "no senior debt; rent must exceed operating costs")
    if max(cfads_p90[:tenor], default=0) <= 0:
        return ("deal.leases: the cash flow after operating costs is never positive in the tenor at the P90 "
                "utilization and rent haircut: the downside case carries no senior debt")
    if binding == "largest_lessee_default":
        risk, reserve = deal.risk, deal.financing.reserve_periods
        return (f"deal.risk.relet_vacancy_periods: the largest lessee's default leaves no senior the pool pays on "
                f"time: its servers stand empty {risk.relet_vacancy_periods} periods, then are re-let "
                f"{risk.relet_discount_bps / 100:g}% below the market, and the reserve holds {reserve}; shorten the "
                "vacancy, hold a longer reserve (financing.reserve_periods) or spread the rent over more lessees")
    return (f"deal.leases: the cash flow after operating costs carries no senior debt (sized senior 0, {binding} "
            "binds); rent must exceed operating costs by more")


def _ltv_capacity(deal: Deal, caps: list[float], rate: float) -> float:
    """Largest size whose balance path (the ``caps`` shape, scaled) stays within the LTV cap of the hardware.

    Scaling a sculpted loan scales its balance path, so one float sculpt gives the balance share per period.
    """
    shaped = size_by_dscr(caps, rate, 1.0)
    if shaped.debt <= 0:
        return 0.0
    shares = [1.0] + [row.balance / shaped.debt for row in shaped.schedule]
    cap = deal.financing.ltv_cap_bps / BPS
    values = collateral_value(deal)
    bounds = [cap * value / share for share, value in zip(shares, values, strict=False) if share > 1e-12]
    return min(bounds, default=math.inf)


def _with_ratios(
    rows: list[IntRow], cfads: list[int], cfads_p90: list[int], rate: float, tenor: int
) -> list[ScheduleRow]:
    out: list[ScheduleRow] = []
    opening = sum(r.principal for r in rows)
    for i, r in enumerate(rows):
        service = r.interest + r.principal
        remaining = sum(cfads[q] / (1 + rate) ** (q - i + 1) for q in range(i, tenor))
        out.append(
            ScheduleRow(
                period=r.period,
                cfads=r.cfads,
                interest=r.interest,
                principal=r.principal,
                balance=r.balance,
                dscr=r.cfads / service if service > 0 else math.inf,
                llcr=remaining / opening if opening > 0 else math.inf,
                dscr_p90=cfads_p90[i] / service if service > 0 else math.inf,
            )
        )
        opening = r.balance
    return out
