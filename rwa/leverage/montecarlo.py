"""Monte Carlo of the deal: market rent, utilization, lessee defaults and residual value drawn together, all paths
at once.

One seeded ``numpy.random.Generator`` draws, per path and month:

- a market rent factor: geometric Brownian motion with the deal's annual drift and volatility. Contracted rent is
  contracted: the leases pay what they say until a lessee defaults; only a re-let follows the market;
- utilization: the base case plus a mean-reverting shock whose innovations are correlated with the rent's
  (demand moves both), clipped to [0, 1];
- lessee defaults: each lessee's hazard in month t comes from its annual PD, scaled up when the market rent has
  fallen *through month t-1* (a one-factor model on the standardized cumulative rent shock so far: no look-ahead),
  and a lessee defaults in the first month its cumulative hazard passes its own exponential draw: one draw per
  lessee (by name), so a lessee with several leases defaults on all of them at once. A defaulted
  lessee's servers stand empty for ``risk.relet_vacancy_periods``, then are re-let for the rest of the term at
  the market rent of the re-letting month less ``risk.relet_discount_bps``;
- a residual-value factor (lognormal, mean 1, half-correlated with the path's whole rent shock: it is realised at
  maturity).

The pool waterfall (:mod:`rwa.leverage.path_engine`) then runs with the deployed schedule on every path.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from rwa.leverage.analysis import irr, purchase_and_payment_dates, xirr
from rwa.leverage.cashflows import collateral_value, lease_rent, refunds
from rwa.leverage.path_engine import BLOCK_PATHS, CashRows, FloatArray, PathResults, PathTerms, concat, run_rows
from rwa.leverage.sizing import Sizing, shape_terms
from rwa.model.deal import Deal
from rwa.model.units import BPS

FAN_PERCENTILES = (5, 25, 50, 75, 95)
RESIDUAL_FACTOR_LOADING = 0.5
MIN_LOSS_PATHS_FOR_DRIVER = 20
MAX_STATE_LEASES = 8  # up to 2^8 default states per period in the lookup table (a uint8 state)
FAN_PATHS = 20_000  # the DSCR fan chart's percentiles come from the first paths only: a chart, not a statistic

IntArray = npt.NDArray[np.int64]
Float32Array = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Draws:
    """The random inputs of every path: (paths x periods) factors, default periods and re-let rents (paths x
    leases), residual factors (paths)."""

    rent_factor: Float32Array
    utilization: Float32Array
    default_period: IntArray
    residual_factor: FloatArray
    relet_factor: FloatArray  # a re-let lease's rent as a share of its contracted rent (0: not re-let in the term)


def draw(deal: Deal, paths: int, seed: int) -> Draws:
    """Draw ``paths`` joint paths of rent, utilization, defaults and residual value.

    Rent and utilization factors are float32 (statistics, not payments: half the memory traffic) and laid out
    periods-major in memory (the arrays exposed are transposed views), so the engine walks contiguous rows.
    """
    periods = deal.periods.count
    rng = np.random.default_rng(seed)
    rent_shock = rng.standard_normal((periods, paths), dtype=np.float32)
    util_shock = rng.standard_normal((periods, paths), dtype=np.float32)
    rho = deal.risk.rent_utilization_correlation
    util_shock *= math.sqrt(1 - rho * rho)
    util_shock += rho * rent_shock
    factor = rent_shock.sum(axis=0, dtype=np.float64) / math.sqrt(periods)  # the path's overall rent surprise
    lessees, lease_lessee = lessee_index(deal)
    # one default time per lessee, shared by all its leases: a lessee with two leases defaults once, on both
    default_period = default_periods(deal, rent_shock, rng.standard_exponential((len(lessees), paths)))[lease_lessee]
    rent_factor = _rent_factor(deal, rent_shock)
    utilization = _utilization(deal, util_shock)
    residual_factor = _residual_factor(deal, factor, rng.standard_normal(paths))
    relet = _relet_factor(deal, rent_factor, default_period)
    return Draws(rent_factor.T, utilization.T, default_period.T, residual_factor, relet.T)


def _rent_factor(deal: Deal, shock: Float32Array) -> Float32Array:
    """Geometric Brownian motion from 1, monthly steps; overwrites and returns ``shock`` (periods x paths)."""
    risk = deal.risk
    dt = 1 / 12
    shock *= risk.rent_vol_annual * math.sqrt(dt)
    shock += (risk.rent_drift_annual - risk.rent_vol_annual**2 / 2) * dt
    return np.exp(np.cumsum(shock, axis=0, out=shock), out=shock)


def _utilization(deal: Deal, shock: Float32Array) -> Float32Array:
    """Base utilization plus a mean-reverting level driven by ``shock``, clipped; overwrites ``shock``."""
    risk = deal.risk
    keep = 1 - risk.utilization_mean_reversion
    shock[0] *= risk.utilization_vol
    for p in range(1, shock.shape[0]):
        row = shock[p]
        row *= risk.utilization_vol
        row += keep * shock[p - 1]
    shock += deal.utilization.base
    return np.clip(shock, 0.0, 1.0, out=shock)


def lessee_index(deal: Deal) -> tuple[list[str], IntArray]:
    """The deal's distinct lessees in file order, and for each lease the index of its lessee (a lessee is one credit:
    its leases default together)."""
    names = list(dict.fromkeys(lease.lessee for lease in deal.leases))
    return names, np.array([names.index(lease.lessee) for lease in deal.leases], dtype=np.int64)


def default_periods(deal: Deal, rent_shock: Float32Array, exposures: FloatArray) -> IntArray:
    """First month each lessee pays nothing (``periods + 1``: never), lessees x paths (one row per exposure).

    ``rent_shock`` holds the standard normal rent innovations (periods x paths), ``exposures`` one unit
    exponential draw per lessee and path. The hazard of month t is the annual PD's monthly hazard scaled by
    ``exp(-beta * z - beta^2 / 2)`` (mean 1), where z is the standardized sum of the rent shocks of months before t
    (0 in month 1): it uses no shock of month t or later, so a default by month t is decided by then.
    """
    periods, paths = rent_shock.shape
    beta = deal.risk.default_factor_loading
    monthly = 1 - (1 - deal.risk.lessee_pd_annual) ** (1 / 12)
    so_far = np.zeros((periods, paths))
    np.cumsum(rent_shock[:-1], axis=0, dtype=np.float64, out=so_far[1:])
    so_far[1:] /= np.sqrt(np.arange(1, periods, dtype=np.float64))[:, None]
    hazard = np.minimum(monthly * np.exp(-beta * so_far - beta * beta / 2), 1 - 1e-12)
    cumulative = np.cumsum(-np.log1p(-hazard), axis=0)  # periods x paths, non-decreasing down each column
    out = np.empty(exposures.shape, dtype=np.int64)
    for lease_index, exposure in enumerate(exposures):
        passed = cumulative >= exposure[None, :]
        out[lease_index] = np.where(passed.any(axis=0), passed.argmax(axis=0) + 1, periods + 1)
    return out


def _relet_factor(deal: Deal, rent_factor: Float32Array, default_period: IntArray) -> FloatArray:
    """Each defaulted lease's re-let rent as a share of its contract: the market rent factor of the re-letting
    month less the re-let discount (leases x paths; 0 where the re-let would fall after the last period)."""
    periods = rent_factor.shape[0]
    start = default_period + deal.risk.relet_vacancy_periods  # leases x paths
    market = np.take_along_axis(rent_factor, np.minimum(start, periods) - 1, axis=0).astype(np.float64)
    market *= 1 - deal.risk.relet_discount_bps / BPS
    market[start > periods] = 0.0
    return market


def _residual_factor(deal: Deal, factor: FloatArray, noise: FloatArray) -> FloatArray:
    """Lognormal with mean 1, loaded on the rent factor so residual values fall with rents."""
    sigma = deal.risk.residual_vol
    mix = RESIDUAL_FACTOR_LOADING * factor + math.sqrt(1 - RESIDUAL_FACTOR_LOADING**2) * noise
    return np.exp(sigma * mix - sigma * sigma / 2)


def cfads_paths(deal: Deal, sizing: Sizing, draws: Draws) -> FloatArray:
    """CFADS of every path (paths x periods) after the fixed servicing fee."""
    inputs = _CashInputs.of(deal, sizing)
    paths = draws.residual_factor.shape[0]
    return np.concatenate(
        [inputs.block(draws, i, min(i + BLOCK_PATHS, paths)).T for i in range(0, paths, BLOCK_PATHS)]
    )


def run_draws(
    deal: Deal, sizing: Sizing, draws: Draws, keep_paths: int = 0, terms: PathTerms | None = None
) -> PathResults:
    """CFADS and the waterfall for every drawn path, block by block (the vectorized engine).

    Per-period DSCR and junior arrays are kept for the blocks that hold the first ``keep_paths`` paths only, so
    ``dscr`` and ``junior`` cover those paths (whole blocks) and the rest of the run allocates nothing per period.
    ``terms`` replaces the deployed terms (another senior size on the same shape).
    """
    inputs = _CashInputs.of(deal, sizing)
    terms = sizing.path_terms(deal) if terms is None else terms
    residual = inputs.residual_value * draws.residual_factor
    paths = residual.shape[0]

    def one(start: int) -> PathResults:
        stop = min(start + BLOCK_PATHS, paths)
        rows = inputs.rows(draws, start, stop)
        return run_rows(rows, deal.periods.count, stop - start, terms, residual[start:stop],
                        keep_paths=start < keep_paths)

    return concat([one(i) for i in range(0, paths, BLOCK_PATHS)])


@dataclass(frozen=True)
class _CashInputs:
    rents: FloatArray  # leases x periods
    by_state: FloatArray  # periods x 2^leases: contracted rent when the lessees in the state's bits have defaulted
    deposits: FloatArray  # periods x 1: refunds less the servicing fee
    residual_value: float
    vacancy: int

    @classmethod
    def of(cls, deal: Deal, sizing: Sizing) -> _CashInputs:
        rents = np.asarray(lease_rent(deal), dtype=np.float64)
        leases = rents.shape[0]
        states = np.arange(2**leases) if leases <= MAX_STATE_LEASES else np.arange(1)
        alive = ((states[:, None] >> np.arange(leases)[None, :]) & 1) == 0  # states x leases
        by_state = rents.T @ alive.T.astype(np.float64)
        deposits = np.asarray(refunds(deal), dtype=np.float64) - sizing.servicing_fee_per_period
        return cls(rents, by_state, deposits[:, None], float(collateral_value(deal)[-1]),
                   deal.risk.relet_vacancy_periods)

    def rows(self, draws: Draws, start: int, stop: int) -> CashRows:
        """CFADS of paths [start, stop) a period at a time, as :meth:`block` computes it (same floats), floored at 0.

        Only the default states are built up front (one byte per path and period); each period's row is made
        when the waterfall needs it, so no periods x paths matrix of money is ever written.
        """
        unfloored = self._unfloored(draws, start, stop)

        def row(p: int, out: FloatArray) -> FloatArray:
            unfloored(p, out)
            np.maximum(out, 0.0, out=out)
            return out

        return row

    def _unfloored(self, draws: Draws, start: int, stop: int) -> CashRows:
        """Period p's CFADS of paths [start, stop): the contracted rent of the lessees still paying (looked up by
        which have defaulted), plus each re-let lease's rent at its re-let share, times utilization, plus the
        refunds less the fee."""
        leases, paths = self.rents.shape[0], stop - start
        when = draws.default_period.T[:, start:stop]  # leases x paths, contiguous rows
        relet_from = when + self.vacancy
        share = draws.relet_factor.T[:, start:stop]
        utilization = draws.utilization.T[:, start:stop]
        deposits = self.deposits[:, 0]
        table = leases <= MAX_STATE_LEASES
        state = self._states(draws, start, stop) if table else None
        mask, part = np.empty(paths, dtype=bool), np.empty(paths)

        def row(p: int, out: FloatArray) -> FloatArray:
            if state is not None:
                np.take(self.by_state[p], state[p], out=out)
            else:  # too many lessees for a state table: add each lessee still paying
                out.fill(0.0)
                for lease_index, rent in enumerate(self.rents):
                    np.less(p + 1, when[lease_index], out=mask)
                    np.multiply(mask, rent[p], out=part)
                    out += part
            for lease_index, rent in enumerate(self.rents):
                np.greater_equal(p + 1, relet_from[lease_index], out=mask)
                np.multiply(mask, share[lease_index], out=part)
                np.multiply(part, rent[p], out=part)
                out += part
            out *= utilization[p]
            out += deposits[p]
            return out

        return row

    def _states(self, draws: Draws, start: int, stop: int) -> npt.NDArray[np.uint8]:
        """Bit l of a path's state in a period: lessee l has defaulted by then (periods x paths)."""
        periods, leases = self.rents.shape[1], self.rents.shape[0]
        month = np.arange(1, periods + 1, dtype=np.int64)[:, None]
        when = draws.default_period.T[:, start:stop]  # leases x paths, contiguous rows
        state: npt.NDArray[np.uint8] = (month >= when[0][None, :]).view(np.uint8).copy()
        for lease_index in range(1, leases):
            gone = (month >= when[lease_index][None, :]).view(np.uint8)
            np.left_shift(gone, lease_index, out=gone)
            state |= gone
        return state

    def block(self, draws: Draws, start: int, stop: int) -> FloatArray:
        """Periods-major CFADS of paths [start, stop) (not floored)."""
        periods = self.rents.shape[1]
        cfads = np.empty((periods, stop - start))
        row = self._unfloored(draws, start, stop)
        for p in range(periods):
            row(p, cfads[p])
        return cfads


