"""Properties of the fair value (``rwa.leverage.valuation``) over random payments, dates and rates: never negative,
never more than the payments themselves, and never higher at a higher rate."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from rwa.leverage.valuation import Payment, share_value

T0 = datetime(2026, 1, 1, tzinfo=UTC)

payments = st.lists(
    st.builds(Payment, st.integers(1, 61), st.integers(-400, 4_000).map(lambda d: T0 + timedelta(days=d)),
              st.integers(0, 10**15)),
    max_size=20,
)
rates = st.decimals(min_value=0, max_value=5, places=6, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(payments, rates, rates, st.integers(1, 10**15), st.integers(0, 10**15))
def test_the_value_is_monotone_non_increasing_in_the_rate(
    flows: list[Payment], a: Decimal, b: Decimal, supply: int, amount: int
) -> None:
    low, high = sorted((a, b))
    assert share_value(flows, T0, low, amount, supply) >= share_value(flows, T0, high, amount, supply)


@settings(max_examples=200, deadline=None)
@given(payments, rates)
def test_the_value_is_between_0_and_the_payments_still_to_come(flows: list[Payment], rate: Decimal) -> None:
    value = share_value(flows, T0, rate)
    assert 0 <= value <= sum(p.amount for p in flows if p.when >= T0)
    assert share_value(flows, T0, Decimal(0)) == sum(p.amount for p in flows if p.when >= T0)
