"""Units and fixed-point scales shared by the contracts, the reference model, the calculator and every command.

Each constant here is the Python twin of a constant in ``contracts/``; nothing else in the package defines one, and
the one rule shared with a contract that is not a waterfall's, the oracle's currency conversion
(:func:`fx_convert_down`), is here beside its scale.
The formatting functions are how every command shows money and ratios to a person: whole stablecoin units with the
currency (``189,377,036.00 USDC``) and DSCR as a multiple (``1.83x``). Smallest units appear only with ``--raw`` or
in JSON output. The same convention holds for what a person types: :func:`parse_money` reads every money option
(whole units, up to the token's decimals; smallest units with ``--raw``), and times are ISO 8601 in UTC both ways
(:func:`format_time`, :func:`parse_time`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from functools import partial
from typing import Literal

from rwa.errors import InputError

ZERO_ADDRESS = "0x" + "00" * 20
"""The zero address: a mint's source and a burn's destination in a ``Transfer``, never a party the contracts accept
(:data:`rwa.onchain.base.ANYONE` names it as the member of an open role or the buyer of an open order)."""

BPS = 10_000
"""Basis points in one (100%)."""

MONTHLY_BPS_DIVISOR = 12 * BPS
"""An annual coupon in basis points becomes a monthly rate: ``bps / 10_000 / 12`` (``LeasePool``'s divisor)."""

COUPON_DAY_COUNT = "30/360"
"""The senior coupon's day count: every period, a calendar month of 28 to 31 days, accrues one twelfth of the annual
coupon (:data:`MONTHLY_BPS_DIVISOR`), as a 30/360 monthly coupon does."""

POINTS_MAGNITUDE = 2**64
"""The tranche token's accumulator scale: points per stablecoin smallest unit (``TrancheToken.POINTS_MAGNITUDE``)."""

MAX_TOTAL_DISTRIBUTED = 2**96 - 1
"""The most a tranche token can ever distribute (``TrancheToken.MAX_TOTAL_DISTRIBUTED``)."""

MAX_POINTS_PER_SHARE = 2**87
"""The accumulator's ceiling (``TrancheToken.MAX_POINTS_PER_SHARE``)."""

UINT32_MAX = 2**32 - 1
UINT64_MAX = 2**64 - 1
UINT96_MAX = 2**96 - 1
UINT128_MAX = 2**128 - 1

FX_RATE_SCALE = 10**18
"""The scale of an oracle report's ``fxRate`` (``RevenueOracle.FX_RATE_SCALE``): stablecoin smallest units per
source-currency smallest unit, times ``10**18``. Source amounts carry the stablecoin's decimals, so the rate is also
whole stablecoin units per whole source unit; ``FX_RATE_SCALE`` itself means no conversion."""

Tranche = Literal["senior", "junior"]
TRANCHES: tuple[Tranche, Tranche] = ("senior", "junior")
"""The two tranches, in payment order."""


def fx_convert_down(source_amount: int, fx_rate: int) -> int:
    """``source_amount`` (source-currency smallest units) in stablecoin smallest units at ``fx_rate``, rounded down:
    the rule every oracle report obeys, ``revenue == sourceRevenue * fxRate // 10**18``, the twin of
    ``RevenueOracle.fxConvertDown`` (which refuses a report that breaks it; the auditor recomputes it)."""
    return source_amount * fx_rate // FX_RATE_SCALE


def fx_rate_of(source_per_unit: float | Decimal | None) -> int:
    """The fixed-point ``fxRate`` of a quote in source units per stablecoin unit (a deal's ``rmb_per_unit``, 7.2):
    ``10**18 / quote`` rounded down, so converted revenue is never overstated; ``FX_RATE_SCALE`` (no conversion)
    without a quote. The quote is read as written (``7.2``, not its binary float)."""
    if source_per_unit is None:
        return FX_RATE_SCALE
    quote = Decimal(repr(source_per_unit)) if isinstance(source_per_unit, float) else source_per_unit
    if not quote > 0:
        raise ValueError(f"an exchange rate must be positive, got {source_per_unit!r}")
    numerator, denominator = quote.as_integer_ratio()
    return FX_RATE_SCALE * denominator // numerator  # exact: no decimal context rounds before the floor


def format_fx_rate(fx_rate: int, currency: str, source_currency: str) -> str:
    """A report's rate as a person reads it: ``0.13888888 USDC per RMB`` (8 decimals, rounded down), and the quote
    the other way round when there is a conversion (``= 7.2000 RMB per USDC``)."""
    per_source = (Decimal(fx_rate) / FX_RATE_SCALE).quantize(Decimal("0.00000001"), rounding=ROUND_DOWN)
    if fx_rate == FX_RATE_SCALE or fx_rate == 0:
        return f"{per_source} {currency} per {source_currency}"
    quote = (Decimal(FX_RATE_SCALE) / fx_rate).quantize(Decimal("0.0001"))
    return f"{per_source} {currency} per {source_currency} (= {quote} {source_currency} per {currency})"


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


_WHOLE = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?")
_RAW = re.compile(r"\d{1,3}(?:,\d{3})+|\d+")
MAX_AMOUNT_DIGITS = 78
"""The most digits an amount may have (a uint256 has 78): longer input is refused, not parsed."""


def parse_money(text: str, decimals: int, *, raw: bool = False, option: str = "--amount", unit: str = "") -> int:
    """An amount a person typed for ``option``, in smallest units: whole units (``5000``, ``5,000.50``) with at most
    ``decimals`` digits after the point, or, with ``raw``, smallest units (``5000000000``). Thousands separators are
    commas in groups of three; nothing else (no sign, exponent or currency) is read. ``unit`` names what is counted
    in the error (``USDC``, ``senior tokens``)."""
    shown = text.strip()
    what = f"whole {unit}".rstrip() if unit else "whole units"
    digits = shown.replace(",", "").replace(".", "")
    if len(digits) > MAX_AMOUNT_DIGITS:
        raise _amount_error(option, text, f"more than {MAX_AMOUNT_DIGITS} digits")
    if raw:
        if not _RAW.fullmatch(shown):
            raise _amount_error(option, text, "with --raw give an integer of smallest units, e.g. 5000000000")
        return int(shown.replace(",", ""))
    match = _WHOLE.fullmatch(shown)
    if match is None:
        raise _amount_error(option, text, f"give {what}, e.g. 5000 or 5,000.50 (smallest units with --raw)")
    fraction: str = match.group(1) or ""
    if len(fraction) > decimals:
        raise _amount_error(option, text, f"at most {decimals} digits after the point (the token's decimals)")
    whole = shown.replace(",", "").split(".")[0]
    scale: int = 10**decimals
    return int(whole) * scale + int(fraction.ljust(decimals, "0") or "0")


def _amount_error(option: str, text: str, why: str) -> InputError:
    return InputError(f"{option} {text!r}: not an amount: {why}")


def format_time(timestamp: int) -> str:
    """A unix time as every command shows one: ISO 8601 in UTC to the second (``2026-01-31T12:00:00Z``)."""
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, option: str) -> datetime:
    """A time a person typed for ``option``: a date (``2026-01-31``, 00:00 UTC) or an ISO 8601 time (UTC unless it
    carries an offset)."""
    try:
        moment = datetime.fromisoformat(text.strip())  # a bare date is that day's 00:00
    except ValueError:
        raise InputError(f"{option} {text!r}: not a date; give YYYY-MM-DD or an ISO 8601 time such as "
                         "2026-01-31T12:00:00Z") from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_DURATION_PART = re.compile(r"(\d+)([wdhms])")
_SECONDS = {"w": 7 * 86_400, "d": 86_400, "h": 3_600, "m": 60, "s": 1}


def parse_duration(text: str, option: str) -> int:
    """A span of time a person typed for ``option``, in seconds: whole numbers of weeks, days, hours, minutes and
    seconds, largest first (``30d``, ``1d12h``, ``90m``, ``3600s``)."""
    shown = text.strip().lower()
    parts = _DURATION_PART.findall(shown)
    units = [unit for _, unit in parts]
    if not parts or "".join(n + u for n, u in parts) != shown or units != sorted(set(units), key="wdhms".index):
        raise InputError(f"{option} {text!r}: not a duration; give e.g. 30d, 1d12h, 90m or 3600s")
    return sum(int(n) * _SECONDS[u] for n, u in parts)
