"""The waterfall reference model on hand-computed periods: every expected figure below is worked out in the comment."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rwa.model import waterfall
from rwa.model.units import UINT32_MAX
from rwa.model.waterfall import (
    PeriodLegs,
    PoolState,
    PoolTerms,
    WaterfallError,
    coverage,
    declare_default,
    dscr_bps_down,
    monthly_interest_down,
    run_maturity,
    run_period,
    run_schedule,
)
from tests.support.pool_system import demo_terms

DAY = 86_400


def make_terms(*, monthly: bool = False, **overrides: int | tuple[int, ...]) -> PoolTerms:
    """The pool tests' small deal (12% a year: 1% of the balance a period), starting at the embedded genesis."""
    return demo_terms(1_767_225_600, monthly=monthly, **overrides)


def conserved(legs: PeriodLegs) -> bool:
    paid = legs.fee + legs.senior_interest + legs.senior_principal + legs.trapped + legs.junior
    return legs.collected == paid + legs.reserve_in - legs.reserve_out


def test_terms_period_clock_and_face() -> None:
    terms = make_terms()
    assert terms.face == 600_000
    assert terms.period_start(1) == terms.first_period_start
    assert terms.period_end(3) == terms.first_period_start + 90 * DAY
    assert terms.period_start(4) == terms.period_end(3) and terms.period_end(4) == terms.first_period_start + 120 * DAY
    assert terms.maturity_period == 4
    assert terms.scheduled_principal(4) == 0
    with pytest.raises(WaterfallError, match=r"outside 1\.\.4"):
        terms.period_end(5)


def test_terms_carry_the_calendar_months_they_are_given() -> None:
    terms = make_terms(monthly=True)  # 2026-01-01T00:00Z: January 31 days, February 28, March 31, April 30
    lengths = [terms.period_end(p) - terms.period_start(p) for p in range(1, 5)]
    assert lengths == [31 * DAY, 28 * DAY, 31 * DAY, 30 * DAY]
    assert terms.longest_period == 31 * DAY


@pytest.mark.parametrize(
    "ends",
    [
        (1_767_225_600 + DAY, 1_767_225_600 + 2 * DAY, 1_767_225_600 + 3 * DAY),  # N ends, N+1 missing
        (1_767_225_600, 1_767_225_600 + DAY, 1_767_225_600 + 2 * DAY, 1_767_225_600 + 3 * DAY),  # period 1 empty
        (1_767_225_600 + 2 * DAY, 1_767_225_600 + DAY, 1_767_225_600 + 3 * DAY, 1_767_225_600 + 4 * DAY),
    ],
)
def test_terms_refuse_period_ends_that_are_not_one_rising_end_per_period(ends: tuple[int, ...]) -> None:
    with pytest.raises(WaterfallError, match="period_ends"):
        make_terms(period_ends=ends)


@pytest.mark.parametrize(
    "overrides",
    [
        {"principal_schedule": (1, 2)},
        {"period_count": 0, "principal_schedule": ()},
        {"principal_schedule": (0, 0, 0)},
        {"senior_coupon_bps": -1},
        {"refund_schedule": (0, 5)},
        {"refund_schedule": (0, -1, 0)},
    ],
)
def test_terms_refuse_inconsistent_deals(overrides: dict[str, object]) -> None:
    with pytest.raises(WaterfallError):
        make_terms(**overrides)


def test_rounding_helpers_round_down_and_cap() -> None:
    assert monthly_interest_down(119_999, 1) == 0
    assert monthly_interest_down(120_000, 1) == 1
    assert dscr_bps_down(5, 0) == UINT32_MAX
    assert dscr_bps_down(2, 3) == 6_666
    assert dscr_bps_down(10**30, 1) == UINT32_MAX


def test_normal_period_pays_every_leg_in_order() -> None:
    terms = make_terms()
    state, legs = run_period(terms, PoolState.opening(terms), 1, 500_000, 480_000)
    # fee 1,000 -> 499,000; interest 600,000 * 1% = 6,000; principal 100,000; the covenant counts rent only up to
    # the 480,000 reported: (480,000 - 1,000 fee) / 106,000 = 4.5188x;
    # reserve target: next period's service 500,000 * 1% + 200,000 = 205,000; junior gets 499,000 - 311,000.
    assert legs == PeriodLegs(
        period=1, collected=500_000, reported=480_000, collected_minus_reported=20_000, fee=1_000,
        senior_interest=6_000, senior_principal=100_000, reserve_in=205_000, reserve_out=0, trapped=0,
        junior=188_000, senior_dust=0, junior_dust=0, balance_after=500_000, interest_arrears=0,
        principal_arrears=0, reserve_after=205_000, dscr_bps=45_188,
    )  # fmt: skip
    assert state.balance == 500_000 and state.reserve == 205_000 and state.last_distributed_period == 1
    assert state.total_senior_paid == 106_000 and state.total_junior_paid == 188_000 and state.total_fees == 1_000
    assert conserved(legs)


