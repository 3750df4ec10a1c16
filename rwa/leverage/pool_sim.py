"""The pool's waterfall run over many cash-flow paths at once (numpy), for stress, breakevens and Monte Carlo.

This is the calculator's statistical model of the pool, in floats; the integer reference model that must match
the contract to the unit lives with the waterfall, not here. Per period, on each path:

1. the period's DSCR is its CFADS over its own scheduled debt service: interest on the balance plus the
   scheduled principal (capped at the balance); arrears are not in it;
2. CFADS (floored at 0) and the reserve pay what is due: interest, then principal down to the scheduled
   balance (so principal missed earlier is due again). Interest that cannot be paid is added to the balance and
   the senior is then *in arrears* (its balance is above the schedule's) until it catches up;
3. the reserve is refilled to the next ``reserve_periods`` of scheduled debt service (it starts empty: the
   closing funds no reserve, so the first months' excess fills it);
4. if the period's DSCR is under the covenant, or the senior is in arrears, the cash trap sweeps what is left
   into senior prepayment; otherwise it goes to the junior;
5. after the last period the reserve and the sale of the hardware at its residual value repay what the senior is
   still owed; any shortfall after that is the senior's loss.

:func:`run_paths_loop` is the same model written per path in plain Python: the benchmark's baseline and the
tests' cross-check.
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
    """What the waterfall needs from the sizing: the schedule, the coupon and the covenants."""

    senior: float
    principal: Sequence[float]
    scheduled_service: Sequence[float]
    coupon_bps: int
    reserve_periods: int
    cash_trap_dscr: float

    def principal_by_period(self, periods: int) -> list[float]:
        """Scheduled principal for each of ``periods`` periods (0 past the schedule)."""
        given = [float(x) for x in self.principal][:periods]
        return given + [0.0] * (periods - len(given))

    def scheduled_balances(self, periods: int) -> list[float]:
        """Balance the schedule expects at the end of each period."""
        out: list[float] = []
        balance = float(self.senior)
        for amount in self.principal_by_period(periods):
            balance -= amount
            out.append(max(balance, 0.0))
        return out

    def reserve_targets(self, periods: int) -> list[float]:
        """Reserve target after each period: the next ``reserve_periods`` of scheduled debt service."""
        service = [float(x) for x in self.scheduled_service]
        r = self.reserve_periods
        return [sum(service[p + 1 : p + 1 + r]) for p in range(periods)]


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
    targets = terms.reserve_targets(periods)
    scheduled_balance = terms.scheduled_balances(periods)
    available_all = np.maximum(by_period, 0.0, out=by_period if by_period.flags.writeable else None)
    balance = np.full(paths, float(terms.senior))
    reserve = np.zeros(paths)
    rows = periods if keep_paths else 1
    dscr = np.empty((rows, paths))
    junior = np.empty((rows, paths))
    lowest = np.full(paths, np.inf)
    trapped = np.zeros(paths, dtype=bool)
    covenant = terms.cash_trap_dscr
    behind = float(terms.senior)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p in range(periods):
            available = available_all[p]
            interest = balance * rate
            scheduled = np.minimum(balance, principal[p])
            scheduled += interest
            ratio = np.divide(available, scheduled, out=dscr[p if keep_paths else 0])
            np.fmin(lowest, ratio, out=lowest)
            trap = ratio < covenant
            trap |= balance > behind
            trapped |= trap
            due = balance - scheduled_balance[p]
            np.maximum(due, 0.0, out=due)
            due += interest
            cash = available + reserve
            paid = np.minimum(cash, due)
            cash -= paid
            balance += interest
            balance -= paid
            reserve = np.minimum(cash, targets[p])
            cash -= reserve
            sweep = np.minimum(cash, balance)
            sweep *= trap
            balance -= sweep
            if keep_paths:
                cash -= sweep
                junior[p] = cash
            behind = scheduled_balance[p] + 0.5  # half a unit of float slack: dust is not arrears
    recovery = reserve + residual
    repaid = np.minimum(balance, recovery)
    return PathResults(
        dscr=dscr.T if keep_paths else np.empty((paths, 0)),
        min_dscr=lowest,
        trapped=trapped,
        loss=balance - repaid,
        junior=junior.T if keep_paths else np.empty((paths, 0)),
        junior_final=recovery - repaid,
    )


def run_paths_loop(
    cfads: Sequence[Sequence[float]], terms: PoolTerms, residual: Sequence[float], rate_shift_bps: int = 0
) -> tuple[list[float], list[bool], list[float]]:
    """The same waterfall, one path at a time in plain Python: (min DSCR, trapped, loss) per path."""
    periods = max((len(row) for row in cfads), default=0)
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DENOMINATOR
    principal = terms.principal_by_period(periods)
    targets = terms.reserve_targets(periods)
    scheduled_balance = terms.scheduled_balances(periods)
    covenant = terms.cash_trap_dscr
    min_dscrs: list[float] = []
    trapped_out: list[bool] = []
    losses: list[float] = []
    for row, residual_value in zip(cfads, residual, strict=True):
        balance = float(terms.senior)
        reserve = 0.0
        lowest = float("inf")
        trapped = False
        behind = balance
        for p, flow in enumerate(row):
            available = flow if flow > 0.0 else 0.0
            interest = balance * rate
            scheduled = (balance if balance < principal[p] else principal[p]) + interest
            ratio = available / scheduled if scheduled > 0 else float("inf")
            if ratio < lowest:
                lowest = ratio
            trap = ratio < covenant or balance > behind
            if trap:
                trapped = True
            due = balance - scheduled_balance[p]
            due = (due if due > 0.0 else 0.0) + interest
            cash = available + reserve
            paid = cash if cash < due else due
            cash -= paid
            balance += interest  # two steps, as the vectorized engine does: the same floats
            balance -= paid
            reserve = cash if cash < targets[p] else targets[p]
            cash -= reserve
            if trap:
                balance -= cash if cash < balance else balance
            behind = scheduled_balance[p] + 0.5
        recovery = reserve + residual_value
        losses.append(balance - recovery if balance > recovery else 0.0)
        min_dscrs.append(lowest)
        trapped_out.append(trapped)
    return min_dscrs, trapped_out, losses
