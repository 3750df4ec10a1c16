"""FleetRegister and its escrow, on the real contracts: the oracle's quorum attests, the offering's close escrows the
capex share of the raise, deliveries release their price pro rata with the issuer's equity, and the long-stop
prepays the senior through the pool. The acceptance checks run on the embedded chain and on anvil (``any_chain``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account import Account

from rwa.chain.interface import Chain
from rwa.chain.tx import event_args
from rwa.model.fleet import release_split
from rwa.model.waterfall import PoolState, prepay
from tests.support.register_system import (
    COSTS,
    JUNIOR_SIZE,
    ORDERS,
    RESERVE,
    THRESHOLD,
    RegisterSystem,
    deploy_register_system,
)
from tests.support.reverts import reverts

ROUTE_ESCROW = 3


@pytest.fixture
def system(any_chain: Chain) -> Iterator[RegisterSystem]:
    yield deploy_register_system(any_chain)


@pytest.fixture
def closed(system: RegisterSystem) -> RegisterSystem:
    system.sell_out()
    return system


def _price(order: int, servers: int) -> int:
    return servers * ORDERS[order][2]


def _capex() -> int:
    return sum(n * price for _, n, price in ORDERS)


# -------------------------------------------------------------------------------------------------- acceptance


def test_a_deal_with_an_offering_closes_with_the_capex_share_in_escrow(system: RegisterSystem) -> None:
    receipt = system.sell_out()
    raised = system.terms.face + JUNIOR_SIZE
    proceeds = raised - RESERVE - sum(COSTS)
    escrowed = min(proceeds, _capex())
    routes = system.offering.routes_in(receipt) if system.offering else []
    assert [(r.kind, r.recipient, r.amount) for r in routes if r.kind == ROUTE_ESCROW] == \
        [(ROUTE_ESCROW, system.register.address, escrowed)]
    assert event_args(system.register.contract, "RaiseEscrowed", receipt) == \
        [{"from": system.offering.address if system.offering else "", "amount": escrowed}]
    escrow = system.register.escrow()
    assert escrow.raise_amount == escrowed and escrow.capex_total == _capex()
    assert system.usd.balance_of(system.register.address) == escrowed
    # nothing beyond the fleet's price: the treasury got the rest of the proceeds, here none
    assert sum(r.amount for r in routes if r.kind == 2) == proceeds - escrowed


def test_three_attested_deliveries_release_exactly_their_price(closed: RegisterSystem) -> None:
    s = closed
    escrow = s.register.escrow()
    s.fund_equity(_capex() - escrow.raise_amount)
    released_price = 0
    for order, servers in ((0, 4), (1, 8), (2, 5)):
        before = s.usd.balance_of(s.suppliers[order])
        receipt = s.attest(order, servers)
        price = _price(order, servers)
        from_raise, from_equity = release_split(released_price, price, escrow.raise_amount, escrow.capex_total)
        [event] = s.released(receipt)
        assert (event["order"], event["recipient"], event["fromRaise"], event["fromEquity"], event["paid"]) == \
            (order, s.suppliers[order], from_raise, from_equity, True)
        assert event["fromRaise"] + event["fromEquity"] == price
        assert s.usd.balance_of(s.suppliers[order]) - before == price
        released_price += price
    after = s.register.escrow()
    assert after.released_price == released_price
    assert after.raise_released + after.equity_released == released_price
    assert after.raise_released == released_price * escrow.raise_amount // escrow.capex_total


def test_a_release_beyond_its_order_is_refused(closed: RegisterSystem) -> None:
    s = closed
    s.fund_equity(_capex())
    s.attest(0, 7)
    ordered = ORDERS[0][1]
    d = s.delivery(0, ordered - 7 + 1)
    reverts(lambda: s.register.attest_delivery(d, s.signatures(d), sender=s.outsider), "BeyondOrder",
            order=0, ordered=ordered, delivered=7, servers=ordered - 7 + 1)


def test_a_delivery_without_quorum_is_refused(closed: RegisterSystem) -> None:
    s = closed
    d = s.delivery(0, 1)
    short = sorted(s.reporters, key=lambda k: k.address.lower())[:THRESHOLD - 1]
    reverts(lambda: s.register.attest_delivery(d, s.signatures(d, short), sender=s.outsider), "QuorumNotReached")
    stranger = Account.create()
    signers = sorted([*short, stranger], key=lambda k: k.address.lower())
    reverts(lambda: s.register.attest_delivery(d, s.signatures(d, signers), sender=s.outsider),
            "SignerNotReporter", signer=stranger.address)
    assert s.register.deliveries() == [] and s.register.sequence() == 0


def test_a_release_after_the_long_stop_is_refused(closed: RegisterSystem) -> None:
    s = closed
    receipt = s.attest(1, 2)  # no equity yet: recorded, not released
    assert s.released(receipt) == []
    long_stop = s.register.long_stop()
    s.chain.time_travel(long_stop)
    reverts(lambda: s.register.release(0, sender=s.outsider), "LongStopPassed", longStop=long_stop)
    # a delivery attested after the long-stop is a fact of the fleet only: nothing is released
    s.fund_equity(_capex())
    receipt = s.attest(1, 1)
    assert s.released(receipt) == [] and s.register.fleet() == 3


def test_at_the_long_stop_the_remainder_prepays_the_senior_to_the_unit(closed: RegisterSystem) -> None:
    s = closed
    s.fund_equity(_capex())
    s.attest(0, 3)
    s.attest(2, 5)
    s.distribute(1, 150_000)
    escrow = s.register.escrow()
    remainder = escrow.raise_amount - escrow.raise_released
    equity_left = escrow.equity_funded - escrow.equity_released
    balance = s.pool.senior_outstanding()
    treasury = s.usd.balance_of(s.treasury)
    reverts(lambda: s.register.settle_long_stop(sender=s.outsider), "LongStopNotReached",
            longStop=s.register.long_stop())
    s.chain.time_travel(s.register.long_stop())
    receipt = s.register.settle_long_stop(sender=s.outsider)
    [prepaid] = event_args(s.pool.contract, "Prepaid", receipt)
    model_state, expected = prepay(PoolState(balance=balance), remainder)
    assert prepaid["amount"] == remainder
    assert (prepaid["seniorPaid"], prepaid["juniorPaid"], prepaid["balanceAfter"]) == \
        (expected.senior, expected.junior, expected.balance_after)
    assert s.pool.senior_outstanding() == balance - expected.senior == model_state.balance
    [settled] = event_args(s.register.contract, "LongStopSettled", receipt)
    assert (settled["prepaid"], settled["equityReturned"], settled["equityPaid"]) == (remainder, equity_left, True)
    assert s.usd.balance_of(s.treasury) - treasury == equity_left
    after = s.register.escrow()
    assert after.settled and after.prepaid == remainder and after.equity_returned == equity_left
    assert s.usd.balance_of(s.register.address) == 0
    reverts(lambda: s.register.settle_long_stop(sender=s.outsider), "AlreadySettled")


def test_a_release_short_of_equity_is_deferred_then_released_by_anyone(closed: RegisterSystem) -> None:
    s = closed
    escrow = s.register.escrow()
    price = _price(1, 4)
    from_raise, from_equity = release_split(0, price, escrow.raise_amount, escrow.capex_total)
    s.fund_equity(from_equity - 1)
    receipt = s.attest(1, 4)
    assert s.released(receipt) == []
    reverts(lambda: s.register.release(0, sender=s.outsider), "EquityShort", delivery=0, needed=from_equity,
            available=from_equity - 1)
    s.fund_equity(1, funder=s.outsider)
    receipt = s.register.release(0, sender=s.outsider)
    [event] = s.released(receipt)
    assert (event["fromRaise"], event["fromEquity"]) == (from_raise, from_equity)
    assert s.register.deliveries()[0].released
    reverts(lambda: s.register.release(0, sender=s.outsider), "AlreadyReleased", delivery=0)


def test_a_wrong_sequence_and_an_out_of_order_acceptance_are_refused(closed: RegisterSystem) -> None:
    s = closed
    s.attest(0, 1)
    d = s.delivery(0, 1, sequence=5)
    reverts(lambda: s.register.attest_delivery(d, s.signatures(d), sender=s.outsider), "WrongSequence",
            expected=1, got=5)
    replayed = s.sent[0]
    reverts(lambda: s.register.attest_delivery(replayed, s.signatures(replayed), sender=s.outsider),
            "WrongSequence", expected=1, got=0)
    earlier = s.delivery(0, 1, accepted_at=s.sent[0].accepted_at - 1)
    reverts(lambda: s.register.attest_delivery(earlier, s.signatures(earlier), sender=s.outsider),
            "DeliveryOutOfOrder", acceptedAt=earlier.accepted_at, previous=s.sent[0].accepted_at)


def test_the_deal_is_bound_once_by_the_deployer_only(system: RegisterSystem) -> None:
    s = system
    offering = s.offering.address if s.offering else ""
    reverts(lambda: s.register.bind_deal(s.pool.address, offering, sender=s.outsider), "NotDeployer",
            caller=s.outsider)
    reverts(lambda: s.register.bind_deal(s.pool.address, offering, sender=s.admin), "AlreadyBound")


# ------------------------------------------------------------------------------------------- embedded chain only


def test_only_the_bound_offering_funds_the_raise(chain: Chain) -> None:
    s = deploy_register_system(chain)
    s.usd.mint(s.outsider, 1_000, sender=s.admin)
    s.usd.approve(s.register.address, 1_000, sender=s.outsider)
    fn = s.register.contract.functions.fundRaise(1_000)
    reverts(lambda: s.register._send(fn, s.outsider, embedded_default=200_000), "NotFunder", caller=s.outsider)


def test_a_deal_without_an_offering_has_no_escrow(chain: Chain) -> None:
    s = deploy_register_system(chain, offering=False)
    s.usd.mint(s.treasury, 1_000, sender=s.admin)
    s.usd.approve(s.register.address, 1_000, sender=s.treasury)
    reverts(lambda: s.register.fund_equity(1_000, sender=s.treasury), "NoEscrow")
    receipt = s.attest(0, 2)  # the fleet is still attested
    assert s.released(receipt) == [] and s.register.fleet() == 2


def test_the_pool_takes_a_prepayment_from_its_register_only(chain: Chain) -> None:
    s = deploy_register_system(chain)
    s.sell_out()
    s.usd.mint(s.outsider, 10, sender=s.admin)
    s.usd.approve(s.pool.address, 10, sender=s.outsider)
    fn = s.pool.contract.functions.prepay(10)
    reverts(lambda: s.pool._send(fn, s.outsider, embedded_default=300_000), "NotRegister", caller=s.outsider)
