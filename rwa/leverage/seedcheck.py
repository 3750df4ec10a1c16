"""Seed consistency: does the deal's income fit its cluster, judged against the industry's headline figures?

The headline figures (RMB) come from the seed documents: H800 servers rent for 90-120k a server-month and cost
2.1-3.3M; at 80% utilization a server does not lose money and under 50% it very likely does; a ~10,000-card
cluster's five-year contract brings ~4B of lease income (~6B for advanced cards), ~200M of tax refunds and ~130M
of residual value, and earns 150-200M a year (300-400M advanced).

Each check is ``ok``, ``warn`` (unusual, worth a look) or ``flag`` (the income cannot come from this cluster).
"""

from __future__ import annotations

from dataclasses import dataclass

from rwa.leverage.cashflows import base_revenue, collateral_value, delivered_servers, operating_costs, refunds
from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal

RENT_RMB = (90_000.0, 120_000.0)
CAPEX_RMB = (2_100_000.0, 3_300_000.0)
BREAKEVEN_UTILIZATION = 0.80
LOSS_UTILIZATION = 0.50
CARDS_REFERENCE = 10_000
LEASE_INCOME_RMB = (4.0e9, 6.0e9)  # five years, per ~10,000 cards: ordinary, advanced
REFUNDS_RMB = 2.0e8
RESIDUAL_RMB = 1.3e8
PROFIT_RMB_PER_YEAR = (1.5e8, 4.0e8)  # ordinary low end to advanced high end
DEFAULT_RMB_PER_UNIT = 7.2  # used, and said so, when a deal states no rate


@dataclass(frozen=True)
class Check:
    """One comparison against a headline figure."""

    key: str
    status: str
    value: float
    expected: str
    note: str


@dataclass(frozen=True)
class SeedConsistency:
    """All checks, the rate used, and whether any check flagged the deal."""

    rmb_per_unit: float
    rate_assumed: bool
    implied_rent_x_utilization_rmb: float
    implied_utilization_at_headline_rent: float
    flagged: bool
    checks: list[Check]


def seed_consistency(deal: Deal, sizing: Sizing) -> SeedConsistency:
    """Compare the deal's implied figures with the seed headlines."""
    rate = deal.rmb_per_unit or DEFAULT_RMB_PER_UNIT
    unit = deal.unit

    def rmb(amount: float) -> float:
        return amount / unit * rate

    months = deal.periods.count
    delivered = delivered_servers(deal)
    server_months = sum(delivered)
    revenue = sum(base_revenue(deal))
    implied = rmb(revenue) / server_months if server_months else float("inf")
    headline_mid = sum(RENT_RMB) / 2
    checks: list[Check] = []

    status = "flag" if implied > RENT_RMB[1] else "warn" if implied < RENT_RMB[0] * LOSS_UTILIZATION else "ok"
    checks.append(
        Check(
            "rent_x_utilization",
            status,
            implied,
            f"<= {RENT_RMB[1]:,.0f} RMB per server-month (top rent at 100% utilization)",
            "expected revenue per delivered server-month",
        )
    )
    booked = max(
        (sum(lease.servers for lease in deal.leases if lease.start_period <= p <= lease.end_period)
         for p in range(1, months + 1)),
        default=0,
    )
    checks.append(
        Check(
            "leased_servers",
            "flag" if booked > deal.cluster.servers else "ok",
            float(booked),
            f"<= {deal.cluster.servers} servers in the cluster",
            "most servers under lease at once",
        )
    )
    for i, lease in enumerate(deal.leases):
        rent = rmb(lease.rent_per_server_month)
        status = "ok" if RENT_RMB[0] * 0.8 <= rent <= RENT_RMB[1] else "flag" if rent > 1.5 * RENT_RMB[1] else "warn"
        checks.append(
            Check(f"rent[{i}]", status, rent, "90,000-120,000 RMB per server-month", lease.lessee)
        )
    capex = rmb(deal.cluster.capex_per_server)
    checks.append(
        Check(
            "capex_per_server",
            "ok" if CAPEX_RMB[0] <= capex <= CAPEX_RMB[1] else "warn",
            capex,
            "2.1M-3.3M RMB per 8-GPU server",
            "purchase price per server",
        )
    )
    cards = deal.cluster.servers * deal.cluster.gpus_per_server
    scale = CARDS_REFERENCE / cards
    years = months / 12
    income_5y = rmb(revenue) * scale * 5 / years
    checks.append(
        Check(
            "lease_income_per_10k_cards",
            "ok" if LEASE_INCOME_RMB[0] * 0.5 <= income_5y <= LEASE_INCOME_RMB[1] * 1.25 else "warn",
            income_5y,
            "~4B RMB (ordinary) to ~6B (advanced) over five years",
            "expected lease income scaled to 10,000 cards and five years",
        )
    )
    refund_share = sum(refunds(deal)) / revenue if revenue else 0.0
    headline_share = REFUNDS_RMB / LEASE_INCOME_RMB[0]
    checks.append(
        Check(
            "refunds_share_of_income",
            "ok" if refund_share <= 2 * headline_share else "warn",
            refund_share,
            f"~{headline_share:.0%} of lease income",
            "tax refunds paid into the pool over lease income",
        )
    )
    residual = rmb(collateral_value(deal)[-1]) * scale
    checks.append(
        Check(
            "residual_per_10k_cards",
            "ok" if residual <= 3 * RESIDUAL_RMB else "warn",
            residual,
            "~130M RMB after five years",
            "hardware value at the end, scaled to 10,000 cards",
        )
    )
    capex_total = sum(deal.cluster.capex_per_server * d.servers for d in deal.cluster.deliveries) or (
        deal.cluster.capex_per_server * deal.cluster.servers
    )
    interest = sum(r.interest for r in sizing.schedule)
    profit = revenue + sum(refunds(deal)) - sum(operating_costs(deal)) - (capex_total - collateral_value(deal)[-1])
    profit_per_year = rmb(profit - interest) * scale / years
    checks.append(
        Check(
            "profit_per_10k_cards_per_year",
            "ok" if PROFIT_RMB_PER_YEAR[0] * 0.5 <= profit_per_year <= PROFIT_RMB_PER_YEAR[1] * 1.5 else "warn",
            profit_per_year,
            "150-200M RMB a year (ordinary) to 300-400M (advanced)",
            "pre-tax profit after depreciation to residual and senior interest, per 10,000 cards",
        )
    )
    utilization = deal.utilization.base
    checks.append(
        Check(
            "base_utilization",
            "ok" if utilization >= BREAKEVEN_UTILIZATION else "warn",
            utilization,
            ">= 80% (servers at 50% or less very likely lose money)",
            "base-case utilization",
        )
    )
    return SeedConsistency(
        rmb_per_unit=rate,
        rate_assumed=deal.rmb_per_unit is None,
        implied_rent_x_utilization_rmb=implied,
        implied_utilization_at_headline_rent=implied / headline_mid,
        flagged=any(c.status == "flag" for c in checks),
        checks=checks,
    )
