"""The on-chain period clock (``PeriodClockLib``, through the ``PeriodClockLens`` test double) against
``rwa.model.calendar`` on random first starts, any day and time of 1970-2999, and periods up to 50 years on: the
contracts count the very period ends the deal computes, leap years and month-end clamping included."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from web3.contract import Contract

from rwa.chain.interface import Chain
from rwa.chain.tx import deploy
from rwa.model.calendar import CALENDAR_MONTHS, equal_ends, month_ends, months_after

LAST_START = int(datetime(2999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def lens(session_chain: Chain) -> Contract:
    return deploy(session_chain, "PeriodClockLens", sender=session_chain.accounts[0].address, gas=1_000_000)


def _ends(lens: Contract, first: int, length: int, start: int, count: int) -> tuple[int, ...]:
    return tuple(lens.functions.endsOf(first, length, start, count).call())


@settings(max_examples=150, deadline=None)
@given(st.integers(0, LAST_START), st.integers(0, 600))
def test_calendar_month_ends_are_the_deals_months(lens: Contract, first: int, period: int) -> None:
    onchain = _ends(lens, first, CALENDAR_MONTHS, period, 3)
    start = datetime.fromtimestamp(first, UTC)
    assert onchain == tuple(int(months_after(start, p).timestamp()) for p in range(period, period + 3))


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 2**40), st.integers(1, 2**32 - 1), st.integers(0, 600))
def test_equal_periods_are_the_first_start_plus_whole_periods(lens: Contract, first: int, length: int, p: int) -> None:
    assert _ends(lens, first, length, p, 1) == (first + p * length,)
    assert _ends(lens, first, length, 1, 3) == equal_ends(first, length, 3)


@pytest.mark.parametrize(
    "first",
    [
        datetime(2025, 7, 1, tzinfo=UTC),  # the example deal
        datetime(2028, 1, 31, 18, 0, tzinfo=UTC),  # a 31st: every short month clamped, a leap February
        datetime(2099, 12, 29, tzinfo=UTC),  # 2100 is not a leap year
        datetime(2399, 11, 30, tzinfo=UTC),  # 2400 is
    ],
)
def test_sixty_months_match_on_the_dates_that_matter(lens: Contract, first: datetime) -> None:
    start = int(first.timestamp())
    assert _ends(lens, start, CALENDAR_MONTHS, 1, 61) == month_ends(start, 61)
    assert _ends(lens, start, CALENDAR_MONTHS, 0, 1) == (start,)
