"""The waterfall recomputed from the deal's terms, the oracle reports and the deposits alone (the pure-integer model
in :mod:`rwa.model.waterfall`), every leg of every period against the pool's event, to the unit; and every period
left undistributed past its grace."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import fields

from rwa.model.calendar import late_periods
from rwa.model.units import format_time
from rwa.model.waterfall import (
    PeriodLegs,
    PoolState,
    PoolTerms,
    cure_default,
    declare_default,
    fund_reserve,
    prepay,
    run_maturity,
    run_period,
    run_recovery,
)
from rwa.replay.findings import FindingKind, Reconciliation
from rwa.replay.history import History
from rwa.replay.ledger import Event

LEG_FIELDS = [f.name for f in fields(PeriodLegs) if f.name not in ("period", "senior_dust", "junior_dust")]


def reconcile_waterfall(history: History, terms: PoolTerms, pool: str, rec: Reconciliation) -> None:
    from rwa.onchain.pool import DepositKind

    state = PoolState.opening(terms)
    changes = sorted([*history.default_events, *history.reserve_funded, *history.prepaid],
                     key=lambda e: (e.block, e.log_index))
    for period in sorted(history.legs):
        actual, event = history.legs[period]
        while changes and (changes[0].block, changes[0].log_index) < (event.block, event.log_index):
            state = _apply(state, changes.pop(0), pool, rec)
        cash = sum(history.deposits.get(period, {}).values())
        if period == terms.maturity_period:
            state, expected = run_maturity(terms, state, cash)
        elif period > terms.maturity_period:
            if not state.finalized:
                rec.add(FindingKind.PERIOD_ORDER, period, pool, terms.maturity_period, period,
                        "a recovery was distributed before maturity")
                continue
            state, expected = run_recovery(terms, state, period, cash)
        else:
            report = history.report_at(period, event.block)
            if report is None:
                rec.add(
                    FindingKind.DISTRIBUTED_WITHOUT_REPORT,
                    period,
                    pool,
                    "a report",
                    None,
                    f"period {period} was distributed with no oracle report in the history",
                )
                continue
            if period != state.last_distributed_period + 1:
                rec.add(
                    FindingKind.PERIOD_ORDER,
                    period,
                    pool,
                    state.last_distributed_period + 1,
                    period,
                    "periods must be distributed in order",
                )
                continue
            kinds = history.deposits.get(period, {})
            state, expected = run_period(terms, state, period, cash, report.revenue,
                                         rent=kinds.get(int(DepositKind.RENT), 0),
                                         refund=kinds.get(int(DepositKind.TAX_REFUND), 0))
        rec.expected_legs[period] = expected
        for name in LEG_FIELDS:
            want, got = getattr(expected, name), getattr(actual, name)
            if want != got:
                rec.add(FindingKind.WATERFALL_LEG, period, pool, want, got,
                        f"{name}: recomputed {want:,}, on-chain {got:,}")
    for change in changes:
        state = _apply(state, change, pool, rec)


def _apply(state: PoolState, change: Event, pool: str, rec: Reconciliation) -> PoolState:
    """A change of the pool's state between periods: the reserve funded, a default declared or cured, or the
    register's long-stop prepayment (:func:`rwa.model.waterfall.prepay`, every field against the ``Prepaid``)."""
    if change.event == "ReserveFunded":
        return fund_reserve(state, int(change.args["amount"]))
    if change.event == "DefaultDeclared" and not state.defaulted:
        return declare_default(state)
    if change.event == "DefaultCured" and state.defaulted:
        return cure_default(state)
    if change.event == "Prepaid" and not state.finalized and int(change.args["amount"]) > 0:
        state, want = prepay(state, int(change.args["amount"]))
        a = change.args
        for name, expected, got in (("seniorPaid", want.senior, int(a["seniorPaid"])),
                                    ("juniorPaid", want.junior, int(a["juniorPaid"])),
                                    ("balanceAfter", want.balance_after, int(a["balanceAfter"])),
                                    ("principalArrearsAfter", want.principal_arrears_after,
                                     int(a["principalArrearsAfter"]))):
            if expected != got:
                rec.add(FindingKind.WATERFALL_LEG, state.last_distributed_period + 1, pool, expected, got,
                        f"the prepayment in block {change.block}: {name} recomputed {expected:,}, on-chain {got:,}",
                        block=change.block)
    return state


def find_late_periods(ends: Sequence[int], grace: int, last_distributed: int, now: int, pool: str,
                      rec: Reconciliation) -> tuple[int, ...]:
    """Each period late at ``now`` (:func:`rwa.model.calendar.late_periods`, the rule ``rwa status`` and ``rwa value``
    use) is a finding: distributing a period inside its grace is the servicer's duty, and its holders are not paid."""
    late = late_periods(ends, grace, last_distributed, now)
    for period in late:
        end = ends[period - 1]
        rec.add(FindingKind.LATE_DISTRIBUTION, period, pool, f"distributed by {format_time(end + grace)}",
                f"not distributed at {format_time(now)}",
                f"period {period} ended {format_time(end)} and its servicer's window closed "
                f"{format_time(end + grace)}; it is not distributed: the servicer failed to distribute it and its "
                "holders are unpaid (anyone may now distribute it)")
    return late
