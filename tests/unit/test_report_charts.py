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
