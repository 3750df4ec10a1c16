"""The lease pool's waterfall as a pure-integer reference model: what ``LeasePool`` pays each period, to the unit.

Independent of web3 on purpose: tests predict every on-chain ``PeriodDistributed`` event with it, and the auditor
recomputes each period from the deal's terms, the oracle's reports and the deposits alone. Every amount is an ``int``
in the stablecoin's smallest unit; every division is floor division, as in the contract.

Order of payment in a period ``p`` (1..N) with ``cash`` deposited for it:

1. servicing fee, up to ``servicing_fee_per_period``;
2. senior interest: arrears first, then ``balance * coupon_bps / 120000`` (a 30/360 monthly coupon: one twelfth of
   the annual rate whatever the period's days, rounded down);
3. senior principal: arrears first, then the scheduled amount, never more than the outstanding balance;
   (2 and 3 draw the reserve for what the period's cash cannot pay; what stays unpaid becomes arrears)
4. the reserve (DSRA) is held at its target, the scheduled senior debt service of the next ``reserve_periods``
   periods (:func:`reserve_target`): topped up from the cash when below it, the excess released into the cash
   when above (counted in ``reserve_out`` with the draws), all of it released once the senior is repaid, and kept
   for the maturity settlement in period N;
5. cash trap: when the period's DSCR is under the covenant (or the lessee has defaulted), the junior's share is
   applied immediately as senior prepayment, reducing the outstanding balance. The covenant test is the period's
   coverage over its scheduled senior debt service (interest + scheduled principal, arrears not included); the
   coverage is the rent deposited up to the attested (reported) revenue, less the fee (tax refunds are not
   counted), so cash moved between periods cannot pass it (:func:`coverage`). The
   schedule itself is unchanged, so later scheduled amounts are capped at the smaller balance;
6. whatever is left goes to the junior tranche.

After a declared default the whole outstanding balance is due every period, no reserve is kept (it is drawn for
senior), principal arrears are not tracked (the unpaid rest is simply outstanding) and the cash trap sends anything
left to senior until the balance is 0; then the junior tranche is paid again.

At maturity (period N+1, :func:`run_maturity`) the residual cash plus the released reserve pays the fee, senior
interest, the whole outstanding balance, and the rest goes to junior.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from rwa.errors import InputError
from rwa.model.units import BPS, MONTHLY_BPS_DIVISOR, POINTS_MAGNITUDE, UINT32_MAX


class WaterfallError(InputError):
    """The model was asked to do what the contract would refuse (wrong period order, after finalization...)."""


@dataclass(frozen=True)
class PoolTerms:
    """The deal's terms as the pool is deployed with them.

    ``period_ends`` are the ends of periods 1..N and of the maturity settlement N+1, in unix seconds: a deal's are
    calendar months from ``first_period_start`` (:mod:`rwa.model.calendar`), a test pool's may be equal periods. Read
    back from a pool, they are the pool's own (``LeasePool.periodEnds``), so comparing them with the deal's compares
    the two calendars."""

    first_period_start: int
    period_ends: tuple[int, ...]
    period_count: int
    senior_coupon_bps: int
    servicing_fee_per_period: int
    reserve_periods: int
    cash_trap_dscr_bps: int
    principal_schedule: tuple[int, ...]
    refund_schedule: tuple[int, ...] = ()
    """The tax refund the deal expects per period (1..N): the most of a period's refunds the covenant counts.
    Empty means none; it is stored as one 0 per period."""

    def __post_init__(self) -> None:
        if not self.refund_schedule:
            object.__setattr__(self, "refund_schedule", (0,) * max(self.period_count, 0))
        object.__setattr__(self, "period_ends", tuple(self.period_ends))
        if self.period_count <= 0:
            raise WaterfallError("period_count must be positive")
        if len(self.period_ends) != self.period_count + 1:
            raise WaterfallError(f"period_ends has {len(self.period_ends)} entries, needs one per period 1..N+1 "
                                 f"({self.period_count + 1})")
        if any(b <= a for a, b in zip((self.first_period_start, *self.period_ends), self.period_ends, strict=False)):
            raise WaterfallError("period_ends must rise strictly from first_period_start")
        if len(self.principal_schedule) != self.period_count:
            raise WaterfallError(
                f"principal_schedule has {len(self.principal_schedule)} entries, period_count is {self.period_count}"
            )
        if len(self.refund_schedule) != self.period_count or any(a < 0 for a in self.refund_schedule):
            raise WaterfallError(f"refund_schedule needs {self.period_count} amounts >= 0, one per period")
        if any(a < 0 for a in self.principal_schedule) or self.face <= 0:
            raise WaterfallError("principal_schedule amounts must be >= 0 and sum to a positive senior face")
        for name in ("senior_coupon_bps", "servicing_fee_per_period", "reserve_periods", "cash_trap_dscr_bps"):
            if getattr(self, name) < 0:
                raise WaterfallError(f"{name} must be >= 0")

    @property
    def face(self) -> int:
        """The senior tranche's face: its opening balance and its token supply."""
        return sum(self.principal_schedule)

    @property
    def maturity_period(self) -> int:
        """N+1: the settlement after the last period, where residual value is deposited."""
        return self.period_count + 1

    def period_start(self, period: int) -> int:
        """When ``period`` (1..N+1) starts: the end of the period before it."""
        return self.period_end(period - 1)

    def period_end(self, period: int) -> int:
        """When ``period`` (1..N+1) ends; period 0 "ends" at the first start."""
        if period == 0:
            return self.first_period_start
        if not 1 <= period <= self.period_count + 1:
            raise WaterfallError(f"period {period} is outside 1..{self.period_count + 1}")
        return self.period_ends[period - 1]

    @property
    def longest_period(self) -> int:
        """The longest of periods 1..N in seconds."""
        return max(self.period_end(p) - self.period_start(p) for p in range(1, self.period_count + 1))

    def scheduled_principal(self, period: int) -> int:
        """The schedule's amount for ``period`` (1..N); 0 outside."""
        return self.principal_schedule[period - 1] if 1 <= period <= self.period_count else 0

    def scheduled_refund(self, period: int) -> int:
        """The refund schedule's amount for ``period`` (1..N); 0 outside."""
        return self.refund_schedule[period - 1] if 1 <= period <= self.period_count else 0


