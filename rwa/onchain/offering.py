"""The deal's primary offering (``DealOffering``): subscriptions per tranche, a close that allocates and routes the
raise (or, with no close past its grace, an abandonment), and claims of tokens and refunds. Amounts are stablecoin
smallest units; a token unit costs one stablecoin unit (par)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

from web3.logs import DISCARD
from web3.types import BlockIdentifier, TxReceipt

from rwa.chain.interface import Chain
from rwa.model.offering_book import CloseOutcome, Cost, OfferingConfig
from rwa.model.units import Tranche
from rwa.onchain.base import ContractWrapper, HasAddress, create, to_address

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

TRANCHE_IDS: dict[Tranche, int] = {"senior": 0, "junior": 1}


class Phase(enum.IntEnum):
    """``IDealOffering.Phase``."""

    OPEN = 0
    CLOSED = 1
    CANCELLED = 2


@dataclass(frozen=True)
class TrancheBook:
    """One tranche's side of the book as the contract holds it."""

    token: str
    size: int
    requested: int
    claimed_assets: int
    delivered: int
    taken_up: int


@dataclass(frozen=True)
class Settled:
    """What one claim did: the request it settled (``DepositClaimed``: ``assets`` split into ``shares`` allotted and
    ``refund``; all 0 for a claim that only delivered) and the tokens it delivered (``SharesDelivered``)."""

    controller: str
    tranche: int
    assets: int
    shares: int
    refund: int
    refund_paid: bool
    delivered: int

    @property
    def held(self) -> bool:
        """Tokens of this claim still wait in the offering (the controller could not receive them)."""
        return self.delivered < self.shares


@dataclass(frozen=True)
class Route:
    """A ``CloseRouted``: ``kind`` 0 reserve, 1 cost, 2 proceeds to the treasury, 3 proceeds into the fleet
    register's escrow; ``paid`` false when owed instead."""

    kind: int
    recipient: str
    amount: int
    paid: bool


class DealOffering(ContractWrapper):
    CONTRACT = "DealOffering"

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        config: OfferingConfig,
        costs: Sequence[Cost],
        pool: str | HasAddress,
        senior_size: int,
        junior_size: int,
        *,
        sender: str,
        batch: Batch | None = None,
    ) -> DealOffering:
        cfg = astuple(config)
        cfg = (*cfg[:6], to_address(config.treasury), to_address(config.escrow), *cfg[7:9])
        contract = create(chain, "DealOffering", cfg, [(to_address(c.recipient), c.amount) for c in costs],
                          to_address(pool), senior_size, junior_size, sender=sender, batch=batch)
        return cls(chain, contract)

    # -- transactions -------------------------------------------------------------------------------------------

    def subscribe(self, tranche: int, assets: int, controller: str, *, sender: str) -> TxReceipt:
        """``sender`` (the controller or a payer it approved) pays ``assets`` (approved to the offering) for
        ``controller``'s request in ``tranche``."""
        fn = self.contract.functions.subscribe(tranche, assets, to_address(controller))
        return self._send(fn, sender)

    def set_payer(self, payer: str, approved: bool, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.setPayer(to_address(payer), approved), sender)

    def cancel(self, tranche: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.cancelSubscription(tranche), sender)

    def close(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.close(), sender)

    def abandon(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.abandon(), sender)

    def claim(self, tranche: int, controller: str, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.claim(tranche, to_address(controller)), sender)

    def withdraw_owed(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.withdrawOwed(), sender)

    # -- views --------------------------------------------------------------------------------------------------

    def phase(self) -> Phase:
        return Phase(int(self._call(self.contract.functions.phase())))

    def config(self, block: BlockIdentifier = "latest") -> OfferingConfig:
        raw = self._call(self.contract.functions.config(), block)
        return OfferingConfig(int(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]), int(raw[4]), int(raw[5]),
                              str(raw[6]), int(raw[8]), int(raw[9]), escrow=str(raw[7]))

    def costs(self, block: BlockIdentifier = "latest") -> list[Cost]:
        return [Cost(str(r), int(a)) for r, a in self._call(self.contract.functions.costs(), block)]

    def book(self, tranche: int) -> TrancheBook:
        raw = self._call(self.contract.functions.trancheState(tranche))
        return TrancheBook(str(raw[0]), *(int(x) for x in raw[1:]))

    def pending(self, tranche: int, controller: str) -> int:
        return int(self._call(self.contract.functions.pendingOf(tranche, to_address(controller))))

    def claimable(self, tranche: int, controller: str) -> int:
        """The controller's request still to settle (after the close)."""
        return int(self._call(self.contract.functions.claimableOf(tranche, to_address(controller))))

    def held_for(self, tranche: int, controller: str) -> int:
        """Tokens allotted to (or taken up by) ``controller`` that wait in the offering until it can receive them."""
        return int(self._call(self.contract.functions.heldFor(tranche, to_address(controller))))

    def stablecoin(self) -> str:
        return str(self._call(self.contract.functions.stablecoin()))

    def owed(self, account: str) -> int:
        return int(self._call(self.contract.functions.owed(to_address(account))))

    # -- events -------------------------------------------------------------------------------------------------

    def settled_in(self, receipt: TxReceipt) -> Settled:
        """What the claim in ``receipt`` did: its settlement (when it settled a request) and its delivery."""
        settled: Any = self.contract.events.DepositClaimed().process_receipt(receipt, errors=DISCARD)
        delivered: Any = self.contract.events.SharesDelivered().process_receipt(receipt, errors=DISCARD)
        shares = sum(int(d["args"]["shares"]) for d in delivered)
        if not settled:
            d = delivered[0]["args"]
            return Settled(str(d["controller"]), int(d["requestId"]), 0, 0, 0, True, shares)
        a = settled[0]["args"]
        return Settled(str(a["controller"]), int(a["requestId"]), int(a["assets"]), int(a["shares"]),
                       int(a["refund"]), bool(a["refundPaid"]), shares)

    def routes_in(self, receipt: TxReceipt) -> list[Route]:
        """The close's payments in ``receipt``, in order."""
        logs: Any = self.contract.events.CloseRouted().process_receipt(receipt, errors=DISCARD)
        return [Route(int(e["args"]["kind"]), str(e["args"]["recipient"]), int(e["args"]["amount"]),
                      bool(e["args"]["paid"])) for e in logs]

    def close_outcome_in(self, receipt: TxReceipt) -> CloseOutcome:
        """What the close in ``receipt`` decided (``OfferingClosed`` or ``OfferingCancelled``)."""
        closed = self.contract.events.OfferingClosed().process_receipt(receipt, errors=DISCARD)
        if closed:
            a: Any = closed[0]["args"]
            return CloseOutcome(tuple(int(x) for x in a["requested"]), tuple(int(x) for x in a["sold"]),  # type: ignore[arg-type]
                                tuple(int(x) for x in a["takenUp"]), int(a["reserve"]), int(a["costs"]),  # type: ignore[arg-type]
                                int(a["proceeds"]))
        c: Any = self.contract.events.OfferingCancelled().process_receipt(receipt, errors=DISCARD)[0]["args"]
        books = (self.book(0), self.book(1))
        return CloseOutcome((books[0].requested, books[1].requested), (0, 0), (0, 0), 0, 0, 0,
                            cancelled_by=int(c["tranche"]), needed=int(c["needed"]))
