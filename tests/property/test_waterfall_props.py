"""Properties of the waterfall model over random deals and cash paths: nothing is created or lost, nothing goes
negative, arrears never exceed what is outstanding, and senior principal paid plus outstanding is always the face."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from rwa.model.calendar import month_ends
from rwa.model.units import UINT32_MAX
from rwa.model.waterfall import (
    PeriodLegs,
    PoolState,
    PoolTerms,
    declare_default,
    reserve_target,
    run_maturity,
    run_period,
)

AMOUNT = st.integers(min_value=0, max_value=10**13)


@st.composite
def deals(draw: st.DrawFn) -> tuple[PoolTerms, list[int], int, int | None]:
    n = draw(st.integers(min_value=1, max_value=12))
    schedule = tuple(draw(st.lists(st.integers(0, 10**12), min_size=n, max_size=n)))
    if sum(schedule) == 0:
        schedule = (*schedule[:-1], 1)
    terms = PoolTerms(
        first_period_start=1_767_225_600,
        period_ends=month_ends(1_767_225_600, n + 1),
        period_count=n,
        senior_coupon_bps=draw(st.integers(0, 3_000)),
        servicing_fee_per_period=draw(st.integers(0, 10**9)),
        reserve_periods=draw(st.integers(0, 6)),
        cash_trap_dscr_bps=draw(st.integers(0, 30_000)),
        principal_schedule=schedule,
    )
    cash = draw(st.lists(AMOUNT, min_size=n, max_size=n))
    residual = draw(AMOUNT)
    default_before = draw(st.none() | st.integers(1, n + 1))
    return terms, cash, residual, default_before


def check_legs(legs: PeriodLegs) -> None:
    out = legs.fee + legs.senior_interest + legs.senior_principal + legs.trapped + legs.junior
    assert legs.collected == out + legs.reserve_in - legs.reserve_out
    assert legs.collected_minus_reported == legs.collected - legs.reported
    for name in ("fee", "senior_interest", "senior_principal", "reserve_in", "reserve_out", "trapped", "junior"):
        assert getattr(legs, name) >= 0, name
    assert legs.balance_after >= 0 and legs.reserve_after >= 0
    assert legs.principal_arrears <= legs.balance_after
    assert 0 <= legs.dscr_bps <= UINT32_MAX
    assert not (legs.reserve_in and legs.reserve_out), "the reserve is either drawn or topped up in a period"


@settings(max_examples=300, deadline=None)
@given(deals())
def test_every_unit_is_accounted_for_and_nothing_goes_negative(
    deal: tuple[PoolTerms, list[int], int, int | None],
) -> None:
    terms, cash, residual, default_before = deal
    state = PoolState.opening(terms)
    collected = 0
    for p in range(1, terms.period_count + 2):
        if default_before == p:
            state = declare_default(state)
        previous = state
        if p <= terms.period_count:
            state, legs = run_period(terms, state, p, cash[p - 1], cash[p - 1] // 2)
        else:
            state, legs = run_maturity(terms, state, residual)
        collected += legs.collected
        check_legs(legs)
        assert legs.reserve_out <= previous.reserve
        assert state.reserve == legs.reserve_after and state.balance == legs.balance_after
        assert state.balance <= previous.balance
        # senior principal paid (scheduled + trapped) is exactly the fall of the balance
        assert previous.balance - state.balance == legs.senior_principal + legs.trapped
        if state.defaulted and p <= terms.period_count:
            # the reserve is drawn before anything is left unpaid, and is never topped up under default
            assert legs.principal_arrears == 0 and legs.reserve_in == 0
            assert legs.reserve_after == 0 or legs.balance_after == 0
    paid = state.total_fees + state.total_senior_paid + state.total_junior_paid
    assert collected == paid + state.reserve
    assert state.reserve == 0 and state.finalized


@settings(max_examples=150, deadline=None)
@given(deals())
def test_ample_cash_repays_senior_on_schedule_and_pays_junior(
    deal: tuple[PoolTerms, list[int], int, int | None],
) -> None:
    terms, _, _, _ = deal
    plenty = terms.face * 10 + terms.servicing_fee_per_period + 10**6
    state = PoolState.opening(terms)
    previous_reserve = 0
    for p in range(1, terms.period_count + 1):
        state, legs = run_period(terms, state, p, plenty, plenty)
        assert legs.interest_arrears == 0 and legs.principal_arrears == 0
        assert legs.trapped == 0
        assert state.balance == sum(terms.principal_schedule[p:])
        # the reserve sits at its target after every period: the next periods' debt service, 0 once repaid
        expected = reserve_target(terms, p, state.balance) if p < terms.period_count else 0
        assert legs.reserve_after == expected
        assert previous_reserve + legs.reserve_in - legs.reserve_out == legs.reserve_after
        previous_reserve = legs.reserve_after
        assert legs.junior > 0
    state, legs = run_maturity(terms, state, 0)
    assert state.balance == 0 and legs.senior_principal == 0


@settings(max_examples=150, deadline=None)
@given(deals(), st.integers(0, 10**13))
def test_more_cash_never_pays_senior_less(deal: tuple[PoolTerms, list[int], int, int | None], extra: int) -> None:
    terms, cash, _, _ = deal
    low = PoolState.opening(terms)
    high = PoolState.opening(terms)
    _, legs_low = run_period(terms, low, 1, cash[0], 0)
    _, legs_high = run_period(terms, high, 1, cash[0] + extra, 0)
    assert (
        legs_high.senior_interest + legs_high.senior_principal >= legs_low.senior_interest + legs_low.senior_principal
    )
    assert legs_high.balance_after <= legs_low.balance_after
