"""Recoveries after maturity (a late payment, the sale of the servers) go through the rest of the waterfall: senior
interest arrears, the senior balance still owed, then junior; the pool and the reference model agree to the unit."""

from __future__ import annotations

from rwa.chain.interface import Chain
from rwa.model import waterfall
from rwa.onchain.pool import DepositKind
from tests.support.pool_system import deploy_pool_system
from tests.support.reverts import reverts


def test_recoveries_after_maturity_pay_senior_first_then_junior_and_match_the_model(chain: Chain) -> None:
    s = deploy_pool_system(chain)
    terms = s.terms
    state = waterfall.PoolState.opening(terms)
    for period in range(1, terms.period_count + 1):  # every period short: senior ends in arrears
        s.deposit(period, 1_000)
        s.report(period, 1_000)
        s.distribute(period)
        state, _ = waterfall.run_period(terms, state, period, 1_000, 1_000)
    s.finalize()
    state, _ = waterfall.run_maturity(terms, state, 0)
    assert s.pool.senior_outstanding() == state.balance > 0
    reverts(lambda: s.pool.distribute_recovery(sender=s.servicer), "ZeroDeposit", period=terms.period_count + 2)
    owed = state.balance + state.interest_arrears
    for i, amount in enumerate((owed // 3, owed)):  # the second round repays senior and leaves the rest to junior
        period = terms.maturity_period + 1 + i
        s.deposit(period, amount, DepositKind.RESIDUAL_VALUE)
        legs = s.legs(s.pool.distribute_recovery(sender=s.chain.accounts[9].address))
        state, expected = waterfall.run_recovery(terms, state, period, amount)
        assert legs == expected and legs.period == period
        assert s.pool.senior_outstanding() == state.balance
    assert state.balance == 0 and state.interest_arrears == 0 and expected.junior > 0
    assert s.pool.recoveries() == 2
    reverts(lambda: s.pool.deposit(terms.maturity_period + 1, 1, sender=s.servicer), "RecoveryRound",
            expected=terms.maturity_period + 3)
