"""How every command shows money, DSCR and an exchange rate (``rwa.model.units``'s formatting functions), and the
oracle's
currency conversion rule (compared with the contract's in ``test_oracle_contract.py``)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from rwa.model.units import (
    FX_RATE_SCALE,
    UINT32_MAX,
    UINT96_MAX,
    UINT128_MAX,
    format_dscr,
    format_fx_rate,
    format_money,
    format_ratio,
    fx_convert_down,
    fx_rate_of,
    money_formatter,
)


@pytest.mark.parametrize(
    ("units", "decimals", "shown"),
    [
        (189_377_036_000_000, 6, "189,377,036.00 USDC"),
        (189_377_036_699_999, 6, "189,377,036.69 USDC"),  # rounded down, never up
        (0, 6, "0.00 USDC"),
        (9_999, 6, "0.00 USDC"),
        (10_000, 6, "0.01 USDC"),
        (1_234_567, 2, "12,345.67 USDC"),
        (42, 0, "42.00 USDC"),
        (-1_500_000, 6, "-1.50 USDC"),
        (-5, 6, "0.00 USDC"),  # less than a cent either side of zero reads as zero
        (10**30, 18, "1,000,000,000,000.00 USDC"),
    ],
)
def test_format_money_shows_whole_units_with_the_currency(units: int, decimals: int, shown: str) -> None:
    assert format_money(units, decimals, "USDC") == shown


def test_format_money_raw_is_the_integer_an_option_takes_back() -> None:
    shown = format_money(7_462_040_370_619, 6, "USDC", raw=True)
    assert shown == "7462040370619 USDC smallest units"
    assert int(shown.split()[0]) == 7_462_040_370_619


def test_money_formatter_binds_one_currency() -> None:
    money = money_formatter(6, "USDT")
    assert money(1_000_000) == format_money(1_000_000, 6, "USDT") == "1.00 USDT"
    assert money_formatter(6, "USDT", raw=True)(1_000_000) == "1000000 USDT smallest units"


@pytest.mark.parametrize(
    ("bps", "shown"),
    [
        (18_267, "1.82x"),  # rounded down: a coverage ratio is never overstated
        (10_000, "1.00x"),
        (11_500, "1.15x"),
        (9_999, "0.99x"),
        (0, "0.00x"),
        (123_456, "12.34x"),
        (None, "-"),
        (UINT32_MAX, "-"),  # the pool's "no debt service due"
    ],
)
def test_format_dscr_is_a_multiple(bps: int | None, shown: str) -> None:
    assert format_dscr(bps) == shown


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (1.8267, "1.82x"),
        (1.4, "1.40x"),
        (0.29, "0.29x"),  # 0.29 is 0.28999... in binary; repr keeps it 0.29
        (5.5799, "5.57x"),
        (-0.5, "-0.50x"),
        (float("inf"), "-"),
        (float("nan"), "-"),
    ],
)
def test_format_ratio_matches_format_dscr(value: float, shown: str) -> None:
    assert format_ratio(value) == shown


def test_calculator_and_pool_show_the_same_dscr_alike() -> None:
    assert format_ratio(18_267 / 10_000) == format_dscr(18_267)


@pytest.mark.parametrize(
    ("source", "rate", "revenue"),
    [
        (123_456_789, FX_RATE_SCALE, 123_456_789),  # the rate 1e18 is the identity
        (0, 138_888_888_888_888_888, 0),
        (72_000_000, 138_888_888_888_888_888, 9_999_999),  # 72 RMB at floor(1e18 / 7.2): a hair under 10 USDC
        (72_000_001, 138_888_888_888_888_888, 10_000_000),
        (7, 10**17, 0),  # 0.7 rounds down, never up
        (10, 10**17, 1),
        (1, 2 * FX_RATE_SCALE, 2),
        (UINT128_MAX, UINT96_MAX, UINT128_MAX * UINT96_MAX // 10**18),  # the largest report: no overflow in Python
    ],
)
def test_fx_convert_down_is_the_source_times_the_rate_rounded_down(source: int, rate: int, revenue: int) -> None:
    assert fx_convert_down(source, rate) == revenue


def test_fx_rate_of_reads_the_quote_as_written_and_rounds_down() -> None:
    assert fx_rate_of(7.2) == fx_rate_of(Decimal("7.2")) == 10**18 * 10 // 72 == 138_888_888_888_888_888
    assert fx_rate_of(None) == FX_RATE_SCALE  # no quote: no conversion
    assert fx_rate_of(0.5) == 2 * FX_RATE_SCALE
    assert fx_rate_of(3.0) == 333_333_333_333_333_333
    assert fx_convert_down(7_200_000, fx_rate_of(7.2)) < 1_000_000  # a rounded-down rate never overstates revenue
    with pytest.raises(ValueError, match="positive"):
        fx_rate_of(0.0)


def test_format_fx_rate_shows_both_quotes() -> None:
    assert format_fx_rate(fx_rate_of(7.2), "USDC", "RMB") == "0.13888888 USDC per RMB (= 7.2000 RMB per USDC)"
    assert format_fx_rate(FX_RATE_SCALE, "USDC", "USDC") == "1.00000000 USDC per USDC"


def test_money_typed_in_whole_units_or_raw_is_read_to_the_smallest_unit_or_refused() -> None:
    from rwa.errors import InputError
    from rwa.model.units import format_time, parse_money, parse_time

    assert parse_money("5000", 6) == 5_000_000_000 and parse_money("5,000.50", 6) == 5_000_500_000
    assert parse_money("0.000001", 6) == 1 and parse_money(" 12 ", 0) == 12
    assert parse_money("5000000000", 6, raw=True) == 5_000_000_000 and parse_money("1,000", 6, raw=True) == 1_000
    for bad in ("5e3", "-5", "1.0000001", "1,00", "", "5 USDC", ".5", "5.", "inf", "1" * 79):
        with pytest.raises(InputError, match=r"^--price .*: not an amount"):
            parse_money(bad, 6, option="--price")
    with pytest.raises(InputError, match="with --raw give an integer"):
        parse_money("5.5", 6, raw=True)
    assert format_time(0) == "1970-01-01T00:00:00Z"
    assert int(parse_time("2026-01-31T12:00:00Z", "--to").timestamp()) == 1_769_860_800
    assert format_time(int(parse_time("2026-01-31", "--to").timestamp())) == "2026-01-31T00:00:00Z"


def test_a_duration_is_whole_units_largest_first() -> None:
    from rwa.errors import InputError
    from rwa.model.units import parse_duration

    assert parse_duration("30d", "--by") == 30 * 86_400 and parse_duration("1d12h", "--by") == 129_600
    assert parse_duration("1w", "--by") == 604_800 and parse_duration("90m", "--by") == 5_400
    for bad in ("", "30", "1h1d", "1d1d", "30 days", "-1d", "1.5d"):
        with pytest.raises(InputError, match=r"^--by .*: not a duration"):
            parse_duration(bad, "--by")
