"""A deal's pool counts calendar months (``PeriodClockLib``): its period ends are the months from the first start,
a period is distributed only once its own month has ended, and the report-overdue trigger runs from each month's
end, 31 days for a January, 28 for a February."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from rwa.chain.interface import Chain
from rwa.model.calendar import CALENDAR_MONTHS, month_ends
from rwa.model.terms import DefaultRules
from rwa.onchain.pool import DefaultTrigger
from tests.support.pool_system import DAY, deploy_pool_system
from tests.support.reverts import reverts

OVERDUE = 15 * DAY
HOUR = 3_600


def next_january(chain: Chain, *, leap: bool) -> int:
    """1 January 00:00 UTC of the first year after the chain's whose February has 29 days when ``leap``, else 28."""
    year = datetime.fromtimestamp(chain.now(), UTC).year + 1
    while calendar.isleap(year) != leap:
        year += 1
    return int(datetime(year, 1, 1, tzinfo=UTC).timestamp())


def test_the_pools_period_ends_are_the_calendar_months_it_was_given(chain: Chain) -> None:
    start = next_january(chain, leap=True)
    s = deploy_pool_system(chain, monthly=True, first_start=start)
    assert s.pool.contract.functions.terms().call()[1] == CALENDAR_MONTHS
    assert s.pool.terms().period_ends == s.terms.period_ends == month_ends(start, 4)
    assert [s.pool.period_end(p) - s.pool.period_start(p) for p in range(1, 5)] == [31 * DAY, 29 * DAY, 31 * DAY,
                                                                                    30 * DAY]
    assert s.pool.period_start(1) == start and s.pool.period_end(0) == start


def test_a_period_is_distributed_after_its_own_month(chain: Chain) -> None:
    start = next_january(chain, leap=False)
    s = deploy_pool_system(chain, monthly=True, first_start=start)
    s.deposit(1, 50_000)
    s.report(1, 50_000)
    chain.time_travel(start + 30 * DAY)  # a 30-day period would have ended
    reverts(lambda: s.pool.distribute(1, sender=s.servicer), "PeriodNotEnded", period=1, periodEnd=start + 31 * DAY)
    chain.time_travel(start + 31 * DAY)
    s.pool.distribute(1, sender=s.servicer)
    s.deposit(2, 50_000)
    s.report(2, 50_000)
    february_end = start + 59 * DAY
    reverts(lambda: s.pool.distribute(2, sender=s.servicer), "PeriodNotEnded", period=2, periodEnd=february_end)
    chain.time_travel(february_end)  # 28 days on: a 30-day period would still run two days
    s.pool.distribute(2, sender=s.servicer)
    assert s.pool.state().last_distributed_period == 2


def test_the_report_is_overdue_a_stated_time_after_a_31_day_and_a_28_day_month(chain: Chain) -> None:
    start = next_january(chain, leap=False)
    rules = DefaultRules(arrears_periods=0, report_overdue_seconds=OVERDUE, shortfall_bps=0, shortfall_window=0,
                         distribution_grace=0)
    s = deploy_pool_system(chain, monthly=True, first_start=start, rules=rules)
    stranger = chain.accounts[9].address
    january_due = start + 31 * DAY + OVERDUE
    with chain.snapshot():
        chain.time_travel(start + 30 * DAY + OVERDUE + HOUR)  # overdue on a 30-day clock, not on January's
        reverts(lambda: s.pool.trigger_default(DefaultTrigger.REPORT_OVERDUE, sender=stranger),
                "TriggerConditionNotMet")
        chain.time_travel(january_due)
        s.pool.trigger_default(DefaultTrigger.REPORT_OVERDUE, sender=stranger)
        assert s.pool.defaulted() and s.pool.default_trigger() == DefaultTrigger.REPORT_OVERDUE
    s.deposit(1, 50_000)
    s.report(1, 50_000)
    s.distribute(1)
    february_due = start + 59 * DAY + OVERDUE
    chain.time_travel(february_due - HOUR)
    reverts(lambda: s.pool.trigger_default(DefaultTrigger.REPORT_OVERDUE, sender=stranger), "TriggerConditionNotMet")
    chain.time_travel(february_due)  # a 30-day clock would wait until start + 60 days + OVERDUE
    s.pool.trigger_default(DefaultTrigger.REPORT_OVERDUE, sender=stranger)
    assert s.pool.defaulted()


def test_a_period_is_late_from_the_second_its_grace_ends_until_it_is_distributed() -> None:
    from rwa.model.calendar import format_periods, late_periods

    ends, grace = (100, 200, 300), 10
    assert late_periods(ends, grace, 0, 109) == ()
    assert late_periods(ends, grace, 0, 110) == (1,)
    assert late_periods(ends, grace, 0, 310) == (1, 2, 3)
    assert late_periods(ends, grace, 2, 310) == (3,)
    assert late_periods(ends, grace, 3, 10**9) == ()
    assert format_periods((1, 2, 3, 5)) == "1-3, 5" and format_periods(()) == "none"
