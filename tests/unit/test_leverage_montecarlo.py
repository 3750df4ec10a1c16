from __future__ import annotations

import numpy as np
import pytest

from rwa.leverage.cashflows import lease_rent, refunds
from rwa.leverage.montecarlo import cfads_paths, default_periods, draw, lessee_index, run_draws, simulate
from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal
from tests.support.reference_loops import simulate_loop


def test_draws_are_seeded_and_shaped(deal: Deal) -> None:
    a, b = draw(deal, 500, 11), draw(deal, 500, 11)
    assert a.rent_factor.shape == a.utilization.shape == (500, 60)
    assert a.default_period.shape == (500, len(deal.leases))
    np.testing.assert_array_equal(a.rent_factor, b.rent_factor)
    np.testing.assert_array_equal(a.default_period, b.default_period)
    assert not np.array_equal(a.rent_factor, draw(deal, 500, 12).rent_factor)
    assert ((a.utilization >= 0) & (a.utilization <= 1)).all()
    assert (a.default_period >= 1).all() and (a.default_period <= 61).all()


def test_two_leases_of_one_lessee_default_together(deal: Deal) -> None:
    """A lessee is one credit: its leases share one default time on every path (they were drawn apart, per lease)."""
    first = deal.leases[0]
    second = first.model_copy(update={"servers": 100, "start_period": 2, "term_periods": first.term_periods - 1})
    leases = [first.model_copy(update={"servers": first.servers - 100}), second, *deal.leases[1:]]
    twice = deal.model_copy(update={"leases": leases})
    d = draw(twice, 20_000, 9)
    np.testing.assert_array_equal(d.default_period[:, 0], d.default_period[:, 1])
    assert (d.default_period[:, 0] <= 60).any()  # some paths do default: the equality is not vacuous
    assert not np.array_equal(d.default_period[:, 0], d.default_period[:, 2])  # other lessees default apart
    # a deal whose leases are all distinct lessees draws exactly as before: one exposure per lease, in lease order
    names, lease_lessee = lessee_index(deal)
    assert names == [lease.lessee for lease in deal.leases]
    np.testing.assert_array_equal(lease_lessee, np.arange(len(deal.leases)))
    assert lessee_index(twice)[1].tolist() == [0, 0, *range(1, len(deal.leases))]


def test_rent_and_utilization_move_together(deal: Deal) -> None:
    d = draw(deal, 4000, 3)
    rent_moves = np.diff(np.log(d.rent_factor), axis=1).ravel()
    util_level = d.utilization.mean(axis=1)
    assert np.corrcoef(rent_moves[:50_000], np.diff(d.utilization, axis=1).ravel()[:50_000])[0, 1] > 0.1
    assert abs(util_level.mean() - deal.utilization.base) < 0.02


def test_defaults_cluster_on_paths_where_rent_fell(deal: Deal) -> None:
    d = draw(deal, 20_000, 5)
    fell = d.rent_factor[:, -1] < np.median(d.rent_factor[:, -1])
    defaults = (d.default_period <= 60).any(axis=1)
    assert defaults[fell].mean() > defaults[~fell].mean()


def test_a_default_by_month_t_uses_no_rent_shock_of_month_t_or_later(deal: Deal) -> None:
    rng = np.random.default_rng(4)
    shocks = rng.standard_normal((60, 4000)).astype(np.float32)
    exposures = rng.standard_exponential((3, 4000)) * 0.05  # small exposures: many defaults to compare
    before = default_periods(deal, shocks, exposures)
    for t in (1, 12, 30):
        changed = shocks.copy()
        changed[t - 1 :] = rng.standard_normal((60 - t + 1, 4000)) * 3  # months t.. redrawn, and wilder
        after = default_periods(deal, changed, exposures)
        early = before <= t
        assert early.any() and (~early).any()
        np.testing.assert_array_equal(after[early], before[early])  # every default by t is unchanged
        assert (after[~early] > t).all()  # and no new one appears by t
        assert (after != before).any()  # the later shocks do move the later defaults


def test_the_relet_rent_follows_the_market_of_the_relet_month(deal: Deal) -> None:
    d = draw(deal, 3000, 6)
    start = d.default_period + deal.risk.relet_vacancy_periods
    inside = start <= 60
    rows, cols = np.nonzero(inside)
    market = d.rent_factor[rows, start[rows, cols] - 1].astype(np.float64)
    np.testing.assert_allclose(d.relet_factor[rows, cols], market * (1 - deal.risk.relet_discount_bps / 10_000))
    assert (d.relet_factor[~inside] == 0).all()


def test_cfads_paths_apply_defaults_and_factors(deal: Deal, sizing: Sizing) -> None:
    d = draw(deal, 64, 1)
    cf = cfads_paths(deal, sizing, d)
    rents = np.asarray(lease_rent(deal), dtype=float)
    deposits = np.asarray(refunds(deal), dtype=float) - sizing.servicing_fee_per_period
    month = np.arange(1, 61)[None, :]
    defaulted = (d.default_period <= 60).any(axis=1)
    for path in (0, 17, 63, *np.flatnonzero(defaulted)[:3]):
        alive = month < d.default_period[path][:, None]
        relet = month >= d.default_period[path][:, None] + deal.risk.relet_vacancy_periods
        # contracted rent is contracted (no market factor); a re-let lease pays its share of the contract
        paying = rents * alive + rents * relet * d.relet_factor[path][:, None]
        expected = paying.sum(axis=0) * d.utilization[path] + deposits
        np.testing.assert_allclose(cf[path], expected, rtol=1e-12)
    assert defaulted.any()


