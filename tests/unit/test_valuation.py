"""A tranche's fair value at a date (``rwa.leverage.valuation``): known flows discounted by hand, the senior at par
at its own coupon's rate, nothing left after finalization, and the date moving the value as it should."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest

from rwa.errors import InputError
from rwa.leverage.cashflows import base_deposits, base_revenue, collateral_value
from rwa.leverage.sizing import Sizing
from rwa.leverage.valuation import (
    Payment,
    discount_factor,
    market_rate_bps,
    payment_date,
    present_value,
    rate_of_bps,
    remaining_payments,
    share_down,
    share_value,
    value_tranches,
)
from rwa.model.deal import Deal
from rwa.model.terms import refund_schedule
from rwa.model.units import TRANCHES
from rwa.model.waterfall import PoolState, PoolTerms, run_maturity, run_period

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _opening(deal: Deal, sizing: Sizing) -> tuple[PoolTerms, PoolState, dict[str, int]]:
    terms = sizing.pool_terms(deal)
    return terms, PoolState.opening(terms), {"senior": terms.face, "junior": sizing.junior_size}


def test_a_known_flow_is_discounted_on_actual_365_at_an_effective_annual_rate() -> None:
    ten = Decimal("0.10")
    # one year and two years at 10% effective: 1.1 and 1.21 are worth exactly 1
    assert share_value([Payment(1, T0 + timedelta(days=365), 1_100_000)], T0, ten) == 1_000_000
    assert share_value([Payment(2, T0 + timedelta(days=730), 1_210_000)], T0, ten) == 1_000_000
    # an odd date, against an independent float formula (a / 1.1 ** (days / 365)), rounded down
    flows = [Payment(1, T0 + timedelta(days=31), 7_000_000), Payment(2, T0 + timedelta(days=100, hours=12), 9_999_999)]
    by_hand = 7_000_000 / 1.1 ** (31 / 365) + 9_999_999 / 1.1 ** (100.5 / 365)
    assert abs(share_value(flows, T0, ten) - math.floor(by_hand)) <= 1
    # a payment at the date counts at face; one before it is not the holder's any more
    assert share_value([Payment(1, T0, 5), Payment(0, T0 - timedelta(seconds=1), 7)], T0, ten) == 5
    assert discount_factor(T0 + timedelta(days=365), T0, Decimal(0)) == 1


def test_money_is_an_int_rounded_down() -> None:
    flows = [Payment(1, T0 + timedelta(days=365), 3)]
    value = share_value(flows, T0, Decimal("0.5"))  # 3 / 1.5 = 2 exactly; a hair less would be 1
    assert value == 2 and isinstance(value, int)
    assert share_down(Decimal("2.999999")) == 2 and share_down(Decimal(7), 1, 2) == 3
    assert share_value(flows, T0, Decimal("0.5"), amount=1, supply=3) == 0


def test_a_negative_or_infinite_rate_and_an_empty_supply_are_refused() -> None:
    flows = [Payment(1, T0 + timedelta(days=1), 1)]
    for rate in (Decimal("-0.01"), Decimal("Infinity"), Decimal("NaN")):
        with pytest.raises(InputError, match="discount rate"):
            present_value(flows, T0, rate)
    with pytest.raises(InputError, match="positive supply"):
        share_value(flows, T0, Decimal(0), 1, 0)


def test_the_market_rates_are_the_coupon_plus_100bp_and_the_junior_hurdle(deal: Deal) -> None:
    assert market_rate_bps(deal, "senior") == deal.financing.senior_coupon_bps + 100
    assert market_rate_bps(deal, "junior") == deal.financing.junior_discount_rate_bps
    assert rate_of_bps(900) == Decimal("0.09")


def test_payments_come_at_the_end_of_their_period_and_maturity_with_the_last(deal: Deal, sizing: Sizing) -> None:
    terms, state, _ = _opening(deal, sizing)
    payments = remaining_payments(deal, terms, state)
    n = deal.periods.count
    assert [p.period for p in payments["senior"]] == [*range(1, n + 1), n + 1]
    assert payments["senior"][0].when == deal.periods.start_of(2) == payment_date(deal, 1)
    assert payments["junior"][-1].when == payments["junior"][-2].when == deal.periods.start_of(n + 1)
    # on the deal's calendar: each at the first of a month, the last (and maturity) when the leases end
    assert all(p.when.day == 1 and p.when.hour == 0 for p in payments["senior"])
    assert payments["senior"][0].when == datetime(2025, 8, 1, tzinfo=UTC)
    assert payments["senior"][-1].when == datetime(2030, 7, 1, tzinfo=UTC)
    # the base case repays the whole face on schedule (the reserve is released as it is repaid), and the junior
    # takes the hardware's residual value less the fee at maturity
    assert sum(p.amount for p in payments["senior"]) > terms.face
    assert payments["junior"][-1].amount == collateral_value(deal)[-1] - terms.servicing_fee_per_period


def test_the_senior_is_at_par_at_the_close_at_its_own_coupons_rate(deal: Deal, sizing: Sizing) -> None:
    from rwa.leverage.analysis import tranche_figures

    terms, state, supplies = _opening(deal, sizing)
    close = deal.periods.first_start
    # the 30/360 coupon paid at the end of calendar months: on actual/365 its rate is the senior's yield to maturity
    # (XIRR of the sizing's debt service on the deal's dates), within 2 bp of (1 + c/12)^12 - 1
    ytm = tranche_figures(deal, sizing)["senior"].ytm
    assert ytm is not None
    coupon = Decimal(repr(ytm))
    assert abs(coupon - ((1 + Decimal(terms.senior_coupon_bps) / 120_000) ** 12 - 1)) < Decimal("0.0002")
    at_coupon = value_tranches(deal, terms, state, supplies, close, {"senior": coupon})["senior"]
    assert abs(at_coupon.value - terms.face) <= terms.face // 10**6  # the float XIRR against the integer waterfall
    assert at_coupon.per_token is not None and abs(at_coupon.per_token - 10**deal.decimals) <= 1
    market = value_tranches(deal, terms, state, supplies, close)
    assert market["senior"].rate == Decimal(terms.senior_coupon_bps + 100) / 10_000
    assert 0.98 * terms.face < market["senior"].value < terms.face  # a point over the coupon: a little under par
    undiscounted = value_tranches(deal, terms, state, supplies, close, {"senior": Decimal(0), "junior": Decimal(0)})
    for tranche in TRANCHES:
        assert undiscounted[tranche].value == sum(p.amount for p in market[tranche].payments)
        assert market[tranche].value < undiscounted[tranche].value
        assert isinstance(market[tranche].value, int) and isinstance(market[tranche].per_token, int)


def test_the_value_falls_to_0_once_the_pool_is_finalized(deal: Deal, sizing: Sizing) -> None:
    terms, state, supplies = _opening(deal, sizing)
    for p in range(1, terms.period_count + 1):
        state, _ = run_period(terms, state, p, 10**15, 10**15)
    before = value_tranches(deal, terms, state, supplies, payment_date(deal, terms.period_count))
    assert before["junior"].value > 0  # the maturity settlement is still to come
    state, _ = run_maturity(terms, state, 10**12)
    after = value_tranches(deal, terms, state, supplies, payment_date(deal, terms.period_count))
    for tranche in TRANCHES:
        assert after[tranche].value == 0 and after[tranche].per_token == 0 and after[tranche].payments == ()


def test_the_date_accretes_the_value_and_a_payment_date_passed_takes_it_away(deal: Deal, sizing: Sizing) -> None:
    terms, state, supplies = _opening(deal, sizing)
    close = deal.periods.first_start
    rate = Decimal("0.09")
    payments = remaining_payments(deal, terms, state)["senior"]
    v0 = share_value(payments, close, rate)
    ten_days = share_value(payments, close + timedelta(days=10), rate)
    assert abs(ten_days - math.floor(v0 * 1.09 ** (10 / 365))) <= 2  # ten days nearer every payment
    first = payments[0]
    at_first = share_value(payments, first.when, rate)  # the first payment is at face and still the holder's
    just_after = share_value(payments, first.when + timedelta(seconds=1), rate)
    assert at_first - just_after == pytest.approx(first.amount, rel=1e-6)  # ex that payment
    assert share_value(payments, deal.periods.start_of(deal.periods.count + 1) + timedelta(days=1), rate) == 0
    later = value_tranches(deal, terms, state, supplies, close + timedelta(days=10), {"senior": rate})["senior"]
    assert later.value == ten_days


def test_a_payment_overdue_at_the_states_time_is_expected_at_once(deal: Deal, sizing: Sizing) -> None:
    terms, state, _ = _opening(deal, sizing)
    late = deal.periods.start_of(3) + timedelta(days=2)  # periods 1 and 2 ended, none distributed
    payments = remaining_payments(deal, terms, state, as_of=late)["senior"]
    assert [p.when for p in payments[:3]] == [late, late, deal.periods.start_of(4)]
    # so valued at that time, the token still carries them, at face
    value = share_value(payments, late, Decimal("0.09"))
    assert value > share_value(remaining_payments(deal, terms, state)["senior"], late, Decimal("0.09"))
    assert value >= payments[0].amount + payments[1].amount


def test_the_senior_token_is_worth_less_each_period_as_it_amortizes(deal: Deal, sizing: Sizing) -> None:
    terms, state, supplies = _opening(deal, sizing)
    cash, revenue, refunds = base_deposits(deal), base_revenue(deal), refund_schedule(deal)
    per_token = []
    for p in range(1, 13):
        state, _ = run_period(terms, state, p, cash[p - 1], revenue[p - 1], refund=refunds[p - 1])
        per_token.append(value_tranches(deal, terms, state, supplies, payment_date(deal, p))["senior"].per_token)
    assert all(a > b for a, b in pairwise(per_token)), per_token
    assert per_token[0] < 10**deal.decimals
