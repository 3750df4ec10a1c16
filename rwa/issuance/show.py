"""Rich views of a plan and of a period's waterfall, and how a deployment's money is shown."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from rwa.deployment import Manifest
from rwa.issuance.issue import Plan
from rwa.units import format_dscr, format_ratio, money_formatter, parse_money
from rwa.waterfall import PeriodLegs

NOT_MONEY = frozenset({"period", "dscr_bps"})
"""The fields of :class:`PeriodLegs` that are not amounts of stablecoin."""


@functools.lru_cache(maxsize=8)
def _currency(deal_file: str, deal_hash: str) -> tuple[int, str]:
    """The deal file's decimals and currency, read once per file version."""
    from rwa.deal import load_deal

    spec = load_deal(Path(deal_file))
    return spec.decimals, spec.currency


def deal_money(manifest: Manifest, *, raw: bool = False) -> Callable[[int], str]:
    """How the deployment's amounts are shown: whole units of its deal's currency, or smallest units with ``raw``."""
    decimals, currency = _currency(manifest.deal_file, manifest.deal_hash)
    return money_formatter(decimals, currency, raw=raw)


def deal_amount(manifest: Manifest, text: str, *, raw: bool = False, option: str = "--amount",
                unit: str | None = None) -> int:
    """An amount typed for ``option`` of the deployment's money or tokens (one token unit per stablecoin unit of
    face, so the same decimals), in smallest units: whole units with ``raw`` off (:func:`rwa.units.parse_money`)."""
    decimals, currency = _currency(manifest.deal_file, manifest.deal_hash)
    return parse_money(text, decimals, raw=raw, option=option, unit=unit or currency)


def deal_tokens(manifest: Manifest, tranche: str, *, raw: bool = False) -> Callable[[int], str]:
    """How an amount of ``tranche`` tokens is shown: whole tokens, or token units with ``raw``."""
    decimals, _ = _currency(manifest.deal_file, manifest.deal_hash)
    return money_formatter(decimals, f"{tranche} tokens", raw=raw)


def show_plan(console: Console, plan: Plan) -> None:
    s = plan.sizing
    money = money_formatter(plan.deal.decimals, plan.deal.currency)
    table = Table(title=f"issuance plan: {plan.deal.name}", show_header=False)
    table.add_row("senior tranche", money(s.senior_size))
    table.add_row("junior tranche", money(s.junior_size))
    table.add_row("binding constraint", s.binding_constraint)
    table.add_row("coupon", f"{s.coupon_bps / 100:.2f}% a year")
    table.add_row("periods / tenor", f"{plan.deal.periods.count} / {s.tenor_periods}")
    table.add_row("servicing fee per period", money(s.servicing_fee_per_period))
    table.add_row("min base-case DSCR", format_ratio(s.min_dscr))
    paying = [r for r in s.schedule if r.principal]
    if paying:
        table.add_row(
            "principal schedule",
            f"periods {paying[0].period}..{paying[-1].period}, {money(sum(r.principal for r in s.schedule))} in all",
        )
    table.add_row("investors", f"{len(plan.allocations['senior'])} senior, {len(plan.allocations['junior'])} junior")
    console.print(table)


def show_legs(console: Console, legs: PeriodLegs, money: Callable[[int], str]) -> None:
    table = Table(title=f"period {legs.period} waterfall", show_header=False)
    for name, value in vars(legs).items():
        if name == "dscr_bps":
            table.add_row("dscr", format_dscr(value))
        elif name in NOT_MONEY:
            table.add_row(name, str(value))
        else:
            table.add_row(name, money(value))
    console.print(table)
