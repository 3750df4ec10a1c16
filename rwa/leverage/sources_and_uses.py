"""Sources and uses of the raise: what the offering's money pays for and who puts it in.

Uses: the capex of every server on order (each supplier order at its unit price), the reserve (DSRA) funded into
the pool at the offering's close, and the upfront costs the close pays. Sources: the senior and junior tranches sold
at par, and the issuer's equity, the rest of the uses. A negative equity means the tranches raise more than the uses:
the surplus goes to the issuer's treasury with the proceeds. Integers in the stablecoin's smallest units. Where each
unit goes, order by order, is :mod:`rwa.leverage.use_of_proceeds`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rwa.leverage.sizing import Sizing
from rwa.leverage.use_of_proceeds import orders_of
from rwa.model.deal import Deal
from rwa.model.terms import reserve_at_close


@dataclass(frozen=True)
class SourcesAndUses:
    capex: int
    reserve_at_close: int
    upfront_costs: int
    senior: int
    junior: int
    issuer_equity: int

    @property
    def uses(self) -> int:
        return self.capex + self.reserve_at_close + self.upfront_costs

    @property
    def sources(self) -> int:
        return self.senior + self.junior + self.issuer_equity


def sources_and_uses(deal: Deal, sizing: Sizing) -> SourcesAndUses:
    """The raise of ``deal`` sized as ``sizing``; sources equal uses to the unit."""
    capex = sum(o.price for o in orders_of(deal))
    reserve = reserve_at_close(deal, sizing.pool_terms(deal))
    costs = sum(c.amount for c in deal.offering.costs) if deal.offering is not None else 0
    equity = capex + reserve + costs - sizing.senior_size - sizing.junior_size
    return SourcesAndUses(capex, reserve, costs, sizing.senior_size, sizing.junior_size, equity)