@dataclass(frozen=True)
class PoolState:
    """What the pool carries from one period to the next."""

    balance: int
    reserve: int = 0
    interest_arrears: int = 0
    principal_arrears: int = 0
    last_distributed_period: int = 0
    defaulted: bool = False
    finalized: bool = False
    total_fees: int = 0
    total_senior_paid: int = 0
    total_junior_paid: int = 0
    total_trapped: int = 0
    schedule_num: int = 0
    schedule_den: int = 0
    """After the long-stop's prepayment every later scheduled principal amount is scaled by ``schedule_num /
    schedule_den`` (the balance after it over the balance before), rounded down; 0/0 before any."""

    def scheduled_principal(self, terms: PoolTerms, period: int) -> int:
        """The scheduled principal of ``period`` as the pool now counts it (scaled after a prepayment)."""
        amount = terms.scheduled_principal(period)
        return amount if self.schedule_den == 0 else amount * self.schedule_num // self.schedule_den

    @classmethod
    def opening(cls, terms: PoolTerms) -> PoolState:
        """The state at deployment: the whole senior face outstanding, nothing else."""
        return cls(balance=terms.face)


@dataclass(frozen=True)
class PeriodLegs:
    """Every leg of one period's waterfall, as the contract's ``PeriodDistributed`` event carries it.

    ``senior_dust`` and ``junior_dust`` are the tranche tokens' carried remainders after the distribution, in whole
    stablecoin units rounded down; they depend on the tokens' supply and earlier remainders, not on the waterfall,
    so :func:`run_period` leaves them 0; :func:`carry_points` predicts them and :meth:`with_dust` sets them.
    """

    period: int
    collected: int
    reported: int
    collected_minus_reported: int
    fee: int
    senior_interest: int
    senior_principal: int
    reserve_in: int
    reserve_out: int
    trapped: int
    junior: int
    senior_dust: int
    junior_dust: int
    balance_after: int
    interest_arrears: int
    principal_arrears: int
    reserve_after: int
    dscr_bps: int

    @property
    def senior_paid(self) -> int:
        """Everything sent to the senior token this period: interest, principal and trapped prepayment."""
        return self.senior_interest + self.senior_principal + self.trapped

    def with_dust(self, senior_dust: int, junior_dust: int) -> PeriodLegs:
        return replace(self, senior_dust=senior_dust, junior_dust=junior_dust)


