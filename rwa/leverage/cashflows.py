"""Monthly cash flows of a deal, in integer smallest units, for the base case and for any stress scenario.

Revenue model: each lease bills ``servers in service x rent x utilization`` a period, where servers in service are
the delivered servers handed to leases in file order (a lease cannot bill servers that have not arrived); the
contracted rent is what the leases say regardless of deliveries. Refunds
of tax are deposits into the pool in the periods the deal names. The pool pays a fixed servicing fee first; it
covers the operating costs (power, operations and maintenance, colocation per delivered server) and the
servicer's fee on expected revenue, and is the largest monthly cost over the deal so that it is never short in
the base case. Income tax is the issuer's, paid out of its junior distributions, so it is not a pool leg.

:func:`scenario_cashflows` is the one place that turns a :class:`Scenario` into cash: the stress grid, the
breakevens and the cluster simulator all go through it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from rwa.model.deal import Deal
from rwa.model.fleet import Batch, allocate, delivery_batches, lease_terms
from rwa.model.terms import refund_schedule
from rwa.model.units import BPS


@dataclass(frozen=True)
class Scenario:
    """A deterministic what-if. Factors multiply the base case; ``utilization`` replaces it when given."""

    name: str = "base"
    rent_factor: float = 1.0
    utilization: float | None = None
    residual_factor: float = 1.0
    delivery_shortfall: bool = False
    defaulted_lessee: str | None = None
    default_period: int = 1
    relet_after: int | None = None  # periods the defaulted lessee's servers stand empty; None: never re-let
    relet_factor: float = 1.0  # the re-let rent as a share of the defaulted lease's contracted rent
    rate_shift_bps: int = 0
    cash_factor: float = 1.0
    delivery_delay: int = 0  # the largest supplier's deliveries arrive this many periods late
    power_factor: float = 1.0  # power price multiple; the servicer nets costs above the pool's fixed fee
    opex_factor: float = 1.0  # every operating cost multiple (power too), netted the same way
    refund_factor: float = 1.0  # share of each tax refund received
    fx_factor: float = 1.0  # the stablecoin value of the source currency against the deal's rate (0.8: -20%)

    def with_(self, **changes: object) -> Scenario:
        """A copy with some fields changed."""
        return replace(self, **changes)  # type: ignore[arg-type]


BASE = Scenario()


@dataclass(frozen=True)
class ScenarioFlows:
    """Cash of one scenario, per period (index 0 is period 1), integer smallest units."""

    billable: list[int]
    revenue: list[int]
    refunds: list[int]
    cfads: list[int]
    residual_value: int
    coupon_bps: int


def delivered_servers(deal: Deal, shortfall: bool = False, delay: int = 0) -> list[int]:
    """Servers in service in each period: the deal's delivery schedule as the fleet register receives it
    (:func:`rwa.model.fleet.delivery_batches`, the one rule of the delivery-shortfall case: the largest supplier
    delivers 12/330 of each batch); with ``delay`` that supplier's batches
    arrive that many periods late."""
    batches = delivery_batches(deal, shortfall)
    if delay:
        late = largest_supplier(deal)
        if late is None:  # one supplier without a schedule: every server is late
            batches = [replace(b, period=b.period + delay) for b in batches]
        else:
            batches = [replace(b, period=b.period + delay) if b.supplier == late else b for b in batches]
    return [sum(b.servers for b in batches if b.period <= p) for p in range(1, deal.periods.count + 1)]


def largest_supplier(deal: Deal) -> str | None:
    """The supplier the delivery-shortfall case cuts (:func:`rwa.model.fleet.delivery_batches`: the most servers
    scheduled, first in file order on a tie); None for a deal without a delivery schedule."""
    if not deal.cluster.deliveries:
        return None
    full, cut = _totals(delivery_batches(deal)), _totals(delivery_batches(deal, shortfall=True))
    # every batch of the cut supplier shrinks (12/330 of a batch is less than it) and no other batch changes
    return next(name for name, servers in full.items() if cut.get(name, 0) != servers)


def _totals(batches: list[Batch]) -> dict[str, int]:
    out: dict[str, int] = {}
    for b in batches:
        out[b.supplier] = out.get(b.supplier, 0) + b.servers
    return out


def lease_servers(deal: Deal, shortfall: bool = False, delay: int = 0) -> list[list[int]]:
    """Servers each lease bills per period: the fleet register's rule (:func:`rwa.model.fleet.allocate`), delivered
    servers going to the leases in force in file order."""
    delivered = delivered_servers(deal, shortfall, delay)
    leases = lease_terms(deal)
    by_period = [allocate(leases, delivered[p - 1], p) for p in range(1, deal.periods.count + 1)]
    return [list(row) for row in zip(*by_period, strict=True)]


def lease_rent(deal: Deal, shortfall: bool = False, delay: int = 0) -> list[list[int]]:
    """Contracted rent per lease per period (servers in service x rent), smallest units."""
    servers = lease_servers(deal, shortfall, delay)
    return [[n * lease.rent_per_server_month for n in row] for lease, row in zip(deal.leases, servers, strict=True)]


def contracted_rent(deal: Deal) -> list[int]:
    """What the contracts say is due per period: lease servers x rent over the leases in force.

    This ignores deliveries (a lessee owes nothing for servers that never arrived, but the contract still says
    so); the revenue model uses :func:`billable_rent`.
    """
    return [
        sum(lease.servers * lease.rent_per_server_month for lease in deal.leases
            if lease.start_period <= p <= lease.end_period)
        for p in range(1, deal.periods.count + 1)
    ]


def billable_rent(deal: Deal, shortfall: bool = False) -> list[int]:
    """Rent the delivered servers can bill per period at full utilization, across all leases."""
    return [sum(col) for col in zip(*lease_rent(deal, shortfall), strict=True)]


def base_revenue(deal: Deal) -> list[int]:
    """Expected gross revenue per period: billable rent at the base utilization (floored)."""
    return [math.floor(c * deal.utilization.base) for c in billable_rent(deal)]


def base_deposits(deal: Deal) -> list[int]:
    """Cash the servicer deposits into the pool per period in the base case: revenue plus tax refunds."""
    return [r + t for r, t in zip(base_revenue(deal), refunds(deal), strict=True)]


def refunds(deal: Deal) -> list[int]:
    """Tax refunds paid into the pool per period (the pool's refund schedule,
    :func:`rwa.model.terms.refund_schedule`)."""
    return refund_schedule(deal)


def operating_costs(deal: Deal, scenario: Scenario | None = None) -> list[int]:
    """Operating cost per period: per-server costs on delivered servers plus the servicer's fee on revenue; with a
    ``scenario``, its power and cost multiples on its delivered servers (rounded up to the smallest unit)."""
    costs = deal.operating_costs
    fee_on = [-(-r * costs.servicer_fee_bps // BPS) for r in base_revenue(deal)]
    s = BASE if scenario is None else scenario
    servers = delivered_servers(deal, s.delivery_shortfall, s.delivery_delay)
    if s.power_factor == 1.0 and s.opex_factor == 1.0:  # integers all the way
        per_server = costs.power_per_server_month + costs.om_per_server_month + costs.colocation_per_server_month
        return [n * per_server + f for n, f in zip(servers, fee_on, strict=True)]
    scaled = (costs.power_per_server_month * s.power_factor + costs.om_per_server_month
              + costs.colocation_per_server_month) * s.opex_factor
    return [math.ceil(n * scaled) + f for n, f in zip(servers, fee_on, strict=True)]


def servicing_fee_per_period(deal: Deal) -> int:
    """The pool's fixed first leg: the largest monthly operating cost of the deal."""
    return max(operating_costs(deal))


