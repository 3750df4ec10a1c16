"""The asset, attested: the reporters sign each delivered batch of servers and each change to the leases (EIP-712 in
the oracle's domain), and anyone sends the attestation to the fleet register, which records it and releases the
escrow by its rules (:mod:`rwa.model.fleet`).

The deal's delivery schedule (:func:`rwa.model.fleet.delivery_batches`) is what a simulated run attests: batch k of
the schedule is the register's delivery k, accepted at the start of its period (the first start for period 1), its
serial numbers the simulator's. A run attests the batches due by a period that the register does not hold yet, so a
second run, or one resumed after a crash, attests nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from web3.types import TxReceipt

from rwa.errors import InputError
from rwa.model.deal import Deal
from rwa.model.fleet import RegisterTerms, delivery_batches
from rwa.onchain.oracle import OracleConfig, RevenueOracle
from rwa.onchain.register import Delivery, FleetRegister, LeaseUpdate, delivery_typed_data, lease_update_typed_data
from rwa.onchain.register import serials_hash as hash_serials
from rwa.oracle.keys import select_signers
from rwa.oracle.report import sign_typed

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch


def sign_delivery(delivery: Delivery, accounts: Sequence[LocalAccount], chain_id: int, oracle: str) -> list[bytes]:
    return sign_typed(delivery_typed_data(delivery, chain_id, oracle), accounts)


def sign_lease_update(update: LeaseUpdate, accounts: Sequence[LocalAccount], chain_id: int, oracle: str
                      ) -> list[bytes]:
    return sign_typed(lease_update_typed_data(update, chain_id, oracle), accounts)


@dataclass(frozen=True)
class PlannedDelivery:
    """Batch ``index`` of the deal's schedule, as it will be attested (its sequence is the register's when sent)."""

    index: int
    period: int
    order: int
    supplier: str
    servers: int
    site: str
    serials: tuple[str, ...]
    accepted_at: int

    def delivery(self, sequence: int) -> Delivery:
        return Delivery(self.order, self.servers, hash_serials(self.serials), self.accepted_at, self.site, sequence)


def scheduled_deliveries(deal: Deal, terms: RegisterTerms, shortfall: bool = False) -> list[PlannedDelivery]:
    """The deal's delivery schedule as the attestations a simulated run makes, in schedule order."""
    out = []
    for k, batch in enumerate(delivery_batches(deal, shortfall)):
        accepted = int(deal.periods.start_of(batch.period).timestamp())
        out.append(PlannedDelivery(k, batch.period, terms.order_index(batch.supplier), batch.supplier, batch.servers,
                                   batch.site, tuple(batch.serials(k + 1)), accepted))
    return out


def on_calendar(planned: Sequence[PlannedDelivery], config: OracleConfig) -> list[PlannedDelivery]:
    """``planned`` accepted at the start of their periods by the oracle's calendar (the deal's, for a deal's oracle;
    a test oracle's own periods otherwise)."""
    return [replace(p, accepted_at=config.first_period_start if p.period == 1 else config.period_end(p.period - 1))
            for p in planned]


def due_deliveries(register: FleetRegister, planned: Sequence[PlannedDelivery], period: int
                   ) -> list[PlannedDelivery]:
    """The planned batches of periods up to ``period`` that the register does not hold yet (it holds the first
    ``deliveryCount`` of the schedule)."""
    held = int(register.contract.functions.deliveryCount().call())
    return [p for p in planned if p.period <= period and p.index >= held]


def attest_deliveries(
    register: FleetRegister,
    oracle: RevenueOracle,
    planned: Sequence[PlannedDelivery],
    keys: Sequence[LocalAccount],
    sender: str,
    batch: Batch | None = None,
) -> list[Delivery]:
    """Sign each of ``planned`` with a quorum of ``keys`` and send it (into ``batch`` when given, else one by one),
    numbered from the register's next sequence. Returns the deliveries sent."""
    if not planned:
        return []
    reporters, threshold = oracle.quorum()
    signers = select_signers(keys, reporters, threshold)
    sequence = register.sequence()
    chain_id = register.chain.chain_id
    sent = []
    for i, plan in enumerate(planned):
        delivery = plan.delivery(sequence + i)
        signatures = sign_delivery(delivery, signers, chain_id, oracle.address)
        if batch is None:
            register.attest_delivery(delivery, signatures, sender=sender)
        else:
            from rwa.onchain.register import ATTEST_GAS

            batch.call(register.attest_delivery_fn(delivery, signatures), sender, step=f"delivery {plan.index}",
                       gas=ATTEST_GAS)
        sent.append(delivery)
    return sent


def attest_lease_update(register: FleetRegister, oracle: RevenueOracle, update: LeaseUpdate,
                        keys: Sequence[LocalAccount], sender: str) -> TxReceipt:
    """Sign ``update`` with a quorum of ``keys`` and send it."""
    reporters, threshold = oracle.quorum()
    signers = select_signers(keys, reporters, threshold)
    if update.sequence != register.sequence():
        raise InputError(f"lease update sequence {update.sequence}: the register expects {register.sequence()}")
    signatures = sign_lease_update(update, signers, register.chain.chain_id, oracle.address)
    return register.attest_lease_update(update, signatures, sender=sender)
