"""Senior and junior sizing of a deal, and the integer schedule the pool is deployed with.

The senior debt is the smallest of four capacities, and the one that binds is named:

- ``dscr_base``: base-case CFADS sculpted at ``dscr_target`` over the requested tenor;
- ``dscr_p90``: downside CFADS (P90 utilization, P90 rent haircut) sculpted at ``p90_dscr_target`` over the
  effective tenor;
- ``ltv``: the largest size whose balance path (the base-case sculpted shape, scaled) stays within
  ``ltv_cap`` of the depreciating hardware value at closing and at the end of every period;
- ``tenor``: base-case CFADS sculpted over the effective tenor, which ends ``tail_periods`` before the last lease
  does; it binds only when the requested tenor runs into that tail.

The deployed size is the largest whole stablecoin amount under that minimum whose integer schedule repays in
full with every base-case DSCR at or above the target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rwa.deal import BPS, Deal
from rwa.errors import DealConfigError
from rwa.leverage.cashflows import (
    BASE,
    collateral_value,
    scenario_cashflows,
    servicing_fee_per_period,
)
from rwa.leverage.sculpt import (
    MONTHLY_BPS_DENOMINATOR,
    IntRow,
    integer_schedule,
    max_integer_debt,
    size_by_dscr,
)

CONSTRAINTS = ("dscr_base", "dscr_p90", "ltv", "tenor")


@dataclass(frozen=True)
class ScheduleRow:
    """One period of the deployed senior schedule; money in integer smallest units, ratios as floats.

    ``dscr`` and ``llcr`` are ``inf`` once the senior is repaid (no debt service, no balance).
    """

    period: int
    cfads: int
    interest: int
    principal: int
    balance: int
    dscr: float
    llcr: float


@dataclass(frozen=True)
class Sizing:
    """The calculator's answer for a deal."""

    senior_size: int
    junior_size: int
    max_senior: int
    binding_constraint: str
    constraints: dict[str, int]
    servicing_fee_per_period: int
    tenor_periods: int
    coupon_bps: int
    schedule: list[ScheduleRow]
    cfads_p90: list[int] = field(default_factory=list)

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
    """Downside CFADS: P90 utilization and the P90 rent haircut."""
    scenario = BASE.with_(
        name="p90",
        utilization=deal.utilization.p90,
        rent_factor=1 - deal.financing.p90_rent_haircut_bps / BPS,
    )
    return scenario_cashflows(deal, scenario, fee).cfads


def size_deal(deal: Deal) -> Sizing:
    """Size the senior and junior tranches of ``deal`` and build the deployed schedule."""
    fin = deal.financing
    fee = servicing_fee_per_period(deal)
    cfads = scenario_cashflows(deal, BASE, fee).cfads
    cfads_p90 = p90_cfads(deal, fee)
    rate = fin.senior_coupon_bps / MONTHLY_BPS_DENOMINATOR
    tenor = effective_tenor(deal)

    base = size_by_dscr(cfads, rate, fin.dscr_target, fin.tenor_periods).debt
    within = size_by_dscr(cfads, rate, fin.dscr_target, tenor)
    p90 = size_by_dscr(cfads_p90, rate, fin.p90_dscr_target, tenor).debt
    values = collateral_value(deal)
    ltv = math.inf
    if within.debt > 0:
        shape = [1.0] + [row.balance / within.debt for row in within.schedule]
        for share, value in zip(shape, values, strict=False):
            if share > 1e-12:
                ltv = min(ltv, fin.ltv_cap_bps / BPS * value / share)
    capacities = {
        "dscr_base": base,
        "dscr_p90": p90,
        "ltv": ltv,
        "tenor": within.debt,
    }
    constraints = {k: max(math.floor(v), 0) if math.isfinite(v) else 0 for k, v in capacities.items()}
    binding = min(CONSTRAINTS, key=lambda k: (capacities[k], CONSTRAINTS.index(k)))
    max_senior = constraints[binding]

    caps = [math.floor(max(c, 0) / fin.dscr_target) for c in cfads[:tenor]]
    fits = max_integer_debt(caps, fin.senior_coupon_bps, max_senior)
    senior = fits // deal.unit * deal.unit
    rows = integer_schedule(senior, cfads, fin.dscr_target, fin.senior_coupon_bps, tenor)
    schedule = _with_ratios(rows, cfads, rate, tenor)
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
    )


def _with_ratios(rows: list[IntRow], cfads: list[int], rate: float, tenor: int) -> list[ScheduleRow]:
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
            )
        )
        opening = r.balance
    return out