def test_shortfall_draws_the_reserve_for_senior() -> None:
    terms = make_terms()
    state, _ = run_period(terms, PoolState.opening(terms), 1, 500_000, 500_000)
    state, legs = run_period(terms, state, 2, 100_000, 400_000)
    # fee 1,000 -> 99,000; interest 5,000 -> 94,000 cash; principal 200,000 = 94,000 cash + 106,000 reserve.
    assert (legs.senior_interest, legs.senior_principal, legs.reserve_out) == (5_000, 200_000, 106_000)
    assert legs.collected_minus_reported == -300_000
    assert legs.dscr_bps == 99_000 * 10_000 // 205_000
    # No cash left: no top-up, nothing trapped, nothing for junior, no arrears.
    assert (legs.reserve_in, legs.trapped, legs.junior) == (0, 0, 0)
    assert (legs.interest_arrears, legs.principal_arrears) == (0, 0)
    assert state.reserve == legs.reserve_after == 99_000
    assert state.balance == 300_000
    assert conserved(legs)


def test_arrears_are_carried_and_cured_first() -> None:
    terms = make_terms(reserve_periods=0, cash_trap_dscr_bps=0)
    state, legs = run_period(terms, PoolState.opening(terms), 1, 50_000, 50_000)
    # 49,000 after fee: interest 6,000, then 43,000 of the 100,000 principal; 57,000 principal in arrears.
    assert (legs.senior_interest, legs.senior_principal, legs.principal_arrears) == (6_000, 43_000, 57_000)
    assert state.balance == 557_000 and legs.junior == 0
    state, legs = run_period(terms, state, 2, 400_000, 400_000)
    # interest 557,000 * 1% = 5,570; principal due 57,000 arrears + 200,000 scheduled = 257,000.
    assert (legs.senior_interest, legs.senior_principal) == (5_570, 257_000)
    assert (legs.principal_arrears, legs.interest_arrears) == (0, 0)
    assert legs.junior == 399_000 - 5_570 - 257_000
    assert state.balance == 300_000


def test_unpaid_interest_becomes_interest_arrears() -> None:
    terms = make_terms(reserve_periods=0, cash_trap_dscr_bps=0)
    state, legs = run_period(terms, PoolState.opening(terms), 1, 5_000, 0)
    assert (legs.fee, legs.senior_interest, legs.interest_arrears, legs.principal_arrears) == (
        1_000,
        4_000,
        2_000,
        100_000,
    )
    state, legs = run_period(terms, state, 2, 1_000_000, 0)
    # interest due 2,000 arrears + 6,000 on the unchanged 600,000; principal 100,000 arrears + 200,000.
    assert (legs.senior_interest, legs.senior_principal) == (8_000, 300_000)
    assert state.interest_arrears == 0 and state.balance == 300_000


def test_cash_trap_prepays_senior_when_dscr_is_under_the_covenant() -> None:
    terms = make_terms(reserve_periods=0)
    state, legs = run_period(terms, PoolState.opening(terms), 1, 121_000, 121_000)
    # 120,000 after fee over 106,000 scheduled service = 1.1320x < 1.2x: the 14,000 left is trapped.
    assert legs.dscr_bps == 11_320
    assert (legs.senior_interest, legs.senior_principal, legs.trapped, legs.junior) == (6_000, 100_000, 14_000, 0)
    assert state.balance == 486_000 and state.total_trapped == 14_000
    assert legs.senior_paid == 120_000
    # The schedule is not re-sculpted: period 3's 300,000 is capped at what is left after period 2.
    state, legs = run_period(terms, state, 2, 1_000_000, 1_000_000)
    assert legs.senior_principal == 200_000 and legs.trapped == 0
    state, legs = run_period(terms, state, 3, 1_000_000, 1_000_000)
    assert legs.senior_principal == 286_000 and state.balance == 0


