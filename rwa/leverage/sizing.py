"""Senior and junior sizing of a deal, and the integer schedule the pool is deployed with.

The senior debt is the smallest of four capacities, and the one that binds is named:

- ``dscr_base``: base-case CFADS sculpted at ``dscr_target`` over the requested tenor;
- ``dscr_p90``: downside CFADS (P90 utilization, P90 rent haircut) sculpted at ``p90_dscr_target`` over the
  effective tenor;
- ``ltv``: the largest size whose balance path (the base-case sculpted shape, scaled) stays within
  ``ltv_cap`` of the depreciating hardware value at closing and at the end of every period;
- ``tenor``: base-case CFADS sculpted over the effective tenor, which ends ``tail_periods`` before the last lease
  does; it binds only when the requested tenor runs into that tail.

The deployed schedule is sculpted, period by period, to the tighter of the base and the P90 debt-service ceilings
(so every base DSCR is at least ``dscr_target`` and every P90 DSCR at least ``p90_dscr_target``), and the LTV
capacity is measured on that shape. The deployed size is the largest whole stablecoin amount under the minimum
capacity whose integer schedule repays in full under those ceilings; it can fall below ``max_senior`` when the
two ceilings cross from period to period.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rwa.deal import Deal
from rwa.errors import DealConfigError
from rwa.leverage.cashflows import (
    BASE,
    collateral_value,
    scenario_cashflows,
    servicing_fee_per_period,
)
from rwa.leverage.sculpt import (
    IntRow,
    integer_schedule,
    max_integer_debt,
    size_by_dscr,
)
from rwa.terms import pool_terms
from rwa.units import BPS, MONTHLY_BPS_DIVISOR, format_money
from rwa.waterfall import PoolTerms

CONSTRAINTS = ("dscr_base", "dscr_p90", "ltv", "tenor")


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
    constraints: dict[str, int]
    servicing_fee_per_period: int
    tenor_periods: int
    coupon_bps: int
    schedule: list[ScheduleRow]
    cfads_p90: list[int] = field(default_factory=list)

    @property
    def principal_schedule(self) -> list[int]:
        """Scheduled senior principal per period: the schedule the pool is deployed with."""
        return [r.principal for r in self.schedule]

    def pool_terms(self, deal: Deal) -> PoolTerms:
        """The terms the pool is deployed with for this sizing of ``deal`` (the one derivation, ``rwa.terms``)."""
        return pool_terms(deal, self.principal_schedule, self.servicing_fee_per_period)

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
    rate = fin.senior_coupon_bps / MONTHLY_BPS_DIVISOR
    tenor = effective_tenor(deal)

    # the deployed shape: in each period the tighter of the base and the P90 debt-service ceilings
    caps = [
        min(max(c, 0) / fin.dscr_target, max(d, 0) / fin.p90_dscr_target)
        for c, d in zip(cfads[:tenor], cfads_p90[:tenor], strict=True)
    ]
    capacities = {
        "dscr_base": size_by_dscr(cfads, rate, fin.dscr_target, fin.tenor_periods).debt,
        "dscr_p90": size_by_dscr(cfads_p90, rate, fin.p90_dscr_target, tenor).debt,
        "ltv": _ltv_capacity(deal, caps, rate),
        "tenor": size_by_dscr(cfads, rate, fin.dscr_target, tenor).debt,
    }
    constraints = {k: max(math.floor(v), 0) if math.isfinite(v) else 0 for k, v in capacities.items()}
    binding = min(CONSTRAINTS, key=lambda k: (capacities[k], CONSTRAINTS.index(k)))
    max_senior = constraints[binding]

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
    )


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
