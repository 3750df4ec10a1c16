"""Everything `rwa size` reports: one analysis of a deal, as stable-keyed JSON or as rich tables.

Money in the JSON is integer smallest units of the deal's currency (``deal.decimals``); ratios and rates are
floats (a rate of 0.08 is 8%); an infinite ratio (no debt service left) is ``null``.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from rwa.leverage.analysis import (
    Breakevens,
    Dsra,
    Returns,
    StressResult,
    TrancheFigures,
    breakevens,
    dsra,
    returns,
    stress,
    stress_scenarios,
    tranche_figures,
)
from rwa.leverage.cashflows import base_revenue, billable_rent, contracted_rent
from rwa.leverage.montecarlo import LossSizing, MonteCarlo, simulate, size_to_loss_probability
from rwa.leverage.seedcheck import SeedConsistency, seed_consistency
from rwa.leverage.sizing import Sizing, size_deal
from rwa.leverage.sources_and_uses import SourcesAndUses, sources_and_uses
from rwa.leverage.use_of_proceeds import Escrowed, UseOfProceeds, use_of_proceeds
from rwa.model.deal import Deal
from rwa.model.deal_file import deal_hash, load_deal
from rwa.model.placement import allocate
from rwa.model.units import COUPON_DAY_COUNT, format_money, format_ratio

SCHEMA_VERSION = 3
"""2: ``deal.period_seconds`` gave way to ``deal.period_calendar`` and ``deal.last_end``; ``coupon_day_count``.
3: ``use_of_proceeds``; the sources and uses' capex is the supplier orders' price."""
SHORTFALL_ROW = "delivery_12_of_330"
"""The stress grid's delivery-shortfall row: the use of proceeds follows the senior on its cash."""


@dataclass(frozen=True)
class Analysis:
    """A deal, its sizing and every figure derived from it."""

    deal: Deal
    deal_hash: str
    sizing: Sizing
    returns: Returns
    breakevens: Breakevens
    stress: list[StressResult]
    monte_carlo: MonteCarlo
    seeds: SeedConsistency
    allocations: dict[str, dict[str, int]]
    sources_and_uses: SourcesAndUses
    tranches: dict[str, TrancheFigures]
    dsra: Dsra
    use_of_proceeds: UseOfProceeds
    loss_sizing: LossSizing | None = None


def analyse(path: Path, paths: int | None = None, seed: int | None = None,
            target_loss: float | None = None) -> Analysis:
    """Load the deal at ``path`` and compute everything (and the loss-probability sizing when a target is given)."""
    deal = load_deal(path)
    sizing = size_deal(deal)
    shortfall = next(s for key, _, s in stress_scenarios(deal, sizing) if key == SHORTFALL_ROW)
    return Analysis(
        deal=deal,
        deal_hash=deal_hash(path),
        sizing=sizing,
        returns=returns(deal, sizing),
        breakevens=breakevens(deal, sizing),
        stress=stress(deal, sizing),
        monte_carlo=simulate(deal, sizing, paths, seed),
        seeds=seed_consistency(deal, sizing),
        allocations=allocate(deal, sizing.senior_size, sizing.junior_size),
        sources_and_uses=sources_and_uses(deal, sizing),
        tranches=tranche_figures(deal, sizing),
        dsra=dsra(deal, sizing),
        use_of_proceeds=use_of_proceeds(deal, sizing, shortfall),
        loss_sizing=None if target_loss is None else size_to_loss_probability(deal, sizing, target_loss, paths, seed),
    )


