"""Every way ``LeasePool`` refuses, each by its custom error and its diagnostic values."""

from __future__ import annotations

from typing import Any

from web3 import Web3

from rwa.chain.interface import Chain
from rwa.chain.tx import deploy, send
from rwa.model.terms import DefaultRules
from rwa.onchain.base import Role
from rwa.onchain.pool import LeasePool
from tests.support.pool_system import PoolSystem, demo_terms, deploy_pool_system
from tests.support.reverts import reverts

ZERO = "0x" + "00" * 20


def run_all_periods(s: PoolSystem) -> None:
    for p in range(1, s.terms.period_count + 1):
        s.deposit(p, 1_000_000)
        s.report(p, 1_000_000)
        s.distribute(p)


# -- deposit ----------------------------------------------------------------------------------------------------


def test_deposit_refuses_zero_amount(system: PoolSystem) -> None:
    reverts(lambda: system.pool.deposit(1, 0, sender=system.servicer), "ZeroDeposit", period=1)


def test_deposit_refuses_unknown_kind(system: PoolSystem) -> None:
    system.fund_servicer(10)
    reverts(lambda: system.pool.deposit(1, 10, 4, sender=system.servicer), "UnknownDepositKind", kind=4)


def test_deposit_refuses_period_zero_and_distributed_periods(system: PoolSystem) -> None:
    system.fund_servicer(100)
    reverts(lambda: system.pool.deposit(0, 10, sender=system.servicer), "PeriodClosed", period=0)
    system.report(1, 0)
    system.distribute(1)
    reverts(
        lambda: system.pool.deposit(1, 10, sender=system.servicer),
        "PeriodClosed",
        period=1,
        lastDistributedPeriod=1,
    )


def test_deposit_refuses_beyond_maturity(system: PoolSystem) -> None:
    system.fund_servicer(10)
    system.pool.deposit(4, 5, sender=system.servicer)  # N+1, the maturity settlement, is open
    reverts(
        lambda: system.pool.deposit(5, 5, sender=system.servicer),
        "PeriodBeyondMaturity",
        period=5,
        maturityPeriod=4,
    )


def test_deposit_needs_the_servicer_role(system: PoolSystem) -> None:
    outsider = system.chain.accounts[9].address
    reverts(
        lambda: system.pool.deposit(1, 10, sender=outsider),
        "AccessControlUnauthorizedAccount",
        account=outsider,
        neededRole=Role.SERVICER_ROLE.id,
    )


def test_deposit_without_allowance_reverts_in_the_token(system: PoolSystem) -> None:
    system.usd.mint(system.servicer, 10, sender=system.admin)
    system.usd.approve(system.pool.address, 0, sender=system.servicer)
    reverts(lambda: system.pool.deposit(1, 10, sender=system.servicer), "ERC20InsufficientAllowance")


def test_paused_pool_refuses_deposit_and_distribute(system: PoolSystem) -> None:
    system.fund_servicer(10)
    system.report(1, 0)
    system.end_period(1)
    system.pool.pause(sender=system.admin)
    reverts(lambda: system.pool.deposit(1, 10, sender=system.servicer), "EnforcedPause")
    reverts(lambda: system.pool.distribute(1, sender=system.servicer), "EnforcedPause")
    reverts(lambda: system.pool.pause(sender=system.servicer), "AccessControlUnauthorizedAccount")
    system.pool.unpause(sender=system.admin)
    system.pool.deposit(1, 10, sender=system.servicer)
    system.pool.distribute(1, sender=system.servicer)


def test_a_pause_ends_by_itself_anyone_clears_it_and_it_cannot_be_renewed_at_once(system: PoolSystem) -> None:
    max_pause = int(system.pool.contract.functions.MAX_PAUSE().call())
    receipt = system.pool.pause(sender=system.admin)
    expires = int(system.pool.contract.functions.pauseExpiresAt().call())
    assert system.pool.paused()
    assert expires == system.chain.w3.eth.get_block(receipt["blockNumber"])["timestamp"] + max_pause
    reverts(lambda: system.pool.unpause(sender=system.servicer), "PauseNotExpired", expiresAt=expires)
    system.chain.time_travel(expires)
    assert not system.pool.paused()  # over by itself: deposits and distributions run again
    system.deposit(1, 10)
    system.pool.unpause(sender=system.servicer)  # anyone clears the stale flag
    reverts(lambda: system.pool.pause(sender=system.admin), "PauseCoolingDown", allowedFrom=expires + max_pause)
    system.chain.time_travel(expires + max_pause)
    system.pool.pause(sender=system.admin)
    assert system.pool.paused()


# -- distribute -------------------------------------------------------------------------------------------------


