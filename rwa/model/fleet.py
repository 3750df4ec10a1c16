"""The asset behind a deal, as its fleet register holds it (``contracts/FleetRegister.sol``), in pure integers.

- *Orders* (:class:`OrderTerms`): each supplier's order from the deal file, its servers and unit price, and who the
  escrow pays (the supplier, or the issuer's treasury against the supplier's invoice).
- *Leases* (:class:`LeaseTerms`): lessee, servers, rent per server and period, term, status. The deal file's leases
  are registered at deployment (active); afterwards a lease changes only by an update the reporters attest.
- *The allocation rule* (:func:`allocate`): a period's servers in service are the servers accepted before the
  period ends; they go to the leases in force (active or re-let, the period in their term) in lease order, each up
  to its servers. A lease's rent counts toward the period's contracted rent for the servers it gets
  (:func:`contracted_rent`), and its row of the period's tape may show at most those servers. The calculator's
  ``lease_servers`` applies the same rule to the deal's delivery schedule.
- *The use of proceeds* (:func:`release_split`, :class:`Escrow`): with C the price of every server on order and E
  the raise in escrow, the k-th release of price P after releases of price R pays ``floor((R + P) * E / C) -
  floor(R * E / C)`` from the raise and the rest from the issuer's equity; at the long-stop the raise not released
  prepays the senior and the equity left returns to the treasury. Every unit of the raise ends as a release or a
  prepayment.

The auditor rebuilds the register with these rules from the events; the property tests hold the contract to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import IntEnum

from rwa.errors import InputError
from rwa.model.deal import Deal


class LeaseStatus(IntEnum):
    """``IFleetRegister.LeaseStatus``: active and re-let leases are in force in their term."""

    ACTIVE = 0
    TERMINATED = 1
    DEFAULTED = 2
    RELET = 3

    @property
    def in_force(self) -> bool:
        return self in (LeaseStatus.ACTIVE, LeaseStatus.RELET)

    @property
    def label(self) -> str:
        return "re-let" if self is LeaseStatus.RELET else self.name.lower()


@dataclass(frozen=True)
class OrderTerms:
    """A supplier's order as the register holds it (``IFleetRegister.Order``)."""

    supplier: str
    recipient: str
    servers: int
    unit_price: int

    @property
    def price(self) -> int:
        return self.servers * self.unit_price


@dataclass(frozen=True)
class LeaseTerms:
    """A lease as the register holds it (``IFleetRegister.Lease``), rent per server and period in the stablecoin."""

    lessee: str
    servers: int
    rent_per_server: int
    start_period: int
    end_period: int
    status: LeaseStatus = LeaseStatus.ACTIVE

    def in_force(self, period: int) -> bool:
        return self.status.in_force and self.start_period <= period <= self.end_period


@dataclass(frozen=True)
class RegisterTerms:
    """What the fleet register is deployed with: the orders, the leases, the long-stop and the treasury."""

    orders: tuple[OrderTerms, ...]
    leases: tuple[LeaseTerms, ...]
    long_stop: int
    """Unix seconds: the end of the deal's long-stop period."""
    long_stop_period: int
    period_count: int
    treasury: str

    @property
    def capex_total(self) -> int:
        return sum(o.price for o in self.orders)

    def order_index(self, supplier: str) -> int:
        for i, o in enumerate(self.orders):
            if o.supplier == supplier:
                return i
        raise InputError(f"supplier {supplier!r}: no order in the deal (orders: "
                         f"{', '.join(o.supplier for o in self.orders)})")


def lease_terms(deal: Deal) -> tuple[LeaseTerms, ...]:
    """The deal file's leases as the register is deployed with them (active)."""
    return tuple(LeaseTerms(lease.lessee, lease.servers, lease.rent_per_server_month, lease.start_period,
                            lease.end_period) for lease in deal.leases)


