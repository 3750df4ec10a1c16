"""The primary offering contract: requests, cancellation, the close's allocation and routing, claims, refunds."""

from __future__ import annotations

import pytest

from rwa.chain.interface import Chain
from rwa.chain.tx import contract_at, send
from rwa.model.offering_book import JUNIOR_ID, SENIOR_ID, allocation, close_book
from rwa.onchain.offering import Phase
from rwa.onchain.stablecoin import Stablecoin
from tests.support.offering import COSTS, DAY, JUNIOR_SIZE, RESERVE, OfferingSystem, deploy_offering_system
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


def test_a_subscriber_frozen_after_the_close_delays_only_itself(any_chain: Chain) -> None:
    """The close mints every unit to the offering and closes issuance, so the pool distributes whatever a buyer's
    state; the frozen buyer's refund goes at once, its tokens wait (with what they earn) until it is unfrozen."""
    book = deploy_offering_system(any_chain)
    s, o, usd = book.pool, book.offering, book.pool.usd
    a, b, c = book.investors[:3]
    face = s.terms.face
    book.subscribe(a, SENIOR_ID, face // 2)
    book.subscribe(b, SENIOR_ID, face)  # over-subscribed 1.5 times: both get a refund
    book.subscribe(c, JUNIOR_ID, JUNIOR_SIZE)
    book.end_window()
    o.close(sender=book.outsider)
    assert s.senior.issuance_closed() and s.junior.issuance_closed()
    assert s.senior.balance_of(o.address) == face and s.junior.balance_of(o.address) == JUNIOR_SIZE
    s.senior.set_wallet_frozen(a, True, sender=s.admin)

    settled = o.settled_in(o.claim(SENIOR_ID, a, sender=book.outsider))  # settles: refund paid, tokens held
    assert settled.refund == face // 2 - settled.shares and settled.refund_paid and usd.balance_of(a) == settled.refund
    assert settled.delivered == 0 and settled.held and o.held_for(SENIOR_ID, a) == settled.shares
    reverts(lambda: o.claim(SENIOR_ID, a, sender=a), "ControllerRestricted", code=6, controller=a)

    s.report(1, 500_000)
    s.deposit(1, 500_000)
    legs = s.distribute(1)  # nobody else has claimed yet: the deal runs anyway
    assert s.legs(legs).senior_interest > 0
    for investor, tranche in ((b, SENIOR_ID), (c, JUNIOR_ID)):
        got = o.settled_in(o.claim(tranche, investor, sender=investor))
        assert got.delivered == got.shares > 0
    share_b = s.senior.balance_of(b)
    assert s.senior.claimable(b) == s.senior.points_per_share() * share_b // 2**64  # its accrual came with it

    s.senior.set_wallet_frozen(a, False, sender=s.admin)
    late = o.settled_in(o.claim(SENIOR_ID, a, sender=book.outsider))
    assert (late.assets, late.delivered) == (0, settled.shares) and o.held_for(SENIOR_ID, a) == 0
    assert s.senior.balance_of(a) == settled.shares and s.senior.balance_of(o.address) == 0
    assert s.senior.claimable(a) == s.senior.points_per_share() * settled.shares // 2**64
    assert s.senior.claimable(o.address) == 0
    assert o.book(SENIOR_ID).delivered == face


def test_a_request_paid_for_a_wallet_whose_kyc_lapses_after_the_window_blocks_nothing(chain: Chain) -> None:
    """The griefing of the issue: a request made while the KYC was valid; it lapses before the claim. The deal runs,
    the refund goes, the tokens wait until the agent re-validates the wallet."""
    book = deploy_offering_system(chain)
    s, o, usd = book.pool, book.offering, book.pool.usd
    a, b = book.investors[:2]
    close_time = o.config().close_time
    s.registry.update_kyc(a, close_time + DAY, sender=s.admin)
    book.subscribe(a, SENIOR_ID, s.terms.face)
    book.subscribe(b, JUNIOR_ID, JUNIOR_SIZE)
    book.end_window()
    o.close(sender=book.outsider)
    chain.time_travel(close_time + 2 * DAY)
    settled = o.settled_in(o.claim(SENIOR_ID, a, sender=book.outsider))
    assert settled.held and settled.refund == 0 and o.held_for(SENIOR_ID, a) == s.terms.face
    reverts(lambda: o.claim(SENIOR_ID, a, sender=a), "ControllerRestricted", code=4, controller=a)
    s.report(1, 500_000)
    s.deposit(1, 500_000)
    s.distribute(1)
    s.registry.update_kyc(a, chain.now() + 365 * DAY, sender=s.admin)
    assert o.settled_in(o.claim(SENIOR_ID, a, sender=a)).delivered == s.terms.face
    assert s.senior.claimable(a) == s.senior.points_per_share() * s.terms.face // 2**64 > 0
    assert usd.balance_of(o.address) == 0


def test_a_frozen_treasury_does_not_stop_the_close_its_take_up_waits(chain: Chain) -> None:
    book = deploy_offering_system(chain, take_up=(0, 30_000))
    s, o = book.pool, book.offering
    book.subscribe(book.investors[0], SENIOR_ID, s.terms.face)
    book.subscribe(book.investors[1], JUNIOR_ID, JUNIOR_SIZE - 30_000)
    book.end_window()
    s.junior.set_wallet_frozen(book.treasury, True, sender=s.admin)
    outcome = o.close_outcome_in(o.close(sender=book.outsider))
    assert outcome.taken_up == (0, 30_000) and o.phase() == Phase.CLOSED
    assert o.held_for(JUNIOR_ID, book.treasury) == 30_000 and s.junior.balance_of(book.treasury) == 0
    s.junior.set_wallet_frozen(book.treasury, False, sender=s.admin)
    assert o.settled_in(o.claim(JUNIOR_ID, book.treasury, sender=book.outsider)).delivered == 30_000
    assert s.junior.balance_of(book.treasury) == 30_000


def test_only_the_controller_or_its_approved_payer_pays_for_its_request(chain: Chain) -> None:
    book = deploy_offering_system(chain)
    o, usd = book.offering, book.pool.usd
    a, payer = book.investors[:2]
    usd.mint(payer, 10_000, sender=book.pool.admin)
    usd.approve(o.address, 10_000, sender=payer)
    reverts(lambda: o.subscribe(SENIOR_ID, 5_000, a, sender=payer), "NotPayer", controller=a, caller=payer)
    o.set_payer(payer, True, sender=a)
    o.subscribe(SENIOR_ID, 5_000, a, sender=payer)
    assert o.pending(SENIOR_ID, a) == 5_000 and o.pending(SENIOR_ID, payer) == 0
    o.set_payer(payer, False, sender=a)
    reverts(lambda: o.subscribe(SENIOR_ID, 5_000, a, sender=payer), "NotPayer")


def test_a_close_that_keeps_reverting_lets_anyone_abandon_after_the_grace(any_chain: Chain) -> None:
    """A stablecoin that turns a fee on after the window makes the close revert (the pool refuses a short
    reserve); once the grace has run, anyone abandons and every request is refunded in full."""
    book = deploy_offering_system(any_chain, pool_kwargs={"stablecoin": "FeeOnTransferToken"})
    s, o, usd = book.pool, book.offering, book.pool.usd
    switch = contract_at(any_chain, "FeeOnTransferToken", usd.address)
    # a fee in the window is refused at the request: the book never counts what did not arrive
    reverts(lambda: book.subscribe(book.investors[3], SENIOR_ID, 1_000), "ShortPayment", paid=1_000, received=990)
    send(switch.functions.setFeeOn(False), s.admin, 100_000)
    paid = {book.investors[0]: s.terms.face, book.investors[1]: JUNIOR_SIZE}
    book.subscribe(book.investors[0], SENIOR_ID, s.terms.face)
    book.subscribe(book.investors[1], JUNIOR_ID, JUNIOR_SIZE)
    book.end_window()
    send(switch.functions.setFeeOn(True), s.admin, 100_000)
    reverts(lambda: o.close(sender=book.outsider), "TransferShortfall")
    config = o.config()
    reverts(lambda: o.abandon(sender=book.outsider), "CloseGraceRunning",
            abandonableAt=config.close_time + config.close_grace)
    any_chain.time_travel(config.close_time + config.close_grace)
    receipt = o.abandon(sender=book.outsider)
    (ev,) = o.contract.events.OfferingAbandoned().process_receipt(receipt)
    assert list(ev["args"]["requested"]) == [s.terms.face, JUNIOR_SIZE] and o.phase() == Phase.CANCELLED
    reverts(lambda: o.close(sender=book.outsider), "WrongPhase")
    for (investor, assets), t in zip(paid.items(), (SENIOR_ID, JUNIOR_ID), strict=True):
        before = usd.balance_of(o.address)
        settled = o.settled_in(o.claim(t, investor, sender=book.outsider))
        assert (settled.shares, settled.refund, settled.refund_paid) == (0, assets, True)
        assert before - usd.balance_of(o.address) == assets  # the offering pays each request in full
    assert usd.balance_of(o.address) == 0


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
    assert s.junior.balance_of(book.treasury) == 30_000  # delivered at the close: the treasury can receive
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
    reverts(lambda: book.subscribe(investor, 2, 5_000), "UnknownTranche", tranche=2)
    reverts(lambda: o.cancel(JUNIOR_ID, sender=investor), "NothingRequested")
    assert o.pending(SENIOR_ID, investor) == 30_000 and o.claimable(SENIOR_ID, investor) == 0


def test_a_raise_that_cannot_pay_the_reserve_and_costs_cancels(chain: Chain) -> None:
    book = deploy_offering_system(chain, take_up=(600_000, JUNIOR_SIZE))
    book.subscribe(book.investors[0], SENIOR_ID, 20_000)  # all the rest would be taken up: 20,000 < 65,000
    book.end_window()
    outcome = book.offering.close_outcome_in(book.offering.close(sender=book.outsider))
    assert outcome.cancelled_by == 2 and outcome.needed == RESERVE + sum(COSTS)
