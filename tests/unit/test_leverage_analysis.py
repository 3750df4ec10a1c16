from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from rwa.leverage import breakevens, path_terms, returns, stress
from rwa.leverage.analysis import StressResult, irr, max_haircut, payback, stress_scenarios, xirr
from rwa.leverage.cashflows import BASE, billable_rent, refunds, scenario_cashflows
from rwa.leverage.path_engine import PathTerms, run_paths
from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal
from tests.support.reference_loops import run_paths_loop


def test_irr_of_a_simple_loan() -> None:
    assert irr([-100.0, 110.0]) == pytest.approx(0.10)
    assert irr([100.0, 50.0]) is None


def test_xirr_on_dates() -> None:
    dates = [datetime(2025, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)]
    assert xirr([-100.0, 110.0], dates) == pytest.approx(0.10)


def test_payback_static_and_discounted() -> None:
    flows = [-100.0, 40.0, 40.0, 40.0]
    assert payback(flows) == 3
    assert payback(flows, 0.10) is None
    assert payback([-100.0, 10.0]) is None


def test_senior_yield_is_the_coupon(deal: Deal, sizing: Sizing) -> None:
    r = returns(deal, sizing)
    # floored interest makes the yield a hair under the coupon, never over it
    assert r.senior_yield_nominal == pytest.approx(deal.financing.senior_coupon_bps / 10_000, abs=1e-6)
    assert r.senior_yield_nominal is not None and r.senior_yield_nominal <= 0.08 + 1e-12


def test_junior_returns_are_consistent(deal: Deal, sizing: Sizing) -> None:
    r = returns(deal, sizing)
    assert r.junior_irr is not None and r.junior_irr > 0
    assert r.junior_xirr is not None and r.junior_xirr == pytest.approx(r.junior_irr, rel=0.1)
    assert r.junior_moic is not None and r.junior_moic > 1
    assert r.junior_payback_periods is not None and r.junior_discounted_payback_periods is not None
    assert r.junior_payback_periods <= r.junior_discounted_payback_periods


def test_breakeven_utilization_puts_min_dscr_at_the_threshold(deal: Deal, sizing: Sizing) -> None:
    b = breakevens(deal, sizing)
    fee = sizing.servicing_fee_per_period
    for util, target in ((b.utilization_at_dscr_1, 1.0), (b.utilization_at_covenant, deal.financing.cash_trap_dscr)):
        assert util is not None
        ratios = [
            (c * util + t - fee) / s
            for c, t, s in zip(billable_rent(deal), refunds(deal), sizing.debt_service, strict=True)
            if s
        ]
        assert min(ratios) == pytest.approx(target, rel=1e-9)
    assert b.utilization_at_dscr_1 is not None and b.utilization_at_covenant is not None
    assert b.utilization_at_dscr_1 < b.utilization_at_covenant < deal.utilization.base
    assert b.rent_factor_at_dscr_1 is not None
    assert b.rent_factor_at_dscr_1 == pytest.approx(b.utilization_at_dscr_1 / deal.utilization.base)
    assert b.rent_per_server_month_at_dscr_1 is not None
    assert b.rent_per_server_month_at_dscr_1 < deal.leases[0].rent_per_server_month


def test_max_haircut_is_the_edge_of_survival(deal: Deal, sizing: Sizing) -> None:
    h = max_haircut(deal, sizing)
    assert 0 < h < 1
    cfads = np.asarray(scenario_cashflows(deal, BASE, sizing.servicing_fee_per_period).cfads, dtype=float)
    terms = path_terms(deal, sizing)
    steps = round(h * 10_000)
    grid = np.arange(steps + 2) / 10_000
    survived = run_paths(np.outer(1 - grid, cfads), terms, 0.0).loss <= 1.0
    assert survived[: steps + 1].all()  # every haircut up to h, on the 1 bp grid
    assert not survived[steps + 1]
    alone = run_paths(np.asarray([cfads * (1 - grid[steps])]), terms, 0.0)
    assert alone.loss[0] <= 1.0


def test_stress_grid_has_every_scenario(deal: Deal, sizing: Sizing) -> None:
    rows = {r.key: r for r in stress(deal, sizing)}
    assert set(rows) == {
        "base", "rent_minus_20", "rent_minus_50", "rent_minus_90", "utilization_80", "utilization_50",
        "utilization_30", "rent_minus_20_utilization_50", "largest_lessee_default", "p90_and_largest_lessee_default",
        "delivery_12_of_330", "delivery_delay", "power_plus_50", "opex_plus_30", "fx_minus_10", "fx_minus_20",
    }
    base = rows["base"]
    assert base.senior_repaid and not base.cash_trap and base.senior_loss == 0
    assert base.min_dscr == pytest.approx(sizing.min_dscr)
    assert rows["rent_minus_90"].min_dscr < rows["rent_minus_50"].min_dscr < rows["rent_minus_20"].min_dscr
    assert rows["utilization_30"].cash_trap and not rows["utilization_30"].senior_repaid
    # rent -50% no longer loses senior money (the covenant traps the junior's cash); -90% does
    assert rows["rent_minus_50"].cash_trap and rows["rent_minus_50"].senior_loss == 0
    assert rows["rent_minus_90"].senior_loss > 0 and not rows["rent_minus_90"].senior_repaid
    assert rows["fx_minus_20"].min_dscr < rows["fx_minus_10"].min_dscr < base.min_dscr
    assert rows["p90_and_largest_lessee_default"].min_dscr < rows["largest_lessee_default"].min_dscr
    assert rows["opex_plus_30"].min_dscr < rows["power_plus_50"].min_dscr < base.min_dscr
    assert rows["largest_lessee_default"].cash_trap


