"""The auditor's outputs: summary.json, periods.csv, holders.csv, findings.json/.csv, disclosures.json/.csv and a
self-contained report.html, published as one set (:mod:`rwa.replay.outputs`).

Each distributed period also carries each tranche's fair value per token right after its distribution
(:func:`fair_values`): the shared valuation (:mod:`rwa.leverage.valuation`) of the pool's state the events give, at
the period's end and at the default rates."""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rwa.model.calendar import format_periods
from rwa.model.deal import Deal
from rwa.model.deal_file import load_deal
from rwa.model.units import (
    BPS,
    FX_RATE_SCALE,
    TRANCHES,
    Tranche,
    format_dscr,
    format_fx_rate,
    format_money,
    money_formatter,
)
from rwa.model.waterfall import PeriodLegs, PoolTerms, WaterfallError
from rwa.onchain.privileges import role_name
from rwa.replay.checks.escrow import UseOfProceeds
from rwa.replay.checks.fleet import FleetView
from rwa.replay.findings import Disclosure, Finding, Reconciliation
from rwa.replay.history import History
from rwa.replay.outputs import publish

MONEY_FACTS = frozenset({"senior_paid", "junior_paid", "fees_paid", "collection_shortfall", "donations"})
"""The summary's amounts: report.html shows them in whole units of the deal's currency, summary.json in smallest
units."""

PERIOD_COLUMNS = [
    "period",
    "reported",
    "source_revenue",
    "fx_rate",
    "contracted_rent",
    "collected",
    "collected_minus_reported",
    "fee",
    "senior_interest",
    "senior_principal",
    "reserve_in",
    "reserve_out",
    "trapped",
    "junior",
    "balance_after",
    "interest_arrears",
    "principal_arrears",
    "reserve_after",
    "dscr_bps",
    "senior_value_per_token",
    "junior_value_per_token",
    "recomputed_equal",
]
"""``source_revenue`` and ``fx_rate``: the distributed report's revenue in the source currency (smallest units at the
stablecoin's decimals) and the rate it was converted at (stablecoin per source unit, times 10**18).
``*_value_per_token``: the tranche's fair value of one whole token (``10**decimals`` token units, one stablecoin
unit of face) right after the period's distribution, in the stablecoin's smallest units (:func:`fair_values`)."""

FairValues = dict[int, dict[Tranche, int | None]]
"""Per distributed period, each tranche's fair value per whole token in smallest units (``None``: no supply)."""


def fair_values(history: History, deal: Deal, terms: PoolTerms) -> FairValues:
    """Each distributed period's fair value per token of each tranche, right after its distribution: the remaining
    base-case payments from the pool's state the events give (:meth:`History.state_after`), discounted to the
    period's end (its payment date) at each tranche's market rate, on actual/365 (:mod:`rwa.leverage.valuation`).
    0 from the maturity settlement on; none (``None``) for a period the waterfall cannot run on from, such as a
    recovery distributed before maturity (a finding already names it)."""
    from rwa.leverage.valuation import payment_date, value_tranches

    out: FairValues = {}
    for period in sorted(history.legs):
        _, event = history.legs[period]
        at = payment_date(deal, period)
        supplies = {t: history.supply_at(t, (event.block, event.log_index)) for t in TRANCHES}
        try:
            valued = value_tranches(deal, terms, history.state_after(period), supplies, at, as_of=at)
        except WaterfallError:
            out[period] = dict.fromkeys(TRANCHES)
            continue
        out[period] = {t: v.per_token for t, v in valued.items()}
    return out


def period_rows(history: History, rec: Reconciliation, values: FairValues | None = None) -> list[dict[str, Any]]:
    rows = []
    for period in sorted(history.legs):
        legs, ev = history.legs[period]
        report = history.report_at(period, ev.block)
        expected = rec.expected_legs.get(period)
        row: dict[str, Any] = {k: getattr(legs, k) for k in PERIOD_COLUMNS if hasattr(legs, k)}
        row["reported"] = legs.reported
        row["contracted_rent"] = report.contracted_rent if report else ""
        row["source_revenue"] = report.source_revenue if report else ""
        row["fx_rate"] = report.fx_rate if report else ""
        for tranche in TRANCHES:
            value = (values or {}).get(period, {}).get(tranche)
            row[f"{tranche}_value_per_token"] = "" if value is None else value
        row["recomputed_equal"] = expected is not None and all(
            getattr(expected, k) == getattr(legs, k) for k in vars(legs) if k not in ("senior_dust", "junior_dust")
        )
        rows.append(row)
    return rows


