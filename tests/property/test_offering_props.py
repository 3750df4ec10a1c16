"""Random books through the offering contract: every stablecoin unit paid in is accounted for when it leaves, to
the unit, and the contract settles each request exactly as the reference model (`rwa.model.offering_book`) says."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rwa.chain.interface import Chain
from rwa.model.offering_book import close_book, settle
from rwa.onchain.offering import Phase
from tests.support.offering import COSTS, JUNIOR_SIZE, RESERVE, OfferingSystem, deploy_offering_system

SENIOR_SIZE = 600_000  # the pool system's face
TAKE_UP = (0, 40_000)

# one request: investor slot, tranche, amount, cancelled in the window
request = st.tuples(st.integers(0, 7), st.integers(0, 1), st.integers(1, 400_000), st.booleans())


@pytest.fixture(scope="module")
def deployed(session_chain: Chain) -> Iterator[tuple[Chain, OfferingSystem]]:
    with session_chain.snapshot():
        yield session_chain, deploy_offering_system(session_chain, take_up=TAKE_UP)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(requests=st.lists(request, min_size=1, max_size=10), order=st.randoms(use_true_random=False))
def test_every_unit_paid_in_is_delivered_refunded_or_routed(
    deployed: tuple[Chain, OfferingSystem], requests: list[tuple[int, int, int, bool]], order: object
) -> None:
    chain, book = deployed
    with chain.snapshot():
        o, usd = book.offering, book.pool.usd
        paid_in = 0
        refunded = 0
        for slot, tranche, assets, cancel in requests:
            investor = book.investors[slot]
            book.subscribe(investor, tranche, assets)
            paid_in += assets
            if cancel:
                held = o.pending(tranche, investor)
                o.cancel(tranche, sender=investor)
                refunded += held
        book_requests = [(t, inv, o.pending(t, inv)) for t in (0, 1) for inv in book.investors
                         if o.pending(t, inv)]
        requested = [sum(a for t, _, a in book_requests if t == tr) for tr in (0, 1)]
        book.end_window()
        outcome = o.close_outcome_in(o.close(sender=book.outsider))
        assert outcome == close_book((SENIOR_SIZE, JUNIOR_SIZE), requested, TAKE_UP, RESERVE, COSTS)
        order.shuffle(book_requests)  # type: ignore[attr-defined]
        expected = settle(outcome, (SENIOR_SIZE, JUNIOR_SIZE), book_requests)
        for (tranche, investor, _), want in zip(book_requests, expected, strict=True):
            got = o.settled_in(o.claim(tranche, investor, sender=book.outsider))
            assert (got.shares, got.refund) == (want.shares, want.refund)
            refunded += got.refund
        delivered = [sum(c.shares for c in expected if c.tranche == t) for t in (0, 1)]
        if outcome.cancelled:
            assert o.phase() == Phase.CANCELLED and delivered == [0, 0] and refunded == paid_in
        else:
            # tokens sold at par are the raise; with the take-up they are the whole tranche
            assert delivered == list(outcome.sold)
            assert [delivered[t] + outcome.taken_up[t] for t in (0, 1)] == [SENIOR_SIZE, JUNIOR_SIZE]
            assert book.pool.senior.total_supply() == SENIOR_SIZE and book.pool.junior.total_supply() == JUNIOR_SIZE
            assert paid_in == sum(delivered) + refunded
            assert sum(delivered) == outcome.reserve + outcome.costs + outcome.proceeds
            assert usd.balance_of(book.treasury) == outcome.proceeds
            assert book.pool.pool.reserve_balance() == outcome.reserve
        assert usd.balance_of(o.address) == 0