def test_covenant_met_exactly_does_not_trap() -> None:
    terms = make_terms(reserve_periods=0)
    _, legs = run_period(terms, PoolState.opening(terms), 1, 1_000 + 127_200, 1_000 + 127_200)  # 1.2000x exactly
    assert legs.dscr_bps == 12_000 and legs.trapped == 0 and legs.junior == 21_200


def test_cash_pulled_forward_from_the_next_period_does_not_pass_the_covenant() -> None:
    terms = make_terms(reserve_periods=0)
    # The cluster earned 121,000 (1.1320x, under the covenant); the servicer deposits 379,000 of next period's rent
    # on top. The covenant still reads (121,000 - 1,000) / 106,000: everything past senior's due is trapped.
    _, legs = run_period(terms, PoolState.opening(terms), 1, 500_000, 121_000)
    assert legs.dscr_bps == 11_320
    assert (legs.senior_interest, legs.senior_principal, legs.trapped, legs.junior) == (6_000, 100_000, 393_000, 0)
    # Labelled a tax refund, the same cash does not count at all, not even the period's scheduled refund: the
    # covenant reads rent only, so the refund schedule cannot be leaned on either.
    refunding = make_terms(reserve_periods=0, refund_schedule=(20_000, 0, 0))
    _, legs = run_period(refunding, PoolState.opening(refunding), 1, 500_000, 121_000, rent=121_000, refund=379_000)
    _, scheduled = run_period(refunding, PoolState.opening(refunding), 1, 141_000, 121_000, rent=121_000,
                              refund=20_000)
    assert legs.dscr_bps == scheduled.dscr_bps == 11_320 and legs.junior == scheduled.junior == 0
    # Residual value or other deposits do not count at all.
    _, legs = run_period(terms, PoolState.opening(terms), 1, 500_000, 500_000, rent=121_000)
    assert legs.dscr_bps == 11_320 and legs.junior == 0


def test_coverage_caps_rent_at_the_report_and_never_goes_below_zero() -> None:
    assert coverage(rent=90, reported=100, fee_per_period=10) == 80
    assert coverage(rent=200, reported=100, fee_per_period=10) == 90
    assert coverage(rent=5, reported=100, fee_per_period=10) == 0
    terms = make_terms()
    with pytest.raises(WaterfallError):
        run_period(terms, PoolState.opening(terms), 1, 100, 100, rent=80, refund=30)  # more than was deposited


def test_default_sends_everything_to_senior_until_repaid() -> None:
    terms = make_terms()
    state, _ = run_period(terms, PoolState.opening(terms), 1, 500_000, 500_000)
    state = declare_default(state)
    state, legs = run_period(terms, state, 2, 50_000, 50_000)
    # 49,000 after fee: interest 5,000; the whole 500,000 is due: 44,000 cash + the whole 205,000 reserve.
    assert (legs.senior_interest, legs.senior_principal, legs.reserve_out) == (5_000, 249_000, 205_000)
    assert (legs.principal_arrears, legs.reserve_after, legs.junior) == (0, 0, 0)
    assert state.balance == 251_000
    state, legs = run_period(terms, state, 3, 400_000, 400_000)
    # 399,000 after fee: interest 2,510, the 251,000 balance, no reserve kept; junior is paid again after.
    assert (legs.senior_interest, legs.senior_principal, legs.reserve_in) == (2_510, 251_000, 0)
    assert legs.junior == 399_000 - 2_510 - 251_000 and state.balance == 0
    assert conserved(legs)


def test_default_cannot_be_declared_twice() -> None:
    terms = make_terms()
    state = declare_default(PoolState.opening(terms))
    with pytest.raises(WaterfallError):
        declare_default(state)


def test_the_reserve_is_released_once_the_senior_is_repaid() -> None:
    terms = make_terms(period_count=2, principal_schedule=(100_000, 100_000), reserve_periods=1, cash_trap_dscr_bps=0)
    state, legs1 = run_period(terms, PoolState.opening(terms), 1, 400_000, 0)
    # reserve target after period 1: 100,000 * 1% + 100,000 = 101,000.
    assert legs1.reserve_after == 101_000 == waterfall.reserve_target(terms, 1, 100_000)
    state, legs2 = run_period(terms, state, 2, 20_000, 0)
    # 19,000 after fee: interest 1,000, principal 18,000 cash + 82,000 reserve; the senior is repaid, so the
    # 19,000 left in the reserve is released into the period's cash and goes to the junior.
    assert (legs2.reserve_out, legs2.reserve_after, state.balance, legs2.junior) == (101_000, 0, 0, 19_000)
    state, legs = run_maturity(terms, state, 30_000)
    assert legs.period == 3 and legs.reserve_out == 0 and legs.reserve_after == 0
    assert (legs.fee, legs.senior_interest, legs.senior_principal, legs.junior) == (1_000, 0, 0, 29_000)
    assert state.finalized and conserved(legs)


