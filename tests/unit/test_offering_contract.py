"""The primary offering contract: requests, cancellation, the close's allocation and routing, claims, refunds."""

from __future__ import annotations

import pytest

from rwa.allocation import JUNIOR_ID, SENIOR_ID, allocation, close_book
from rwa.chain import Chain
from rwa.onchain.offering import Phase
from rwa.onchain.stablecoin import Stablecoin
from tests.support.offering import COSTS, JUNIOR_SIZE, RESERVE, OfferingSystem, deploy_offering_system
from tests.support.reverts import reverts


@pytest.fixture
def book(chain: Chain) -> OfferingSystem:
    return deploy_offering_system(chain)


def _balances(usd: Stablecoin, accounts: list[str]) -> dict[str, int]:
    return {a: usd.balance_of(a) for a in accounts}


def test_an_over_subscribed_senior_allocates_pro_rata_exactly_and_routes_the_raise(any_chain: Chain) -> None:
    book = deploy_offering_system(any_chain)
    s, o, usd = book.pool, book.offering, book.pool.usd
    a, b, c, d, e, f = book.investors[:6]
    senior_requests = {a: 250_001, b: 333_333, c: 100_000, d: 17}  # 683,351 for 600,000
    for investor, assets in senior_requests.items():
        book.subscribe(investor, SENIOR_ID, assets)
    book.subscribe(e, SENIOR_ID, 40_000)
    o.cancel(SENIOR_ID, sender=e)  # cancelled in the window: refunded at once, not in the book
    assert usd.balance_of(e) == 40_000 and o.pending(SENIOR_ID, e) == 0
    book.subscribe(e, JUNIOR_ID, 60_000)
    book.subscribe(f, JUNIOR_ID, 40_000)
    reverts(lambda: o.close(sender=s.admin), "WindowStillOpen")
    reverts(lambda: o.claim(SENIOR_ID, a, sender=a), "WrongPhase")
    book.end_window()
    reverts(lambda: book.subscribe(f, SENIOR_ID, 1), "OutsideWindow")
    receipt = o.close(sender=book.outsider)  # anyone closes
    outcome = o.close_outcome_in(receipt)
    requested = sum(senior_requests.values())
    face = s.terms.face
    assert outcome == close_book((face, JUNIOR_SIZE), (requested, 100_000), (0, 0), RESERVE, COSTS)
    assert outcome.sold == (face, JUNIOR_SIZE) and outcome.taken_up == (0, 0)
    assert outcome.proceeds == face + JUNIOR_SIZE - RESERVE - sum(COSTS)
    assert usd.balance_of(book.treasury) == outcome.proceeds
    assert [usd.balance_of(r) for r in book.cost_recipients] == list(COSTS)
    assert s.pool.reserve_balance() == RESERVE
    assert o.phase() == Phase.CLOSED

    before = _balances(usd, list(senior_requests))
    claimed = 0
    order = [c, a, d, b]  # any order: the allocations still sum to the face
    for investor in order:
        settled = o.settled_in(o.claim(SENIOR_ID, investor, sender=book.outsider))  # anyone may push a claim
        assets = senior_requests[investor]
        assert settled.shares == allocation(face, requested, claimed, assets)
        assert abs(settled.shares - assets * face / requested) < 1
        assert settled.refund == assets - settled.shares and settled.refund_paid
        claimed += assets
        assert s.senior.balance_of(investor) == settled.shares
        assert usd.balance_of(investor) == before[investor] + settled.refund
    assert s.senior.total_supply() == face and s.senior.issuance_closed()
    reverts(lambda: o.claim(SENIOR_ID, a, sender=a), "NothingRequested")  # nothing is claimed twice
    for investor in (e, f):
        o.claim(JUNIOR_ID, investor, sender=investor)
    assert s.junior.total_supply() == JUNIOR_SIZE and s.junior.issuance_closed()
    assert usd.balance_of(o.address) == 0  # every unit paid in has left: tokens bought, refunds, routing


