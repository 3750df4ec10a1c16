"""Rich views of a plan and of a period's waterfall, and how a deployment's money is shown."""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from rwa.model.units import format_dscr, format_ratio, money_formatter, parse_money
from rwa.model.waterfall import PeriodLegs
from rwa.onchain.deployment import Manifest

if TYPE_CHECKING:
    from rwa.issuance.issue import Plan

NOT_MONEY = frozenset({"period", "dscr_bps"})
"""The fields of :class:`PeriodLegs` that are not amounts of stablecoin."""


@functools.lru_cache(maxsize=8)
def _currency(deal_file: str, deal_hash: str) -> tuple[int, str]:
    """The deal file's decimals and currency, read once per file version."""
    from rwa.model.deal_file import load_deal

    spec = load_deal(Path(deal_file))
    return spec.decimals, spec.currency


def deal_money(manifest: Manifest, *, raw: bool = False) -> Callable[[int], str]:
    """How the deployment's amounts are shown: whole units of its deal's currency, or smallest units with ``raw``."""
    decimals, currency = _currency(manifest.deal_file, manifest.deal_hash)
    return money_formatter(decimals, currency, raw=raw)


def deal_amount(manifest: Manifest, text: str, *, raw: bool = False, option: str = "--amount",
                unit: str | None = None) -> int:
    """An amount typed for ``option`` of the deployment's money or tokens (one token unit per stablecoin unit of
    face, so the same decimals), in smallest units: whole units with ``raw`` off
    (:func:`rwa.model.units.parse_money`)."""
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
    offer = plan.deal.offering
    if offer is None:
        table.add_row("investors",
                      f"{len(plan.allocations['senior'])} senior, {len(plan.allocations['junior'])} junior")
    else:
        from rwa.model.terms import reserve_at_close

        kyc = plan.deal.investors
        table.add_row("sold by", f"an offering at par to {len(kyc)} KYC'd investor(s), who subscribe")
        table.add_row("offering window", f"{offer.opens.isoformat()} .. {offer.closes.isoformat()}")
        table.add_row("abandonable after", f"{offer.closes.isoformat()} + {offer.close_grace_seconds // 86_400} days "
                                           "without a close")
        table.add_row("tickets", f"{money(offer.min_ticket)} .. {money(offer.max_ticket)} per investor and tranche")
        table.add_row("under-subscribed", offer.under_subscribed if offer.under_subscribed == "cancel" else
                      f"take-up: senior up to {money(offer.take_up_senior)}, junior up to "
                      f"{money(offer.take_up_junior)}")
        table.add_row("reserve at close", money(reserve_at_close(plan.deal, plan.terms)))
        table.add_row("upfront costs", ", ".join(f"{c.label} {money(c.amount)}" for c in offer.costs) or "none")
        table.add_row("treasury", offer.treasury or "the issuer")
    from rwa.model.fleet import register_terms
    from rwa.model.terms import treasury_of

    deal = plan.deal
    fleet = register_terms(deal, treasury_of(deal, "the issuer"))
    for order in fleet.orders:
        to = "the treasury, against the invoice" if order.recipient == treasury_of(deal, "the issuer") else \
            order.recipient
        table.add_row(f"order {order.supplier}", f"{order.servers:,} servers at {money(order.unit_price)} "
                      f"({money(order.price)}), paid to {to} as each batch is attested")
    if offer is not None:
        table.add_row("escrow", f"the proceeds up to {money(fleet.capex_total)}, released with the issuer's equity "
                                "pro rata against attested deliveries")
    stop = deal.periods.end_of(deal.long_stop_period).isoformat()
    table.add_row("long-stop", f"end of period {deal.long_stop_period} ({stop}): the raise not released prepays "
                               "the senior")
    names = deal.oracle.reporter_names
    table.add_row("reporters", f"{deal.oracle.threshold} of {deal.oracle.reporters}"
                  + (f": {', '.join(names)}" if names else ""))
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