def collateral_value(deal: Deal, residual_factor: float = 1.0, shortfall: bool = False) -> list[int]:
    """Hardware value at closing (index 0) and at the end of each period p (index p), smallest units."""
    delivered = delivered_servers(deal, shortfall)
    return [
        math.floor(delivered[max(p - 1, 0)] * deal.cluster.capex_per_server * value_share(deal, p) * residual_factor)
        for p in range(deal.periods.count + 1)
    ]


def value_share(deal: Deal, months: int) -> float:
    """Hardware value as a share of capex after ``months``: straight-line decline down to the floor."""
    decline = deal.residual.annual_decline_bps / BPS * months / 12
    return max(deal.residual.floor_bps / BPS, 1 - decline)


def scenario_cashflows(deal: Deal, scenario: Scenario = BASE, fee: int | None = None) -> ScenarioFlows:
    """Cash of ``scenario``: revenue, refunds, CFADS after the fixed fee, and the residual sale at the end."""
    fee = servicing_fee_per_period(deal) if fee is None else fee
    rents = lease_rent(deal, scenario.delivery_shortfall, scenario.delivery_delay)
    if scenario.defaulted_lessee is not None:
        rents = [
            [_after_default(scenario, p + 1, r) for p, r in enumerate(row)]
            if lease.lessee == scenario.defaulted_lessee
            else row
            for lease, row in zip(deal.leases, rents, strict=True)
        ]
    billable = [sum(col) for col in zip(*rents, strict=True)]
    utilization = deal.utilization.base if scenario.utilization is None else scenario.utilization
    cash = scenario.cash_factor * scenario.fx_factor
    revenue = [math.floor(c * utilization * scenario.rent_factor * cash) for c in billable]
    overrun = _cost_overrun(deal, scenario, fee)
    revenue = [max(r - o, 0) for r, o in zip(revenue, overrun, strict=True)]
    refund = [math.floor(r * cash * scenario.refund_factor) for r in refunds(deal)]
    cfads = [r + t - fee for r, t in zip(revenue, refund, strict=True)]
    residual = collateral_value(deal, scenario.residual_factor, scenario.delivery_shortfall)[-1]
    return ScenarioFlows(
        billable=billable,
        revenue=revenue,
        refunds=refund,
        cfads=cfads,
        residual_value=residual,
        coupon_bps=deal.financing.senior_coupon_bps + scenario.rate_shift_bps,
    )


