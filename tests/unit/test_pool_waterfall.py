"""The on-chain waterfall against the reference model, to the unit, period by period, with the accounting checked
after every step: the pool holds exactly the undistributed deposits plus the reserve."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest
from web3.logs import DISCARD

from rwa.chain.interface import Chain
from rwa.leverage.path_engine import PathTerms, run_paths
from rwa.model.waterfall import (
    PeriodLegs,
    PoolState,
    carry_points,
    declare_default,
    dust_down,
    fund_reserve,
    reserve_target,
    run_maturity,
    run_period,
)
from rwa.onchain.pool import DepositKind
from tests.support.pool_system import PoolSystem, deploy_pool_system


@dataclass
class Scenario:
    cash: dict[int, int]
    reported: dict[int, int] = field(default_factory=dict)
    default_before: int | None = None
    terms: dict[str, int | tuple[int, ...]] = field(default_factory=dict)
    reserve_at_close: int = 0  # funded before period 1, as the offering's close does


def check_accounting(s: PoolSystem, state: PoolState) -> None:
    pool = s.pool
    assert s.usd.balance_of(pool.address) == pool.undistributed_deposits() + pool.reserve_balance()
    assert s.usd.balance_of(s.fee_recipient) == pool.total_fees_paid() == state.total_fees
    # nothing has been claimed in these tests: each token holds everything it was paid
    assert s.usd.balance_of(s.senior.address) == pool.total_senior_paid() == state.total_senior_paid
    assert s.usd.balance_of(s.junior.address) == pool.total_junior_paid() == state.total_junior_paid
    assert pool.senior_outstanding() == state.balance
    assert pool.reserve_balance() == state.reserve
    assert pool.interest_arrears() == state.interest_arrears
    assert pool.principal_arrears() == state.principal_arrears
    assert pool.total_trapped() == state.total_trapped
    assert pool.last_distributed_period() == state.last_distributed_period
    assert pool.defaulted() == state.defaulted and pool.finalized() == state.finalized


def play(s: PoolSystem, scenario: Scenario) -> list[PeriodLegs]:
    """Deposit, report and distribute every period, then finalize; each event must equal the model's legs."""
    terms = s.terms
    state = PoolState.opening(terms)
    seen: list[PeriodLegs] = []
    remainders = [s.senior.points_remainder(), s.junior.points_remainder()]
    supplies = [s.senior.total_supply(), s.junior.total_supply()]
    if scenario.reserve_at_close:
        s.usd.mint(s.admin, scenario.reserve_at_close, sender=s.admin)
        s.usd.approve(s.pool.address, scenario.reserve_at_close, sender=s.admin)
        s.pool.fund_reserve(scenario.reserve_at_close, sender=s.admin)
        state = fund_reserve(state, scenario.reserve_at_close)
        check_accounting(s, state)
    for p in range(1, terms.period_count + 2):
        if scenario.default_before == p:
            s.pool.declare_default("lessee missed payments", sender=s.admin)
            state = declare_default(state)
        if scenario.cash.get(p, 0):
            s.deposit(p, scenario.cash[p])
        cash = s.pool.deposited(p)  # including anything deposited before the scenario started
        if p <= terms.period_count:
            reported = scenario.reported.get(p, cash)  # the report matches the cash unless the scenario says not
            s.report(p, reported)
            receipt = s.distribute(p)
            state, expected = run_period(terms, state, p, cash, reported)
        else:
            receipt = s.finalize()
            state, expected = run_maturity(terms, state, cash)
        onchain = s.legs(receipt)
        remainders = [
            carry_points(remainders[0], expected.senior_paid, supplies[0]),
            carry_points(remainders[1], expected.junior, supplies[1]),
        ]
        assert [s.senior.points_remainder(), s.junior.points_remainder()] == remainders
        assert onchain == expected.with_dust(dust_down(remainders[0]), dust_down(remainders[1]))
        check_accounting(s, state)
        seen.append(onchain)
    assert [e.legs for e in s.pool.period_events()] == seen
    return seen


def test_terms_and_views_read_back(system: PoolSystem) -> None:
    s = system
    assert s.pool.terms() == s.terms
    assert s.pool.senior_face() == s.pool.senior_outstanding() == 600_000
    assert s.pool.period_end(2) == s.terms.period_end(2)
    assert s.pool.period_start(2) == s.terms.period_start(2)
    assert s.pool.principal_schedule_at(4) == 0
    assert s.pool.addresses()["senior"] == s.senior.address


def test_deposits_of_every_kind_add_up_and_emit(system: PoolSystem) -> None:
    s = system
    receipts = [s.deposit(1, 100 + kind, DepositKind(kind)) for kind in range(4)]
    assert s.pool.deposited(1) == 406 == s.pool.undistributed_deposits()
    event = s.pool.contract.events.Deposited().process_receipt(receipts[2], errors=DISCARD)[0]["args"]
    assert (event["period"], event["kind"], event["amount"], event["from"]) == (1, 2, 102, s.servicer)


def test_normal_periods_and_maturity(system: PoolSystem) -> None:
    s = system
    legs = play(s, Scenario(cash={1: 500_000, 2: 420_000, 3: 400_000, 4: 25_000}))
    assert [leg.trapped for leg in legs] == [0, 0, 0, 0]
    assert s.pool.senior_outstanding() == 0
    # the reserve held for period 3 is released into period 3's cash once it repays the senior, not kept to maturity
    assert legs[2].reserve_out > 0 and legs[2].reserve_after == 0 and legs[2].balance_after == 0
    assert legs[-1].reserve_out == 0


