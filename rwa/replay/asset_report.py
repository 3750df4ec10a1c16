"""The asset behind the tokens in the replay's outputs: every row of every accepted lease tape (``tapes.csv``), the
fleet per period (``fleet.csv``), and the report's *use of proceeds* and *fleet* sections with their charts."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from rwa.replay.checks.escrow import UseOfProceeds
from rwa.replay.checks.fleet import FleetView, leases_at
from rwa.replay.history import History

TAPE_COLUMNS = ["period", "version", "block", "lease", "lessee", "servers", "billed", "collected", "days_past_due"]
"""``tapes.csv``: one line per row of every tape the oracle accepted (``version`` 0 the submission's, then each
amendment's); ``billed`` and ``collected`` in the report's source currency at the stablecoin's decimals."""

LESSEE_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")


def tape_rows(history: History) -> list[list[Any]]:
    """``tapes.csv``'s lines, in period and chain order, each lease named by its lessee."""
    leases = leases_at(history)
    out: list[list[Any]] = []
    for period, tapes in sorted(history.tapes.items()):
        for tape in tapes:
            for row in tape.rows:
                lessee = leases[row.lease - 1].lessee if 0 < row.lease <= len(leases) else ""
                out.append([period, tape.version, tape.event.block, row.lease, lessee, row.servers, row.billed,
                            row.collected, row.days_past_due])
    return out


def fleet_columns(view: FleetView) -> list[str]:
    """``fleet.csv``'s columns: period, servers ordered, delivered by the period's end, active as reported, and one
    ``leased:<lessee>`` column per lessee (the servers its leases' rows of the period's tape bill)."""
    return ["period", "ordered", "delivered", "active", *(f"leased:{n}" for n in view.lessees)]


def _period_of(timestamp: int, period_ends: list[int]) -> int:
    """The period a moment falls in (1-based; past the last end, the last)."""
    for i, end in enumerate(period_ends):
        if timestamp <= end:
            return i + 1
    return len(period_ends)


def proceeds_by_period(history: History, period_ends: list[int], through: int) -> dict[str, list[int]]:
    """Per period 1..``through``, the escrow's money so far: released from the raise, from the equity, prepaid, and
    the raise still in escrow."""
    raised = sum(int(ev.args["amount"]) for ev in history.register if ev.event == "RaiseEscrowed")
    series: dict[str, list[int]] = {"from_raise": [], "from_equity": [], "prepaid": [], "in_escrow": []}
    moves = [(ev.timestamp or 0, ev) for ev in history.register if ev.event in ("Released", "LongStopSettled")]
    for period in range(1, through + 1):
        done = [ev for t, ev in moves if _period_of(t, period_ends) <= period]
        from_raise = sum(int(ev.args["fromRaise"]) for ev in done if ev.event == "Released")
        from_equity = sum(int(ev.args["fromEquity"]) for ev in done if ev.event == "Released")
        prepaid = sum(int(ev.args["prepaid"]) for ev in done if ev.event == "LongStopSettled")
        series["from_raise"].append(from_raise)
        series["from_equity"].append(from_equity)
        series["prepaid"].append(prepaid)
        series["in_escrow"].append(max(raised - from_raise - prepaid, 0))
    return series


def asset_charts(history: History, view: FleetView, period_ends: list[int], *, decimals: int,
                 currency: str) -> dict[str, str]:
    """The use-of-proceeds chart (the escrow's money by period, stacked) and the fleet chart (servers ordered,
    delivered, active and leased per lessee by period), as inline SVG."""
    from rwa.replay.svg import Series, line_chart, stacked_bars

    periods = [int(r["period"]) for r in view.rows]
    if not periods:
        return {}
    unit = float(10 ** (decimals + 6))
    money = proceeds_by_period(history, period_ends, len(periods))
    out = {"proceeds": stacked_bars(
        "Use of proceeds: the escrow by period",
        periods,
        [Series("released from the raise", [v / unit for v in money["from_raise"]], "#1f77b4"),
         Series("released from the equity", [v / unit for v in money["from_equity"]], "#2ca02c"),
         Series("prepaid at the long-stop", [v / unit for v in money["prepaid"]], "#d62728"),
         Series("raise in escrow", [v / unit for v in money["in_escrow"]], "#ff7f0e")],
        f"millions of {currency}",
    )}
    series = [Series("ordered", [float(r["ordered"]) for r in view.rows], "#7f7f7f", dashed=True),
              Series("delivered", [float(r["delivered"]) for r in view.rows], "#1f77b4"),
              Series("active", [float(r["active"]) for r in view.rows], "#ff7f0e")]
    series += [Series(f"leased: {name}", [float(r[f"leased:{name}"]) for r in view.rows],
                      LESSEE_COLORS[i % len(LESSEE_COLORS)], dashed=True) for i, name in enumerate(view.lessees)]
    out["fleet"] = line_chart("Fleet: servers ordered, delivered, active and leased", periods, series, "servers")
    return out


def proceeds_html(use: UseOfProceeds | None, money: Callable[[int], str], chart: str | None) -> str:
    """The report's *use of proceeds* section: the raise to reserve, costs, the treasury and the escrow; each
    supplier order's releases from the raise and the equity; the prepayment and the equity returned."""
    if use is None:
        return ""
    lines = [("raised at the close", use.raised), ("to the reserve", use.reserve), ("costs", use.costs),
             ("to the treasury", use.to_treasury), ("into the escrow (capex share)", use.escrowed),
             ("issuer's equity paid in", use.equity_funded),
             ("released from the raise", use.released_from_raise),
             ("released from the equity", use.released_from_equity),
             ("prepaid at the long-stop", use.prepaid), ("equity returned", use.equity_returned),
             ("held by the escrow now", use.held)]
    facts = "".join(f'<tr><th>{html.escape(k)}</th><td data-amount="{v}">{html.escape(money(v))}</td></tr>'
                    for k, v in lines)
    orders = "".join(
        f"<tr><td>{html.escape(o.supplier)}</td><td><code>{html.escape(o.recipient)}</code></td>"
        f"<td>{o.servers:,}</td><td>{o.delivered:,}</td><td>{o.releases}</td>"
        f'<td data-amount="{o.from_raise}">{html.escape(money(o.from_raise))}</td>'
        f'<td data-amount="{o.from_equity}">{html.escape(money(o.from_equity))}</td></tr>'
        for o in use.orders
    )
    status = "settled" if use.settled else "not settled yet"
    return f"""<section id="use-of-proceeds"><h2>Use of proceeds</h2>
<p>Every unit of the raise ends as reserve, costs, the treasury's share, a release against an attested delivery, or
the long-stop prepayment (the long-stop is {status}).</p>
<table id="proceeds">{facts}</table>
<table id="orders"><tr><th>supplier order</th><th>recipient</th><th>servers ordered</th><th>delivered</th>
<th>releases</th><th>from the raise</th><th>from the equity</th></tr>{orders}</table>
{f'<figure id="chart-proceeds">{chart}</figure>' if chart else ''}</section>
"""


def fleet_html(view: FleetView | None, chart: str | None) -> str:
    """The report's *fleet* section: servers ordered, delivered, active and leased per lessee, period by period."""
    if view is None:
        return ""
    head = "".join(f"<th>{html.escape(c.replace('leased:', 'leased: '))}</th>" for c in fleet_columns(view))
    body = "".join("<tr>" + "".join(f"<td>{r[c]:,}</td>" for c in fleet_columns(view)) + "</tr>" for r in view.rows)
    return f"""<section id="fleet"><h2>Fleet</h2>
<p>{view.ordered:,} servers ordered, {view.delivered:,} delivered in {view.deliveries} attested batches;
{view.tapes} lease tapes, {view.lease_changes} lease changes (disclosed below).</p>
{f'<figure id="chart-fleet">{chart}</figure>' if chart else ''}
<table id="fleet-table"><tr>{head}</tr>{body}</table></section>
"""
