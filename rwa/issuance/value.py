"""A deployment's tranches at fair value (:mod:`rwa.leverage.valuation`), from the pool's state on the chain.

Everything is read at the chain's latest block, and that block's time is the default valuation date: the state and
the date are the same moment, whatever the wall clock says (a development chain's clock is moved by the demo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from rwa.chain.tx import call_many
from rwa.leverage.valuation import TrancheValue, value_tranches
from rwa.model.deal import Deal
from rwa.model.units import TRANCHES, Tranche
from rwa.model.waterfall import PoolState
from rwa.onchain.deployed import DeployedDeal


@dataclass(frozen=True)
class DeploymentValue:
    """The tranches' fair values at ``at``, from the pool's ``state`` at ``block`` (whose time is ``as_of``)."""

    at: datetime
    as_of: datetime
    block: int
    state: PoolState
    tranches: dict[Tranche, TrancheValue]
    late: dict[int, int]
    """Each late period (:func:`rwa.model.calendar.late_periods` at ``as_of``) and the cash the pool holds for it."""


def value_deployment(
    deal: Deal,
    deployed: DeployedDeal,
    at: datetime | None = None,
    rates: dict[Tranche, Decimal] | None = None,
) -> DeploymentValue:
    """Each tranche's fair value at ``at`` (default the latest block's time) at ``rates`` (default each tranche's
    market rate, :func:`rwa.leverage.valuation.market_rate_bps`)."""
    block, timestamp = deployed.chain.head()
    as_of = datetime.fromtimestamp(timestamp, tz=UTC)
    pool = deployed.pool
    values = call_many([pool.state_read(), pool.scale_read()]
                       + [deployed.tokens[t].contract.functions.totalSupply() for t in TRANCHES], block=block)
    state = pool.state_of(values[0], values[1])
    supplies = {t: int(v) for t, v in zip(TRANCHES, values[2:], strict=True)}
    when = as_of if at is None else at
    late_periods = pool.late_periods(timestamp, state.last_distributed_period)
    held = call_many([pool.contract.functions.deposited(p) for p in late_periods], block=block) if late_periods else []
    late = {p: int(v) for p, v in zip(late_periods, held, strict=True)}
    tranches = value_tranches(deal, pool.terms(), state, supplies, when, rates, as_of=as_of, late=late)
    return DeploymentValue(at=when, as_of=as_of, block=block, state=state, tranches=tranches, late=late)
