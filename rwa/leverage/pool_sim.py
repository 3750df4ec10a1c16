"""The pool's waterfall run over many cash-flow paths at once (numpy), for stress, breakevens and Monte Carlo.

This is the calculator's statistical model of the pool, in floats; the integer reference model that must match
the contract to the unit lives with the waterfall, not here. Per period, on each path:

1. the period's DSCR is its CFADS over its own scheduled debt service (interest on the balance plus scheduled
   principal; arrears are not in it); the cash after the servicing fee (CFADS, floored at 0) and the reserve pay
   interest due (with any unpaid interest from earlier periods), then principal due (scheduled principal plus
   any scheduled principal unpaid); what cannot be paid is carried forward as arrears, never forgiven;
2. the reserve is refilled to the next ``reserve_periods`` of scheduled debt service (it starts empty: the
   closing funds no reserve, so the first months' excess fills it);
3. if the period's DSCR is under the covenant, or arrears are outstanding, the cash trap sweeps what is left into
   senior prepayment; otherwise it goes to the junior;
4. after the last period the reserve and the sale of the hardware at its residual value repay what the senior is
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

    def reserve_targets(self) -> list[float]:
        """Reserve target after each period: the next ``reserve_periods`` of scheduled debt service."""
        service = list(self.scheduled_service)
        r = self.reserve_periods
        return [sum(service[p + 1 : p + 1 + r]) for p in range(len(service))]


@dataclass(frozen=True)
class PathResults:
    """Per-path outcomes; ``dscr`` is NaN in periods with nothing due."""

    dscr: FloatArray
    min_dscr: FloatArray
    trapped: BoolArray
    loss: FloatArray
    unpaid_before_residual: FloatArray
    junior: FloatArray
    junior_final: FloatArray


def run_paths(
    cfads: FloatArray, terms: PoolTerms, residual: FloatArray | float, rate_shift_bps: int = 0
) -> PathResults:
    """Run the waterfall on every row of ``cfads`` (paths x periods)."""
    cf = np.atleast_2d(np.asarray(cfads, dtype=np.float64))
    paths, periods = cf.shape
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DENOMINATOR
    principal = np.zeros(periods)
    principal[: len(terms.principal)] = np.asarray(terms.principal, dtype=np.float64)[:periods]
    targets = terms.reserve_targets() + [0.0] * periods
    balance = np.full(paths, float(terms.senior))
    reserve = np.zeros(paths)
    arrears_interest = np.zeros(paths)
    arrears_principal = np.zeros(paths)
    dscr = np.full((paths, periods), np.nan)
    junior = np.zeros((paths, periods))
    trapped = np.zeros(paths, dtype=bool)
    for p in range(periods):
        available = np.maximum(cf[:, p], 0.0)
        interest_due = balance * rate + arrears_interest
        principal_due = np.minimum(principal[p] + arrears_principal, balance)
        scheduled = balance * rate + np.minimum(principal[p], balance)
        owing = scheduled > 0
        ratio = np.divide(available, scheduled, out=np.full(paths, np.inf), where=owing)
        dscr[:, p] = np.where(owing, ratio, np.nan)
        in_arrears = (arrears_interest + arrears_principal) > 0
        cash = available + reserve
        paid_interest = np.minimum(cash, interest_due)
        cash -= paid_interest
        paid_principal = np.minimum(cash, principal_due)
        cash -= paid_principal
        arrears_interest = interest_due - paid_interest
        arrears_principal = principal_due - paid_principal
        balance -= paid_principal
        reserve = np.minimum(cash, targets[p])
        cash -= reserve
        trap = (owing & (ratio < terms.cash_trap_dscr)) | in_arrears
        trapped |= trap
        sweep = np.where(trap, np.minimum(cash, balance), 0.0)
        balance -= sweep
        arrears_principal = np.minimum(arrears_principal, balance)
        junior[:, p] = cash - sweep
    owed = balance + arrears_interest
    recovery = reserve + np.broadcast_to(np.asarray(residual, dtype=np.float64), (paths,))
    repaid = np.minimum(owed, recovery)
    min_dscr = np.min(np.where(np.isnan(dscr), np.inf, dscr), axis=1)
    return PathResults(
        dscr=dscr,
        min_dscr=min_dscr,
        trapped=trapped,
        loss=owed - repaid,
        unpaid_before_residual=np.maximum(owed - reserve, 0.0),
        junior=junior,
        junior_final=recovery - repaid,
    )


def run_paths_loop(
    cfads: Sequence[Sequence[float]], terms: PoolTerms, residual: Sequence[float], rate_shift_bps: int = 0
) -> tuple[list[float], list[bool], list[float]]:
    """The same waterfall, one path at a time in plain Python: (min DSCR, trapped, loss) per path."""
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DENOMINATOR
    principal = list(terms.principal)
    targets = terms.reserve_targets()
    min_dscrs: list[float] = []
    trapped_out: list[bool] = []
    losses: list[float] = []
    for row, residual_value in zip(cfads, residual, strict=True):
        balance = float(terms.senior)
        reserve = arrears_interest = arrears_principal = 0.0
        lowest = float("inf")
        trapped = False
        for p, flow in enumerate(row):
            available = flow if flow > 0.0 else 0.0
            interest_due = balance * rate + arrears_interest
            scheduled = (principal[p] if p < len(principal) else 0.0) + arrears_principal
            principal_due = scheduled if scheduled < balance else balance
            scheduled_service = balance * rate + (
                min(principal[p], balance) if p < len(principal) else 0.0
            )
            ratio = available / scheduled_service if scheduled_service > 0 else float("inf")
            in_arrears = arrears_interest + arrears_principal > 0
            if ratio < lowest:
                lowest = ratio
            cash = available + reserve
            paid_interest = cash if cash < interest_due else interest_due
            cash -= paid_interest
            paid_principal = cash if cash < principal_due else principal_due
            cash -= paid_principal
            arrears_interest = interest_due - paid_interest
            arrears_principal = principal_due - paid_principal
            balance -= paid_principal
            target = targets[p] if p < len(targets) else 0.0
            reserve = cash if cash < target else target
            cash -= reserve
            if ratio < terms.cash_trap_dscr or in_arrears:
                trapped = True
                sweep = cash if cash < balance else balance
                balance -= sweep
                if arrears_principal > balance:
                    arrears_principal = balance
        owed = balance + arrears_interest
        recovery = reserve + residual_value
        losses.append(owed - recovery if owed > recovery else 0.0)
        min_dscrs.append(lowest)
        trapped_out.append(trapped)
    return min_dscrs, trapped_out, losses