@dataclass(frozen=True)
class MonteCarlo:
    """Loss and covenant statistics over the simulated paths; money in smallest units (floats).

    ``loss_p95`` / ``loss_p99`` are the 95th and 99th percentiles of the senior's loss (value at risk);
    ``expected_shortfall_*`` the mean loss over the worst 5% / 1% of paths.
    """

    paths: int
    seed: int
    p_covenant_breach: float
    p_senior_loss: float
    expected_loss: float
    expected_loss_rate: float
    loss_p95: float
    loss_p99: float
    expected_shortfall_95: float
    expected_shortfall_99: float
    min_dscr_p5: float
    min_dscr_p1: float
    driver: str
    driver_basis: str
    sensitivities: dict[str, float]
    dscr_fan: dict[str, list[float]] = field(default_factory=dict)
    p_senior_loss_ci95: tuple[float, float] = (0.0, 1.0)
    senior_loss_adjusted_yield: float | None = None
    junior_loss_adjusted_yield: float | None = None
    junior_irr_percentiles: dict[str, float | None] = field(default_factory=dict)


def simulate(deal: Deal, sizing: Sizing, paths: int | None = None, seed: int | None = None) -> MonteCarlo:
    """Draw, run the waterfall on every path, and summarize."""
    paths = deal.risk.paths if paths is None else paths
    seed = deal.risk.seed if seed is None else seed
    draws = draw(deal, paths, seed)
    run = run_draws(deal, sizing, draws, keep_paths=FAN_PATHS)
    loss = run.loss
    lost = loss > 1.0
    senior = max(sizing.senior_size, 1)
    inputs = _inputs(deal, draws)
    if int(lost.sum()) >= MIN_LOSS_PATHS_FOR_DRIVER:
        basis, outcome = "senior_loss", loss
    else:
        basis, outcome = "min_dscr_shortfall", -np.minimum(run.min_dscr, 1e6)
    outcome_ranks = _ranks(outcome)
    sensitivities = {name: _rank_correlation(_ranks(values), outcome_ranks) for name, values in inputs.items()}
    driver = max(sensitivities, key=lambda k: abs(sensitivities[k]))
    sample = run.dscr[:FAN_PATHS]
    with warnings.catch_warnings():  # months with no debt service on any path are all-NaN: NaN in the fan
        warnings.simplefilter("ignore", RuntimeWarning)
        fan = np.nanpercentile(np.where(np.isinf(sample), np.nan, sample), FAN_PERCENTILES, axis=0)
    return MonteCarlo(
        paths=paths,
        seed=seed,
        p_covenant_breach=float(run.trapped.mean()),
        p_senior_loss=float(lost.mean()),
        expected_loss=float(loss.mean()),
        expected_loss_rate=float(loss.mean() / senior),
        loss_p95=float(np.percentile(loss, 95)),
        loss_p99=float(np.percentile(loss, 99)),
        expected_shortfall_95=_tail_mean(loss, 0.95),
        expected_shortfall_99=_tail_mean(loss, 0.99),
        min_dscr_p5=_percentile(run.min_dscr, 5),
        min_dscr_p1=_percentile(run.min_dscr, 1),
        driver=driver,
        driver_basis=basis,
        sensitivities=sensitivities,
        dscr_fan={f"p{q}": [float(x) for x in row] for q, row in zip(FAN_PERCENTILES, fan, strict=True)},
        p_senior_loss_ci95=wilson_interval(int(lost.sum()), paths),
        senior_loss_adjusted_yield=_mean_flow_yield(deal, sizing.senior_size, run.senior, run.senior_final),
        junior_loss_adjusted_yield=_mean_flow_yield(deal, sizing.junior_size, run.junior, run.junior_final),
        junior_irr_percentiles=_junior_irr_percentiles(sizing.junior_size, run),
    )


