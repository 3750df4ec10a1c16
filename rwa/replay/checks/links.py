"""The chain's own links: the pool names its oracle, tokens, stablecoin and fee recipient itself, and the tokens
their stablecoin and registry; every address the manifest gives must agree (:func:`reconcile_links`). The manifest
only says where to start."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from rwa.replay.findings import FindingKind, Reconciliation


@dataclass(frozen=True)
class Links:
    """What the chain says the deal's contracts are, read at the replay's head."""

    oracle: str
    senior: str
    junior: str
    stablecoin: str
    fee_recipient: str
    registry: str
    token_stablecoins: Mapping[str, str]
    token_registries: Mapping[str, str]
    oracle_pool: str
    timelock_is_admin: bool = True
    """Whether the timelock the manifest names holds the pool's admin role."""
    register: str = ""
    """The fleet register the pool takes its long-stop prepayment from (empty: the pool names none)."""

    def contracts(self) -> dict[str, str]:
        linked = {"oracle": self.oracle, "senior": self.senior, "junior": self.junior, "stablecoin": self.stablecoin,
                  "registry": self.registry}
        return linked | ({"register": self.register} if self.register else {})


def reconcile_links(
    links: Links, manifest_contracts: Mapping[str, str], fee_recipient: str, pool: str, rec: Reconciliation
) -> None:
    """Every address the manifest names against the one the chain links to."""
    for key, onchain in links.contracts().items():
        named = manifest_contracts.get(key)
        if named is not None and named.lower() != onchain.lower():
            rec.add(FindingKind.MANIFEST_LINK, None, pool, onchain, named,
                    f"the manifest names {named} as the {key}, the pool is linked to {onchain}")
    if fee_recipient.lower() != links.fee_recipient.lower():
        rec.add(FindingKind.MANIFEST_LINK, None, pool, links.fee_recipient, fee_recipient,
                "the manifest's fee recipient is not the one the pool pays")
    for tranche, coin in links.token_stablecoins.items():
        if coin.lower() != links.stablecoin.lower():
            rec.add(FindingKind.MANIFEST_LINK, None, tranche, links.stablecoin, coin,
                    f"the {tranche} token pays claims in {coin}, the pool distributes {links.stablecoin}")
    for tranche, registry in links.token_registries.items():
        if registry.lower() != links.registry.lower():
            rec.add(FindingKind.MANIFEST_LINK, None, tranche, links.registry, registry,
                    f"the {tranche} token checks compliance in {registry}, the senior token in {links.registry}")
    if not links.timelock_is_admin:
        rec.add(FindingKind.MANIFEST_LINK, None, pool, "the timelock", manifest_contracts.get("timelock"),
                "the timelock the manifest names is not the pool's admin: privileged calls may bypass its delay")
    if links.oracle_pool.lower() != pool.lower():
        rec.add(FindingKind.MANIFEST_LINK, None, links.oracle, pool, links.oracle_pool,
                "the oracle is not bound to this pool: a distributed period's report can still be amended")
