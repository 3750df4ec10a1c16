"""Rich views of a plan and of a period's waterfall."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from rwa.issuance.issue import Plan
from rwa.waterfall import PeriodLegs


def show_plan(console: Console, plan: Plan) -> None:
    s = plan.sizing
    unit = 10**plan.deal.decimals
    table = Table(title=f"issuance plan: {plan.deal.name}", show_header=False)
    table.add_row("senior tranche", f"{s.senior_size / unit:,.2f} {plan.deal.currency}")
    table.add_row("junior tranche", f"{s.junior_size / unit:,.2f} {plan.deal.currency}")
    table.add_row("binding constraint", s.binding_constraint)
    table.add_row("coupon", f"{s.coupon_bps / 100:.2f}% a year")
    table.add_row("periods / tenor", f"{plan.deal.periods.count} / {s.tenor_periods}")
    table.add_row("servicing fee per period", f"{s.servicing_fee_per_period / unit:,.2f}")
    table.add_row("min base-case DSCR", f"{s.min_dscr:.3f}")
    paying = [r for r in s.schedule if r.principal]
    if paying:
        table.add_row(
            "principal schedule",
            f"periods {paying[0].period}..{paying[-1].period}, "
            f"{sum(r.principal for r in s.schedule) / unit:,.2f} in all",
        )
    table.add_row("investors", f"{len(plan.allocations['senior'])} senior, {len(plan.allocations['junior'])} junior")
    console.print(table)


def show_legs(console: Console, legs: PeriodLegs) -> None:
    table = Table(title=f"period {legs.period} waterfall", show_header=False)
    for name, value in vars(legs).items():
        table.add_row(name, f"{value:,}" if isinstance(value, int) else str(value))
    console.print(table)