def wilson_interval(hits: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The 95% Wilson score interval of a probability estimated as ``hits / trials`` (sound at 0 hits)."""
    if trials <= 0:
        return (0.0, 1.0)
    p = hits / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return (max(centre - half, 0.0), min(centre + half, 1.0))


def _mean_flow_yield(deal: Deal, price: int, cash: FloatArray, final: FloatArray) -> float | None:
    """The loss-adjusted yield: XIRR (actual/365) of paying ``price`` at the first start for the mean, over the kept
    paths, of what the tranche receives each period (maturity added to the last): expected cash, losses included."""
    if price <= 0 or cash.shape[1] == 0:
        return None
    kept = cash.shape[0]
    mean = cash.mean(axis=0)
    mean[-1] += float(final[:kept].mean())
    return xirr([-float(price), *mean.tolist()], purchase_and_payment_dates(deal, mean.size))


def _junior_irr_percentiles(price: int, run: PathResults) -> dict[str, float | None]:
    """P10, P50 and P90 of the junior's IRR over the kept paths (monthly IRR compounded to a year; a path whose flows
    never turn positive has no IRR and ranks lowest)."""
    if price <= 0 or run.junior.shape[1] == 0:
        return {}
    kept = run.junior.shape[0]
    rates = []
    for path in range(kept):
        flows = [-float(price), *run.junior[path].tolist()]
        flows[-1] += float(run.junior_final[path])
        monthly = irr(flows)
        rates.append(-math.inf if monthly is None else (1 + monthly) ** 12 - 1)
    values = np.asarray(rates)
    out: dict[str, float | None] = {}
    for q in (10, 50, 90):
        v = float(np.percentile(values, q, method="lower"))
        out[f"p{q}"] = v if math.isfinite(v) else None
    return out


@dataclass(frozen=True)
class LossSizing:
    """The senior sized to a target probability of loss in the Monte Carlo, on the deployed shape."""

    target: float
    senior_size: int
    p_senior_loss: float
    ci95: tuple[float, float]
    paths: int
    seed: int


LOSS_SIZING_STEPS = 24  # bisection steps: about 1e-7 of the search range
LOSS_SIZING_MAX_MULTIPLE = 8  # the search stops at 8x the deployed senior


def size_to_loss_probability(
    deal: Deal, sizing: Sizing, target: float, paths: int | None = None, seed: int | None = None
) -> LossSizing:
    """The largest senior (the deployed schedule's shape, scaled; whole stablecoin units) whose Monte Carlo
    probability of a senior loss is at most ``target``, on one set of drawn paths for every size tried (common
    random numbers, so the probability only rises with the size), with the 95% interval of the estimate there."""
    if not 0 < target < 1:
        raise ValueError("target loss probability must be in (0, 1)")
    paths = deal.risk.paths if paths is None else paths
    seed = deal.risk.seed if seed is None else seed
    draws = draw(deal, paths, seed)
    shape = [float(a) for a in sizing.principal_schedule]
    fee = sizing.servicing_fee_per_period

    def losses(size: float) -> int:
        run = run_draws(deal, sizing, draws, terms=shape_terms(deal, shape, fee, size))
        return int((run.loss > 1.0).sum())

    lo, hi = 0.0, float(max(sizing.senior_size, deal.unit))
    while losses(hi) <= target * paths:
        lo, hi = hi, 2 * hi
        if hi > LOSS_SIZING_MAX_MULTIPLE * max(sizing.senior_size, deal.unit):
            hi = lo
            break
    for _ in range(LOSS_SIZING_STEPS if hi > lo else 0):
        mid = (lo + hi) / 2
        if losses(mid) <= target * paths:
            lo = mid
        else:
            hi = mid
    size = int(lo) // deal.unit * deal.unit
    hits = losses(size) if size > 0 else 0
    return LossSizing(target, size, hits / paths, wilson_interval(hits, paths), paths, seed)


def _tail_mean(loss: FloatArray, level: float) -> float:
    """Mean of the worst ``1 - level`` share of the paths' losses (expected shortfall)."""
    worst = max(1, math.ceil(loss.size * (1 - level)))
    return float(np.partition(loss, loss.size - worst)[loss.size - worst :].mean())


def _percentile(values: FloatArray, q: float) -> float:
    """Percentile that tolerates infinite values (no debt service on a path: DSCR inf)."""
    with np.errstate(invalid="ignore"):
        return float(np.percentile(values, q, method="lower"))


def _inputs(deal: Deal, draws: Draws) -> dict[str, FloatArray]:
    """Per-path summaries of each random input, oriented so that larger means better for the senior."""
    rents = np.asarray(lease_rent(deal), dtype=np.float64)
    periods = np.arange(1, deal.periods.count + 1)
    total = rents.sum()
    kept = np.zeros(draws.default_period.shape[0])
    for lease_index, row in enumerate(rents):
        cumulative = np.concatenate([[0.0], np.cumsum(row)])
        kept += cumulative[np.minimum(draws.default_period[:, lease_index] - 1, len(periods))]
    return {
        "rent": draws.rent_factor.mean(axis=1),
        "utilization": draws.utilization.mean(axis=1),
        "default": kept / total if total > 0 else kept,
        "residual": draws.residual_factor,
    }


def _ranks(values: FloatArray) -> FloatArray:
    """Ranks (1-based) with ties given their average rank: one sort, then linear passes."""
    order = np.argsort(values)
    ordered = values[order]
    starts = np.empty(ordered.size, dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    group = np.cumsum(starts) - 1
    counts = np.bincount(group)
    average = np.cumsum(counts) - (counts - 1) / 2
    ranks = np.empty(ordered.size)
    ranks[order] = average[group]
    return ranks


def _rank_correlation(ra: FloatArray, rb: FloatArray) -> float:
    """Spearman's rho from two rank vectors; 0 when either is constant."""
    if ra.std() == 0 or rb.std() == 0:
        return 0.0
    return float(np.corrcoef(ra, rb)[0, 1])