def test_the_pool_distributes_nothing_before_every_allocation_is_delivered(book: OfferingSystem) -> None:
    s, o = book.pool, book.offering
    a, b = book.investors[:2]
    book.subscribe(a, SENIOR_ID, s.terms.face)
    book.subscribe(b, JUNIOR_ID, JUNIOR_SIZE)
    book.end_window()
    o.close(sender=a)
    o.claim(SENIOR_ID, a, sender=a)
    s.report(1, 500_000)
    s.deposit(1, 500_000)
    s.end_period(1)
    reverts(lambda: s.pool.distribute(1, sender=s.servicer), "IssuanceNotClosed", token=s.junior.address)
    o.claim(JUNIOR_ID, b, sender=b)
    legs = s.legs(s.pool.distribute(1, sender=s.servicer))
    assert legs.reserve_out == 0 and legs.reserve_after >= RESERVE  # the close's reserve is the pool's reserve


def test_an_under_subscribed_tranche_without_take_up_cancels_and_refunds_everyone_exactly(any_chain: Chain) -> None:
    book = deploy_offering_system(any_chain)
    s, o, usd = book.pool, book.offering, book.pool.usd
    paid = {book.investors[0]: 123_457, book.investors[1]: 99_999}
    for investor, assets in paid.items():
        book.subscribe(investor, SENIOR_ID, assets)
    book.subscribe(book.investors[2], JUNIOR_ID, JUNIOR_SIZE)
    paid[book.investors[2]] = JUNIOR_SIZE
    book.end_window()
    outcome = o.close_outcome_in(o.close(sender=book.outsider))
    assert outcome.cancelled_by == SENIOR_ID and o.phase() == Phase.CANCELLED
    assert usd.balance_of(book.treasury) == 0 and s.pool.reserve_balance() == 0
    for i, (investor, assets) in enumerate(paid.items()):
        settled = o.settled_in(o.claim(JUNIOR_ID if i == 2 else SENIOR_ID, investor, sender=investor))
        assert (settled.shares, settled.refund) == (0, assets)
        assert usd.balance_of(investor) == assets
    assert s.senior.total_supply() == 0 and usd.balance_of(o.address) == 0


def test_the_treasury_takes_up_a_short_tranche_within_its_take_up(chain: Chain) -> None:
    book = deploy_offering_system(chain, take_up=(0, 30_000))
    s, o, usd = book.pool, book.offering, book.pool.usd
    book.subscribe(book.investors[0], SENIOR_ID, s.terms.face)
    book.subscribe(book.investors[1], JUNIOR_ID, JUNIOR_SIZE - 30_000)
    book.end_window()
    outcome = o.close_outcome_in(o.close(sender=book.outsider))
    assert outcome.taken_up == (0, 30_000) and outcome.sold == (s.terms.face, JUNIOR_SIZE - 30_000)
    assert s.junior.balance_of(book.treasury) == 30_000
    assert usd.balance_of(book.treasury) == outcome.proceeds == outcome.raised - RESERVE - sum(COSTS)
    o.claim(JUNIOR_ID, book.investors[1], sender=book.outsider)
    assert s.junior.total_supply() == JUNIOR_SIZE and s.junior.issuance_closed()


def test_requests_are_refused_to_wallets_without_kyc_and_outside_the_tickets(chain: Chain) -> None:
    book = deploy_offering_system(chain, min_ticket=1_000, max_ticket=50_000)
    o = book.offering
    reverts(lambda: book.subscribe(book.outsider, SENIOR_ID, 5_000), "ControllerRestricted", code=2,
            controller=book.outsider)
    investor = book.investors[0]
    reverts(lambda: book.subscribe(investor, SENIOR_ID, 999), "TicketOutOfRange", total=999)
    book.subscribe(investor, SENIOR_ID, 30_000)
    reverts(lambda: book.subscribe(investor, SENIOR_ID, 20_001), "TicketOutOfRange", total=50_001)
    reverts(lambda: book.subscribe(investor, 2, 5_000), "UnknownTranche", requestId=2)
    reverts(lambda: o.cancel(JUNIOR_ID, sender=investor), "NothingRequested")
    assert o.pending(SENIOR_ID, investor) == 30_000 and o.claimable(SENIOR_ID, investor) == 0


def test_a_raise_that_cannot_pay_the_reserve_and_costs_cancels(chain: Chain) -> None:
    book = deploy_offering_system(chain, take_up=(600_000, JUNIOR_SIZE))
    book.subscribe(book.investors[0], SENIOR_ID, 20_000)  # all the rest would be taken up: 20,000 < 65,000
    book.end_window()
    outcome = book.offering.close_outcome_in(book.offering.close(sender=book.outsider))
    assert outcome.cancelled_by == 2 and outcome.needed == RESERVE + sum(COSTS)