def register_terms(deal: Deal, treasury: str) -> RegisterTerms:
    """The register's terms from the deal: ``treasury`` (the offering's, else the issuer) gets the equity left at
    the long-stop and, for an order that names no recipient, the order's releases (against the supplier's
    invoice)."""
    cluster = deal.cluster
    orders = tuple(
        OrderTerms(o.supplier, o.recipient or treasury, o.servers, cluster.unit_price(o))
        for o in cluster.supplier_orders()
    )
    stop = deal.long_stop_period
    return RegisterTerms(orders, lease_terms(deal), int(deal.periods.end_of(stop).timestamp()), stop,
                         deal.periods.count, treasury)


SHORTFALL_DELIVERED, SHORTFALL_ORDERED = 12, 330
"""The seed's supplier that delivered 12 of 330 servers ordered: the delivery-shortfall case scales the largest
supplier's batches by this ratio (rounded down)."""


@dataclass(frozen=True)
class Batch:
    """A batch of the deal's delivery schedule: ``servers`` of ``supplier``'s order in service from ``period``."""

    period: int
    supplier: str
    servers: int
    site: str

    def serials(self, index: int) -> list[str]:
        """Serial numbers for the batch (the simulator's: supplier, batch index and a running number)."""
        tag = "".join(ch for ch in self.supplier.upper() if ch.isalnum()) or "SRV"
        return [f"{tag}-{index:03d}-{n:05d}" for n in range(1, self.servers + 1)]