def _cost_overrun(deal: Deal, scenario: Scenario, fee: int) -> list[int]:
    """What the servicer nets from the rent it deposits when the operating costs of ``scenario`` exceed the
    pool's fixed servicing fee (the power bill is paid before the pool, or the servers stop)."""
    if scenario.power_factor == 1.0 and scenario.opex_factor == 1.0:
        return [0] * deal.periods.count
    return [max(c - fee, 0) for c in operating_costs(deal, scenario)]


def _after_default(scenario: Scenario, period: int, rent: int) -> int:
    """A defaulted lease's rent in ``period``: the contract until the default, nothing while the servers stand
    empty, then the re-let rent."""
    if period < scenario.default_period:
        return rent
    if scenario.relet_after is None or period < scenario.default_period + scenario.relet_after:
        return 0
    return math.floor(rent * scenario.relet_factor)


def market_rent_factor(deal: Deal, period: int) -> float:
    """The expected market rent in ``period`` as a share of today's contracted rent: the deal's annual rent drift,
    compounded continuously as the Monte Carlo's geometric Brownian motion has it in expectation."""
    return math.exp(deal.risk.rent_drift_annual * period / 12)


def lessee_default(deal: Deal, period: int, lessee: str | None = None) -> Scenario:
    """``lessee`` (default: the largest) defaults in ``period``; its servers stand empty for the deal's vacancy,
    then are re-let at the market rent of the re-letting month less the deal's re-let discount."""
    risk = deal.risk
    name = largest_lessee(deal) if lessee is None else lessee
    relet = period + risk.relet_vacancy_periods
    return BASE.with_(
        name=f"{name} defaults in period {period}",
        defaulted_lessee=name,
        default_period=period,
        relet_after=risk.relet_vacancy_periods,
        relet_factor=market_rent_factor(deal, relet) * (1 - risk.relet_discount_bps / BPS),
    )


def largest_lessee(deal: Deal) -> str:
    """The lessee with the most contracted rent over the deal (first in file order on a tie)."""
    totals: dict[str, int] = {}
    for lease, row in zip(deal.leases, lease_rent(deal), strict=True):
        totals[lease.lessee] = totals.get(lease.lessee, 0) + sum(row)
    names = list(totals)
    return max(names, key=lambda n: (totals[n], -names.index(n)))
