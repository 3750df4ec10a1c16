"""A whole deployment's contracts bound to a chain, opened from its manifest after checking it is that chain's."""

from __future__ import annotations

from dataclasses import dataclass

from rwa.chain import tx
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.model.units import TRANCHES, Tranche
from rwa.onchain.deployment import Manifest, check_chain
from rwa.onchain.offering import DealOffering
from rwa.onchain.oracle import RevenueOracle
from rwa.onchain.pool import LeasePool
from rwa.onchain.register import FleetRegister
from rwa.onchain.registry import ComplianceRegistry
from rwa.onchain.stablecoin import Stablecoin
from rwa.onchain.tranche import Position, TrancheToken


@dataclass
class DeployedDeal:
    """The deployment's contracts, bound to a chain (the deal *file* is :class:`rwa.model.deal.Deal`)."""

    chain: Chain
    manifest: Manifest
    pool: LeasePool
    oracle: RevenueOracle
    registry: ComplianceRegistry
    stablecoin: Stablecoin
    tokens: dict[Tranche, TrancheToken]
    offering: DealOffering | None = None
    """The primary offering, when the deal sold its tranches through one."""
    register: FleetRegister | None = None
    """The fleet register: the fleet, the leases and the proceeds escrow (every deal issued by this version)."""

    def positions(self, holder: str) -> dict[Tranche, Position]:
        """``holder``'s position in each tranche, read in one batch at one block."""
        values = tx.call_many([token.account_of(holder) for token in self.tokens.values()])
        return {t: TrancheToken.position_of(v) for t, v in zip(self.tokens, values, strict=True)}


def open_deployment(chain: Chain, manifest: Manifest) -> DeployedDeal:
    """Bind every contract of a complete deployment, refusing another chain's manifest (:func:`check_chain`)."""
    check_chain(chain, manifest, "pool")
    if not manifest.complete:
        raise InputError("the deployment is not complete: re-run `rwa issue` to finish it")
    return DeployedDeal(
        chain=chain,
        manifest=manifest,
        pool=LeasePool.at(chain, manifest.address("pool")),
        oracle=RevenueOracle.at(chain, manifest.address("oracle")),
        registry=ComplianceRegistry.at(chain, manifest.address("registry")),
        stablecoin=Stablecoin.at(chain, manifest.address("stablecoin")),
        tokens={t: TrancheToken.at(chain, manifest.address(t)) for t in TRANCHES},
        offering=DealOffering.at(chain, manifest.address("offering")) if "offering" in manifest.contracts else None,
        register=FleetRegister.at(chain, manifest.address("register")) if "register" in manifest.contracts else None,
    )
