"""Typed wrapper over ``FleetRegister``: the fleet, the leases and the proceeds escrow of a deal.

:class:`Delivery` and :class:`LeaseUpdate` are the facts the reporters attest (EIP-712, in the oracle's domain:
:func:`delivery_typed_data`, :func:`lease_update_typed_data`); the register records them and moves the escrow by its
rules alone (:mod:`rwa.model.fleet`). Every event is decoded here for the auditor (:meth:`FleetRegister.events`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from web3.types import BlockIdentifier, TxReceipt

from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.model.fleet import Escrow, LeaseRow, LeaseStatus, LeaseTerms, OrderTerms, RegisterTerms, TapeTotals
from rwa.model.units import UINT32_MAX, UINT64_MAX, UINT128_MAX
from rwa.onchain.base import ContractWrapper, create, eip712_message, to_address
from rwa.onchain.oracle import DOMAIN_NAME, DOMAIN_VERSION

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

DELIVERY_TYPE = [
    {"name": "order", "type": "uint32"},
    {"name": "servers", "type": "uint32"},
    {"name": "serialsHash", "type": "bytes32"},
    {"name": "acceptedAt", "type": "uint64"},
    {"name": "site", "type": "string"},
    {"name": "sequence", "type": "uint32"},
]
LEASE_UPDATE_TYPE = [
    {"name": "lease", "type": "uint32"},
    {"name": "status", "type": "uint8"},
    {"name": "servers", "type": "uint32"},
    {"name": "rentPerServer", "type": "uint128"},
    {"name": "startPeriod", "type": "uint32"},
    {"name": "endPeriod", "type": "uint32"},
    {"name": "lessee", "type": "string"},
    {"name": "sequence", "type": "uint32"},
]
ATTEST_GAS = 400_000
"""Enough for an attestation with up to ~10 signatures and its release."""
SETTLE_GAS = 800_000
"""``settleLongStop`` on the embedded chain: the prepayment runs through the pool to both tranche tokens (about 330,000
measured with the test stablecoin; room for a stablecoin that costs more per transfer)."""
BIND_GAS = 150_000
"""``bindDeal`` reads the pool and the offering: sent with this limit, in the batch that deploys the offering."""


def serials_hash(serials: Sequence[str]) -> bytes:
    """keccak256 of a batch's serial numbers, sorted, one per line, UTF-8 (what a delivery's ``serialsHash`` is)."""
    from eth_utils.crypto import keccak

    cleaned = sorted(s.strip() for s in serials if s.strip())
    if not cleaned:
        raise InputError("a delivery needs at least one serial number")
    if len(set(cleaned)) != len(cleaned):
        raise InputError("a serial number is listed twice")
    return bytes(keccak("\n".join(cleaned).encode("utf-8")))


def _check(name: str, value: int, top: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
        raise InputError(f"{name} must be an integer from 0 to {top}, got {value!r}")


@dataclass(frozen=True)
class Delivery:
    """A batch accepted after burn-in, as the reporters sign it (``IFleetRegister.Delivery``)."""

    order: int
    servers: int
    serials_hash: bytes
    accepted_at: int
    site: str
    sequence: int

    def __post_init__(self) -> None:
        for name, top in (("order", UINT32_MAX), ("servers", UINT32_MAX), ("accepted_at", UINT64_MAX),
                          ("sequence", UINT32_MAX)):
            _check(f"delivery {name}", getattr(self, name), top)
        if not isinstance(self.serials_hash, bytes) or len(self.serials_hash) != 32:
            raise InputError("delivery serials_hash must be 32 bytes")

    def as_tuple(self) -> tuple[int, int, bytes, int, str, int]:
        return (self.order, self.servers, self.serials_hash, self.accepted_at, self.site, self.sequence)

    def message(self) -> dict[str, Any]:
        return {"order": self.order, "servers": self.servers, "serialsHash": self.serials_hash,
                "acceptedAt": self.accepted_at, "site": self.site, "sequence": self.sequence}

    def to_json(self) -> dict[str, Any]:
        return {"order": self.order, "servers": self.servers, "serials_hash": "0x" + self.serials_hash.hex(),
                "accepted_at": self.accepted_at, "site": self.site, "sequence": self.sequence}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Delivery:
        return cls(int(data["order"]), int(data["servers"]),
                   bytes.fromhex(str(data["serials_hash"]).removeprefix("0x")), int(data["accepted_at"]),
                   str(data["site"]), int(data["sequence"]))


@dataclass(frozen=True)
class LeaseUpdate:
    """A change to the leases, as the reporters sign it (``IFleetRegister.LeaseUpdate``): lease ``lease`` gets
    the status, servers, rent and term given, or a new lease when ``lease`` is one past the last."""

    lease: int
    status: LeaseStatus
    servers: int
    rent_per_server: int
    start_period: int
    end_period: int
    lessee: str
    sequence: int

    def __post_init__(self) -> None:
        for name, top in (("lease", UINT32_MAX), ("servers", UINT32_MAX), ("rent_per_server", UINT128_MAX),
                          ("start_period", UINT32_MAX), ("end_period", UINT32_MAX), ("sequence", UINT32_MAX)):
            _check(f"lease update {name}", getattr(self, name), top)
        object.__setattr__(self, "status", LeaseStatus(self.status))

    def as_tuple(self) -> tuple[int, int, int, int, int, int, str, int]:
        return (self.lease, int(self.status), self.servers, self.rent_per_server, self.start_period, self.end_period,
                self.lessee, self.sequence)

    def message(self) -> dict[str, Any]:
        return {"lease": self.lease, "status": int(self.status), "servers": self.servers,
                "rentPerServer": self.rent_per_server, "startPeriod": self.start_period,
                "endPeriod": self.end_period, "lessee": self.lessee, "sequence": self.sequence}

    def to_json(self) -> dict[str, Any]:
        return {"lease": self.lease, "status": self.status.label, "servers": self.servers,
                "rent_per_server": self.rent_per_server, "start_period": self.start_period,
                "end_period": self.end_period, "lessee": self.lessee, "sequence": self.sequence}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LeaseUpdate:
        labels = {s.label: s for s in LeaseStatus}
        status = data["status"]
        return cls(int(data["lease"]), labels[status] if isinstance(status, str) else LeaseStatus(int(status)),
                   int(data["servers"]), int(data["rent_per_server"]), int(data["start_period"]),
                   int(data["end_period"]), str(data["lessee"]), int(data["sequence"]))


def delivery_typed_data(delivery: Delivery, chain_id: int, oracle: str) -> dict[str, Any]:
    """The EIP-712 message of ``delivery`` in the oracle's domain."""
    return eip712_message(DOMAIN_NAME, DOMAIN_VERSION, chain_id, oracle, "Delivery", DELIVERY_TYPE,
                          delivery.message())


