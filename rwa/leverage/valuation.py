"""Fair value of a tranche at a date: its remaining expected payments, discounted at an annual rate.

One definition, used by the issuer's ``rwa value`` and ``rwa trade quote`` and by the auditor's monthly column.

**Payments.** The reference waterfall (:mod:`rwa.model.waterfall`) run forward from a pool state on the deal's base
case:
each period still to come deposits the base-case cash (revenue at the base utilization plus the refund schedule,
:func:`rwa.leverage.cashflows.base_deposits`) with the base revenue attested, and the maturity settlement deposits the
hardware's depreciated value at the end of the deal (``collateral_value(deal)[-1]``). Period ``p``'s cash is paid at
the end of period ``p`` (``deal.periods.start_of(p + 1)``); the maturity settlement at the end of period N, with
period N's. A finalized pool has none left (a recovery after maturity is not expected).

**Discounting.** Actual/365 with an effective annual rate ``R``: a payment at time ``t`` is worth
``amount / (1 + R) ** ((t - D) / 365 days)`` at date ``D``, the times in seconds. Computed in :class:`~decimal.Decimal`
to 50 digits; a value is rounded down to the smallest unit, once, after the sum.

**Which payments a token carries at D.** Those paid at or after ``D``. A payment is expected at its period's end, or,
when that has passed by ``as_of`` (the time of the state) and the pool has not distributed it yet, at ``as_of``: the
token pays whoever holds it when the pool distributes. So a date after a coming period's end values the token
without that payment (in the base case it went to the holder before), and a date after maturity values it at 0.

**A late period** (:func:`rwa.model.calendar.late_periods`: ended, the servicer's grace over, not distributed) is not
priced as if the base case had been paid on time. Its waterfall runs on the cash the pool holds for it (``late``,
what was deposited; anyone may distribute it, so at ``as_of``), not on the base case's; what that cash leaves unpaid
stays owed as the pool's arrears, paid, if at all, from later periods' cash after their own debt service. Its
payment is marked ``late``.

Deliberately not modelled: losses (the base case only: no default, no shortfall, no re-letting; not loss-adjusted),
a recovery after maturity, and the servicer's timing beyond the rule above.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_FLOOR, Context, Decimal

from rwa.errors import InputError
from rwa.leverage.cashflows import base_deposits, base_revenue, collateral_value
from rwa.model.deal import Deal
from rwa.model.terms import refund_schedule
from rwa.model.units import BPS, TRANCHES, Tranche
from rwa.model.waterfall import PoolState, PoolTerms, run_maturity, run_period

DAY_COUNT = "actual/365"
"""How time between two dates becomes years in the discount: actual seconds over 365 days of 86,400 seconds."""

YEAR_SECONDS = 365 * 86_400
_CONTEXT = Context(prec=50)


@dataclass(frozen=True)
class Payment:
    """One expected payment to a tranche: the period it comes from (N+1 for maturity), when it is expected, and how
    much, in smallest units."""

    period: int
    when: datetime
    amount: int
    late: bool = False
    """Its period is late (see the module's rule): the amount is what the cash the pool holds for it pays."""


@dataclass(frozen=True)
class TrancheValue:
    """A tranche's fair value at ``at``: the whole tranche and one whole token (``10**decimals`` token units, one
    stablecoin unit of face), both in the stablecoin's smallest units, rounded down. ``per_token`` is ``None`` while
    the tranche has no supply."""

    tranche: Tranche
    at: datetime
    rate: Decimal
    supply: int
    value: int
    per_token: int | None
    payments: tuple[Payment, ...]


def market_rate_bps(deal: Deal, tranche: Tranche) -> int:
    """The default discount rate, in basis points a year: the senior coupon plus 100 bp; the junior's hurdle from the
    deal (``financing.junior_discount_rate_bps``)."""
    if tranche == "senior":
        return deal.financing.senior_coupon_bps + 100
    return deal.financing.junior_discount_rate_bps


def rate_of_bps(bps: int) -> Decimal:
    """An annual rate in basis points as a fraction (``900`` is ``0.09``)."""
    return Decimal(bps) / BPS


def payment_date(deal: Deal, period: int) -> datetime:
    """When period ``period``'s cash is paid: at the period's end; the maturity settlement (N+1) at the end of N."""
    return deal.periods.start_of(min(period, deal.periods.count) + 1)


def remaining_payments(
    deal: Deal, terms: PoolTerms, state: PoolState, as_of: datetime | None = None,
    late: Mapping[int, int] | None = None,
) -> dict[Tranche, tuple[Payment, ...]]:
    """Each tranche's expected payments after ``state`` (the periods after its last distributed one, maturity
    included), on the deal's base case. A payment whose date has passed by ``as_of`` is expected at ``as_of``. Each
    period of ``late`` runs on the cash the pool holds for it (the value), not the base case's (the module's rule)."""
    out: dict[Tranche, list[Payment]] = {t: [] for t in TRANCHES}
    if state.finalized:
        return {t: () for t in TRANCHES}
    cash, revenue, refunds = base_deposits(deal), base_revenue(deal), refund_schedule(deal)
    late = late or {}

    def add(period: int, senior: int, junior: int) -> None:
        when = payment_date(deal, period)
        if as_of is not None and when < as_of:
            when = as_of
        out["senior"].append(Payment(period, when, senior, period in late))
        out["junior"].append(Payment(period, when, junior, period in late))

    for p in range(state.last_distributed_period + 1, terms.period_count + 1):
        paid = late.get(p, cash[p - 1])
        state, legs = run_period(terms, state, p, paid, revenue[p - 1], refund=min(refunds[p - 1], paid))
        add(p, legs.senior_paid, legs.junior)
    _, legs = run_maturity(terms, state, collateral_value(deal)[-1])
    add(terms.maturity_period, legs.senior_paid, legs.junior)
    return {t: tuple(out[t]) for t in TRANCHES}


MAX_RATE = Decimal(100)
"""The highest annual discount rate taken, as a fraction (10,000% a year): far past any market's, and low enough
that a payment discounted across the whole calendar (years 1 to 9999) stays within the decimal context."""


def check_rate(rate: Decimal, what: str = "a discount rate") -> None:
    """Refuse a rate the valuation cannot use: not finite, negative, or above :data:`MAX_RATE`."""
    if not rate.is_finite() or rate < 0 or rate > MAX_RATE:
        raise InputError(f"{what}: must be a finite rate of 0% to {MAX_RATE * 100:,.0f}% a year, got {rate}")


def _years(when: datetime, at: datetime) -> Decimal:
    """From ``at`` to ``when`` in years of 365 days (negative when ``when`` is earlier), exact to the microsecond."""
    gap = when - at
    seconds = _CONTEXT.add(gap.days * 86_400 + gap.seconds, _CONTEXT.divide(gap.microseconds, 10**6))
    return _CONTEXT.divide(seconds, YEAR_SECONDS)


def discount_factor(when: datetime, at: datetime, rate: Decimal) -> Decimal:
    """What one unit paid at ``when`` is worth at ``at``: ``(1 + rate) ** -years``, years on actual/365."""
    check_rate(rate)
    return _CONTEXT.exp(_CONTEXT.multiply(_CONTEXT.minus(_years(when, at)), _CONTEXT.ln(_CONTEXT.add(1, rate))))


def present_value(payments: Sequence[Payment], at: datetime, rate: Decimal) -> Decimal:
    """The unrounded sum at ``at`` of the payments expected at or after it (see the module's rule)."""
    check_rate(rate)
    growth = _CONTEXT.ln(_CONTEXT.add(1, rate))  # (1 + rate) ** -y as exp(-y ln(1 + rate)): one logarithm a sum
    total = Decimal(0)
    for p in payments:
        if p.amount and p.when >= at:
            factor = _CONTEXT.exp(_CONTEXT.multiply(_CONTEXT.minus(_years(p.when, at)), growth))
            total = _CONTEXT.add(total, _CONTEXT.multiply(p.amount, factor))
    return total


def share_down(value: Decimal, amount: int = 1, supply: int = 1) -> int:
    """``amount`` of ``supply`` token units' share of ``value``, rounded down to the smallest unit."""
    if supply <= 0 or amount < 0:
        raise InputError(f"a share needs a positive supply and an amount >= 0, got {amount} of {supply}")
    share = _CONTEXT.divide(_CONTEXT.multiply(value, amount), supply)
    return int(share.to_integral_value(rounding=ROUND_FLOOR))


def share_value(payments: Sequence[Payment], at: datetime, rate: Decimal, amount: int = 1, supply: int = 1) -> int:
    """``amount`` of ``supply`` token units' share of the payments' present value at ``at``, rounded down."""
    return share_down(present_value(payments, at, rate), amount, supply)


def value_tranches(
    deal: Deal,
    terms: PoolTerms,
    state: PoolState,
    supplies: Mapping[Tranche, int],
    at: datetime,
    rates: Mapping[Tranche, Decimal] | None = None,
    as_of: datetime | None = None,
    late: Mapping[int, int] | None = None,
) -> dict[Tranche, TrancheValue]:
    """Every tranche's fair value at ``at`` after ``state``, at ``rates`` (default :func:`market_rate_bps`); the
    periods of ``late`` on the cash the pool holds for them (:func:`remaining_payments`)."""
    payments = remaining_payments(deal, terms, state, as_of, late)
    token = 10**deal.decimals
    out: dict[Tranche, TrancheValue] = {}
    for tranche in TRANCHES:
        rate = rates[tranche] if rates and tranche in rates else rate_of_bps(market_rate_bps(deal, tranche))
        supply = supplies[tranche]
        flows = payments[tranche]
        pv = present_value(flows, at, rate)
        out[tranche] = TrancheValue(
            tranche=tranche,
            at=at,
            rate=rate,
            supply=supply,
            value=share_down(pv),
            per_token=share_down(pv, token, supply) if supply > 0 else None,
            payments=flows,
        )
    return out
