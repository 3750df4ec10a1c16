"""A cluster simulator for demos and tests, calibrated on the seed figures and parameterised by the deal file.

Calibration (seed documents): 8-GPU H800 servers leased at 90-120k RMB per server-month; rents fell ~20% in 2024;
average utilization of 80% or more is fine, under 50% loses money; one supplier delivered 12 of 330 servers.

Model, per period ``p`` (all money integer smallest units; floats only in the utilization statistic):

- *Delivered servers*: the deal's delivery schedule (``cluster.deliveries``), shifted by ``delay_periods`` for a
  late supplier and capped by ``delivered_fraction`` for one that delivers only part (``shortfall``).
- *Leases* take delivered servers in file order; a lease is in force from ``start_period`` to its end period.
  ``active_servers = sum(min(lease.servers, servers left for it))``.
- *Utilization*: a mean-reverting path ``u' = u + k (target - u) + vol * N(0, 1)``, clipped to [0, 1], started at
  the target; ``k`` = ``risk.utilization_mean_reversion``, ``vol`` = ``risk.utilization_vol``, target =
  ``utilization.base`` (``stress``: from period 13 the target glides down to 50%, the seed's loss line, over
  twelve periods, so the pool passes through the covenant's trap zone on its way down). Rounded to integer bps.
- *Price*: a rent index in basis points, ``(1 + risk.rent_drift_annual) ** ((p - 1) / 12)``, times 80% from period 13
  in ``stress`` (the seed's 2024 decline repeated).
- ``revenue = sum(active servers of lease x lease rent) x price_bps x utilization_bps / 10^8`` (rounded down): the
  billed fraction of the rent actually collected.
- ``contracted_rent = sum(lease servers x lease rent)`` over the leases in force: what the contracts say is due.

Deterministic for a given deal, seed and scenario (numpy ``default_rng(seed)``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from rwa.errors import DealConfigError, InputError
from rwa.oracle.sources import BillingRow, make_row

Scenario = Literal["base", "stress"]
BPS = 10_000
STRESS_FROM_PERIOD = 13
STRESS_RENT_BPS = 8_000
STRESS_UTILIZATION = 0.50
STRESS_GLIDE_PERIODS = 12


def utilization_target(base: float, scenario: str, period: int) -> float:
    """The utilization the path reverts to in ``period``: the deal's base, or in ``stress`` a glide from it to 50%
    over the twelve periods from period 13."""
    if scenario != "stress" or period < STRESS_FROM_PERIOD:
        return base
    progress = min(1.0, (period - STRESS_FROM_PERIOD + 1) / STRESS_GLIDE_PERIODS)
    return base + (STRESS_UTILIZATION - base) * progress


@dataclass(frozen=True)
class LeaseTerms:
    servers: int
    rent_per_server_month: int
    start_period: int
    end_period: int


@dataclass(frozen=True)
class DeliveryBatch:
    period: int
    servers: int
    supplier: str


@dataclass(frozen=True)
class ClusterParams:
    """What the simulator needs from a deal. ``from_deal`` reads exactly these deal fields:

    ``periods.count``, ``cluster.servers``, ``cluster.deliveries[].{period, servers, supplier}``,
    ``leases[].{servers, rent_per_server_month, start_period, term_periods}``, ``utilization.base``,
    ``risk.utilization_vol``, ``risk.utilization_mean_reversion``, ``risk.rent_drift_annual``.
    """

    periods: int
    servers: int
    deliveries: tuple[DeliveryBatch, ...]
    leases: tuple[LeaseTerms, ...]
    utilization_base: float
    utilization_vol: float = 0.05
    mean_reversion: float = 0.3
    rent_drift_annual: float = -0.05
    shortfall: dict[str, float] = field(default_factory=dict)
    """supplier -> fraction of its servers ever delivered (the seed's 12 of 330 is ``12 / 330``)."""
    delay_periods: dict[str, int] = field(default_factory=dict)
    """supplier -> periods its deliveries arrive late."""

    @classmethod
    def from_deal(cls, deal: Any) -> ClusterParams:
        """From a loaded ``rwa.deal.Deal`` (or anything with the same attributes)."""
        try:
            periods = int(deal.periods.count)
            cluster = deal.cluster
            deliveries = tuple(
                DeliveryBatch(int(d.period), int(d.servers), str(d.supplier)) for d in (cluster.deliveries or [])
            )
            leases = tuple(
                LeaseTerms(
                    int(lease.servers),
                    int(lease.rent_per_server_month),
                    int(getattr(lease, "start_period", 1)),
                    int(getattr(lease, "start_period", 1)) + int(lease.term_periods) - 1,
                )
                for lease in deal.leases
            )
            risk = getattr(deal, "risk", None)
            return cls(
                periods=periods,
                servers=int(cluster.servers),
                deliveries=deliveries,
                leases=leases,
                utilization_base=float(deal.utilization.base),
                utilization_vol=float(getattr(risk, "utilization_vol", 0.05)),
                mean_reversion=float(getattr(risk, "utilization_mean_reversion", 0.3)),
                rent_drift_annual=float(getattr(risk, "rent_drift_annual", -0.05)),
            )
        except AttributeError as exc:
            raise DealConfigError(f"deal: the simulator needs {exc.name or exc}") from None

    def with_supplier_trouble(
        self, shortfall: dict[str, float] | None = None, delay_periods: dict[str, int] | None = None
    ) -> ClusterParams:
        return ClusterParams(
            self.periods, self.servers, self.deliveries, self.leases, self.utilization_base, self.utilization_vol,
            self.mean_reversion, self.rent_drift_annual, dict(shortfall or {}), dict(delay_periods or {}),
        )

    def delivered_by(self, period: int) -> int:
        if not self.deliveries:
            return self.servers
        total = 0
        for batch in self.deliveries:
            arrives = batch.period + self.delay_periods.get(batch.supplier, 0)
            if arrives <= period:
                total += math.floor(batch.servers * self.shortfall.get(batch.supplier, 1.0))
        return total


def load_params(deal_path: Path) -> ClusterParams:
    """Simulator parameters from a deal file, read once per file version: monthly publishing asks for them every
    period, and a deal with a thousand investors takes a noticeable time to validate."""
    path = Path(deal_path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise DealConfigError(f"deal: cannot read {path}: {exc}") from None
    return _params_of(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _params_of(path: Path, mtime_ns: int, size: int) -> ClusterParams:
    from rwa.deal import load_deal

    return ClusterParams.from_deal(load_deal(path))


def simulate(params: ClusterParams, seed: int, scenario: Scenario = "base") -> list[BillingRow]:
    """Every period's billing row for the deal, deterministic in ``seed`` and ``scenario``."""
    if scenario not in ("base", "stress"):
        raise InputError(f"scenario: {scenario!r} is not 'base' or 'stress'")
    rng = np.random.default_rng(seed)
    utilization = params.utilization_base
    rows: list[BillingRow] = []
    for period in range(1, params.periods + 1):
        target = utilization_target(params.utilization_base, scenario, period)
        if period > 1:
            shock = float(rng.standard_normal())
            utilization += params.mean_reversion * (target - utilization) + params.utilization_vol * shock
            utilization = min(1.0, max(0.0, utilization))
        utilization_bps = round(utilization * BPS)
        price_bps = round(BPS * (1.0 + params.rent_drift_annual) ** ((period - 1) / 12))
        if scenario == "stress" and period >= STRESS_FROM_PERIOD:
            price_bps = price_bps * STRESS_RENT_BPS // BPS
        delivered = params.delivered_by(period)
        left = delivered
        active = 0
        billable = 0
        contracted = 0
        for lease in params.leases:
            if not lease.start_period <= period <= lease.end_period:
                continue
            contracted += lease.servers * lease.rent_per_server_month
            taken = min(lease.servers, left)
            left -= taken
            active += taken
            billable += taken * lease.rent_per_server_month
        revenue = billable * price_bps * utilization_bps // (BPS * BPS)
        rows.append(
            make_row(
                {
                    "period": period,
                    "revenue": revenue,
                    "utilization_bps": utilization_bps,
                    "active_servers": active,
                    "contracted_rent": contracted,
                    "source": "simulator",
                    "scenario": scenario,
                    "seed": str(seed),
                    "delivered_servers": str(delivered),
                    "price_index_bps": str(price_bps),
                },
                f"simulator: period {period}",
            )
        )
    return rows


def simulate_from_deal(deal: Any, seed: int, scenario: Scenario = "base") -> list[BillingRow]:
    """``simulate`` for a loaded deal (``rwa.deal.Deal``) or a deal file path."""
    params = load_params(Path(deal)) if isinstance(deal, str | Path) else ClusterParams.from_deal(deal)
    return simulate(params, seed, scenario)


def summary(rows: Sequence[BillingRow]) -> dict[str, int]:
    return {
        "periods": len(rows),
        "revenue": sum(r.revenue for r in rows),
        "contracted_rent": sum(r.contracted_rent for r in rows),
    }
