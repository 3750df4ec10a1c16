"""The pool's terms derived from the deal (``rwa.model.terms``): its calendar months among them, and a manifest of an
older
rule refused, never reinterpreted."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from rwa.errors import InputError
from rwa.leverage.sizing import Sizing
from rwa.model.calendar import CALENDAR_MONTHS, clock_length
from rwa.model.deal import Deal
from rwa.model.terms import TERMS_VERSION, period_ends, record, recorded_terms


def test_the_terms_carry_the_deals_calendar_months_through_the_maturity_settlement(deal: Deal, sizing: Sizing) -> None:
    terms = sizing.pool_terms(deal)
    assert terms.period_ends == period_ends(deal) and len(terms.period_ends) == deal.periods.count + 1
    assert terms.period_start(1) == terms.first_period_start == int(deal.periods.first_start.timestamp())
    assert terms.period_end(60) == int(datetime(2030, 7, 1, tzinfo=UTC).timestamp())
    assert terms.period_end(61) == int(datetime(2030, 8, 1, tzinfo=UTC).timestamp())  # the maturity settlement
    assert clock_length(terms.first_period_start, terms.period_ends) == CALENDAR_MONTHS
    assert recorded_terms(deal, record(terms)) == terms


def test_a_manifest_of_the_30_day_rule_is_refused_with_the_reason(deal: Deal, sizing: Sizing) -> None:
    old = record(sizing.pool_terms(deal)).model_copy(update={"version": 3})
    with pytest.raises(InputError, match=rf"rule version 3; this version knows {TERMS_VERSION} \(version 4 counts "
                                         "calendar-month periods where earlier versions counted 30 days; version 5"):
        recorded_terms(deal, old)
    with pytest.raises(InputError, match="predates this version"):
        recorded_terms(deal, None)


def test_ends_that_are_neither_months_nor_equal_periods_cannot_be_deployed() -> None:
    start = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
    assert clock_length(start, (start + 100, start + 200)) == 100
    with pytest.raises(ValueError, match="neither calendar months nor equal periods"):
        clock_length(start, (start + 100, start + 250))