def lease_update_typed_data(update: LeaseUpdate, chain_id: int, oracle: str) -> dict[str, Any]:
    """The EIP-712 message of ``update`` in the oracle's domain."""
    return eip712_message(DOMAIN_NAME, DOMAIN_VERSION, chain_id, oracle, "LeaseUpdate", LEASE_UPDATE_TYPE,
                          update.message())


@dataclass(frozen=True)
class DeliveryRecord:
    """``IFleetRegister.DeliveryRecord``."""

    order: int
    servers: int
    accepted_at: int
    fleet_after: int
    released: bool
    price: int


@dataclass(frozen=True)
class RegisterEvent:
    """One decoded event of the register, in chain order: ``name`` and its arguments as plain Python values."""

    name: str
    args: dict[str, Any]
    block_number: int
    log_index: int
    tx_hash: str


_EVENTS = ("OrderRegistered", "LeaseRegistered", "LeaseUpdated", "DeliveryAttested", "Released", "DealBound",
           "RaiseEscrowed", "EquityFunded", "LongStopSettled", "OwedWithdrawn")


class FleetRegister(ContractWrapper):
    """A deployed ``FleetRegister``."""

    CONTRACT = "FleetRegister"

    @classmethod
    def deploy(cls, chain: Chain, terms: RegisterTerms, *, stablecoin: str, oracle: str, sender: str,
               batch: Batch | None = None) -> FleetRegister:
        orders = [(to_address(o.recipient), o.servers, 0, o.unit_price) for o in terms.orders]
        leases = [(lease.rent_per_server, lease.servers, lease.start_period, lease.end_period, int(lease.status))
                  for lease in terms.leases]
        contract = create(chain, "FleetRegister", to_address(stablecoin), to_address(oracle),
                          to_address(terms.treasury), terms.long_stop, terms.period_count, orders,
                          [o.supplier for o in terms.orders], leases, [lease.lessee for lease in terms.leases],
                          sender=sender, batch=batch)
        return cls(chain, contract)

    # -- transactions ------------------------------------------------------------------------------------------

    def bind_deal(self, pool: str, offering: str, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.bindDeal(to_address(pool), to_address(offering)), sender,
                          embedded_default=BIND_GAS)

    def fund_equity(self, amount: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.fundEquity(amount), sender, embedded_default=150_000)

    def attest_delivery(self, delivery: Delivery, signatures: Sequence[bytes], *, sender: str) -> TxReceipt:
        return self._send(self.attest_delivery_fn(delivery, signatures), sender, embedded_default=ATTEST_GAS)

    def attest_delivery_fn(self, delivery: Delivery, signatures: Sequence[bytes]) -> Any:
        return self.contract.functions.attestDelivery(delivery.as_tuple(), list(signatures))

    def attest_lease_update(self, update: LeaseUpdate, signatures: Sequence[bytes], *, sender: str) -> TxReceipt:
        return self._send(self.attest_lease_update_fn(update, signatures), sender, embedded_default=ATTEST_GAS)

    def attest_lease_update_fn(self, update: LeaseUpdate, signatures: Sequence[bytes]) -> Any:
        return self.contract.functions.attestLeaseUpdate(update.as_tuple(), list(signatures))

    def release(self, delivery: int, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.release(delivery), sender, embedded_default=200_000)

    def settle_long_stop(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.settleLongStop(), sender, embedded_default=SETTLE_GAS)

    def withdraw_owed(self, *, sender: str) -> TxReceipt:
        return self._send(self.contract.functions.withdrawOwed(), sender, embedded_default=120_000)

    # -- views -------------------------------------------------------------------------------------------------

    def escrow(self, block: BlockIdentifier = "latest") -> Escrow:
        raw, capex = self._call_many([self.contract.functions.escrow(), self.contract.functions.capexTotal()], block)
        return Escrow(int(capex), int(raw[0]), int(raw[1]), int(raw[2]), int(raw[3]), int(raw[4]),
                      int(raw[5]), int(raw[6]), bool(raw[7]))

    def capex_total(self, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.capexTotal(), block))

    def fleet(self, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.fleet(), block))

    def fleet_at(self, timestamp: int, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.fleetAt(timestamp), block))

    def sequence(self, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.sequence(), block))

    def long_stop(self) -> int:
        return int(self._call(self.contract.functions.longStop()))

    def orders(self, block: BlockIdentifier = "latest") -> list[OrderTerms]:
        """The orders, with their supplier names from the ``OrderRegistered`` events."""
        names = {int(e.args["order"]): str(e.args["supplier"]) for e in self.events(names=("OrderRegistered",))}
        count = int(self._call(self.contract.functions.orderCount(), block))
        out = []
        for i in range(count):
            raw = self._call(self.contract.functions.orderOf(i), block)
            out.append(OrderTerms(names.get(i, f"order {i}"), str(raw[0]), int(raw[1]), int(raw[3])))
        return out

    def delivered(self, order: int, block: BlockIdentifier = "latest") -> int:
        return int(self._call(self.contract.functions.orderOf(order), block)[2])

    def leases(self, block: BlockIdentifier = "latest") -> list[LeaseTerms]:
        """The leases, with their lessees from the ``LeaseRegistered`` events."""
        names = {int(e.args["lease"]): str(e.args["lessee"]) for e in self.events(names=("LeaseRegistered",))}
        count = int(self._call(self.contract.functions.leaseCount(), block))
        out = []
        for i in range(1, count + 1):
            raw = self._call(self.contract.functions.leaseOf(i), block)
            out.append(LeaseTerms(names.get(i, f"lease {i}"), int(raw[1]), int(raw[0]), int(raw[2]), int(raw[3]),
                                  LeaseStatus(int(raw[4]))))
        return out

    def deliveries(self, block: BlockIdentifier = "latest") -> list[DeliveryRecord]:
        count = int(self._call(self.contract.functions.deliveryCount(), block))
        return [DeliveryRecord(*(self._call(self.contract.functions.deliveryOf(i), block))) for i in range(count)]

    def tape_totals(self, period: int, period_end: int, rows: Sequence[LeaseRow]) -> TapeTotals:
        raw = self._call(self.contract.functions.tapeTotals(period, period_end, [r.as_tuple() for r in rows]))
        return TapeTotals(int(raw[0]), sum(r.collected for r in rows), int(raw[1]), int(raw[2]), int(raw[4]),
                          int(raw[5]))

    def pool(self, block: BlockIdentifier = "latest") -> str:
        return str(self._call(self.contract.functions.pool(), block))

    def offering(self, block: BlockIdentifier = "latest") -> str:
        return str(self._call(self.contract.functions.offering(), block))

    def oracle(self) -> str:
        return str(self._call(self.contract.functions.oracle()))

    def treasury(self) -> str:
        return str(self._call(self.contract.functions.treasury()))

    def owed(self, account: str) -> int:
        return int(self._call(self.contract.functions.owed(to_address(account))))

    def delivery_digest(self, delivery: Delivery) -> bytes:
        return bytes(self._call(self.contract.functions.deliveryDigest(delivery.as_tuple())))

    def lease_update_digest(self, update: LeaseUpdate) -> bytes:
        return bytes(self._call(self.contract.functions.leaseUpdateDigest(update.as_tuple())))

    # -- events ------------------------------------------------------------------------------------------------

    def events(self, from_block: int = 0, to_block: int | None = None,
               names: Sequence[str] = _EVENTS) -> list[RegisterEvent]:
        """Every event named in ``names`` between the blocks, in chain order."""
        last = self.chain.w3.eth.block_number if to_block is None else to_block
        out: list[RegisterEvent] = []
        for name in names:
            for log in getattr(self.contract.events, name).get_logs(from_block=from_block, to_block=last):
                args = {k: _plain(v) for k, v in dict(log["args"]).items()}
                out.append(RegisterEvent(name, args, int(log["blockNumber"]), int(log["logIndex"]),
                                         log["transactionHash"].to_0x_hex()))
        out.sort(key=lambda e: (e.block_number, e.log_index))
        return out


def _plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
