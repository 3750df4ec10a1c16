"""The calculator's waterfall and Monte Carlo written one path at a time in plain Python.

Not product code: they exist to check the vectorised engine (``rwa.leverage.path_engine``), which must give the
same figures, and as the Monte Carlo benchmark's baseline. They perform the engine's float operations in its order.
"""

from __future__ import annotations

from collections.abc import Sequence

from rwa.leverage.cashflows import collateral_value, lease_rent, refunds
from rwa.leverage.montecarlo import Draws
from rwa.leverage.path_engine import PathTerms
from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal
from rwa.model.units import MONTHLY_BPS_DIVISOR


def run_paths_loop(
    cfads: Sequence[Sequence[float]], terms: PathTerms, residual: Sequence[float], rate_shift_bps: int = 0
) -> tuple[list[float], list[bool], list[float]]:
    """The same waterfall, one path at a time in plain Python: (min DSCR, trapped, loss) per path."""
    periods = max((len(row) for row in cfads), default=0)
    rate = (terms.coupon_bps + rate_shift_bps) / MONTHLY_BPS_DIVISOR
    principal = terms.principal_by_period(periods)
    window = terms.reserve_window(periods)
    uncovered = [float(x) for x in terms.uncovered][:periods]
    uncovered += [0.0] * (periods - len(uncovered))
    covenant = terms.cash_trap_dscr
    fee = terms.servicing_fee
    inf, nan = float("inf"), float("nan")
    min_dscrs: list[float] = []
    trapped_out: list[bool] = []
    losses: list[float] = []
    for row, residual_value in zip(cfads, residual, strict=True):
        balance = float(terms.senior)
        reserve = terms.opening_reserve
        arrears_interest = arrears_principal = 0.0
        lowest = inf
        trapped = False
        for p, flow in enumerate(row):
            cash = flow if flow > 0.0 else 0.0
            interest = balance * rate
            scheduled = balance if balance < principal[p] else principal[p]
            service = interest + scheduled
            covered = cash
            if uncovered[p]:
                covered = cash - uncovered[p]
                covered = covered if covered > 0.0 else 0.0
            ratio = covered / service if service > 0 else (inf if covered > 0 else nan)
            if ratio < lowest:
                lowest = ratio
            interest += arrears_interest
            scheduled += arrears_principal
            due_principal = scheduled if scheduled < balance else balance
            due = interest + due_principal
            paid = cash if cash < due else due
            cash = cash - paid
            due -= paid
            drawn = reserve if reserve < due else due
            reserve -= drawn
            paid += drawn
            paid_interest = paid if paid < interest else interest
            arrears_interest = interest - paid_interest
            paid -= paid_interest
            balance -= paid
            if balance < 0.0:
                balance = 0.0
            arrears_principal = due_principal - paid
            target = 0.0
            if p + 1 < periods:
                left = balance
                for amount in window[p]:
                    target += left * rate
                    step = left if left < amount else amount
                    target += step
                    left -= step
            elif balance > 0:
                target = reserve
            target -= reserve
            if target > cash:
                target = cash
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


def simulate_loop(deal: Deal, sizing: Sizing, draws: Draws) -> tuple[list[float], list[bool], list[float]]:
    """The benchmark's baseline: the same paths, cash flows and waterfall computed one path at a time in Python."""
    rents = [[float(x) for x in row] for row in lease_rent(deal)]
    deposits = [float(r) - sizing.servicing_fee_per_period for r in refunds(deal)]
    residual_value = float(collateral_value(deal)[-1])
    terms = sizing.path_terms(deal)
    periods = deal.periods.count
    min_dscr: list[float] = []
    trapped: list[bool] = []
    losses: list[float] = []
    util_rows = draws.utilization.tolist()
    default_rows = draws.default_period.tolist()
    relet_rows = draws.relet_factor.tolist()
    residual_factors = draws.residual_factor.tolist()
    vacancy = deal.risk.relet_vacancy_periods
    for util_row, defaults, relets, residual_factor in zip(
        util_rows, default_rows, relet_rows, residual_factors, strict=True
    ):
        cfads = []
        for p in range(periods):
            contracted = 0.0
            for lease_index, row in enumerate(rents):
                if p + 1 < defaults[lease_index]:
                    contracted += row[p]
            for lease_index, row in enumerate(rents):
                if p + 1 >= defaults[lease_index] + vacancy:
                    contracted += relets[lease_index] * row[p]
            cfads.append(contracted * util_row[p] + deposits[p])
        low, trap, loss = run_paths_loop([cfads], terms, [residual_value * residual_factor])
        min_dscr.append(low[0])
        trapped.append(trap[0])
        losses.append(loss[0])
    return min_dscr, trapped, losses