FINDING_COLUMNS = ["kind", "period", "block", "sender", "account", "expected", "actual", "detail"]
DISCLOSURE_COLUMNS = ["kind", "period", "block", "tx_hash", "sender", "account", "amount", "detail"]


GOVERNANCE_COLUMNS = ["block", "log_index", "tx_hash", "contract", "act", "sender", "arguments"]


def privileged_acts(history: History) -> list[dict[str, object]]:
    """Every privileged act in chain order, issuance included: role grants and revocations, timelocked calls
    announced, run and cancelled, the timelock's delay, reporter and threshold changes, pauses, forced transfers,
    recoveries, freezes, defaults declared, triggered, cured and waived, and the registry's acts on investors after
    issuance (``governance.csv``)."""
    import json

    events = [*history.roles, *history.timelock_calls, *history.delay_changes, *history.governance, *history.pauses,
              *history.default_events, *(ev for ev in history.registry_acts if history.after_issuance(ev))]
    for tok in history.tokens.values():
        events.extend([*tok.forced, *tok.recoveries, *tok.freezes])
    rows: list[dict[str, object]] = []
    for ev in sorted(events, key=lambda e: (e.block, e.log_index)):
        args = dict(ev.args)
        if "role" in args:
            args["role"] = role_name(str(args["role"]))
        sender = ev.sender or next((str(args[k]) for k in ("sender", "agent", "account", "by") if k in args), "")
        rows.append({"block": ev.block, "log_index": ev.log_index, "tx_hash": ev.tx_hash, "contract": ev.contract,
                     "act": ev.event, "sender": sender, "arguments": json.dumps(args, sort_keys=True)})
    return rows