def test_the_reserve_holds_the_next_periods_debt_service_and_releases_the_excess() -> None:
    terms = make_terms(period_count=4, principal_schedule=(100_000, 100_000, 10_000, 10_000), reserve_periods=2,
                       cash_trap_dscr_bps=0)
    # at close: 2,200 + 100,000 (period 1) and 1,200 + 100,000 (period 2) on the 220,000 balance path
    assert waterfall.reserve_target(terms, 0, 220_000) == 203_400
    state, legs = run_period(terms, PoolState.opening(terms), 1, 500_000, 0)
    # after period 1 the target is periods 2 and 3: 1,200 + 100,000 and 200 + 10,000
    assert legs.reserve_in == legs.reserve_after == 111_400 and legs.reserve_out == 0
    state, legs = run_period(terms, state, 2, 500_000, 0)
    # after period 2 (periods 3 and 4): 200 + 10,000 and 100 + 10,000 = 20,300; 91,100 released to the junior
    assert (legs.reserve_in, legs.reserve_out, legs.reserve_after) == (0, 91_100, 20_300)
    assert legs.junior == 500_000 - 1_000 - 1_200 - 100_000 + 91_100
    state, legs = run_period(terms, state, 3, 500_000, 0)
    # after period 3 only period 4 is left in the term: 100 + 10,000
    assert (legs.reserve_out, legs.reserve_after) == (10_200, 10_100)


def test_maturity_pays_arrears_and_outstanding_before_junior() -> None:
    terms = make_terms(
        period_count=1, principal_schedule=(100_000,), servicing_fee_per_period=100, cash_trap_dscr_bps=0
    )
    state, legs = run_period(terms, PoolState.opening(terms), 1, 50_000, 0)
    assert (legs.senior_principal, legs.principal_arrears, state.balance) == (48_900, 51_100, 51_100)
    state, legs = run_maturity(terms, state, 60_000)
    # 59,900 after fee: interest 511 on 51,100, the 51,100 outstanding, 8,289 to junior.
    assert (legs.senior_interest, legs.senior_principal, legs.junior) == (511, 51_100, 8_289)
    assert (state.balance, state.principal_arrears) == (0, 0)


def test_maturity_shortfall_leaves_senior_outstanding() -> None:
    terms = make_terms(period_count=1, principal_schedule=(100_000,), servicing_fee_per_period=0, cash_trap_dscr_bps=0)
    state, _ = run_period(terms, PoolState.opening(terms), 1, 0, 0)
    state, legs = run_maturity(terms, state, 50_000)
    # interest 1,000 + 1,000 arrears from period 1, then 48,000 of the 100,000.
    assert (legs.senior_interest, legs.senior_principal, legs.junior) == (2_000, 48_000, 0)
    assert state.balance == legs.principal_arrears == 52_000


def test_model_refuses_what_the_contract_refuses() -> None:
    terms = make_terms()
    state = PoolState.opening(terms)
    with pytest.raises(WaterfallError):
        run_period(terms, state, 2, 0, 0)  # out of order
    with pytest.raises(WaterfallError):
        run_maturity(terms, state, 0)  # too early
    with pytest.raises(WaterfallError):
        run_period(terms, state, 1, -1, 0)
    done = replace(state, last_distributed_period=3)
    done, _ = run_maturity(terms, done, 0)
    with pytest.raises(WaterfallError):
        run_maturity(terms, done, 0)
    with pytest.raises(WaterfallError):
        declare_default(done)


def test_run_schedule_matches_period_by_period() -> None:
    terms = make_terms()
    cash = {1: 500_000, 2: 100_000, 3: 400_000, 4: 7_000}
    final, legs = run_schedule(terms, cash, {}, default_before=3)
    assert [leg.period for leg in legs] == [1, 2, 3, 4]
    state = PoolState.opening(terms)
    state, _ = run_period(terms, state, 1, 500_000, 0)
    state, _ = run_period(terms, state, 2, 100_000, 0)
    state, third = run_period(terms, declare_default(state), 3, 400_000, 0)
    state, _ = run_maturity(terms, state, 7_000)
    assert legs[2] == third and final == state
