"""The pool's waterfall over many cash-flow paths at once (numpy), for stress, breakevens and Monte Carlo.

A float mirror of the integer reference model (``rwa.model.waterfall``, which ``LeasePool`` implements to the unit),
kept
in floats because it only judges risk: nothing it computes is paid. Per period, on each path, with the period's
cash after the fixed servicing fee (CFADS, floored at 0):

1. DSCR = the covenant's coverage over the period's scheduled debt service (interest on the balance plus the
   scheduled principal capped at the balance; arrears not included). The pool measures its covenant on rent up to
   the attested revenue less the fee, refunds left out (``rwa.model.waterfall.coverage``); here the rent is the revenue,
   so the coverage is the cash less the period's refunds (``PathTerms.uncovered``), floored at 0;
2. interest (arrears first) and then principal (arrears first, then the schedule's amount, never above the
   balance) are paid from the cash, then from the reserve; what stays unpaid becomes arrears (no interest on them);
3. the reserve (it opens at what the offering funds at close) is held at its target, the scheduled debt service of
   the next ``reserve_periods`` periods on the scheduled balance path: topped up from the cash, the excess released
   into it, all of it released once the senior is repaid, kept for maturity in the last period;
4. under the covenant, the rest prepays senior (cash trap) and the schedule's later amounts are capped at the lower
   balance; otherwise it goes to the junior;
5. at maturity (period N+1) the hardware's residual value is deposited and, with the released reserve, pays the
   fee, interest and the whole balance; what senior is still owed after that is its loss.

The issuer's discretionary default declaration (``rwa.model.waterfall.declare_default``) is not modelled.
``tests/support/reference_loops.py`` holds the same model written per path in plain Python, performing the same
float operations in the same order: the benchmark's baseline and the tests' cross-check.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rwa.model.units import BPS, MONTHLY_BPS_DIVISOR
from rwa.model.waterfall import PoolTerms

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PathTerms:
    """The pool's terms in the engine's floats: the schedule, the coupon, the fee and the covenants."""

    senior: float
    principal: Sequence[float]
    coupon_bps: int
    reserve_periods: int
    cash_trap_dscr: float
    servicing_fee: float = 0.0
    opening_reserve: float = 0.0
    uncovered: Sequence[float] = ()  # per period, cash the covenant does not count (the tax refunds deposited)

    @classmethod
    def of(cls, terms: PoolTerms, opening_reserve: int = 0) -> PathTerms:
        """The engine's view of the deployed terms (the integer ones of ``rwa.model.terms``) and the reserve at
        close."""
        return cls(
            senior=float(terms.face),
            principal=[float(a) for a in terms.principal_schedule],
            coupon_bps=terms.senior_coupon_bps,
            reserve_periods=terms.reserve_periods,
            cash_trap_dscr=terms.cash_trap_dscr_bps / BPS,
            servicing_fee=float(terms.servicing_fee_per_period),
            opening_reserve=float(opening_reserve),
            uncovered=[float(r) for r in terms.refund_schedule],
        )

    def principal_by_period(self, periods: int) -> list[float]:
        """Scheduled principal for each of ``periods`` periods, plus a 0 for the period after the last."""
        given = [float(x) for x in self.principal][:periods]
        return given + [0.0] * (periods + 1 - len(given))

    def reserve_window(self, periods: int) -> list[list[float]]:
        """For each period p (0-based), the scheduled principal of the periods whose debt service the reserve holds
        after it: the next ``reserve_periods`` periods within the term."""
        principal = self.principal_by_period(periods)
        return [principal[p + 1 : min(p + 1 + self.reserve_periods, periods)] for p in range(periods)]


@dataclass(frozen=True)
class PathResults:
    """Per-path outcomes. ``dscr`` (paths x periods) is inf in periods with nothing scheduled (NaN if also no cash)."""

    dscr: FloatArray
    min_dscr: FloatArray
    trapped: BoolArray
    loss: FloatArray
    junior: FloatArray
    junior_final: FloatArray
    reserve: FloatArray  # paths x periods: the reserve after each period (kept like ``dscr``)
    senior: FloatArray  # paths x periods: what the senior was paid each period, interest and principal (kept)
    senior_final: FloatArray  # what the senior is paid at maturity
    late: BoolArray  # some period's scheduled debt service was not paid in full when due (arrears beyond LATE_DUST)


LATE_DUST = 100.0  # arrears below this many smallest units are float dust (unfloored interest), not a late payment
BLOCK_PATHS = 16_384  # paths per block: the waterfall's working rows stay in cache, few calls per period


def run_paths(
    cfads: FloatArray, terms: PathTerms, residual: FloatArray | float, rate_shift_bps: int = 0
) -> PathResults:
    """Run the waterfall on every row of ``cfads`` (paths x periods), in blocks of paths."""
    cf = np.atleast_2d(np.asarray(cfads))
    paths = cf.shape[0]
    residuals = np.broadcast_to(np.asarray(residual, dtype=np.float64), (paths,))
    blocks = [
        run_block(
            np.ascontiguousarray(cf[i : i + BLOCK_PATHS].T, dtype=np.float64),
            terms,
            residuals[i : i + BLOCK_PATHS],
            rate_shift_bps,
        )
        for i in range(0, paths, BLOCK_PATHS)
    ]
    return concat(blocks)


def concat(blocks: Sequence[PathResults]) -> PathResults:
    """Join per-block results in path order; per-period arrays only from blocks that kept them (the first)."""
    if len(blocks) == 1:
        return blocks[0]
    wide = [b for b in blocks if b.dscr.shape[1]] or list(blocks)
    return PathResults(
        dscr=np.concatenate([b.dscr.T for b in wide], axis=1).T,  # join periods-major rows: contiguous copies
        min_dscr=np.concatenate([b.min_dscr for b in blocks]),
        trapped=np.concatenate([b.trapped for b in blocks]),
        loss=np.concatenate([b.loss for b in blocks]),
        junior=np.concatenate([b.junior.T for b in wide], axis=1).T,
        junior_final=np.concatenate([b.junior_final for b in blocks]),
        reserve=np.concatenate([b.reserve.T for b in wide], axis=1).T,
        late=np.concatenate([b.late for b in blocks]),
        senior=np.concatenate([b.senior.T for b in wide], axis=1).T,
        senior_final=np.concatenate([b.senior_final for b in blocks]),
    )


CashRows = Callable[[int, FloatArray], FloatArray]
"""Fills its ``out`` argument with period p's CFADS (floored at 0) for every path of a block, and returns it."""


