"""A holder's realised XIRR from its dated cash flows (pyxirr, actual/365)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rwa.replay.findings import HolderFlows

T0 = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
YEAR = 365 * 86_400


def test_a_year_at_ten_percent() -> None:
    flows = HolderFlows(paid=1_000_000, received=1_100_000, flows=[(T0, -1_000_000), (T0 + YEAR, 1_100_000)])
    assert flows.xirr() == pytest.approx(0.10, abs=1e-9)


def test_a_refund_counts_as_money_back() -> None:
    flows = HolderFlows(flows=[(T0, -1_000_000), (T0, 400_000), (T0 + YEAR, 660_000)])
    assert flows.xirr() == pytest.approx(0.10, abs=1e-9)


def test_no_rate_without_money_both_ways() -> None:
    assert HolderFlows(flows=[(T0, -5)]).xirr() is None
    assert HolderFlows(flows=[]).xirr() is None