@pytest.mark.parametrize(
    "cash",
    [
        {p: 150_000 for p in range(1, 7)},  # base: every period covers its debt service
        {1: 150_000, 2: 20_000, 3: 0, 4: 400_000, 5: 150_000, 6: 150_000},  # stress: two weak months, then a catch-up
    ],
    ids=["base", "stress"],
)
def test_the_reserve_is_the_same_on_chain_in_the_model_and_in_the_calculator(
    chain: Chain, cash: dict[int, int]
) -> None:
    """The textbook DSRA: the next two periods' scheduled debt service, funded at close, its excess released, and 0
    once the senior is repaid; the pool's events, the reference model and the calculator's engine agree."""
    s = deploy_pool_system(chain, period_count=6, reserve_periods=2, cash_trap_dscr_bps=0,
                           principal_schedule=(100_000, 100_000, 100_000, 50_000, 0, 0))
    funded = reserve_target(s.terms, 0, s.terms.face)
    assert funded == (3_500 + 100_000) + (2_500 + 100_000)  # 1% a month on 350,000 then 250,000
    legs = play(s, Scenario(cash=cash, reserve_at_close=funded))  # on-chain == model, every leg
    reserve = [leg.reserve_after for leg in legs[:-1]]
    repaid = next(i for i, leg in enumerate(legs) if leg.balance_after == 0)
    assert all(r == 0 for r in reserve[repaid:]) and all(r > 0 for r in reserve[:repaid])
    # the calculator's engine on the same cash after the fee, opening with the same reserve
    engine = run_paths(np.asarray([[max(cash[p] - 1_000, 0) for p in range(1, 7)]], dtype=float),
                       PathTerms.of(s.terms, funded), 0.0)
    assert [round(float(x)) for x in engine.reserve[0]] == reserve
    assert engine.loss[0] == 0.0 == legs[-1].balance_after


def test_shortfall_draws_the_reserve(system: PoolSystem) -> None:
    s = system
    legs = play(s, Scenario(cash={1: 500_000, 2: 100_000, 3: 600_000}, reported={2: 400_000}))
    assert legs[1].reserve_out == 106_000 and legs[1].collected_minus_reported == -300_000


def test_arrears_carried_and_cured(system: PoolSystem) -> None:
    s = system
    legs = play(s, Scenario(cash={1: 50_000, 2: 900_000, 3: 500_000}, terms={}))
    assert legs[0].principal_arrears == 57_000
    assert legs[1].principal_arrears == 0 and legs[1].interest_arrears == 0


def test_cash_trap_period(chain: Chain) -> None:
    s = deploy_pool_system(chain, reserve_periods=0)
    legs = play(s, Scenario(cash={1: 121_000, 2: 600_000, 3: 400_000}))
    assert legs[0].trapped == 14_000 and legs[0].junior == 0 and legs[0].dscr_bps == 11_320
    assert s.pool.total_trapped() == 14_000


def test_default_sends_cash_to_senior_until_repaid(system: PoolSystem) -> None:
    s = system
    legs = play(s, Scenario(cash={1: 500_000, 2: 50_000, 3: 400_000, 4: 1_000}, default_before=2))
    assert legs[1].reserve_out == 205_000 and legs[1].junior == 0
    assert legs[2].junior > 0 and s.pool.senior_outstanding() == 0
    events = s.pool.contract.events.DefaultDeclared().get_logs(from_block=0)
    assert [(e["args"]["period"], e["args"]["reason"]) for e in events] == [(2, "lessee missed payments")]


def test_maturity_with_residual_value_and_reserve_release(system: PoolSystem) -> None:
    s = system
    s.deposit(4, 20_000, DepositKind.RESIDUAL_VALUE)  # the residual may arrive before the last period runs
    legs = play(s, Scenario(cash={1: 500_000, 2: 420_000, 3: 10_000, 4: 30_000}))
    maturity = legs[-1]
    assert maturity.period == 4 and maturity.collected == 50_000
    assert maturity.reserve_out == legs[-2].reserve_after and maturity.reserve_after == 0
    assert s.usd.balance_of(s.pool.address) == 0
    finalized = s.pool.contract.events.Finalized().get_logs(from_block=0)[0]["args"]
    assert finalized["seniorOutstanding"] == s.pool.senior_outstanding()
    assert finalized["totalJuniorPaid"] == s.pool.total_junior_paid()


def test_maturity_shortfall_leaves_senior_outstanding(chain: Chain) -> None:
    s = deploy_pool_system(chain, reserve_periods=0, cash_trap_dscr_bps=0)
    play(s, Scenario(cash={1: 50_000, 2: 50_000, 3: 50_000, 4: 50_000}))
    assert s.pool.senior_outstanding() > 0
    assert s.pool.principal_arrears() == s.pool.senior_outstanding()


def test_junior_without_holders_carries_its_whole_share_as_dust(chain: Chain) -> None:
    s = deploy_pool_system(chain, junior_holders={})
    legs = play(s, Scenario(cash={1: 500_000, 2: 420_000, 3: 400_000}))
    assert legs[0].junior_dust == legs[0].junior > 0
    assert legs[-1].junior_dust == sum(leg.junior for leg in legs)


@pytest.mark.parametrize("fee", [0, 10**12])
def test_fee_extremes(chain: Chain, fee: int) -> None:
    s = deploy_pool_system(chain, servicing_fee_per_period=fee)
    play(s, Scenario(cash={1: 500_000, 2: 420_000, 3: 400_000, 4: 7}))


@pytest.mark.anvil
def test_a_deal_runs_to_maturity_on_a_json_rpc_node(anvil_chain: Chain) -> None:
    s = deploy_pool_system(anvil_chain)
    legs = play(s, Scenario(cash={1: 500_000, 2: 100_000, 3: 600_000, 4: 9_000}, default_before=3))
    assert legs[1].reserve_out == 106_000 and s.pool.finalized()