def run_block(
    by_period: FloatArray,
    terms: PathTerms,
    residual: FloatArray,
    rate_shift_bps: int = 0,
    keep_paths: bool = True,
) -> PathResults:
    """The waterfall on one block given periods-major (periods x paths, C-ordered) CFADS."""

    def rows(p: int, out: FloatArray) -> FloatArray:
        np.maximum(by_period[p], 0.0, out=out)
        return out

    periods, paths = by_period.shape
    return run_rows(rows, periods, paths, terms, residual, rate_shift_bps, keep_paths)


def run_rows(
    rows: CashRows,
    periods: int,
    paths: int,
    terms: PathTerms,
    residual: FloatArray,
    rate_shift_bps: int = 0,
    keep_paths: bool = True,
) -> PathResults:
    """The waterfall on one block whose CFADS ``rows`` produces a period at a time.

    ``dscr`` is ``inf`` where nothing is scheduled and the period has cash, NaN where it has neither. Without
    ``keep_paths`` the per-period DSCR and junior arrays are scratch rows and come back empty (0 periods).
    """
    principal = terms.principal_by_period(periods)
    window = terms.reserve_window(periods)
    uncovered = [float(x) for x in terms.uncovered][:periods]
    uncovered += [0.0] * (periods - len(uncovered))
    state = _State.opening(terms, paths)
    held = periods if keep_paths else 1
    dscr = np.empty((held, paths))
    junior = np.empty((held, paths))
    reserve = np.empty((held, paths))
    senior = np.empty((held, paths))
    cash = np.empty(paths)
    before = state.reserve.copy() if keep_paths else state.reserve
    amortizing = max((p + 1 for p in range(periods) if principal[p] > 0), default=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p in range(amortizing):
            ratio, left = state.period(terms, rows(p, cash), principal[p], window[p], p + 1 < periods,
                                       rate_shift_bps, dscr[p if keep_paths else 0], uncovered[p])
            if keep_paths:  # the period's cash is the senior's, the junior's, or a change of the reserve
                junior[p] = left
                reserve[p] = state.reserve
                np.subtract(cash, left, out=senior[p])
                senior[p] -= state.reserve
                senior[p] += before
                np.copyto(before, state.reserve)
        # past the schedule only the paths still owing (or holding a reserve to release) need the waterfall; the
        # others keep their cash
        owing = np.flatnonzero((state.balance > 0) | (state.reserve > 0))
        if amortizing < periods:
            tail = state.take(owing)
            out = np.empty(owing.size)
            for p in range(amortizing, periods):
                row = rows(p, cash)
                ratio, left = tail.period(terms, row[owing], 0.0, window[p], p + 1 < periods, rate_shift_bps, out,
                                          uncovered[p])
                if keep_paths:
                    dscr[p] = np.where(row > 0, np.inf, np.nan)
                    dscr[p, owing] = ratio
                    junior[p] = row
                    junior[p, owing] = left
                    reserve[p] = 0.0
                    reserve[p, owing] = tail.reserve
                    senior[p] = 0.0
                    senior[p, owing] = row[owing] - left - tail.reserve + before[owing]
                    before[owing] = tail.reserve
            state.put(owing, tail)
    # maturity: the residual value and the released reserve pay the fee, interest, then the whole balance
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DIVISOR
    left_at_maturity = np.maximum(residual + state.reserve - terms.servicing_fee, 0.0)
    owed = state.balance * rate
    owed += state.arrears_interest
    owed += state.balance
    repaid = np.minimum(left_at_maturity, owed)
    return PathResults(
        dscr=dscr.T if keep_paths else np.empty((paths, 0)),
        min_dscr=state.lowest,
        trapped=state.trapped,
        loss=owed - repaid,
        junior=junior.T if keep_paths else np.empty((paths, 0)),
        junior_final=left_at_maturity - repaid,
        reserve=reserve.T if keep_paths else np.empty((paths, 0)),
        late=state.late,
        senior=senior.T if keep_paths else np.empty((paths, 0)),
        senior_final=repaid,
    )


@dataclass
class _State:
    """What the pool carries between periods, one entry per path, and scratch rows reused every period."""

    balance: FloatArray
    reserve: FloatArray
    arrears_interest: FloatArray
    arrears_principal: FloatArray
    lowest: FloatArray
    trapped: BoolArray
    late: BoolArray

    def __post_init__(self) -> None:
        # reused every period: no allocation in the loop, and the working set stays small enough for the cache
        n = self.balance.size
        self._interest, self._principal, self._due, self._paid, self._cash, self._spare, self._left = np.empty((7, n))
        self._trap = np.empty(n, dtype=bool)

    @classmethod
    def opening(cls, terms: PathTerms, paths: int) -> _State:
        return cls(np.full(paths, float(terms.senior)), np.full(paths, terms.opening_reserve), np.zeros(paths),
                   np.zeros(paths),
                   np.full(paths, np.inf), np.zeros(paths, dtype=bool), np.zeros(paths, dtype=bool))

    def take(self, index: npt.NDArray[np.intp]) -> _State:
        return _State(*(getattr(self, f)[index] for f in _STATE_FIELDS))

    def put(self, index: npt.NDArray[np.intp], part: _State) -> None:
        for f in _STATE_FIELDS:
            getattr(self, f)[index] = getattr(part, f)

    def period(
        self,
        terms: PathTerms,
        cash_in: FloatArray,
        principal: float,
        window: Sequence[float],
        has_next: bool,
        rate_shift_bps: int,
        ratio: FloatArray,
        uncovered: float = 0.0,
    ) -> tuple[FloatArray, FloatArray]:
        """One period on every path: updates the state, fills ``ratio`` with the DSCR, returns it and the cash left
        for the junior (a scratch row, valid until the next call). The float operations, and their order, are those
        of :func:`run_paths_loop`."""
        rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DIVISOR
        balance, reserve = self.balance, self.reserve
        interest, due_principal, due, paid = self._interest, self._principal, self._due, self._paid
        cash, spare, trap = self._cash, self._spare, self._trap
        np.multiply(balance, rate, out=interest)
        np.minimum(balance, principal, out=due_principal)
        np.add(interest, due_principal, out=due)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            if uncovered:  # the covenant leaves the refunds out: coverage = cash - refunds, floored at 0
                np.subtract(cash_in, uncovered, out=ratio)
                np.maximum(ratio, 0.0, out=ratio)
                np.divide(ratio, due, out=ratio)
            else:
                np.divide(cash_in, due, out=ratio)  # a vanishing balance's DSCR is inf by design, not an overflow
        np.fmin(self.lowest, ratio, out=self.lowest)
        # interest then principal, arrears first, from the cash and then from the reserve
        interest += self.arrears_interest
        due_principal += self.arrears_principal
        np.minimum(due_principal, balance, out=due_principal)
        np.add(interest, due_principal, out=due)
        np.minimum(cash_in, due, out=paid)
        np.subtract(cash_in, paid, out=cash)
        due -= paid
        drawn = np.minimum(reserve, due, out=due)
        reserve -= drawn
        paid += drawn
        paid_interest = np.minimum(paid, interest, out=spare)
        np.subtract(interest, paid_interest, out=self.arrears_interest)
        paid -= paid_interest
        balance -= paid
        np.maximum(balance, 0.0, out=balance)  # float dust from the split must not leave a negative balance
        np.subtract(due_principal, paid, out=self.arrears_principal)
        np.add(self.arrears_interest, self.arrears_principal, out=due)
        self.late |= due > LATE_DUST
        # the reserve held at its target (the next periods' scheduled service), the excess released; released
        # whole once the senior is repaid (its target is then 0); kept for maturity in the last period
        target = spare
        target.fill(0.0)
        if has_next:
            left = self._left
            np.copyto(left, balance)
            for amount in window:
                np.multiply(left, rate, out=due)
                target += due
                np.minimum(left, amount, out=due)
                target += due
                left -= due
        else:
            np.copyto(target, reserve)
            target *= balance > 0
        target -= reserve  # > 0: a top-up from the cash; < 0: a release into it
        np.minimum(target, cash, out=target)
        reserve += target
        cash -= target
        np.less(ratio, terms.cash_trap_dscr, out=trap)  # under the covenant the rest prepays senior
        self.trapped |= trap
        sweep = np.minimum(cash, balance, out=spare)
        sweep *= trap
        balance -= sweep
        cash -= sweep
        np.minimum(self.arrears_principal, balance, out=self.arrears_principal)
        return ratio, cash


_STATE_FIELDS = ("balance", "reserve", "arrears_interest", "arrears_principal", "lowest", "trapped", "late")