def monthly_interest_down(balance: int, coupon_bps: int) -> int:
    """One period's senior interest on ``balance``, rounded down (in favour of the pool)."""
    return balance * coupon_bps // MONTHLY_BPS_DIVISOR


def dscr_bps_down(cash: int, debt_service: int) -> int:
    """Cash over scheduled senior debt service in basis points, rounded down, capped at uint32's maximum."""
    if debt_service == 0:
        return UINT32_MAX
    return min(cash * BPS // debt_service, UINT32_MAX)


def carry_points(remainder_points: int, amount: int, supply: int) -> int:
    """A tranche token's carried remainder (in points) after it distributes ``amount`` over ``supply`` shares.

    Mirrors ``TrancheToken.distributeFunds``: points = amount * 2**64 + remainder; with no supply everything is
    carried, otherwise what ``points / supply`` leaves over. A zero ``amount`` is not distributed at all.
    """
    if amount == 0:
        return remainder_points
    points = amount * POINTS_MAGNITUDE + remainder_points
    return points if supply == 0 else points % supply


def dust_down(remainder_points: int) -> int:
    """A carried remainder in whole stablecoin units, rounded down (the token's ``carriedDustDown``)."""
    return remainder_points // POINTS_MAGNITUDE


def coverage(rent: int, reported: int, fee_per_period: int) -> int:
    """The covenant's numerator (``LeasePool._coverage``): rent up to the attested revenue, less the servicing fee,
    never below 0. Tax refunds are not counted (lumpy, annual, at the tax authority's pace; the sizing's downside
    case haircuts them), and no term grows with cash the servicer moves from another period or adds from
    elsewhere."""
    return max(min(rent, reported) - fee_per_period, 0)


def _check_amounts(cash: int, reported: int) -> None:
    if cash < 0 or reported < 0:
        raise WaterfallError(f"cash ({cash}) and reported revenue ({reported}) must be >= 0")


def reserve_target(terms: PoolTerms, period: int, balance: int, state: PoolState | None = None) -> int:
    """The reserve (DSRA) target after ``period``: the scheduled senior debt service of the next
    ``reserve_periods`` periods within the term, on the balance path from ``balance`` (``period`` 0: at close),
    the schedule as ``state`` counts it (scaled after a prepayment)."""
    target = 0
    for q in range(period + 1, min(period + terms.reserve_periods, terms.period_count) + 1):
        if balance == 0:
            break
        scheduled = terms.scheduled_principal(q) if state is None else state.scheduled_principal(terms, q)
        principal = min(scheduled, balance)
        target += monthly_interest_down(balance, terms.senior_coupon_bps) + principal
        balance -= principal
    return target


def run_period(
    terms: PoolTerms,
    state: PoolState,
    period: int,
    cash: int,
    reported: int,
    *,
    rent: int | None = None,
    refund: int = 0,
) -> tuple[PoolState, PeriodLegs]:
    """Run period ``period`` (1..N) with ``cash`` deposited for it and the oracle's ``reported`` revenue.

    ``rent`` and ``refund`` are the parts of ``cash`` deposited as rent and as tax refunds (the rest is residual
    value or other); ``rent`` defaults to all of ``cash`` that is not ``refund``.
    """
    _check_amounts(cash, reported)
    rent = cash - refund if rent is None else rent
    if rent < 0 or refund < 0 or rent + refund > cash:
        raise WaterfallError(f"rent ({rent}) and refund ({refund}) must be >= 0 and within the cash ({cash})")
    if state.finalized:
        raise WaterfallError("the pool is finalized")
    if period != state.last_distributed_period + 1:
        raise WaterfallError(f"period {period} out of order: expected {state.last_distributed_period + 1}")
    if not 1 <= period <= terms.period_count:
        raise WaterfallError(f"period {period} is outside 1..{terms.period_count}; use run_maturity for N+1")
    collected = cash
    balance = state.balance
    reserve = state.reserve
    coupon = terms.senior_coupon_bps

    fee = min(cash, terms.servicing_fee_per_period)
    cash -= fee

    sched_int = monthly_interest_down(balance, coupon)
    sched_prin = min(state.scheduled_principal(terms, period), balance)
    covered = coverage(rent, reported, terms.servicing_fee_per_period)
    dscr = dscr_bps_down(covered, sched_int + sched_prin)

    interest_due = state.interest_arrears + sched_int
    pay_i = min(cash, interest_due)
    cash -= pay_i
    draw_i = min(reserve, interest_due - pay_i)
    reserve -= draw_i
    pay_i += draw_i
    interest_arrears = interest_due - pay_i

    principal_due = balance if state.defaulted else min(state.principal_arrears + sched_prin, balance)
    pay_p = min(cash, principal_due)
    cash -= pay_p
    draw_p = min(reserve, principal_due - pay_p)
    reserve -= draw_p
    pay_p += draw_p
    principal_arrears = 0 if state.defaulted else principal_due - pay_p
    balance -= pay_p

    # the reserve is held at its target: topped up from the cash, the excess released into it, all of it released
    # once the senior is repaid; kept for the maturity settlement in the last period with senior still owed
    top_up = released = 0
    if not state.defaulted:
        if balance == 0:
            released = reserve
        elif period < terms.period_count:
            target = reserve_target(terms, period, balance, state)
            if reserve < target:
                top_up = min(cash, target - reserve)
            else:
                released = reserve - target
    reserve += top_up - released
    cash += released - top_up

    # Cash trap: an under-covenant (or defaulted) period's junior share prepays senior at once.
    trapped = 0
    if (dscr < terms.cash_trap_dscr_bps or state.defaulted) and balance > 0:
        trapped = min(cash, balance)
        cash -= trapped
        balance -= trapped
        principal_arrears = min(principal_arrears, balance)
    junior = cash

    legs = PeriodLegs(
        period=period,
        collected=collected,
        reported=reported,
        collected_minus_reported=collected - reported,
        fee=fee,
        senior_interest=pay_i,
        senior_principal=pay_p,
        reserve_in=top_up,
        reserve_out=draw_i + draw_p + released,
        trapped=trapped,
        junior=junior,
        senior_dust=0,
        junior_dust=0,
        balance_after=balance,
        interest_arrears=interest_arrears,
        principal_arrears=principal_arrears,
        reserve_after=reserve,
        dscr_bps=dscr,
    )
    new_state = replace(
        state,
        balance=balance,
        reserve=reserve,
        interest_arrears=interest_arrears,
        principal_arrears=principal_arrears,
        last_distributed_period=period,
        total_fees=state.total_fees + fee,
        total_senior_paid=state.total_senior_paid + legs.senior_paid,
        total_junior_paid=state.total_junior_paid + junior,
        total_trapped=state.total_trapped + trapped,
    )
    return new_state, legs


def run_maturity(terms: PoolTerms, state: PoolState, cash: int, reported: int = 0) -> tuple[PoolState, PeriodLegs]:
    """Settle at maturity (period N+1): ``cash`` deposited for N+1 plus the released reserve.

    Pays the fee, senior interest (arrears first), the whole outstanding balance, then the rest to junior. What
    senior cannot be paid stays outstanding (as principal arrears, unless defaulted) and the pool is finalized.
    ``reported`` is 0: the oracle publishes no report for N+1.
    """
    _check_amounts(cash, reported)
    if state.finalized:
        raise WaterfallError("the pool is already finalized")
    if state.last_distributed_period != terms.period_count:
        raise WaterfallError(
            f"maturity needs period {terms.period_count} distributed; last is {state.last_distributed_period}"
        )
    collected = cash
    released = state.reserve
    cash += released
    balance = state.balance

    fee = min(cash, terms.servicing_fee_per_period)
    cash -= fee

    sched_int = monthly_interest_down(balance, terms.senior_coupon_bps)
    dscr = dscr_bps_down(cash, sched_int + balance)

    interest_due = state.interest_arrears + sched_int
    pay_i = min(cash, interest_due)
    cash -= pay_i
    interest_arrears = interest_due - pay_i

    pay_p = min(cash, balance)
    cash -= pay_p
    balance -= pay_p
    principal_arrears = 0 if state.defaulted else balance
    junior = cash

    legs = PeriodLegs(
        period=terms.maturity_period,
        collected=collected,
        reported=reported,
        collected_minus_reported=collected - reported,
        fee=fee,
        senior_interest=pay_i,
        senior_principal=pay_p,
        reserve_in=0,
        reserve_out=released,
        trapped=0,
        junior=junior,
        senior_dust=0,
        junior_dust=0,
        balance_after=balance,
        interest_arrears=interest_arrears,
        principal_arrears=principal_arrears,
        reserve_after=0,
        dscr_bps=dscr,
    )
    new_state = replace(
        state,
        balance=balance,
        reserve=0,
        interest_arrears=interest_arrears,
        principal_arrears=principal_arrears,
        finalized=True,
        total_fees=state.total_fees + fee,
        total_senior_paid=state.total_senior_paid + legs.senior_paid,
        total_junior_paid=state.total_junior_paid + junior,
    )
    return new_state, legs


def run_recovery(terms: PoolTerms, state: PoolState, period: int, cash: int) -> tuple[PoolState, PeriodLegs]:
    """A recovery after maturity (period N+2, N+3, ...): ``cash`` pays senior interest arrears, then the senior
    balance still owed, then junior. No fee, no reserve, no new interest (``LeasePool.distributeRecovery``)."""
    _check_amounts(cash, 0)
    if not state.finalized:
        raise WaterfallError("a recovery is distributed only after maturity")
    if period <= terms.maturity_period:
        raise WaterfallError(f"recovery period {period} must come after maturity {terms.maturity_period}")
    pay_i = min(cash, state.interest_arrears)
    left = cash - pay_i
    pay_p = min(left, state.balance)
    balance = state.balance - pay_p
    legs = PeriodLegs(
        period=period,
        collected=cash,
        reported=0,
        collected_minus_reported=cash,
        fee=0,
        senior_interest=pay_i,
        senior_principal=pay_p,
        reserve_in=0,
        reserve_out=0,
        trapped=0,
        junior=left - pay_p,
        senior_dust=0,
        junior_dust=0,
        balance_after=balance,
        interest_arrears=state.interest_arrears - pay_i,
        principal_arrears=min(state.principal_arrears, balance),
        reserve_after=0,
        dscr_bps=UINT32_MAX,
    )
    return replace(
        state,
        balance=balance,
        interest_arrears=legs.interest_arrears,
        principal_arrears=legs.principal_arrears,
        total_senior_paid=state.total_senior_paid + legs.senior_paid,
        total_junior_paid=state.total_junior_paid + legs.junior,
    ), legs


def fund_reserve(state: PoolState, amount: int) -> PoolState:
    """Stablecoin added to the reserve outside a period (``LeasePool.fundReserve``: the offering's funding at its
    close); it serves senior like any reserve."""
    if state.finalized:
        raise WaterfallError("the pool is finalized")
    if amount <= 0:
        raise WaterfallError(f"a reserve funding must be positive, got {amount}")
    return replace(state, reserve=state.reserve + amount)


@dataclass(frozen=True)
class Prepayment:
    """``LeasePool.prepay``: the fleet register's long-stop prepayment, as the ``Prepaid`` event carries it."""

    amount: int
    senior: int
    junior: int
    balance_after: int
    principal_arrears_after: int


def prepay(state: PoolState, amount: int) -> tuple[PoolState, Prepayment]:
    """``amount`` repays senior principal at once, up to the balance, and the rest goes to the junior. Every later
    scheduled principal amount shrinks in the proportion the balance did (rounded down; what rounding leaves is
    paid at maturity), so the debt service follows the smaller debt. Once per pool: the fleet register's long-stop."""
    if state.finalized:
        raise WaterfallError("the pool is finalized")
    if amount <= 0:
        raise WaterfallError(f"a prepayment must be positive, got {amount}")
    if state.schedule_den:
        raise WaterfallError("the pool has been prepaid already")
    senior = min(amount, state.balance)
    balance = state.balance - senior
    arrears = min(state.principal_arrears, balance)
    out = Prepayment(amount, senior, amount - senior, balance, arrears)
    scale = (balance, state.balance) if state.balance else (0, 0)
    return replace(state, balance=balance, principal_arrears=arrears, schedule_num=scale[0], schedule_den=scale[1],
                   total_senior_paid=state.total_senior_paid + senior,
                   total_junior_paid=state.total_junior_paid + out.junior), out


def declare_default(state: PoolState) -> PoolState:
    """The pool entered default (declared by the trustee or triggered on an objective condition): from the next
    distribution all cash goes to senior first."""
    if state.finalized:
        raise WaterfallError("the pool is finalized")
    if state.defaulted:
        raise WaterfallError("default is already declared")
    return replace(state, defaulted=True)


def cure_default(state: PoolState) -> PoolState:
    """The trustee cured or waived the default: the next distribution runs the ordinary waterfall again."""
    if state.finalized:
        raise WaterfallError("the pool is finalized")
    if not state.defaulted:
        raise WaterfallError("the pool is not in default")
    return replace(state, defaulted=False)


def run_schedule(
    terms: PoolTerms,
    cash_by_period: dict[int, int],
    reported_by_period: dict[int, int],
    *,
    refund_by_period: dict[int, int] | None = None,
    default_before: int | None = None,
    through: int | None = None,
    reserve_at_close: int = 0,
) -> tuple[PoolState, list[PeriodLegs]]:
    """Run periods 1..``through`` (default N, then maturity) from deposits and reports; for tests and replay.

    Each period's cash is rent except its part in ``refund_by_period``. ``default_before``: declare default just
    before that period runs (N+1 for a default before maturity). ``reserve_at_close`` is funded before period 1.
    """
    refunds = refund_by_period or {}
    state = PoolState.opening(terms)
    if reserve_at_close:
        state = fund_reserve(state, reserve_at_close)
    legs: list[PeriodLegs] = []
    last = terms.period_count if through is None else min(through, terms.period_count)
    for p in range(1, last + 1):
        if default_before == p:
            state = declare_default(state)
        state, leg = run_period(terms, state, p, cash_by_period.get(p, 0), reported_by_period.get(p, 0),
                                refund=refunds.get(p, 0))
        legs.append(leg)
    if through is None or through > terms.period_count:
        if default_before == terms.maturity_period:
            state = declare_default(state)
        state, leg = run_maturity(terms, state, cash_by_period.get(terms.maturity_period, 0))
        legs.append(leg)
    return state, legs