def test_distribute_in_period_order_only(system: PoolSystem) -> None:
    system.report(1, 0)
    system.report(2, 0)
    system.end_period(2)
    reverts(lambda: system.pool.distribute(2, sender=system.servicer), "PeriodOutOfOrder", expected=1, got=2)


def test_distribute_twice_is_refused(system: PoolSystem) -> None:
    system.report(1, 0)
    system.distribute(1)
    reverts(lambda: system.pool.distribute(1, sender=system.servicer), "PeriodAlreadyDistributed", period=1)
    reverts(lambda: system.pool.distribute(0, sender=system.servicer), "PeriodAlreadyDistributed", period=0)


def test_distribute_needs_the_report(system: PoolSystem) -> None:
    system.deposit(1, 500_000)
    system.end_period(1)
    reverts(lambda: system.pool.distribute(1, sender=system.servicer), "ReportMissing", period=1)


def test_distribute_waits_for_the_period_end(system: PoolSystem) -> None:
    system.report(1, 0)
    end = system.terms.period_end(1)
    system.chain.time_travel(end - 100)
    err = reverts(lambda: system.pool.distribute(1, sender=system.servicer), "PeriodNotEnded", period=1, periodEnd=end)
    assert err.error_args["nowTime"] < end


def test_only_the_servicer_distributes_within_the_grace_then_anyone_may(chain: Chain) -> None:
    grace = 5 * 86_400
    s = deploy_pool_system(chain, rules=DefaultRules(3, 0, 0, 0, grace))
    s.report(1, 0)
    s.end_period(1)
    stranger = chain.accounts[9].address
    opens = s.terms.period_end(1) + grace
    reverts(lambda: s.pool.distribute(1, sender=stranger), "ServicerWindow", period=1, openToAnyoneAt=opens)
    chain.time_travel(opens)
    s.pool.distribute(1, sender=stranger)  # a servicer that holds back cannot stop the holders being paid
    assert s.pool.last_distributed_period() == 1


def test_maturity_is_not_a_distribution_period(system: PoolSystem) -> None:
    run_all_periods(system)
    system.report(4, 0)
    system.end_period(4)
    reverts(
        lambda: system.pool.distribute(4, sender=system.servicer), "NotADistributionPeriod", period=4, periodCount=3
    )


# -- default and maturity ---------------------------------------------------------------------------------------


def test_declare_default_once_and_by_the_trustee_only(system: PoolSystem) -> None:
    reverts(
        lambda: system.pool.declare_default("lessee insolvent", sender=system.servicer),
        "AccessControlUnauthorizedAccount",
        neededRole=Role.TRUSTEE_ROLE.id,
    )
    system.pool.declare_default("lessee insolvent", sender=system.admin)
    reverts(lambda: system.pool.declare_default("again", sender=system.admin), "AlreadyDefaulted", sincePeriod=1)


def test_finalize_too_early(system: PoolSystem) -> None:
    reverts(lambda: system.finalize(), "MaturityNotReached", lastDistributedPeriod=0, periodCount=3)
    system.report(1, 0)
    system.distribute(1)
    reverts(lambda: system.finalize(), "MaturityNotReached", lastDistributedPeriod=1, periodCount=3)


def test_finalize_waits_for_the_maturity_period_and_its_grace_then_anyone_may(system: PoolSystem) -> None:
    run_all_periods(system)
    ends = system.terms.period_end(system.terms.period_count + 1)
    reverts(lambda: system.pool.finalize(sender=system.servicer), "MaturityNotEnded", endsAt=ends)
    system.end_period(system.terms.period_count + 1)
    system.pool.finalize(sender=system.chain.accounts[9].address)
    assert system.pool.finalized()


def test_nothing_happens_after_finalize(system: PoolSystem) -> None:
    run_all_periods(system)
    system.fund_servicer(10)
    system.finalize()
    assert system.pool.finalized()
    reverts(lambda: system.pool.deposit(4, 10, sender=system.servicer), "RecoveryRound", expected=5, got=4)
    reverts(lambda: system.pool.distribute(4, sender=system.servicer), "PoolFinalized")
    reverts(lambda: system.finalize(), "PoolFinalized")
    reverts(lambda: system.pool.declare_default("late", sender=system.admin), "PoolFinalized")


# -- construction -----------------------------------------------------------------------------------------------


