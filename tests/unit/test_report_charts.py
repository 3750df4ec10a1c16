"""The report's charts read right: one period draws a marked point, and a DSCR drawn at the chart's ceiling says so."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

from rwa.model.waterfall import PeriodLegs
from rwa.replay.report import DSCR_CHART_CAP_BPS, charts


def _legs(period: int, dscr_bps: int) -> PeriodLegs:
    return PeriodLegs(period, 9_000_000, 9_000_000, 0, 100_000, 500_000, 1_000_000, 0, 0, 0, 7_400_000, 0, 0,
                      60_000_000, 0, 0, 1_000_000, dscr_bps)


def _charts(dscrs: list[int]) -> dict[str, str]:
    legs = [_legs(p, d) for p, d in enumerate(dscrs, 1)]
    history: Any = SimpleNamespace(legs={leg.period: (leg, None) for leg in legs})
    rows = [{"period": leg.period, "reported": leg.reported, "contracted_rent": 10_000_000,
             "collected": leg.collected, "senior_value_per_token": 990_000, "junior_value_per_token": 4_000_000}
            for leg in legs]
    return charts(rows, history, 13_000, decimals=6, currency="USDC")


def test_every_line_chart_marks_its_one_point_at_one_period() -> None:
    images = _charts([18_000])
    for name in ("revenue", "dscr", "reserve", "cumulative", "value"):
        assert "<circle" in images[name], name
    assert 'fill="#1f77b4">1.8</text>' in images["dscr"]  # the point carries its value
    assert "<rect x=" in images["waterfall"]
    assert "<circle" not in _charts([18_000, 19_000])["dscr"]  # two points make a line


def test_a_dscr_above_the_charts_ceiling_is_named_in_its_title() -> None:
    assert "drawn at most" not in _charts([18_000, 20_000])["dscr"]
    title = re.search(r'font-size="14">([^<]*)</text>', _charts([18_000, DSCR_CHART_CAP_BPS + 1, 2**32 - 1])["dscr"])
    assert title is not None
    assert title.group(1) == ("DSCR against the covenant (drawn at most 5.00x: 2 periods above it, in periods.csv as "
                              "they are)")


def test_the_use_of_proceeds_and_fleet_charts_draw_each_period_and_series() -> None:
    from rwa.replay.asset_report import asset_charts
    from rwa.replay.checks.fleet import FleetView
    from rwa.replay.history import History
    from rwa.replay.ledger import Event

    ends = [1_000, 2_000, 3_000]

    def event(block: int, name: str, args: dict[str, Any], at: int) -> Event:
        return Event(block, 0, f"0x{block:064x}", "register", "0x" + "12" * 20, name, args, at)

    history = History()
    history.register += [
        event(1, "RaiseEscrowed", {"amount": 90_000_000}, 500),
        event(2, "Released", {"fromRaise": 30_000_000, "fromEquity": 15_000_000}, 900),
        event(3, "LongStopSettled", {"prepaid": 60_000_000}, 2_500),
    ]
    view = FleetView(ordered=800, delivered=482, lessees=["A", "B"], rows=[
        {"period": p, "ordered": 800, "delivered": d, "active": d, "leased:A": min(d, 400), "leased:B": d - min(d, 400)}
        for p, d in ((1, 332), (2, 482), (3, 482))])
    images = asset_charts(history, view, ends, decimals=6, currency="USDC")
    # per period: released from the raise and the equity, then the raise in escrow until the long-stop prepays it
    bars = re.findall(r'<rect x="[^"]*" y="[^"]*" width="[^"]*" height="[^"]*" fill="(#[0-9a-f]{6})"/>',
                      images["proceeds"])
    assert [bars.count(c) for c in ("#1f77b4", "#2ca02c", "#d62728", "#ff7f0e")] == [3, 3, 1, 2]
    for label in ("released from the raise", "released from the equity", "prepaid at the long-stop",
                  "raise in escrow", "ordered", "delivered", "active", "leased: A", "leased: B"):
        assert label in images["proceeds"] + images["fleet"], label
    assert images["fleet"].count("<polyline") == 5  # ordered, delivered, active and one per lessee
