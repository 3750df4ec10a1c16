"""The deal's [offering] section and the sources and uses of its raise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from rwa.leverage import size_deal
from rwa.leverage.sources_and_uses import sources_and_uses
from rwa.model.deal import parse_deal
from rwa.model.terms import reserve_at_close
from rwa.model.waterfall import monthly_interest_down
from tests.unit.test_deal import error_of, raw

RECIPIENT = "0x000000000000000000000000000000000000dEaD"


def with_offering(**changes: Any) -> dict[str, Any]:
    data = raw()
    start = data["periods"]["first_start"]
    offering: dict[str, Any] = {"opens": start - timedelta(days=14), "closes": start, "max_ticket": 50_000_000,
                                "costs": [{"label": "arranger", "recipient": RECIPIENT, "amount": 1_500_000}]}
    offering.update(changes)
    data["offering"] = offering
    for inv in data["investors"]:
        inv.pop("share_bps")  # subscribers, not allocations
    return data


def test_an_offering_deal_needs_no_allocations_and_sizes_its_sources_and_uses() -> None:
    deal = parse_deal(with_offering())
    sizing = size_deal(deal)
    terms = sizing.pool_terms(deal)
    su = sources_and_uses(deal, sizing)
    # the textbook DSRA: the scheduled debt service of the first reserve_periods periods, computed here by hand
    balance, target = terms.face, 0
    for p in range(1, terms.reserve_periods + 1):
        principal = terms.scheduled_principal(p)
        target += monthly_interest_down(balance, terms.senior_coupon_bps) + principal
        balance -= principal
    assert su.reserve_at_close == reserve_at_close(deal, terms) == target > 0
    assert su.upfront_costs == 1_500_000 * 10**6
    assert su.uses == su.sources and su.issuer_equity == su.uses - sizing.senior_size - sizing.junior_size
    assert su.capex == 800 * deal.cluster.capex_per_server


def test_a_stated_reserve_at_close_is_used_as_it_is() -> None:
    data = with_offering()
    data["financing"] = {**data["financing"], "reserve_at_close": 1_000}
    deal = parse_deal(data)
    assert sources_and_uses(deal, size_deal(deal)).reserve_at_close == 1_000 * 10**6


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"closes": datetime(2025, 1, 1, tzinfo=UTC)}, "deal.offering.closes: must be after opens"),
        ({"opens": datetime(2025, 6, 1, tzinfo=UTC), "closes": datetime(2025, 7, 2, tzinfo=UTC)},
         "deal.offering.closes: must be at or before periods.first_start"),
        ({"take_up_junior": 10}, 'deal.offering.under_subscribed: is "cancel"'),
        ({"under_subscribed": "take-up", "take_up_junior": 10}, "deal.offering.treasury: required with a take-up"),
        ({"min_ticket": 10, "max_ticket": 5}, "deal.offering.min_ticket: must be <= max_ticket"),
        ({"treasury": "0xnot"}, "deal.offering.treasury"),
    ],
)
def test_bad_offerings_name_the_field(changes: dict[str, Any], message: str) -> None:
    assert error_of(with_offering(**changes)).startswith(message)


def test_a_private_placement_still_needs_its_allocations() -> None:
    data = raw()
    data["investors"][0].pop("share_bps")
    assert "senior shares sum to" in error_of(data)
