"""When each period of a deal ends: calendar months from the first start, the rule the contracts' ``PeriodClockLib``
(``contracts/libraries/PeriodClock.sol``) computes on-chain.

Period ``p`` ends ``p`` calendar months after the first start, in UTC, on the first start's day of the month at its
time of day, or on the month's last day when the month is shorter: a first start on 31 January ends period 1 on the
last day of February and period 2 on 31 March. Every end is counted from the first start, never from the end before
it, so a short month does not shift the months after it. A first start on the 1st at 00:00 UTC, the normal case,
makes every period one calendar month. The proleptic Gregorian calendar (Python's), leap years included.

The pool and the oracle are deployed with the first start and a period length of :data:`CALENDAR_MONTHS`, and compute
the same ends from them; a test pool may instead have equal periods of a fixed number of seconds. A period's ends are
unix seconds here, as on-chain.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import UTC, datetime

CALENDAR_MONTHS = 0
"""The period length, as the pool and the oracle are deployed with it, that means calendar months
(``PeriodClockLib.CALENDAR_MONTHS``)."""


def months_after(start: datetime, months: int) -> datetime:
    """``start`` moved ``months`` calendar months on, its day clamped to the last day of a shorter month."""
    if months < 0:
        raise ValueError(f"months must be >= 0, got {months}")
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    day = min(start.day, calendar.monthrange(year, month + 1)[1])
    return start.replace(year=year, month=month + 1, day=day)


def next_month_start(at: datetime) -> datetime:
    """The 1st of the month after ``at``'s, 00:00 UTC: the normal first start of a deal that begins after ``at``."""
    at = at.astimezone(UTC)
    return datetime(at.year + at.month // 12, at.month % 12 + 1, 1, tzinfo=UTC)


def month_ends(first_start: int, count: int) -> tuple[int, ...]:
    """The ends of periods 1..``count`` of calendar months from ``first_start`` (unix seconds)."""
    start = datetime.fromtimestamp(first_start, UTC)
    return tuple(int(months_after(start, p).timestamp()) for p in range(1, count + 1))


def equal_ends(first_start: int, length: int, count: int) -> tuple[int, ...]:
    """The ends of periods 1..``count`` of ``length`` seconds each from ``first_start`` (a test pool's calendar)."""
    if length <= 0:
        raise ValueError(f"a period length must be positive, got {length}")
    return tuple(first_start + p * length for p in range(1, count + 1))


def clock_length(first_start: int, ends: Sequence[int]) -> int:
    """The period length the contracts are deployed with so that their periods end at ``ends``:
    :data:`CALENDAR_MONTHS` for calendar months from ``first_start``, else the common length of equal periods. Any
    other calendar is a ``ValueError``: the contracts count only these two."""
    if tuple(ends) == month_ends(first_start, len(ends)):
        return CALENDAR_MONTHS
    length = ends[0] - first_start if ends else 0
    if length > 0 and tuple(ends) == equal_ends(first_start, length, len(ends)):
        return length
    raise ValueError("the period ends are neither calendar months nor equal periods from the first start")


def late_periods(ends: Sequence[int], grace: int, last_distributed: int, now: int) -> tuple[int, ...]:
    """The periods late at ``now``: ended, the servicer's window after the end (the deal's distribution ``grace``,
    when anyone may distribute) over, and not distributed (after ``last_distributed``: periods distribute in
    order). ``ends`` are the ends of periods 1..N. Every command and the auditor call this one rule."""
    return tuple(p for p in range(last_distributed + 1, len(ends) + 1) if now >= ends[p - 1] + grace)


def format_periods(periods: Sequence[int]) -> str:
    """Periods as a person reads a list of them: ``1-3, 5`` (``none`` when empty)."""
    runs: list[list[int]] = []
    for p in sorted(periods):
        if runs and p == runs[-1][1] + 1:
            runs[-1][1] = p
        else:
            runs.append([p, p])
    return ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in runs) or "none"
