"""Debt sculpting: the largest debt a cash-flow series supports at a DSCR, in floats and in integer units.

The float version (:func:`size_by_dscr`) is the textbook one: debt service in each period is the cash flow divided
by the target DSCR, and the debt is its present value at the loan rate. The integer version
(:func:`integer_schedule`) builds the schedule the pool is deployed with, under the on-chain conventions:
interest is ``balance * coupon_bps // 120_000`` (floored), principal is a non-negative integer, the principals sum
exactly to the senior size and no period's debt service exceeds the cash flow divided by the target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rwa.model.waterfall import monthly_interest_down


@dataclass(frozen=True)
class FloatRow:
    """One period of a float schedule (``period`` is 1-based)."""

    period: int
    cfads: float
    interest: float
    principal: float
    balance: float
    dscr: float
    llcr: float


@dataclass(frozen=True)
class FloatSizing:
    """Result of :func:`size_by_dscr`: the debt and its sculpted schedule."""

    debt: float
    schedule: list[FloatRow]


def size_by_dscr(
    cfads: Sequence[float], rate: float, dscr_target: float, tenor: int | None = None
) -> FloatSizing:
    """Largest debt that ``cfads`` services at ``dscr_target`` every period, repaid within ``tenor`` periods.

    ``rate`` is per period. Debt service in period p <= tenor is ``cfads[p] / dscr_target``; the debt is its
    present value at ``rate``. Where a period's debt service is below its interest the shortfall capitalizes
    (negative principal), as in any sculpted loan. DSCR and LLCR of periods without debt service are ``inf``.
    """
    if dscr_target <= 0:
        raise ValueError("dscr_target must be > 0")
    if rate <= -1:
        raise ValueError("rate must be > -1")
    n = len(cfads) if tenor is None else min(tenor, len(cfads))
    if n < 0:
        raise ValueError("tenor must be >= 0")
    service = [max(float(c), 0.0) / dscr_target for c in cfads[:n]]
    debt = sum(s / (1 + rate) ** (p + 1) for p, s in enumerate(service))
    rows: list[FloatRow] = []
    balance = debt
    for p, c in enumerate(cfads):
        opening = balance
        ds = service[p] if p < n else 0.0
        interest = opening * rate
        principal = ds - interest if p < n else 0.0
        if p == n - 1:
            principal = opening  # absorbs the float residue so the final balance is exactly zero
        balance = max(opening - principal, 0.0) if p < n else 0.0
        remaining = sum(cfads[q] / (1 + rate) ** (q - p + 1) for q in range(p, n)) if p < n else 0.0
        rows.append(
            FloatRow(
                period=p + 1,
                cfads=float(c),
                interest=interest,
                principal=principal,
                balance=balance,
                dscr=float(c) / ds if ds > 0 else math.inf,
                llcr=remaining / opening if opening > 1e-12 else math.inf,
            )
        )
    return FloatSizing(debt=debt, schedule=rows)


@dataclass(frozen=True)
class IntRow:
    """One period of the deployed schedule, integer smallest units."""

    period: int
    cfads: int
    interest: int
    principal: int
    balance: int


def _run(size: int, caps: Sequence[int], coupon_bps: int) -> tuple[list[tuple[int, int]], int] | None:
    """Amortize ``size`` paying at most ``caps[p]`` each period; None if some period cannot cover its interest.

    Returns (interest, principal) per capped period and the balance left after the last one.
    """
    balance = size
    legs: list[tuple[int, int]] = []
    for cap in caps:
        interest = monthly_interest_down(balance, coupon_bps)
        if interest > cap:
            return None
        principal = min(cap - interest, balance)
        balance -= principal
        legs.append((interest, principal))
    return legs, balance


def max_integer_debt(caps: Sequence[int], coupon_bps: int, upper: int) -> int:
    """Largest size <= ``upper`` that ``caps`` (debt-service ceilings per period) fully repay."""
    lo, hi = 0, max(upper, 0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        run = _run(mid, caps, coupon_bps)
        if run is not None and run[1] == 0:
            lo = mid
        else:
            hi = mid - 1
    return lo


def integer_schedule(
    size: int,
    cfads: Sequence[int],
    dscr_target: float,
    coupon_bps: int,
    tenor: int,
    caps: Sequence[float] | None = None,
) -> list[IntRow]:
    """The deployed schedule for ``size``: debt service sculpted to ``cfads`` and scaled down to fit the size.

    Debt service in period p <= tenor is ``floor(k * cap[p])`` with the smallest ``k`` in (0, 1] that repays the
    whole size, where ``cap[p]`` is ``cfads[p] / dscr_target`` unless ``caps`` gives tighter ceilings; the last
    paying period takes exactly what is left, so principals sum to ``size`` and every DSCR is at least
    ``dscr_target``. Raises ValueError if ``size`` does not fit.
    """
    tenor = min(tenor, len(cfads))
    base_caps = [max(c, 0) / dscr_target for c in cfads[:tenor]]
    if caps is not None:
        base_caps = [min(a, max(b, 0.0)) for a, b in zip(base_caps, caps, strict=False)]

    def caps_for(k: float) -> list[int]:
        return [math.floor(k * c) for c in base_caps]

    full = _run(size, caps_for(1.0), coupon_bps)
    if full is None or full[1] != 0:
        raise ValueError(f"senior size {size} is not repayable from the cash flow at DSCR {dscr_target}")
    lo, hi = 0.0, 1.0
    for _ in range(80):
        mid = (lo + hi) / 2
        run = _run(size, caps_for(mid), coupon_bps)
        if run is not None and run[1] == 0:
            hi = mid
        else:
            lo = mid
    run = _run(size, caps_for(hi), coupon_bps)
    assert run is not None and run[1] == 0
    legs = run[0]
    rows: list[IntRow] = []
    balance = size
    for p, c in enumerate(cfads):
        interest, principal = legs[p] if p < tenor else (0, 0)
        balance -= principal
        rows.append(IntRow(period=p + 1, cfads=int(c), interest=interest, principal=principal, balance=balance))
    return rows