def test_every_stress_row_moves_a_senior_figure(deal: Deal, sizing: Sizing) -> None:
    rows = stress(deal, sizing)
    base = rows[0]

    def senior(r: StressResult) -> tuple[float, bool, bool, int]:
        return (round(r.min_dscr, 6), r.cash_trap, r.senior_repaid, r.senior_loss)

    assert base.key == "base"
    unmoved = [r.key for r in rows[1:] if senior(r) == senior(base)]
    assert unmoved == []


def test_the_lessee_default_row_is_the_sizings_worst_period(deal: Deal, sizing: Sizing) -> None:
    scenario = {k: s for k, _, s in stress_scenarios(deal, sizing)}["largest_lessee_default"]
    assert deal.risk.default_period is None  # the example deal leaves the period to the search
    assert scenario.default_period == sizing.worst_default_period
    assert scenario.relet_after == deal.risk.relet_vacancy_periods and 0 < scenario.relet_factor < 1


def _terms() -> PathTerms:
    principal = [300.0, 300.0, 400.0, 0.0, 0.0]
    return PathTerms(
        senior=1000.0,
        principal=principal,
        coupon_bps=1200,
        reserve_periods=1,
        cash_trap_dscr=1.2,
        servicing_fee=5.0,
    )


def test_waterfall_pays_on_schedule_when_cash_is_ample() -> None:
    run = run_paths(np.asarray([[1000.0] * 5]), _terms(), 0.0)
    assert run.loss[0] == 0
    assert not run.trapped[0]
    assert run.dscr[0, 0] == pytest.approx(1000 / (300 + 10))


def test_waterfall_catches_up_arrears_and_traps() -> None:
    run = run_paths(np.asarray([[0.0, 0.0, 2000.0, 0.0, 0.0]]), _terms(), 0.0)
    assert run.trapped[0]
    assert run.loss[0] == 0  # period 3 pays everything missed, with the interest capitalized
    assert run.junior[0, :2].sum() == 0


def test_waterfall_residual_covers_a_shortfall() -> None:
    terms = _terms()
    assert run_paths(np.asarray([[0.0] * 5]), terms, 0.0).loss[0] > 1000
    assert run_paths(np.asarray([[0.0] * 5]), terms, 10_000.0).loss[0] == 0


def test_vectorized_waterfall_matches_the_per_path_loop(deal: Deal, sizing: Sizing) -> None:
    rng = np.random.default_rng(7)
    base = np.asarray(scenario_cashflows(deal).cfads, dtype=float)
    cfads = base * rng.uniform(0.2, 1.8, size=(300, 1)) * rng.uniform(0.7, 1.0, size=(300, base.size))
    residual = rng.uniform(0, 3e13, size=300)
    terms = path_terms(deal, sizing)
    run = run_paths(cfads, terms, residual, 100)
    low, trapped, loss = run_paths_loop(cfads.tolist(), terms, residual.tolist(), 100)
    np.testing.assert_allclose(run.min_dscr, low, rtol=1e-12)
    np.testing.assert_allclose(run.loss, loss, rtol=1e-9, atol=1.0)
    assert run.trapped.tolist() == trapped
    assert run.loss.max() > 0 and not run.trapped.all()


def test_tranche_figures_follow_the_deployed_schedule(deal: Deal, sizing: Sizing) -> None:
    from rwa.leverage.analysis import tranche_figures

    figures = tranche_figures(deal, sizing)
    senior = figures["senior"]
    t0 = deal.periods.first_start
    times = [(deal.periods.start_of(p + 1) - t0).total_seconds() / (365 * 86_400)
             for p in range(1, deal.periods.count + 1)]
    principal = sizing.principal_schedule
    assert senior.wal_years == pytest.approx(sum(p * t for p, t in zip(principal, times, strict=True))
                                             / sum(principal), rel=1e-12)
    # the 30/360 monthly coupon paid at the end of calendar months, on actual/365: (1 + c/12)^12 - 1 over whole
    # years (8.30% at 8%); months of 28 to 31 days and a sculpted schedule move the XIRR within 2 bp of it. On
    # 30-day periods it read (1 + c/12)^(365/30) - 1 (8.42%).
    monthly = deal.financing.senior_coupon_bps / 10_000 / 12
    effective = (1 + monthly) ** 12 - 1
    assert senior.ytm == pytest.approx(effective, abs=2e-4)
    assert senior.ytm < (1 + monthly) ** (365 / 30) - 1 - 1e-3
    assert senior.modified_duration is not None and senior.wal_years is not None
    assert 0 < senior.modified_duration < senior.wal_years
    junior = figures["junior"]
    assert junior.ytm is not None and junior.ytm > senior.ytm and junior.wal_years is not None
