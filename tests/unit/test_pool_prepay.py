"""The pool's prepayment (the fleet register's long-stop settlement) and the lessee past-due trigger, on chain
against the reference model (``rwa.model.waterfall.prepay``, ``run_period``) to the unit."""

from __future__ import annotations

import pytest

from rwa.chain.interface import Chain
from rwa.model.terms import DefaultRules
from rwa.model.waterfall import PoolState, prepay, run_period
from rwa.onchain.pool import DefaultTrigger
from tests.support.pool_system import PoolSystem, deploy_pool_system
from tests.support.reverts import reverts


@pytest.fixture
def system(chain: Chain) -> PoolSystem:
    return deploy_pool_system(chain, rules=DefaultRules(3, 0, 0, 0, 0, past_due_days=90))


def _prepay(s: PoolSystem, amount: int) -> None:
    """The admin plays the register (``deploy_pool_system`` names it so): it pays ``amount`` in."""
    s.usd.mint(s.admin, amount, sender=s.admin)
    s.usd.approve(s.pool.address, amount, sender=s.admin)
    s.pool.prepay(amount, sender=s.admin)


def test_only_the_register_prepays(system: PoolSystem) -> None:
    outsider = system.servicer
    system.usd.mint(outsider, 1_000, sender=system.admin)
    system.usd.approve(system.pool.address, 1_000, sender=outsider)
    reverts(lambda: system.pool.prepay(1_000, sender=outsider), "NotRegister", caller=outsider)
    reverts(lambda: system.pool.prepay(0, sender=system.admin), "ZeroDeposit")


def test_a_prepayment_repays_senior_principal_and_later_periods_follow_the_model(system: PoolSystem) -> None:
    s = system
    terms = s.terms
    state = PoolState.opening(terms)
    cash = terms.face // 10
    s.report(1, cash)
    s.deposit(1, cash)
    legs = s.legs(s.distribute(1))
    state, expected = run_period(terms, state, 1, cash, cash)
    assert legs.senior_paid == expected.senior_paid
    amount = state.balance // 3
    before = (s.usd.balance_of(s.senior.address), s.usd.balance_of(s.junior.address))
    _prepay(s, amount)
    state, model = prepay(state, amount)
    assert s.pool.prepayments() == [model]
    assert s.pool.senior_outstanding() == state.balance == model.balance_after
    # the rest of the schedule shrinks as the balance did: the debt service follows the smaller debt
    owed = state.balance + amount
    assert s.pool.state() == state and (state.schedule_num, state.schedule_den) == (state.balance, owed)
    assert state.scheduled_principal(terms, 2) == terms.scheduled_principal(2) * state.balance // owed
    reverts(lambda: _prepay(s, 1), "AlreadyPrepaid")
    assert s.usd.balance_of(s.senior.address) - before[0] == model.senior == amount
    assert s.usd.balance_of(s.junior.address) == before[1]
    assert s.pool.total_senior_paid() == state.total_senior_paid
    for period in range(2, terms.period_count + 1):
        s.report(period, cash)
        s.deposit(period, cash)
        legs = s.legs(s.distribute(period))
        state, expected = run_period(terms, state, period, cash, cash)
        assert legs.with_dust(0, 0) == expected
        assert s.pool.senior_outstanding() == state.balance


def test_a_prepayment_beyond_the_senior_balance_goes_to_the_junior(system: PoolSystem) -> None:
    s = system
    balance = s.pool.senior_outstanding()
    extra = 12_345
    junior_before = s.usd.balance_of(s.junior.address)
    _prepay(s, balance + extra)
    (paid,) = s.pool.prepayments()
    assert (paid.senior, paid.junior, paid.balance_after) == (balance, extra, 0)
    assert s.usd.balance_of(s.junior.address) - junior_before == extra
    assert s.pool.total_junior_paid() == extra


def test_a_lessee_past_due_beyond_the_limit_lets_anyone_trigger_default(system: PoolSystem) -> None:
    s = system
    stub = s.oracle.functions
    s.report(1, 1_000)
    assert not s.pool.trigger_holds(DefaultTrigger.LESSEE_PAST_DUE)
    from rwa.chain.tx import send

    send(stub.setPastDue(2, 90), s.admin, 200_000)  # at the limit: not beyond it
    assert not s.pool.trigger_holds(DefaultTrigger.LESSEE_PAST_DUE)
    send(stub.setPastDue(2, 91), s.admin, 200_000)
    assert s.pool.trigger_holds(DefaultTrigger.LESSEE_PAST_DUE)
    s.pool.trigger_default(DefaultTrigger.LESSEE_PAST_DUE, sender=s.servicer)
    assert s.pool.defaulted() and s.pool.default_trigger() is DefaultTrigger.LESSEE_PAST_DUE
