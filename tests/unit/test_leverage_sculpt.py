from __future__ import annotations

import math

import pytest

from rwa.leverage import size_by_dscr
from rwa.leverage.sculpt import integer_schedule, max_integer_debt
from rwa.model.waterfall import monthly_interest_down


def test_size_by_dscr_five_years() -> None:
    result = size_by_dscr([500.0] * 5, 0.06, 1.30)
    assert result.debt == pytest.approx(1620.1, abs=0.05)
    assert result.schedule[-1].balance == pytest.approx(0.0, abs=1e-9)
    assert result.schedule[0].llcr == pytest.approx(1.30, abs=1e-9)
    assert all(row.dscr == pytest.approx(1.30) for row in result.schedule)
    assert sum(row.principal for row in result.schedule) == pytest.approx(result.debt)


def test_size_by_dscr_with_a_four_year_tenor() -> None:
    result = size_by_dscr([500.0] * 5, 0.06, 1.30, tenor=4)
    assert result.debt == pytest.approx(1332.7, abs=0.05)
    assert result.schedule[3].balance == pytest.approx(0.0, abs=1e-9)
    assert result.schedule[0].llcr == pytest.approx(1.30, abs=1e-9)
    last = result.schedule[4]
    assert (last.interest, last.principal, last.balance) == (0.0, 0.0, 0.0)
    assert math.isinf(last.dscr)


def test_size_by_dscr_is_the_present_value_of_sculpted_service() -> None:
    cfads = [100.0, 0.0, 300.0, 250.0]
    result = size_by_dscr(cfads, 0.01, 1.25)
    expected = sum(c / 1.25 / 1.01 ** (i + 1) for i, c in enumerate(cfads))
    assert result.debt == pytest.approx(expected)


def test_size_by_dscr_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        size_by_dscr([1.0], 0.01, 0.0)
    with pytest.raises(ValueError):
        size_by_dscr([1.0], -1.0, 1.3)


def test_interest_is_floored_monthly_of_annual_bps() -> None:
    assert monthly_interest_down(1_000_000, 800) == 1_000_000 * 800 // 120_000 == 6_666
    assert monthly_interest_down(0, 800) == 0


def test_integer_schedule_repays_exactly_within_the_caps() -> None:
    cfads = [1_000_000] * 24
    size = max_integer_debt([c * 10 // 13 for c in cfads], 900, 10**12)
    rows = integer_schedule(size, cfads, 1.3, 900, 24)
    assert sum(r.principal for r in rows) == size
    assert rows[-1].balance == 0
    balance = size
    for r in rows:
        assert r.interest == balance * 900 // 120_000
        assert r.principal >= 0
        assert r.cfads / (r.interest + r.principal) >= 1.3
        balance -= r.principal
        assert r.balance == balance


def test_integer_schedule_is_zero_after_the_tenor() -> None:
    rows = integer_schedule(1_000_000, [300_000] * 10, 1.3, 600, 6)
    assert all(r.principal == 0 and r.interest == 0 for r in rows[6:])
    assert rows[5].balance == 0


def test_integer_schedule_refuses_a_size_the_cash_cannot_carry() -> None:
    with pytest.raises(ValueError, match="not repayable"):
        integer_schedule(10**9, [1_000] * 5, 1.3, 800, 5)


def test_max_integer_debt_is_the_largest_repayable() -> None:
    caps = [700, 700, 700]
    best = max_integer_debt(caps, 1200, 10**6)
    assert integer_schedule(best, [1000] * 3, 1000 / 700, 1200, 3)[-1].balance == 0
    with pytest.raises(ValueError):
        integer_schedule(best + 1, [1000] * 3, 1000 / 700, 1200, 3)
