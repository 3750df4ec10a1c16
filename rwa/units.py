"""Units and fixed-point scales shared by the contracts, the reference model, the calculator and every command.

Each constant here is the Python twin of a constant in ``contracts/``; nothing else in the package defines one.
The formatting functions are how every command shows money and ratios to a person: whole stablecoin units with the
currency (``189,377,036.00 USDC``) and DSCR as a multiple (``1.83x``). Smallest units appear only with ``--raw`` or
in JSON output.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import ROUND_DOWN, Decimal
from functools import partial
from typing import Literal

BPS = 10_000
"""Basis points in one (100%)."""

MONTHLY_BPS_DIVISOR = 12 * BPS
"""An annual coupon in basis points becomes a monthly rate: ``bps / 10_000 / 12`` (``LeasePool``'s divisor)."""

POINTS_MAGNITUDE = 2**64
"""The tranche token's accumulator scale: points per stablecoin smallest unit (``TrancheToken.POINTS_MAGNITUDE``)."""

MAX_TOTAL_DISTRIBUTED = 2**96 - 1
"""The most a tranche token can ever distribute (``TrancheToken.MAX_TOTAL_DISTRIBUTED``)."""

MAX_POINTS_PER_SHARE = 2**87
"""The accumulator's ceiling (``TrancheToken.MAX_POINTS_PER_SHARE``)."""

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT128_MAX = 2**128 - 1

Tranche = Literal["senior", "junior"]
TRANCHES: tuple[Tranche, Tranche] = ("senior", "junior")
"""The two tranches, in payment order."""


def format_money(units: int, decimals: int, currency: str, *, raw: bool = False) -> str:
    """``units`` smallest units as whole units with two decimals (rounded towards zero) and the currency.

    ``raw`` shows the integer itself, labelled as smallest units, for a user who wants every digit: without
    separators, so it can be given back to an option that takes smallest units (``rwa distribute --amount``).
    """
    if raw:
        return f"{units} {currency} smallest units"
    whole = (Decimal(units) / (Decimal(10) ** decimals)).quantize(Decimal("0.01"), rounding=ROUND_DOWN)
    return f"{whole + 0:,.2f} {currency}"  # + 0: a negative amount under a cent shows as 0.00, not -0.00


def money_formatter(decimals: int, currency: str, *, raw: bool = False) -> Callable[[int], str]:
    """:func:`format_money` bound to one currency: what a command holds to show every amount of a deal alike."""
    return partial(format_money, decimals=decimals, currency=currency, raw=raw)


def format_dscr(dscr_bps: int | None) -> str:
    """A DSCR in basis points as a multiple with two decimals, rounded down; ``-`` when no debt service was due."""
    if dscr_bps is None or dscr_bps >= UINT32_MAX:
        return "-"
    sign = "-" if dscr_bps < 0 else ""
    whole, frac = divmod(abs(dscr_bps), BPS)
    return f"{sign}{whole}.{frac * 100 // BPS:02d}x"


def format_ratio(value: float) -> str:
    """A float DSCR (the calculator's) in the same format as :func:`format_dscr`."""
    if value != value or value in (float("inf"), float("-inf")):
        return "-"
    return format_dscr(int(Decimal(repr(value)) * BPS))
