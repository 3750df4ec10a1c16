"""The pool's waterfall over many cash-flow paths at once (numpy), for stress, breakevens and Monte Carlo.

A float mirror of the integer reference model (``rwa.waterfall``, which ``LeasePool`` implements to the unit), kept
in floats because it only judges risk: nothing it computes is paid. Per period, on each path, with the period's
cash after the fixed servicing fee (CFADS, floored at 0):

1. DSCR = that cash over the period's scheduled debt service (interest on the balance plus the scheduled principal
   capped at the balance; arrears not included);
2. interest (arrears first) and then principal (arrears first, then the schedule's amount, never above the
   balance) are paid from the cash, then from the reserve; what stays unpaid becomes arrears (no interest on them);
3. the reserve is topped up to ``reserve_periods`` times the next period's scheduled debt service (it starts empty
   and is not drawn down to a lower target, only for senior);
4. under the covenant, the rest prepays senior (cash trap) and the schedule's later amounts are capped at the lower
   balance; otherwise it goes to the junior;
5. at maturity (period N+1) the hardware's residual value is deposited and, with the released reserve, pays the
   fee, interest and the whole balance; what senior is still owed after that is its loss.

The issuer's discretionary default declaration (``rwa.waterfall.declare_default``) is not modelled.
:func:`run_paths_loop` is the same model written per path in plain Python: the benchmark's baseline and the tests'
cross-check, written to perform the same float operations in the same order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rwa.leverage.sculpt import MONTHLY_BPS_DENOMINATOR

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class PoolTerms:
    """What the waterfall needs from the sizing: the schedule, the coupon, the fee and the covenants."""

    senior: float
    principal: Sequence[float]
    coupon_bps: int
    reserve_periods: int
    cash_trap_dscr: float
    servicing_fee: float = 0.0

    def principal_by_period(self, periods: int) -> list[float]:
        """Scheduled principal for each of ``periods`` periods, plus a 0 for the period after the last."""
        given = [float(x) for x in self.principal][:periods]
        return given + [0.0] * (periods + 1 - len(given))


@dataclass(frozen=True)
class PathResults:
    """Per-path outcomes. ``dscr`` (paths x periods) is inf in periods with nothing scheduled (NaN if also no cash)."""

    dscr: FloatArray
    min_dscr: FloatArray
    trapped: BoolArray
    loss: FloatArray
    junior: FloatArray
    junior_final: FloatArray


BLOCK_PATHS = 8192  # paths per block: the waterfall's dozen working vectors then stay in a core's L2 cache


def run_paths(
    cfads: FloatArray, terms: PoolTerms, residual: FloatArray | float, rate_shift_bps: int = 0
) -> PathResults:
    """Run the waterfall on every row of ``cfads`` (paths x periods), in blocks of paths."""
    cf = np.atleast_2d(np.asarray(cfads))
    paths = cf.shape[0]
    residuals = np.broadcast_to(np.asarray(residual, dtype=np.float64), (paths,))
    blocks = [
        run_block(
            np.array(cf[i : i + BLOCK_PATHS].T, dtype=np.float64, order="C"),  # a copy: run_block clips it
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
    )


def run_block(
    by_period: FloatArray,
    terms: PoolTerms,
    residual: FloatArray,
    rate_shift_bps: int = 0,
    keep_paths: bool = True,
) -> PathResults:
    """The waterfall on one block given periods-major (periods x paths, C-ordered) CFADS; may clip it in place.

    ``dscr`` is ``inf`` where nothing is scheduled and the period has cash, NaN where it has neither. Without
    ``keep_paths`` the per-period DSCR and junior arrays are scratch rows and come back empty (0 periods).
    """
    periods, paths = by_period.shape
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DENOMINATOR
    principal = terms.principal_by_period(periods)
    reserve_periods = float(terms.reserve_periods)
    covenant = terms.cash_trap_dscr
    available_all = np.maximum(by_period, 0.0, out=by_period if by_period.flags.writeable else None)
    balance = np.full(paths, float(terms.senior))
    reserve = np.zeros(paths)
    arrears_interest = np.zeros(paths)
    arrears_principal = np.zeros(paths)
    rows = periods if keep_paths else 1
    dscr = np.empty((rows, paths))
    junior = np.empty((rows, paths))
    lowest = np.full(paths, np.inf)
    trapped = np.zeros(paths, dtype=bool)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p in range(periods):
            cash = available_all[p]
            interest = balance * rate
            scheduled = np.minimum(balance, principal[p])
            ratio = np.divide(cash, interest + scheduled, out=dscr[p if keep_paths else 0])
            np.fmin(lowest, ratio, out=lowest)
            # interest, arrears first, from cash then reserve
            interest += arrears_interest
            paid = np.minimum(cash, interest)
            cash -= paid
            interest -= paid
            drawn = np.minimum(reserve, interest)
            reserve -= drawn
            arrears_interest = np.subtract(interest, drawn, out=interest)
            # principal, arrears first, capped at the balance, from cash then reserve
            scheduled += arrears_principal
            due = np.minimum(scheduled, balance, out=scheduled)
            paid = np.minimum(cash, due, out=paid)
            cash -= paid
            balance -= paid
            due -= paid
            drawn = np.minimum(reserve, due, out=drawn)
            reserve -= drawn
            balance -= drawn
            arrears_principal = np.subtract(due, drawn, out=due)
            # reserve top-up to reserve_periods x next period's scheduled service
            if p + 1 < periods:
                target = np.minimum(balance, principal[p + 1])
                target += balance * rate
                target *= reserve_periods
                target -= reserve
                np.clip(target, 0.0, cash, out=target)
                reserve += target
                cash -= target
            # cash trap: an under-covenant period's rest prepays senior
            trap = ratio < covenant
            trapped |= trap
            sweep = np.minimum(cash, balance)
            sweep *= trap
            balance -= sweep
            np.minimum(arrears_principal, balance, out=arrears_principal)
            if keep_paths:
                cash -= sweep
                junior[p] = cash
    # maturity: the residual value and the released reserve pay the fee, interest, then the whole balance
    cash = np.maximum(residual + reserve - terms.servicing_fee, 0.0)
    owed = balance * rate
    owed += arrears_interest
    owed += balance
    repaid = np.minimum(cash, owed)
    return PathResults(
        dscr=dscr.T if keep_paths else np.empty((paths, 0)),
        min_dscr=lowest,
        trapped=trapped,
        loss=owed - repaid,
        junior=junior.T if keep_paths else np.empty((paths, 0)),
        junior_final=cash - repaid,
    )


def run_paths_loop(
    cfads: Sequence[Sequence[float]], terms: PoolTerms, residual: Sequence[float], rate_shift_bps: int = 0
) -> tuple[list[float], list[bool], list[float]]:
    """The same waterfall, one path at a time in plain Python: (min DSCR, trapped, loss) per path."""
    periods = max((len(row) for row in cfads), default=0)
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DENOMINATOR
    principal = terms.principal_by_period(periods)
    reserve_periods = float(terms.reserve_periods)
    covenant = terms.cash_trap_dscr
    fee = terms.servicing_fee
    min_dscrs: list[float] = []
    trapped_out: list[bool] = []
    losses: list[float] = []
    for row, residual_value in zip(cfads, residual, strict=True):
        balance = float(terms.senior)
        reserve = arrears_interest = arrears_principal = 0.0
        lowest = float("inf")
        trapped = False
        for p, flow in enumerate(row):
            cash = flow if flow > 0.0 else 0.0
            interest = balance * rate
            scheduled = balance if balance < principal[p] else principal[p]
            service = interest + scheduled
            ratio = cash / service if service > 0 else (float("inf") if cash > 0 else float("nan"))
            if ratio < lowest:
                lowest = ratio
            interest += arrears_interest
            paid = cash if cash < interest else interest
            cash -= paid
            interest -= paid
            drawn = reserve if reserve < interest else interest
            reserve -= drawn
            arrears_interest = interest - drawn
            scheduled += arrears_principal
            due = scheduled if scheduled < balance else balance
            paid = cash if cash < due else due
            cash -= paid
            balance -= paid
            due -= paid
            drawn = reserve if reserve < due else due
            reserve -= drawn
            balance -= drawn
            arrears_principal = due - drawn
            if p + 1 < periods:
                target = balance if balance < principal[p + 1] else principal[p + 1]
                target += balance * rate
                target *= reserve_periods
                target -= reserve
                target = 0.0 if target < 0.0 else (cash if target > cash else target)
                reserve += target
                cash -= target
            if ratio < covenant:
                trapped = True
                balance -= cash if cash < balance else balance
                if arrears_principal > balance:
                    arrears_principal = balance
        cash = residual_value + reserve - fee
        if cash < 0.0:
            cash = 0.0
        owed = balance * rate
        owed += arrears_interest
        owed += balance
        losses.append(owed - cash if owed > cash else 0.0)
        min_dscrs.append(lowest)
        trapped_out.append(trapped)
    return min_dscrs, trapped_out, losses