def _deploy(s: PoolSystem, **changes: Any) -> LeasePool:
    args: dict[str, Any] = {
        "terms": s.terms,
        "stablecoin": s.usd.address,
        "oracle": s.oracle.address,
        "senior": s.senior.address,
        "junior": s.junior.address,
        "admin": s.admin,
        "servicer": s.servicer,
        "trustee": s.admin,
        "fee_recipient": s.fee_recipient,
        "junior_face": s.junior.total_supply(),
        "register": s.admin,
    }
    args.update(changes)
    terms = args.pop("terms")
    return LeasePool.deploy(s.chain, terms, DefaultRules(3, 0, 0, 0, 0), **args)


def test_constructor_refuses_inconsistent_terms(system: PoolSystem) -> None:
    from rwa.chain import tx

    terms = system.terms
    tuple_terms = (terms.first_period_start, 30 * 86_400, 3, 1200, 1000, 1, 12000)
    parties = (system.usd.address, system.oracle.address, system.senior.address, system.junior.address,
               system.admin, system.servicer, system.admin, system.fee_recipient, system.admin)
    rules = (3, 0, 0, 0, 0, 0)
    reverts(
        lambda: tx.deploy(system.chain, "LeasePool", tuple_terms, [1, 2], [0, 0, 0], rules, parties, 0),
        "ScheduleLengthMismatch",
        scheduleLength=2,
        periodCount=3,
    )
    reverts(
        lambda: tx.deploy(system.chain, "LeasePool", tuple_terms, [1, 2, 3], [0, 0], rules, parties, 0),
        "RefundScheduleLengthMismatch",
        scheduleLength=2,
        periodCount=3,
    )
    reverts(
        lambda: tx.deploy(system.chain, "LeasePool", tuple_terms, [0, 0, 0], [0, 0, 0], rules, parties, 0),
        "InvalidTerms",
        seniorFace=0,
    )
    no_periods = (terms.first_period_start, 0, 0, 1200, 1000, 1, 12000)
    reverts(
        lambda: tx.deploy(system.chain, "LeasePool", no_periods, [], [], rules, parties, 0),
        "InvalidTerms",
        periodCount=0,
    )


def test_constructor_refuses_zero_addresses_and_one_token_for_both_tranches(system: PoolSystem) -> None:
    reverts(lambda: _deploy(system, oracle=ZERO), "ZeroAddress", index=1)
    reverts(lambda: _deploy(system, trustee=ZERO), "ZeroAddress", index=6)
    reverts(lambda: _deploy(system, fee_recipient=ZERO), "ZeroAddress", index=7)
    reverts(lambda: _deploy(system, register=ZERO), "ZeroAddress", index=8)
    reverts(
        lambda: _deploy(system, junior=system.senior.address),
        "SameTrancheTokens",
        token=Web3.to_checksum_address(system.senior.address),
    )


def test_constructor_refuses_a_senior_supply_that_is_not_the_face(system: PoolSystem) -> None:
    other = demo_terms(system.terms.first_period_start, principal_schedule=(1, 2, 3))
    reverts(lambda: _deploy(system, terms=other), "SeniorSupplyMismatch", supply=600_000, face=6)


def test_distribute_refuses_when_the_senior_supply_is_not_the_face(chain: Chain) -> None:
    s = deploy_pool_system(chain, senior_holders={})
    s.report(1, 0)
    s.end_period(1)
    reverts(lambda: s.pool.distribute(1, sender=s.servicer), "SeniorSupplyMismatch", supply=0, face=600_000)


def test_the_first_distribution_refuses_a_junior_supply_other_than_the_deals(chain: Chain) -> None:
    s = deploy_pool_system(chain, close_issuance=False)
    assert s.pool.junior_face() == s.junior.total_supply() == 1_000
    s.junior.mint(next(iter(s.junior_holders)), 250, sender=s.admin)  # a second mint, a dilution before the close
    s.junior.close_issuance(sender=s.admin)
    s.senior.close_issuance(sender=s.admin)
    s.report(1, 0)
    s.end_period(1)
    reverts(lambda: s.pool.distribute(1, sender=s.servicer), "JuniorSupplyMismatch", supply=1_250, face=1_000)


def test_constructor_refuses_a_junior_supply_that_is_not_the_deals(system: PoolSystem) -> None:
    reverts(lambda: _deploy(system, junior_face=999), "JuniorSupplyMismatch", supply=1_000, face=999)


def test_deposit_refuses_a_stablecoin_that_arrives_short(system: PoolSystem) -> None:
    fot = deploy(system.chain, "FeeOnTransferToken", sender=system.admin)
    pool = _deploy(system, stablecoin=fot.address)
    send(fot.functions.mint(system.servicer, 1_000), system.admin)
    send(fot.functions.approve(pool.address, 1_000), system.servicer)
    reverts(lambda: pool.deposit(1, 1_000, sender=system.servicer), "TransferShortfall", expected=1_000, received=990)