def delivery_batches(deal: Deal, shortfall: bool = False) -> list[Batch]:
    """The deal's delivery schedule as batches, in file order (every server in period 1, from one supplier, without
    one); with ``shortfall`` the largest supplier (most servers ordered, first on a tie) delivers
    ``SHORTFALL_DELIVERED / SHORTFALL_ORDERED`` of each batch, and batches that come to nothing are dropped."""
    cluster = deal.cluster
    orders = cluster.supplier_orders()
    if cluster.deliveries:
        batches = [Batch(d.period, d.supplier, d.servers, d.site or cluster.site) for d in cluster.deliveries]
    else:
        batches = [Batch(1, orders[0].supplier, cluster.servers, cluster.site)]
    if shortfall:
        totals: dict[str, int] = {}
        for b in batches:
            totals[b.supplier] = totals.get(b.supplier, 0) + b.servers
        names = list(totals)
        worst = max(names, key=lambda n: (totals[n], -names.index(n)))
        batches = [replace(b, servers=b.servers * SHORTFALL_DELIVERED // SHORTFALL_ORDERED)
                   if b.supplier == worst else b for b in batches]
    return [b for b in batches if b.servers]


def allocate(leases: Sequence[LeaseTerms], fleet: int, period: int) -> list[int]:
    """Servers each lease gets in ``period`` out of ``fleet`` servers in service: the leases in force, in lease
    order, each up to its servers."""
    free = fleet
    out: list[int] = []
    for lease in leases:
        take = min(lease.servers, free) if lease.in_force(period) else 0
        free -= take
        out.append(take)
    return out


def contracted_rent(leases: Sequence[LeaseTerms], fleet: int, period: int) -> int:
    """The rent of the servers the leases in force get in ``period`` (what a report must carry)."""
    return sum(n * lease.rent_per_server for n, lease in zip(allocate(leases, fleet, period), leases, strict=True))


@dataclass(frozen=True)
class LeaseRow:
    """One lease's row of a period's tape (``IFleetRegister.LeaseRow``): servers in service, rent billed and
    collected in the report's source currency (smallest units at the stablecoin's decimals), days past due."""

    lease: int
    servers: int
    billed: int
    collected: int
    days_past_due: int = 0

    def as_tuple(self) -> tuple[int, int, int, int, int]:
        return (self.lease, self.servers, self.billed, self.collected, self.days_past_due)


@dataclass(frozen=True)
class TapeTotals:
    """A tape's totals (``IFleetRegister.TapeTotals``)."""

    billed: int
    collected: int
    servers: int
    contracted_rent: int
    worst_lease: int
    worst_days_past_due: int


def tape_totals(rows: Sequence[LeaseRow], leases: Sequence[LeaseTerms], fleet: int, period: int) -> TapeTotals:
    """The totals of ``rows`` and the rent the register allows; raises ``InputError`` where the register would refuse
    the tape (a row out of lease order, a row for every lease, a lease given more servers than it gets)."""
    if len(rows) != len(leases):
        raise InputError(f"period {period}: the tape has {len(rows)} rows, the register {len(leases)} leases")
    allowed = allocate(leases, fleet, period)
    worst = (0, 0)
    for i, row in enumerate(rows):
        if row.lease != i + 1:
            raise InputError(f"period {period}: tape row {i + 1} is for lease {row.lease}, must be lease {i + 1}")
        if row.servers > allowed[i]:
            raise InputError(f"period {period}: lease {row.lease} ({leases[i].lessee}) bills {row.servers} servers, "
                             f"the register gives it {allowed[i]}")
        if row.days_past_due > worst[1]:
            worst = (row.lease, row.days_past_due)
    return TapeTotals(sum(r.billed for r in rows), sum(r.collected for r in rows), sum(r.servers for r in rows),
                      contracted_rent(leases, fleet, period), *worst)


def release_split(released_price: int, price: int, raise_amount: int, capex_total: int) -> tuple[int, int]:
    """The raise's and the equity's parts of a release of ``price`` after releases of ``released_price``."""
    if capex_total <= 0:
        raise InputError("the orders' price must be positive")
    before = released_price * raise_amount // capex_total
    from_raise = (released_price + price) * raise_amount // capex_total - before
    return from_raise, price - from_raise


@dataclass(frozen=True)
class Release:
    delivery: int
    order: int
    from_raise: int
    from_equity: int


@dataclass(frozen=True)
class Escrow:
    """The escrow's money as ``IFleetRegister.Escrow`` carries it, with the rules that move it."""

    capex_total: int
    raise_amount: int = 0
    raise_released: int = 0
    equity_funded: int = 0
    equity_released: int = 0
    released_price: int = 0
    prepaid: int = 0
    equity_returned: int = 0
    settled: bool = False
    pending: tuple[tuple[int, int, int], ...] = field(default=())
    """Deliveries recorded and not released: (delivery, order, price)."""

    def fund_raise(self, amount: int) -> Escrow:
        if self.raise_amount or amount <= 0 or amount > self.capex_total or self.settled:
            raise InputError(f"the raise cannot be escrowed: {amount}")
        return replace(self, raise_amount=amount)

    def fund_equity(self, amount: int) -> Escrow:
        if amount <= 0 or self.settled:
            raise InputError(f"equity cannot be funded: {amount}")
        return replace(self, equity_funded=self.equity_funded + amount)

    def can_release(self, price: int, now: int, long_stop: int) -> bool:
        if not self.raise_amount or self.settled or now >= long_stop:
            return False
        _, from_equity = release_split(self.released_price, price, self.raise_amount, self.capex_total)
        return self.equity_funded - self.equity_released >= from_equity

    def release(self, delivery: int, order: int, price: int) -> tuple[Escrow, Release]:
        from_raise, from_equity = release_split(self.released_price, price, self.raise_amount, self.capex_total)
        pending = tuple(p for p in self.pending if p[0] != delivery)
        return replace(self, released_price=self.released_price + price,
                       raise_released=self.raise_released + from_raise,
                       equity_released=self.equity_released + from_equity, pending=pending), \
            Release(delivery, order, from_raise, from_equity)

    def record(self, delivery: int, order: int, price: int) -> Escrow:
        return replace(self, pending=(*self.pending, (delivery, order, price)))

    def settle(self) -> Escrow:
        if self.settled:
            raise InputError("the long-stop is already settled")
        return replace(self, settled=True, prepaid=self.raise_amount - self.raise_released,
                       equity_returned=self.equity_funded - self.equity_released, pending=())
