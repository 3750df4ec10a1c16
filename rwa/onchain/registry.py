"""Typed wrapper over ``ComplianceRegistry``: the deal's investor list (allowed, KYC expiry, jurisdiction, frozen)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from web3.types import TxReceipt

from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.model.units import ZERO_ADDRESS
from rwa.onchain.base import ContractWrapper, HasAddress, Role, create, to_address

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

BATCH_SIZE = 200
"""Investors per ``allowInvestors`` transaction: about 25k gas each plus about 25k per bound token, so a batch
stays far below a block's limit."""

_RECORD_EVENTS = ("InvestorAllowed", "KycUpdated", "InvestorRevoked", "InvestorFrozen")


@dataclass(frozen=True)
class InvestorRecord:
    """One wallet's entry in the registry; all zero for an unknown wallet."""

    allowed: bool
    frozen: bool
    kyc_expiry: int
    jurisdiction: int


class ComplianceRegistry(ContractWrapper):
    """The deployed ``ComplianceRegistry``; every transaction names its ``sender`` explicitly.

    The registry pushes every record change to its bound tokens; bind a new token with ``bind_token`` and then
    ``sync_investors(token, registry.known_investors())`` (``TrancheToken.deploy`` does both).

    ``gas``, when given, is sent with every transaction instead of an estimate (about twice as fast on the
    embedded chain; a revert is still decoded).
    """

    CONTRACT = "ComplianceRegistry"
    ROLES = (Role.DEFAULT_ADMIN_ROLE, Role.COMPLIANCE_ROLE, Role.AGENT_ROLE)

    @classmethod
    def deploy(
        cls, chain: Chain, admin: str | HasAddress, *, sender: str | None = None, gas: int | None = None,
        batch: Batch | None = None,
    ) -> ComplianceRegistry:
        """Deploy a registry whose ``admin`` holds DEFAULT_ADMIN_ROLE, COMPLIANCE_ROLE and AGENT_ROLE."""
        contract = create(chain, cls.CONTRACT, to_address(admin), sender=sender, batch=batch)
        return cls(chain, contract, gas)

    # -- transactions ---------------------------------------------------------------------------------------

    def allow_investor(
        self, investor: str | HasAddress, kyc_expiry: int, jurisdiction: int, *, sender: str
    ) -> TxReceipt:
        """Allow ``investor`` until ``kyc_expiry`` (unix seconds) in ``jurisdiction`` (ISO 3166-1 numeric)."""
        fn = self.contract.functions.allowInvestor(to_address(investor), kyc_expiry, jurisdiction)
        return self._send(fn, sender)

    def allow_investors(
        self,
        investors: Sequence[str | HasAddress],
        kyc_expiries: Sequence[int],
        jurisdictions: Sequence[int],
        *,
        sender: str,
        batch_size: int = BATCH_SIZE,
    ) -> list[TxReceipt]:
        """Allow many investors, ``batch_size`` per transaction; returns one receipt per batch."""
        if not len(investors) == len(kyc_expiries) == len(jurisdictions):
            raise InputError(
                f"allow_investors: {len(investors)} investors, {len(kyc_expiries)} KYC expiries and "
                f"{len(jurisdictions)} jurisdictions; give one of each per investor"
            )
        if batch_size < 1:
            raise InputError(f"allow_investors: batch_size must be at least 1, got {batch_size}")
        addresses = [to_address(i) for i in investors]
        receipts = []
        for start in range(0, len(addresses), batch_size):
            end = start + batch_size
            fn = self.contract.functions.allowInvestors(
                addresses[start:end], list(kyc_expiries[start:end]), list(jurisdictions[start:end])
            )
            receipts.append(self._send_estimated(fn, sender))  # estimated: a batch needs far more than one call's gas
        return receipts

    def update_kyc(self, investor: str | HasAddress, kyc_expiry: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.updateKyc(to_address(investor), kyc_expiry), sender)

    def revoke_investor(self, investor: str | HasAddress, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.revokeInvestor(to_address(investor)), sender)

    def set_frozen(self, investor: str | HasAddress, frozen: bool, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.setFrozen(to_address(investor), frozen), sender)

    def bind_token(self, token: str | HasAddress, *, sender: str) -> TxReceipt:
        """Push every later record change to ``token`` (``sender`` needs DEFAULT_ADMIN_ROLE)."""
        return self._send(self.contract.functions.bindToken(to_address(token)), sender)

    def sync_investors(
        self,
        token: str | HasAddress,
        investors: Sequence[str | HasAddress],
        *,
        sender: str,
        batch_size: int = BATCH_SIZE,
    ) -> list[TxReceipt]:
        """Push the current records of ``investors`` to the bound ``token``, ``batch_size`` per transaction."""
        if batch_size < 1:
            raise InputError(f"sync_investors: batch_size must be at least 1, got {batch_size}")
        target = to_address(token)
        addresses = [to_address(i) for i in investors]
        receipts = []
        for start in range(0, len(addresses), batch_size):
            fn = self.contract.functions.syncInvestors(target, addresses[start : start + batch_size])
            receipts.append(self._send_estimated(fn, sender))  # estimated: a batch needs far more than one call's gas
        return receipts

    # -- views ----------------------------------------------------------------------------------------------

    def investor_of(self, investor: str | HasAddress) -> InvestorRecord:
        allowed, frozen, kyc_expiry, jurisdiction = self._call(self.contract.functions.investorOf(to_address(investor)))
        return InvestorRecord(bool(allowed), bool(frozen), int(kyc_expiry), int(jurisdiction))

    def is_compliant(self, investor: str | HasAddress) -> bool:
        return bool(self._call(self.contract.functions.isCompliant(to_address(investor))))

    def restriction_of(self, from_: str | HasAddress | None, to: str | HasAddress | None) -> int:
        """The registry's ERC-1404 code for a transfer; ``None`` on a side means "do not check it"."""
        fn = self.contract.functions.restrictionOf(
            ZERO_ADDRESS if from_ is None else to_address(from_), ZERO_ADDRESS if to is None else to_address(to)
        )
        return int(self._call(fn))

    def bound_tokens(self) -> list[str]:
        """The tokens every record change is pushed to, in binding order."""
        return [to_address(a) for a in self._call(self.contract.functions.boundTokens())]

    def known_investors(self) -> list[str]:
        """Every wallet the registry holds a record of, from its event history, in order of first appearance."""
        seen: dict[str, None] = {}
        for name in _RECORD_EVENTS:
            for log in self.contract.events[name]().get_logs(from_block=0):
                seen.setdefault(to_address(log["args"]["investor"]), None)
        return list(seen)