def _clean(value: Any) -> Any:
    """JSON-safe: infinities and NaN become null, containers recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def to_json(a: Analysis) -> dict[str, Any]:
    """Every figure, with stable keys."""
    deal, sizing = a.deal, a.sizing
    stress_rows = []
    for row in a.stress:
        item = asdict(row)
        item.pop("dscr_path")
        stress_rows.append(item)
    payload: dict[str, Any] = _clean(
        {
            "schema_version": SCHEMA_VERSION,
            "deal": {
                "name": deal.name,
                "sha256": a.deal_hash,
                "currency": deal.currency,
                "decimals": deal.decimals,
                "rmb_per_unit": deal.rmb_per_unit,
                "periods": deal.periods.count,
                "period_calendar": "calendar months",
                "first_start": deal.periods.first_start.isoformat(),
                "last_end": deal.periods.end_of(deal.periods.count).isoformat(),
            },
            "max_senior": sizing.max_senior,
            "senior_size": sizing.senior_size,
            "junior_size": sizing.junior_size,
            "binding_constraint": sizing.binding_constraint,
            "dsra_target": a.dsra.target_at_close,
            "dsra": asdict(a.dsra),
            "loss_probability_sizing": None if a.loss_sizing is None else asdict(a.loss_sizing),
            "constraints": sizing.constraints,
            "servicing_fee_per_period": sizing.servicing_fee_per_period,
            "tenor_periods": sizing.tenor_periods,
            "coupon_bps": sizing.coupon_bps,
            "coupon_day_count": COUPON_DAY_COUNT,
            "min_dscr": sizing.min_dscr,
            "contracted_rent": contracted_rent(deal),
            "billable_rent": billable_rent(deal),
            "base_revenue": base_revenue(deal),
            "cfads_p90": sizing.cfads_p90,
            "schedule": [asdict(r) for r in sizing.schedule],
            "returns": asdict(a.returns),
            "breakevens": asdict(a.breakevens),
            "stress": stress_rows,
            "monte_carlo": asdict(a.monte_carlo),
            "seed_consistency": asdict(a.seeds),
            "allocations": a.allocations,
            "tranches": {name: asdict(figures) for name, figures in a.tranches.items()},
            "sources_and_uses": {**asdict(a.sources_and_uses), "uses": a.sources_and_uses.uses,
                                 "sources": a.sources_and_uses.sources},
            "use_of_proceeds": use_of_proceeds_json(a.use_of_proceeds),
        }
    )
    return payload


def _escrowed_json(e: Escrowed) -> dict[str, Any]:
    return {"orders": [{**asdict(o), "price": o.price} for o in e.orders], "raise_released": e.raise_released,
            "equity_released": e.equity_released, "released": e.released, "prepaid": e.prepaid}


def use_of_proceeds_json(u: UseOfProceeds) -> dict[str, Any]:
    """The use of proceeds with stable keys, every amount an integer in smallest units."""
    s = u.shortfall
    return {
        "raise": u.raise_amount, "senior": u.senior, "junior": u.junior, "reserve_at_close": u.reserve_at_close,
        "costs": u.costs, "proceeds": u.proceeds, "capex_total": u.capex_total, "escrowed": u.escrowed,
        "to_treasury": u.to_treasury, "equity": u.equity, "long_stop_period": u.long_stop_period,
        "scheduled": _escrowed_json(u.scheduled),
        "shortfall": {
            "supplier": s.supplier, "servers_delivered": s.servers_delivered, "servers_ordered": s.servers_ordered,
            **_escrowed_json(s.escrow), "senior_before": s.senior_before, "prepaid_senior": s.prepaid_senior,
            "prepaid_junior": s.prepaid_junior, "senior_after": s.senior_after,
            "senior_outstanding_at_maturity": s.senior_outstanding_at_maturity,
            "senior_paid_in_full": s.senior_paid_in_full,
        },
    }


def _money(deal: Deal, amount: float) -> str:
    """A calculator amount (smallest units, maybe fractional) the way every command shows money: rounded down."""
    return format_money(math.floor(amount), deal.decimals, deal.currency) if math.isfinite(amount) else "-"


def _years(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} years"


def _pct(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}%}"


def _ratio(value: float | None) -> str:
    return "-" if value is None else format_ratio(value)


def render(a: Analysis, console: Console) -> None:
    """The default output: a few rich tables."""
    deal, sizing = a.deal, a.sizing
    cur = deal.currency
    head = Table(title=f"{deal.name} - sizing", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    for name, cap in sizing.constraints.items():
        mark = "  <- binds" if name == sizing.binding_constraint else ""
        head.add_row(f"capacity: {name}", ("no limit" if cap is None else _money(deal, cap)) + mark)
    head.add_row("max senior", _money(deal, sizing.max_senior))
    head.add_row("senior (deployed)", _money(deal, sizing.senior_size))
    head.add_row("junior", _money(deal, sizing.junior_size))
    head.add_row("servicing fee per period", _money(deal, sizing.servicing_fee_per_period))
    head.add_row("tenor (periods)", str(sizing.tenor_periods))
    head.add_row("min base DSCR", _ratio(sizing.min_dscr))
    r, b = a.returns, a.breakevens
    head.add_row(f"senior yield (nominal; coupon {COUPON_DAY_COUNT}, monthly)", _pct(r.senior_yield_nominal))
    head.add_row("junior IRR / XIRR", f"{_pct(r.junior_irr)} / {_pct(r.junior_xirr)}")
    head.add_row("junior MOIC", _ratio(r.junior_moic))
    for name, f in a.tranches.items():
        head.add_row(f"{name} YTM / WAL / modified duration",
                     f"{_pct(f.ytm)} / {_years(f.wal_years)} / {_years(f.modified_duration)}")
    head.add_row(
        "junior payback (static / discounted)",
        f"{r.junior_payback_periods or '-'} / {r.junior_discounted_payback_periods or '-'} periods",
    )
    head.add_row(
        "breakeven utilization (1.0x / covenant)",
        f"{_pct(b.utilization_at_dscr_1)} / {_pct(b.utilization_at_covenant)}",
    )
    head.add_row(
        "breakeven rent (1.0x / covenant)",
        f"{_money(deal, b.rent_per_server_month_at_dscr_1 or 0)} / "
        f"{_money(deal, b.rent_per_server_month_at_covenant or 0)} per server-month "
        f"({_pct(b.rent_factor_at_dscr_1)} / {_pct(b.rent_factor_at_covenant)} of contract)",
    )
    head.add_row("largest CFADS haircut survived", _pct(b.max_cfads_haircut))
    repaid_at = next((i + 1 for i, row in enumerate(sizing.schedule) if row.balance == 0), None)
    head.add_row(f"reserve (DSRA): target at close / funded at close ({deal.financing.reserve_periods} periods)",
                 f"{_money(deal, a.dsra.target_at_close)} / {_money(deal, a.dsra.funded_at_close)}")
    head.add_row("reserve (DSRA): largest / released from period",
                 f"{_money(deal, max(a.dsra.reserve_after, default=0))} / {repaid_at or '-'}")
    console.print(head)

    su = a.sources_and_uses
    flows = Table(title="Sources and uses of the raise")
    for col in ("uses", "", "sources", " "):
        flows.add_column(col, justify="right" if col.strip() == "" else "left")
    equity = "issuer equity" if su.issuer_equity >= 0 else "surplus to the issuer"
    rows = [("servers (capex)", su.capex, "senior tranche", su.senior),
            ("reserve at close", su.reserve_at_close, "junior tranche", su.junior),
            ("upfront costs", su.upfront_costs, equity, su.issuer_equity),
            ("total", su.uses, "total", su.sources)]
    for use, amount, source, value in rows:
        flows.add_row(use, _money(deal, amount), source, _money(deal, value))
    console.print(flows)
    _render_use_of_proceeds(deal, a.use_of_proceeds, console)

    grid = Table(title="Stress grid")
    grid.add_column("scenario", min_width=28)
    for col in ("min DSCR", "cash trap", "senior repaid", "senior loss"):
        grid.add_column(col, justify="right")
    for s in a.stress:
        grid.add_row(s.label, _ratio(s.min_dscr), "yes" if s.cash_trap else "no",
                     "yes" if s.senior_repaid else "NO", _money(deal, s.senior_loss))
    console.print(grid)

    mc = a.monte_carlo
    sim = Table(title=f"Monte Carlo ({mc.paths:,} paths, seed {mc.seed})", show_header=False)
    sim.add_column("figure")
    sim.add_column("value", justify="right")
    sim.add_row("P(covenant breach)", _pct(mc.p_covenant_breach))
    sim.add_row("P(senior loss)", _pct(mc.p_senior_loss, 2))
    sim.add_row("expected loss", f"{_money(deal, mc.expected_loss)} ({_pct(mc.expected_loss_rate)})")
    sim.add_row("loss 95% / 99% percentile", f"{_money(deal, mc.loss_p95)} / {_money(deal, mc.loss_p99)}")
    sim.add_row(
        "mean loss in the worst 5% / 1%",
        f"{_money(deal, mc.expected_shortfall_95)} / {_money(deal, mc.expected_shortfall_99)}",
    )
    sim.add_row("min DSCR 5th / 1st percentile", f"{_ratio(mc.min_dscr_p5)} / {_ratio(mc.min_dscr_p1)}")
    sim.add_row("main driver", f"{mc.driver} (by {mc.driver_basis})")
    lo, hi = mc.p_senior_loss_ci95
    sim.add_row("P(senior loss) 95% interval", f"{_pct(lo, 2)} - {_pct(hi, 2)}")
    sim.add_row("loss-adjusted yield: senior / junior",
                f"{_pct(mc.senior_loss_adjusted_yield, 2)} / {_pct(mc.junior_loss_adjusted_yield)}")
    q = mc.junior_irr_percentiles
    sim.add_row("junior IRR P10 / P50 / P90", " / ".join(_pct(q.get(k)) for k in ("p10", "p50", "p90")))
    if a.loss_sizing is not None:
        ls = a.loss_sizing
        sim.add_row(f"senior sized to P(loss) <= {_pct(ls.target, 2)}",
                    f"{_money(deal, ls.senior_size)} (P(loss) {_pct(ls.p_senior_loss, 3)}, 95% "
                    f"{_pct(ls.ci95[0], 3)} - {_pct(ls.ci95[1], 3)})")
    console.print(sim)

    seeds = Table(title=f"Seed consistency (RMB at {a.seeds.rmb_per_unit}/{cur}"
                  f"{', assumed' if a.seeds.rate_assumed else ''})")
    for col in ("check", "status", "value", "headline"):
        seeds.add_column(col)
    for c in a.seeds.checks:
        seeds.add_row(c.key, c.status.upper() if c.status != "ok" else "ok", f"{c.value:,.2f}", c.expected)
    console.print(seeds)
    if a.seeds.flagged:
        console.print("[bold red]flagged: this deal's income cannot come from its cluster[/]")

    sched = Table(title="Senior schedule (first 12 periods; --json has all)")
    for col in ("period", "CFADS", "interest", "principal", "balance", "DSCR", "LLCR"):
        sched.add_column(col, justify="right")
    for row in sizing.schedule[:12]:
        sched.add_row(str(row.period), _money(deal, row.cfads), _money(deal, row.interest),
                      _money(deal, row.principal), _money(deal, row.balance), _ratio(row.dscr), _ratio(row.llcr))
    console.print(sched)


def _render_use_of_proceeds(deal: Deal, u: UseOfProceeds, console: Console) -> None:
    """The raise to the unit, each supplier order's releases, and what the delivery shortfall prepays."""
    head = Table(title="Use of proceeds (the raise, by the contracts' rules)", show_header=False)
    head.add_column("figure")
    head.add_column("value", justify="right")
    head.add_row("raise (senior + junior at par)", _money(deal, u.raise_amount))
    head.add_row("reserve at close (into the pool)", _money(deal, u.reserve_at_close))
    head.add_row("costs (paid at the close)", _money(deal, u.costs))
    head.add_row(f"escrowed for the fleet (min(proceeds, capex {_money(deal, u.capex_total)}))",
                 _money(deal, u.escrowed))
    head.add_row("to the treasury (proceeds beyond the fleet's price)", _money(deal, u.to_treasury))
    head.add_row("issuer equity alongside (capex - escrowed)", _money(deal, u.equity))
    head.add_row("long-stop", f"end of period {u.long_stop_period}")
    console.print(head)

    s = u.shortfall
    orders = Table(title=f"Releases per supplier order: as scheduled / {s.supplier} delivers {s.servers_delivered} "
                   f"of {s.servers_ordered}")
    for col in ("order", "servers", "released (raise + equity)", "from the raise", "issuer equity",
                "shortfall: servers", "shortfall: from the raise"):
        orders.add_column(col, justify="left" if col == "order" else "right")
    for full, cut in zip(u.scheduled.orders, s.escrow.orders, strict=True):
        orders.add_row(full.supplier, f"{full.servers_delivered} of {full.servers_ordered}",
                       _money(deal, full.released), _money(deal, full.from_raise), _money(deal, full.from_equity),
                       str(cut.servers_delivered), _money(deal, cut.from_raise))
    orders.add_row("total", "", _money(deal, u.scheduled.released), _money(deal, u.scheduled.raise_released),
                   _money(deal, u.scheduled.equity_released), "", _money(deal, s.escrow.raise_released))
    console.print(orders)

    short = Table(title=f"What the shortfall prepays at the long-stop (end of period {s.long_stop_period})",
                  show_header=False)
    short.add_column("figure")
    short.add_column("value", justify="right")
    short.add_row("raise released against deliveries", _money(deal, s.escrow.raise_released))
    short.add_row("prepaid (the raise not released)", _money(deal, s.escrow.prepaid))
    short.add_row("senior balance before / after the prepayment",
                  f"{_money(deal, s.senior_before)} / {_money(deal, s.senior_after)}")
    short.add_row("prepaid to the senior / to the junior",
                  f"{_money(deal, s.prepaid_senior)} / {_money(deal, s.prepaid_junior)}")
    short.add_row("senior paid in full", "yes" if s.senior_paid_in_full
                  else f"NO ({_money(deal, s.senior_outstanding_at_maturity)} outstanding at maturity)")
    console.print(short)