def test_vectorized_engine_matches_the_per_path_loop_on_the_same_paths(deal: Deal, sizing: Sizing) -> None:
    d = draw(deal, 1500, 2)
    run = run_draws(deal, sizing, d)
    low, trapped, loss = simulate_loop(deal, sizing, d)
    np.testing.assert_array_equal(run.min_dscr, low)  # the same operations in the same order: the same floats
    np.testing.assert_array_equal(run.loss, loss)
    assert run.trapped.tolist() == trapped
    assert (run.loss > 1).any()
    assert (run.min_dscr >= 0).all() and (run.loss >= 0).all()


def test_simulate_is_reproducible_and_sane(deal: Deal, sizing: Sizing) -> None:
    a = simulate(deal, sizing, paths=3000, seed=9)
    b = simulate(deal, sizing, paths=3000, seed=9)
    assert a == b
    assert 0 <= a.p_senior_loss <= a.p_covenant_breach <= 1
    assert 0 <= a.expected_loss <= a.loss_p99
    assert a.loss_p95 <= a.loss_p99 <= sizing.senior_size
    assert a.loss_p95 <= a.expected_shortfall_95 <= a.expected_shortfall_99 <= sizing.senior_size
    assert a.expected_shortfall_99 >= a.loss_p99
    assert a.expected_loss_rate == pytest.approx(a.expected_loss / sizing.senior_size)
    assert a.driver in {"rent", "utilization", "default", "residual"}
    assert a.driver_basis in {"senior_loss", "min_dscr_shortfall"}
    assert abs(a.sensitivities[a.driver]) == max(abs(v) for v in a.sensitivities.values())
    assert set(a.dscr_fan) == {"p5", "p25", "p50", "p75", "p95"}
    assert all(len(v) == 60 for v in a.dscr_fan.values())


def test_a_riskless_world_loses_nothing(deal: Deal, sizing: Sizing) -> None:
    quiet = deal.model_copy(
        update={
            "risk": deal.risk.model_copy(
                update={"rent_vol_annual": 0.0, "rent_drift_annual": 0.0, "utilization_vol": 0.0,
                        "lessee_pd_annual": 0.0}
            )
        }
    )
    result = simulate(quiet, sizing, paths=200, seed=1)
    assert result.p_senior_loss == 0
    assert result.p_covenant_breach == 0
    assert result.min_dscr_p1 == pytest.approx(sizing.min_dscr, rel=1e-6)  # float32 factors
    assert result.driver_basis == "min_dscr_shortfall"


def test_many_lessees_fall_back_from_the_state_table(
    deal: Deal, sizing: Sizing, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rwa.leverage.montecarlo as mc

    d = draw(deal, 300, 8)
    table = cfads_paths(deal, sizing, d)
    monkeypatch.setattr(mc, "MAX_STATE_LEASES", 0)
    np.testing.assert_allclose(cfads_paths(deal, sizing, d), table, rtol=1e-12)


def test_the_sizing_and_the_monte_carlo_agree_as_the_docs_state(deal: Deal, sizing: Sizing) -> None:
    """docs/leverage.md: the P90 case is harsher than the Monte Carlo's own 1-in-10 path, and sizing on it leaves
    the senior a loss probability under 0.1% (the upper end of the 95% interval) with defaults re-let."""
    from rwa.leverage.sizing import p90_cfads

    result = simulate(deal, sizing, paths=20_000)
    assert result.p_senior_loss_ci95[1] < 0.001
    d = draw(deal, 20_000, deal.risk.seed)
    tenor = sizing.tenor_periods
    discount = (1 + deal.financing.senior_coupon_bps / 120_000) ** -np.arange(1, tenor + 1)
    simulated = cfads_paths(deal, sizing, d)[:, :tenor] @ discount
    downside = np.asarray(p90_cfads(deal, sizing.servicing_fee_per_period)[:tenor], dtype=float) @ discount
    assert downside < np.percentile(simulated, 10)
    assert result.senior_loss_adjusted_yield is not None and result.junior_loss_adjusted_yield is not None
    q = result.junior_irr_percentiles
    assert q["p10"] is not None and q["p50"] is not None and q["p90"] is not None
    assert q["p10"] <= q["p50"] <= q["p90"]


def test_sizing_to_a_loss_probability_finds_the_largest_senior_under_it(deal: Deal, sizing: Sizing) -> None:
    from rwa.leverage.montecarlo import size_to_loss_probability, wilson_interval
    from rwa.leverage.sizing import shape_terms

    target, paths = 0.02, 4_000
    sized = size_to_loss_probability(deal, sizing, target, paths=paths, seed=7)
    assert sized.p_senior_loss <= target and sized.senior_size % deal.unit == 0
    assert sized.ci95 == wilson_interval(round(sized.p_senior_loss * paths), paths)
    assert sized.ci95[0] <= sized.p_senior_loss <= sized.ci95[1]
    d = draw(deal, paths, 7)
    shape = [float(a) for a in sizing.principal_schedule]
    over = run_draws(deal, sizing, d, terms=shape_terms(deal, shape, sizing.servicing_fee_per_period,
                                                      sized.senior_size * 1.05))
    assert (over.loss > 1.0).mean() > target  # 5% more senior on the same paths loses too often


def test_the_wilson_interval_brackets_the_estimate_and_is_sound_at_zero() -> None:
    from rwa.leverage.montecarlo import wilson_interval

    lo, hi = wilson_interval(0, 1000)
    assert lo == pytest.approx(0.0, abs=1e-15) and 0.003 < hi < 0.004  # about 3.8 / n at 0 hits
    lo, hi = wilson_interval(50, 1000)
    assert lo < 0.05 < hi and hi - lo < 0.03