def _csv(header: list[str], rows: list[list[Any]]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _row(item: Finding | Disclosure, columns: list[str]) -> list[Any]:
    data = item.to_json()
    return ["" if data.get(c) is None else data[c] for c in columns]


def write_outputs(out: Path, summary: dict[str, Any], history: History, rec: Reconciliation, terms: PoolTerms,
                  fleet: FleetView | None = None, use: UseOfProceeds | None = None) -> None:
    from rwa.replay.asset_report import TAPE_COLUMNS, fleet_columns, tape_rows

    deal = load_deal(Path(str(summary["deal_file"])))
    rows = period_rows(history, rec, fair_values(history, deal, terms))
    holders = []
    keys = sorted({*((t, h.lower()) for t, h in rec.holders), *rec.flows})
    lines = {(t, h.lower()): line for (t, h), line in rec.holders.items()}
    for tranche, holder in keys:
        line = lines.get((tranche, holder))
        flow = rec.flows.get((tranche, holder))
        rate = flow.xirr() if flow is not None else None
        holders.append([
            tranche,
            line.holder if line is not None else holder,
            line.balance if line is not None else 0,
            line.withdrawn if line is not None else 0,
            line.claimed_events if line is not None else 0,
            line.expected_claimable if line is not None else 0,
            "" if line is None or line.onchain_claimable is None else line.onchain_claimable,
            flow.paid - flow.refunded if flow is not None else "",
            flow.received if flow is not None else 0,
            "" if rate is None else f"{rate:.6f}",
        ])
    acts = privileged_acts(history)
    page = render_html(summary, rows, history, rec, terms.cash_trap_dscr_bps, decimals=deal.decimals,
                       currency=deal.currency, acts=acts, source_currency=deal.source_currency,
                       held=held_values(rec, rows, deal), fleet=fleet, period_ends=list(terms.period_ends[:-1]),
                       use=use)
    files = {
        "periods.csv": _csv(PERIOD_COLUMNS, [[row.get(c, "") for c in PERIOD_COLUMNS] for row in rows]),
        "holders.csv": _csv(
            ["tranche", "holder", "balance", "claimed", "claim_count", "claimable_recomputed", "claimable_onchain",
             "paid", "received", "xirr"],
            holders,
        ),
        "findings.json": json.dumps([f.to_json() for f in rec.findings], indent=2, default=str).encode(),
        "findings.csv": _csv(FINDING_COLUMNS, [_row(f, FINDING_COLUMNS) for f in rec.findings]),
        "disclosures.json": json.dumps([d.to_json() for d in rec.disclosures], indent=2, default=str).encode(),
        "disclosures.csv": _csv(DISCLOSURE_COLUMNS, [_row(d, DISCLOSURE_COLUMNS) for d in rec.disclosures]),
        "governance.csv": _csv(GOVERNANCE_COLUMNS, [[a[c] for c in GOVERNANCE_COLUMNS] for a in acts]),
        "tapes.csv": _csv(TAPE_COLUMNS, tape_rows(history)),
        "fleet.csv": _csv(fleet_columns(fleet), [[r[c] for c in fleet_columns(fleet)] for r in fleet.rows])
        if fleet is not None else _csv(["period"], []),
        "summary.json": json.dumps(summary, indent=2, default=str).encode(),
        "report.html": page.encode("utf-8"),
    }
    publish(out, files)


DSCR_CHART_CAP_BPS = 50_000
"""The DSCR chart's ceiling (5.00x): a period with hardly any debt service has a DSCR in the hundreds that would
flatten every other period; it is drawn at the ceiling and the chart's title says how many are."""


def charts(
    rows: list[dict[str, Any]], history: History, covenant_bps: int, *, decimals: int, currency: str
) -> dict[str, str]:
    """The report's six charts as inline SVG, keyed by name; amounts in millions of whole units, the fair value per
    token in whole units."""
    from rwa.replay.svg import Series, line_chart, stacked_bars

    legs: list[PeriodLegs] = [history.legs[p][0] for p in sorted(history.legs)]
    periods = [int(row["period"]) for row in rows]
    unit = float(10 ** (decimals + 6))
    label = f"millions of {currency}"
    out: dict[str, str] = {}
    out["revenue"] = line_chart(
        "Revenue against contracted rent",
        periods,
        [
            Series("reported revenue", [r["reported"] / unit for r in rows], "#1f77b4"),
            Series("contracted rent", [(r["contracted_rent"] or 0) / unit for r in rows], "#ff7f0e", dashed=True),
            Series("cash deposited", [r["collected"] / unit for r in rows], "#2ca02c"),
        ],
        label,
    )
    out["waterfall"] = stacked_bars(
        "Waterfall by period",
        periods,
        [
            Series(name.replace("_", " "), [getattr(leg, name) / unit for leg in legs], color)
            for name, color in (("fee", "#7f7f7f"), ("senior_interest", "#1f77b4"), ("senior_principal", "#aec7e8"),
                                ("reserve_in", "#9467bd"), ("trapped", "#d62728"), ("junior", "#2ca02c"))
        ],
        label,
    )
    above = sum(1 for leg in legs if leg.dscr_bps > DSCR_CHART_CAP_BPS)
    out["dscr"] = line_chart(
        "DSCR against the covenant" + (f" (drawn at most {format_dscr(DSCR_CHART_CAP_BPS)}: {above} period"
                                       f"{'s' if above != 1 else ''} above it, in periods.csv as they are)"
                                       if above else ""),
        periods,
        [Series("DSCR", [min(leg.dscr_bps, DSCR_CHART_CAP_BPS) / BPS for leg in legs], "#1f77b4")],
        "times debt service",
        hline=(covenant_bps / BPS, "cash-trap covenant", "#d62728"),
    )
    out["reserve"] = line_chart(
        "Reserve (DSRA) level", periods, [Series("reserve", [leg.reserve_after / unit for leg in legs], "#9467bd")],
        label, fill=True,
    )
    senior, junior, s, j = [], [], 0, 0
    for leg in legs:
        s += leg.senior_paid
        j += leg.junior
        senior.append(s / unit)
        junior.append(j / unit)
    out["cumulative"] = line_chart(
        "Cumulative paid per tranche",
        periods,
        [Series("senior", senior, "#1f77b4"), Series("junior", junior, "#2ca02c")],
        label,
    )
    token = float(10**decimals)
    out["value"] = line_chart(
        "Fair value per token after each distribution",
        periods,
        [Series(tranche, [float(r[f"{tranche}_value_per_token"] or 0) / token for r in rows], color)
         for tranche, color in (("senior", "#1f77b4"), ("junior", "#2ca02c"))],
        f"{currency} per token",
    )
    return out


UNIT_KINDS = frozenset({"forced-transfer", "wallet-recovery"})
"""Disclosures whose amount is in token units, not in the stablecoin (threshold changes are a count)."""


def _amount(d: Disclosure, money: Callable[[int], str]) -> str:
    assert d.amount is not None
    if d.kind in UNIT_KINDS:
        return f"{d.amount:,} units"
    if d.kind == "threshold-change":
        return str(d.amount)
    return money(d.amount)


def _acts_html(acts: list[dict[str, Any]]) -> str:
    rows = "".join(
        f"<tr><td>{a['block']}</td><td>{html.escape(str(a['contract']))}</td><td>{html.escape(str(a['act']))}</td>"
        f"<td><code>{html.escape(str(a['sender']))}</code></td><td><code>{html.escape(str(a['arguments']))}</code>"
        "</td></tr>"
        for a in acts
    ) or '<tr><td colspan="5">none</td></tr>'
    return ("<h2>Privileged acts</h2>\n<p>Every use of a role, issuance included, in chain order "
            "(<code>governance.csv</code>).</p>\n<table id=\"governance\">\n<tr><th>block</th><th>contract</th>"
            f"<th>act</th><th>sender</th><th>arguments</th></tr>\n{rows}</table>")


def lowest_dscr(history: History) -> int | None:
    """The lowest DSCR of any distributed period with one, in basis points."""
    ratios = [legs.dscr_bps for legs, _ in history.legs.values() if legs.dscr_bps]
    return min(ratios) if ratios else None


def facts(summary: dict[str, Any], history: History, money: Callable[[int], str]) -> list[tuple[str, str]]:
    """The summary's figures as a person reads them: amounts with the currency, yes/no, DSCR as a multiple."""
    shown: list[tuple[str, str]] = []
    for key, value in summary.items():
        if isinstance(value, dict | list):
            continue
        if key in MONEY_FACTS:
            text = money(value)
        elif isinstance(value, bool):
            text = "yes" if value else "no"
        else:
            text = str(value)
        shown.append((key.replace("_", " "), text))
    shown.append(("lowest DSCR", format_dscr(lowest_dscr(history))))
    late = summary.get("late_periods") or []
    shown.append(("late periods", f"{len(late)}: {format_periods(late)} (ended, the servicer's grace passed, not "
                                  "distributed: a late-distribution finding each)" if late else "none"))
    return shown


MAX_INVESTOR_ROWS = 200
"""The report lists at most this many holders' cash flows (the largest payers); ``holders.csv`` has them all."""


HeldValues = dict[tuple[str, str], tuple[int, int]]
"""Per (tranche, holder in lower case), the unix time and the fair value of the tokens it still holds then."""


def held_values(rec: Reconciliation, rows: list[dict[str, Any]], deal: Deal) -> HeldValues:
    """What each holder's tokens were worth after the last distributed period that has a fair value (its balance at
    the head times the value per token then, rounded down), at that period's payment date."""
    from rwa.leverage.valuation import payment_date

    valued = [r for r in rows if any(r[f"{t}_value_per_token"] != "" for t in TRANCHES)]
    if not valued:
        return {}
    last = valued[-1]
    when = int(payment_date(deal, int(last["period"])).timestamp())
    out: HeldValues = {}
    for (tranche, holder), line in rec.holders.items():
        per_token = last[f"{tranche}_value_per_token"]
        if per_token != "" and line.balance:
            out[(tranche, holder.lower())] = (when, line.balance * int(per_token) // 10**deal.decimals)
    return out


def _rate(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f}%"


def _investors_html(rec: Reconciliation, money: Any, held: HeldValues | None = None) -> str:
    """Each holder's cash flows so far: paid (subscriptions and purchases, net of refunds), received (claims and
    sales), what it still holds at fair value, and two annual rates that say what they count."""
    if not rec.flows:
        return ""
    held = held or {}
    flows = sorted(rec.flows.items(), key=lambda kv: (-(kv[1].paid - kv[1].refunded), kv[0]))
    rows = []
    for (tranche, holder), f in flows[:MAX_INVESTOR_ROWS]:
        kept = held.get((tranche, holder.lower()))
        rows.append(f"<tr><td>{html.escape(tranche)}</td><td><code>{html.escape(holder)}</code></td>"
                    f"<td>{html.escape(money(f.paid - f.refunded))}</td><td>{html.escape(money(f.received))}</td>"
                    f"<td>{html.escape(money(kept[1] if kept else 0))}</td><td>{_rate(f.xirr())}</td>"
                    f"<td>{_rate(f.xirr(kept)) if kept else _rate(f.xirr())}</td></tr>")
    more = len(flows) - MAX_INVESTOR_ROWS
    note = f"<p>{more:,} more in holders.csv.</p>" if more > 0 else ""
    return f"""<h2>Investors' cash flows</h2>
<p id="investors-note"><strong>These are not yields to maturity.</strong> Each holder's cash so far: what it paid
for its tokens (net of refunds) and what it received (claims and sales), on their dates. <em>Cash so far</em> is the
annual rate (XIRR, actual/365) of those flows alone, the tokens still held counted at nothing: early in a deal most
of what a token pays is still to come, so this rate is low, and negative for a holder that has received less than it
paid (a junior before the senior is repaid). <em>With held tokens at fair value</em> adds, as if received, what the
tokens it still holds were worth after the last distributed period (the fair value per token below, at the default
rates): the rate a holder has earned so far if it sold at that value. Neither is what a token yields if held to
maturity.</p>
<table id="investors"><tr><th>tranche</th><th>holder</th><th>paid</th><th>received</th>
<th>held, at fair value</th><th>XIRR: cash so far (held tokens at 0)</th><th>XIRR: with held tokens at fair value</th>
</tr>
{''.join(rows)}</table>{note}"""


def _values_html(rows: list[dict[str, Any]], money: Callable[[int], str], currency: str) -> str:
    """Each distributed period's fair value per token of each tranche (:func:`fair_values`)."""
    if not rows:
        return ""

    def shown(value: Any) -> str:
        return "-" if value == "" else html.escape(money(int(value)))

    body = "".join(
        f"<tr><td>{r['period']}</td><td>{shown(r['senior_value_per_token'])}</td>"
        f"<td>{shown(r['junior_value_per_token'])}</td></tr>"
        for r in rows
    )
    return f"""<h2>Fair value per token</h2>
<p>Each tranche's fair value of one whole token (one {html.escape(currency)} of face) right after each period's
distribution: the payments the pool's waterfall would still make from the state the chain shows then, on the
deal's base case, discounted to the period's end at the default rates (senior coupon + 1%, the junior's hurdle),
effective annual on actual/365. Not loss-adjusted. <code>periods.csv</code> has them in smallest units
(<code>senior_value_per_token</code>, <code>junior_value_per_token</code>).</p>
<table id="fair-value"><tr><th>period</th><th>senior</th><th>junior</th></tr>
{body}</table>"""


def _revenue_html(rows: list[dict[str, Any]], decimals: int, currency: str, source_currency: str | None) -> str:
    """Each distributed period's report: its revenue, the source revenue and the rate between them (the auditor
    recomputed the conversion; a report that breaks it is an ``oracle-fx`` finding)."""
    if not rows:
        return ""
    money = money_formatter(decimals, currency)

    def cells(r: dict[str, Any]) -> str:
        if r["source_revenue"] == "":
            return "<td>-</td><td>-</td>"
        rate = int(r["fx_rate"])
        source = currency if rate == FX_RATE_SCALE else (source_currency or "source")  # 10**18: no conversion
        shown = format_money(int(r["source_revenue"]), decimals, source)
        return f"<td>{html.escape(shown)}</td><td>{html.escape(format_fx_rate(rate, currency, source))}</td>"

    body = "".join(
        f"<tr><td>{r['period']}</td>{cells(r)}<td>{html.escape(money(int(r['reported'])))}</td></tr>" for r in rows
    )
    return f"""<h2>Reported revenue and its conversion</h2>
<p>Each distributed period's report as the quorum signed it: the revenue in the currency the cluster bills in, the
rate it was converted at, and the {html.escape(currency)} revenue the waterfall ran on (the source revenue times the
rate, rounded down; recomputed here). <code>periods.csv</code> has them in smallest units (<code>source_revenue</code>,
<code>fx_rate</code> times 10<sup>18</sup>, <code>reported</code>).</p>
<table id="revenue"><tr><th>period</th><th>source revenue</th><th>fx rate</th><th>revenue</th></tr>
{body}</table>"""


def render_html(
    summary: dict[str, Any],
    rows: list[dict[str, Any]],
    history: History,
    rec: Reconciliation,
    covenant_bps: int,
    *,
    decimals: int,
    currency: str,
    acts: list[dict[str, Any]] | None = None,
    source_currency: str | None = None,
    held: HeldValues | None = None,
    fleet: FleetView | None = None,
    period_ends: list[int] | None = None,
    use: UseOfProceeds | None = None,
) -> str:
    from rwa.replay.asset_report import asset_charts, fleet_html, proceeds_html

    images = charts(rows, history, covenant_bps, decimals=decimals, currency=currency) if rows else {}
    assets = asset_charts(history, fleet, period_ends or [], decimals=decimals, currency=currency) if fleet else {}
    ok = not rec.findings
    verdict = "Reconciled: every payment matches, to the unit" if ok else f"{len(rec.findings)} findings"
    if rec.disclosures:
        verdict += f" ({len(rec.disclosures)} disclosures below)"
    findings = (
        "".join(
            f"<tr><td>{html.escape(f.kind)}</td><td>{'' if f.period is None else f.period}</td>"
            f"<td>{'' if f.block is None else f.block}</td><td><code>{html.escape(f.sender or '')}</code></td>"
            f"<td><code>{html.escape(str(f.account))}</code></td><td>{html.escape(str(f.expected))}</td>"
            f"<td>{html.escape(str(f.actual))}</td><td>{html.escape(f.detail)}</td></tr>"
            for f in rec.findings
        )
        or '<tr><td colspan="8">none</td></tr>'
    )
    money = money_formatter(decimals, currency)
    disclosures = (
        "".join(
            f"<tr><td>{html.escape(d.kind)}</td><td>{'' if d.period is None else d.period}</td>"
            f"<td>{'' if d.block is None else d.block}</td><td><code>{html.escape(d.sender or '')}</code></td>"
            f"<td><code>{html.escape(d.account)}</code></td>"
            f"<td>{'' if d.amount is None else html.escape(_amount(d, money))}</td>"
            f"<td>{html.escape(d.detail)}</td></tr>"
            for d in rec.disclosures
        )
        or '<tr><td colspan="7">none</td></tr>'
    )
    table = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
        for k, v in facts(summary, history, money_formatter(decimals, currency))
    )
    figures = "".join(f'<figure id="chart-{name}">{svg}</figure>' for name, svg in images.items())
    investors = _investors_html(rec, money, held)
    values = _values_html(rows, money, currency)
    revenue = _revenue_html(rows, decimals, currency, source_currency)
    color = "#1b7f3b" if ok else "#b3261e"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Auditor's replay</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#222}}
.verdict{{font-size:1.6rem;font-weight:600;color:#fff;background:{color};padding:.8rem 1.2rem;border-radius:.4rem}}
table{{border-collapse:collapse;margin:1rem 0}}td,th{{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;
font-size:.85rem}}figure{{margin:1rem 0}}img{{max-width:100%}}
</style></head><body>
<h1>Auditor's replay</h1>
<p class="verdict" id="verdict">{html.escape(verdict)}</p>
<table id="facts">{table}</table>
<h2>Charts</h2>{figures}
{revenue}
{values}
{proceeds_html(use, money, assets.get("proceeds"))}
{fleet_html(fleet, assets.get("fleet"))}
<h2>Findings</h2>
<p>The money or the rules were broken: each is a failed audit (exit code 1).</p>
<table id="findings">
<tr><th>kind</th><th>period</th><th>block</th><th>sender</th><th>account</th><th>expected</th><th>actual</th>
<th>detail</th></tr>
{findings}</table>
{investors}
{_acts_html(acts or [])}
<h2>Disclosures</h2>
<p>Legitimate but material: acts of the deal's roles and facts a holder should know; not a failed audit.</p>
<table id="disclosures">
<tr><th>kind</th><th>period</th><th>block</th><th>sender</th><th>account</th><th>amount</th><th>detail</th></tr>
{disclosures}</table>
</body></html>
"""
