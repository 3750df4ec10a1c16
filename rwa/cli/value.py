"""``rwa value``: each tranche's fair value at a date, from the pool's state on the chain (``rwa.issuance.value``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from rwa.cli.options import Deployment, RpcUrl, StateFile, output_console
from rwa.errors import InputError
from rwa.model.units import TRANCHES, Tranche

if TYPE_CHECKING:
    from rwa.issuance.value import DeploymentValue

console = output_console()
AsJson = Annotated[bool, typer.Option("--json", help="Print the figures as JSON (money in smallest units, times "
                                      "ISO 8601 UTC, rates in percent).")]


def parse_date(text: str) -> datetime:
    """``--date``: a date (``2026-01-31``, at 00:00 UTC) or an ISO 8601 time (UTC unless it carries an offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())  # a bare date is that day's 00:00
    except ValueError:
        raise InputError(f"--date {text!r}: not a date; give YYYY-MM-DD or an ISO 8601 time such as "
                         "2026-01-31T12:00:00Z") from None
    try:
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # an offset that moves the time past the calendar's first or last day
        raise InputError(f"--date {text!r}: outside the calendar (years 1 to 9999) once moved to UTC") from None


def parse_rate(text: str) -> Decimal:
    """``--rate``: an annual effective rate in percent (``9.5`` or ``9.5%``), as a fraction (``0.095``)."""
    from rwa.leverage.valuation import MAX_RATE

    try:
        percent = Decimal(text.strip().removesuffix("%"))
    except InvalidOperation:
        raise InputError(f"--rate {text!r}: not a number; give an annual rate in percent, e.g. 9.5") from None
    if not percent.is_finite() or percent < 0:
        raise InputError(f"--rate {text!r}: must be a finite rate of 0% or more")
    if percent > MAX_RATE * 100:  # compared before dividing: a huge exponent overflows the decimal context
        raise InputError(f"--rate {text!r}: must be at most {MAX_RATE * 100:,.0f}% a year")
    return percent / 100


def parse_tranche(text: str) -> Tranche:
    for tranche in TRANCHES:
        if text == tranche:
            return tranche
    raise InputError(f"--tranche {text!r}: one of {', '.join(TRANCHES)}")


def _percent(rate: Decimal) -> str:
    return f"{rate * 100:.2f}%"


def _of_face(value: int, supply: int) -> str:
    """The tranche's value as a share of its face (one token unit is one stablecoin smallest unit of face)."""
    if supply <= 0:
        return "-"
    return f"{(Decimal(value) * 100 / supply).quantize(Decimal('0.01'), rounding='ROUND_FLOOR')}%"


def value_command(
    date_: Annotated[str | None, typer.Option("--date", help="The valuation date: YYYY-MM-DD (00:00 UTC) or an ISO "
                                              "8601 time; default the chain's latest block time.")] = None,
    rate: Annotated[str | None, typer.Option("--rate", help="Annual effective discount rate in percent (9.5 is "
                                             "9.5%; --json shows it the same way, as rate_percent), on actual/365 "
                                             "(default per tranche: senior coupon + 1%, the junior's hurdle).")] = None,
    tranche: Annotated[str | None, typer.Option("--tranche", help="senior or junior (default both).")] = None,
    as_json: AsJson = False,
    deployment: Deployment = None,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """Fair value of one token and of each tranche at a date: the remaining expected payments (the pool's waterfall
    run forward from its on-chain state on the deal's base case), each discounted from the end of its period to the
    date on actual/365 at an annual effective rate. Base case only, not loss-adjusted."""
    from rwa.chain.interface import connect
    from rwa.issuance.show import deal_money
    from rwa.issuance.value import value_deployment
    from rwa.model.deal import load_deal
    from rwa.onchain.deployed import open_deployment
    from rwa.onchain.deployment import default_manifest_path, load_manifest

    at = None if date_ is None else parse_date(date_)
    discount = None if rate is None else parse_rate(rate)
    only = None if tranche is None else parse_tranche(tranche)
    manifest = load_manifest(deployment or default_manifest_path())
    deal = load_deal(Path(manifest.deal_file))
    rates = None if discount is None else dict.fromkeys(TRANCHES, discount)
    with connect(rpc_url=rpc_url, state=state) as chain:
        valued = value_deployment(deal, open_deployment(chain, manifest), at, rates)
    shown = [t for t in TRANCHES if only in (None, t)]
    if as_json:
        print(json.dumps(_json(valued, shown), indent=2))
        return
    money = deal_money(manifest)
    s = valued.state
    where = "finalized" if s.finalized else f"after period {s.last_distributed_period} of {deal.periods.count}"
    console.print(f"fair value at {_iso(valued.at)}; pool state at block {valued.block} ({_iso(valued.as_of)}), "
                  f"{where}; base-case payments discounted on actual/365")
    table = Table(show_header=True)
    table.add_column("tranche")
    for column in ("rate", "payments left", "per token", "of face", "whole tranche"):
        table.add_column(column, justify="right")
    for t in shown:
        v = valued.tranches[t]
        left = sum(1 for p in v.payments if p.amount and p.when >= valued.at)
        table.add_row(t, _percent(v.rate), str(left), "-" if v.per_token is None else money(v.per_token),
                      _of_face(v.value, v.supply), money(v.value))
    console.print(table)
    if valued.late:
        from rwa.model.calendar import format_periods

        console.print(f"late: {len(valued.late)} period(s), {format_periods(list(valued.late))} (ended, the servicer's "
                      f"grace passed, not distributed): priced on the {money(sum(valued.late.values()))} the pool "
                      "holds for them, not on the base case; what that leaves unpaid is carried as arrears, paid, if "
                      "at all, from later periods' cash")


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _json(valued: DeploymentValue, shown: list[Tranche]) -> dict[str, Any]:
    from rwa.leverage.valuation import DAY_COUNT

    return {
        "date": _iso(valued.at),
        "day_count": DAY_COUNT,
        "as_of": {"block": valued.block, "time": _iso(valued.as_of)},
        "last_distributed_period": valued.state.last_distributed_period,
        "finalized": valued.state.finalized,
        "late_periods": list(valued.late),
        "late_cash_held": sum(valued.late.values()),
        "tranches": {
            t: {
                "rate_percent": float(v.rate * 100),
                "supply": v.supply,
                "value": v.value,
                "value_per_token": v.per_token,
                "payments": [{"period": p.period, "date": _iso(p.when), "amount": p.amount, "late": p.late}
                             for p in v.payments
                             if p.when >= valued.at],
            }
            for t in shown
            for v in (valued.tranches[t],)
        },
    }


def register(app: typer.Typer) -> None:
    app.command("value")(value_command)
