"""A pool system whose tranches are sold through a ``DealOffering`` instead of being minted to listed holders."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.types import TxReceipt

from rwa.chain.interface import Chain
from rwa.chain.tx import deploy
from rwa.model.offering_book import JUNIOR_ID, SENIOR_ID, Cost, OfferingConfig
from rwa.onchain.base import Role
from rwa.onchain.offering import DealOffering
from tests.support.pool_system import DAY, PoolSystem, deploy_pool_system

JUNIOR_SIZE = 100_000
RESERVE = 50_000
COSTS = (10_000, 5_000)
WINDOW = 7 * DAY
CLOSE_GRACE = 14 * DAY


@dataclass
class OfferingSystem:
    pool: PoolSystem
    offering: DealOffering
    investors: list[str]
    treasury: str
    cost_recipients: list[str]
    outsider: str
    escrow: Contract
    """The escrow the close funds (a ``StubEscrow``: the price of the fleet it holds the raise for is 0 unless a
    test sets it, so the whole proceeds go to the treasury)."""

    @property
    def chain(self) -> Chain:
        return self.pool.chain

    def subscribe(self, investor: str, tranche: int, assets: int) -> TxReceipt:
        """Mint ``assets`` to ``investor``, approve and request a deposit for itself."""
        usd = self.pool.usd
        usd.mint(investor, assets, sender=self.pool.admin)
        usd.approve(self.offering.address, assets, sender=investor)
        return self.offering.subscribe(tranche, assets, investor, sender=investor)

    def end_window(self) -> None:
        self.chain.time_travel(self.offering.config().close_time)

    def size(self, tranche: int) -> int:
        return self.offering.book(tranche).size


def deploy_offering_system(
    chain: Chain,
    *,
    take_up: tuple[int, int] = (0, 0),
    reserve: int = RESERVE,
    costs: tuple[int, ...] = COSTS,
    min_ticket: int = 0,
    max_ticket: int = 10**12,
    close_grace: int = CLOSE_GRACE,
    pool_kwargs: dict[str, Any] | None = None,
    capex: int = 0,
) -> OfferingSystem:
    """Accounts 0 admin, 1 servicer, 2 fee recipient; 3..10 allowed investors, 11 treasury (allowed), 12..13 cost
    recipients, 14 never allowed. The offering holds both tokens' ISSUER_ROLE; its window opens now for 7 days; its
    close funds an escrow holding the raise for a fleet of price ``capex``."""
    accounts = [a.address for a in chain.accounts]
    pool = deploy_pool_system(chain, senior_holders={}, junior_holders={}, close_issuance=False,
                              junior_face=JUNIOR_SIZE, **(pool_kwargs or {}))
    investors, treasury, recipients, outsider = accounts[3:11], accounts[11], accounts[12:14], accounts[14]
    pool.allow([*investors, treasury])
    now = chain.now()
    escrow = deploy(chain, "StubEscrow", pool.usd.address, capex, sender=pool.admin, gas=1_000_000)
    config = OfferingConfig(now, now + WINDOW, close_grace, min_ticket, max_ticket, reserve, treasury, *take_up,
                            escrow=escrow.address)
    offering = DealOffering.deploy(chain, config, [Cost(r, a) for r, a in zip(recipients, costs, strict=False)],
                                   pool.pool, pool.terms.face, JUNIOR_SIZE, sender=pool.admin)
    for token in (pool.senior, pool.junior):
        token.grant_role(Role.ISSUER_ROLE, offering, sender=pool.admin)
        token.renounce_role(Role.ISSUER_ROLE, sender=pool.admin)
    return OfferingSystem(pool, offering, investors, treasury, recipients, outsider, escrow)


__all__ = ["DAY", "JUNIOR_ID", "SENIOR_ID", "OfferingSystem", "deploy_offering_system"]
