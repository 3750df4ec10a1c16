"""The use of proceeds: the raise followed from the offering's close into the fleet register's escrow and out of it,
to the unit. The raise escrowed is the close's escrow route (``CloseRouted`` kind 3); each release pays its
delivery's price, split between the raise and the issuer's equity by :func:`rwa.model.fleet.release_split` in release
order, to its order's recipient, before the long-stop; the long-stop prepays the raise not released (the pool's
``Prepaid``) and returns the equity left; and the register holds at the head what came in less what left. So every
unit of the raise ends as reserve, costs, the treasury's share, a release against a named delivery, or the
prepayment: raise - reserve - costs = escrowed + to treasury, and escrowed = releases from the raise + prepayment
(+ what the escrow still holds before the long-stop)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rwa.model.fleet import RegisterTerms, release_split
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation, flow_time
from rwa.replay.history import History

ROUTE_RESERVE, ROUTE_COST, ROUTE_TREASURY, ROUTE_ESCROW = 0, 1, 2, 3
"""``CloseRouted``'s kinds (``IDealOffering``)."""


@dataclass
class OrderUse:
    """One supplier order's share of the use of proceeds."""

    supplier: str
    recipient: str
    servers: int
    unit_price: int
    delivered: int = 0
    from_raise: int = 0
    from_equity: int = 0
    releases: int = 0


@dataclass
class UseOfProceeds:
    """Where the raise went, in smallest units, as the auditor rebuilt it from the events."""

    raised: int = 0
    reserve: int = 0
    costs: int = 0
    to_treasury: int = 0
    escrowed: int = 0
    capex_total: int = 0
    equity_funded: int = 0
    released_from_raise: int = 0
    released_from_equity: int = 0
    prepaid: int = 0
    equity_returned: int = 0
    settled: bool = False
    held: int = 0
    """What the register holds at the head (the raise and equity not yet released, prepaid or returned, and what it
    owes a recipient whose push failed)."""
    orders: list[OrderUse] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    """Each release in chain order: delivery, order, supplier, block, from_raise, from_equity, paid."""

    def to_json(self) -> dict[str, Any]:
        return {
            "raised": self.raised, "reserve": self.reserve, "costs": self.costs, "to_treasury": self.to_treasury,
            "escrowed": self.escrowed, "capex_total": self.capex_total, "equity_funded": self.equity_funded,
            "released_from_raise": self.released_from_raise, "released_from_equity": self.released_from_equity,
            "prepaid": self.prepaid, "equity_returned": self.equity_returned, "settled": self.settled,
            "held": self.held,
            "orders": [{"supplier": o.supplier, "recipient": o.recipient, "servers": o.servers,
                        "unit_price": o.unit_price, "delivered": o.delivered, "from_raise": o.from_raise,
                        "from_equity": o.from_equity, "releases": o.releases} for o in self.orders],
            "releases": self.releases,
        }


def _close(history: History, use: UseOfProceeds) -> tuple[int, str]:
    """The close's routes into ``use``; returns the escrow route's amount and recipient."""
    routed_escrow, escrow_to = 0, ""
    for ev in history.offering:
        if ev.event == "OfferingClosed":
            use.reserve, use.costs = int(ev.args["reserve"]), int(ev.args["costs"])
            use.raised = use.reserve + use.costs + int(ev.args["proceeds"])
        elif ev.event == "CloseRouted":
            kind, amount = int(ev.args["kind"]), int(ev.args["amount"])
            if kind == ROUTE_TREASURY:
                use.to_treasury += amount
            elif kind == ROUTE_ESCROW:
                routed_escrow += amount
                escrow_to = str(ev.args["recipient"])
    return routed_escrow, escrow_to


def reconcile_escrow(history: History, expected: RegisterTerms, register: str, offering: str | None,
                     balance: int, rec: Reconciliation) -> UseOfProceeds:
    """The escrow's money event by event against its rules (see the module's docstring); ``balance`` is the
    register's stablecoin balance at the head, ``offering`` the deal's (``None``: sold without one, no escrow)."""
    use = UseOfProceeds(capex_total=expected.capex_total)
    use.orders = [OrderUse(o.supplier, o.recipient, o.servers, o.unit_price) for o in expected.orders]
    routed, routed_to = _close(history, use) if offering is not None else (0, "")
    if routed and routed_to.lower() != register.lower():
        rec.add(FindingKind.ESCROW_FUNDING, None, register, register, routed_to,
                "the close routed the raise's capex share to another escrow than the deal's register")
    prices: dict[int, tuple[int, int]] = {}  # delivery -> (order, price)
    released: set[int] = set()
    released_price = 0
    owed = 0
    settled_at: int | None = None
    for ev in history.register:
        a = ev.args
        if ev.event == "RaiseEscrowed":
            use.escrowed += int(a["amount"])
            if offering is None or str(a["from"]).lower() != offering.lower():
                rec.add(FindingKind.ESCROW_FUNDING, None, register, offering, str(a["from"]),
                        f"the raise was escrowed in block {ev.block} by another account than the offering",
                        block=ev.block)
        elif ev.event == "EquityFunded":
            use.equity_funded += int(a["amount"])
        elif ev.event == "DeliveryAttested":
            order = int(a["order"])
            price = int(a["servers"]) * expected.orders[order].unit_price if order < len(expected.orders) else 0
            prices[int(a["delivery"])] = (order, price)
            if order < len(use.orders):
                use.orders[order].delivered += int(a["servers"])
        elif ev.event == "Released":
            owed += _release(ev, expected, prices, released, released_price, use, settled_at, register, rec)
            delivery = int(a["delivery"])
            released_price += prices.get(delivery, (0, 0))[1]
            released.add(delivery)
        elif ev.event == "LongStopSettled":
            settled_at = ev.block
            owed += _settle(history, ev, expected, use, register, rec)
        elif ev.event == "OwedWithdrawn":
            owed -= int(a["amount"])
    if use.escrowed != routed:
        rec.add(FindingKind.ESCROW_FUNDING, None, register, routed, use.escrowed,
                "the raise escrowed is not the close's escrow route (CloseRouted kind 3)")
    _identity(use, register, rec)
    want = (use.escrowed + use.equity_funded - use.released_from_raise - use.released_from_equity - use.prepaid
            - use.equity_returned + owed)
    use.held = balance
    if balance != want:
        rec.add(FindingKind.ESCROW_BALANCE, None, register, want, balance,
                "stablecoin the register holds against its events: funded less released, prepaid and returned, plus "
                "what it owes")
    return use


def _release(ev: Any, expected: RegisterTerms, prices: dict[int, tuple[int, int]], released: set[int],
             released_price: int, use: UseOfProceeds, settled_at: int | None, register: str,
             rec: Reconciliation) -> int:
    """One ``Released`` against the rules; returns what it left owed (its push failed)."""
    a = ev.args
    delivery, from_raise, from_equity = int(a["delivery"]), int(a["fromRaise"]), int(a["fromEquity"])
    use.released_from_raise += from_raise
    use.released_from_equity += from_equity
    if delivery not in prices or delivery in released:
        rec.add(FindingKind.RELEASE, None, register, "an attested delivery not yet released", delivery,
                f"release in block {ev.block} of delivery {delivery} ({from_raise:,} from the raise, {from_equity:,} "
                f"from the equity, to {a['recipient']}): "
                f"{'already released' if delivery in released else 'no such delivery attested'}", block=ev.block)
        return 0 if bool(a["paid"]) else from_raise + from_equity
    order, price = prices[delivery]
    terms = expected.orders[order] if order < len(expected.orders) else None
    want = release_split(released_price, price, use.escrowed, expected.capex_total) if use.escrowed else (0, price)
    if (from_raise, from_equity) != want or int(a["order"]) != order:
        rec.add(FindingKind.RELEASE, None, register, want, (from_raise, from_equity),
                f"delivery {delivery}'s release (from the raise, from the equity) of its price {price:,}, after "
                f"{released_price:,} released", block=ev.block)
    if terms is not None and str(a["recipient"]).lower() != terms.recipient.lower():
        rec.add(FindingKind.RELEASE, None, register, terms.recipient, str(a["recipient"]),
                f"delivery {delivery}'s release went to another recipient than {terms.supplier}'s order names",
                block=ev.block)
    at = flow_time(ev)
    if settled_at is not None or at >= expected.long_stop:
        rec.add(FindingKind.RELEASE, None, register, f"before the long-stop {expected.long_stop}", at,
                f"delivery {delivery} was released in block {ev.block}, after the long-stop", block=ev.block)
    if use.released_from_equity > use.equity_funded:
        rec.add(FindingKind.RELEASE, None, register, use.equity_funded, use.released_from_equity,
                f"delivery {delivery}'s release took more equity than the issuer paid in", block=ev.block)
    if order < len(use.orders):
        o = use.orders[order]
        o.from_raise += from_raise
        o.from_equity += from_equity
        o.releases += 1
    use.releases.append({"delivery": delivery, "order": order, "supplier": terms.supplier if terms else "",
                         "block": ev.block, "from_raise": from_raise, "from_equity": from_equity,
                         "paid": bool(a["paid"])})
    return 0 if bool(a["paid"]) else from_raise + from_equity


def _settle(history: History, ev: Any, expected: RegisterTerms, use: UseOfProceeds, register: str,
            rec: Reconciliation) -> int:
    """The long-stop settlement against the rules; returns what it left owed (the treasury's push failed)."""
    a = ev.args
    prepaid, returned = int(a["prepaid"]), int(a["equityReturned"])
    use.prepaid, use.equity_returned, use.settled = prepaid, returned, True
    want = (use.escrowed - use.released_from_raise, use.equity_funded - use.released_from_equity)
    if (prepaid, returned) != want:
        rec.add(FindingKind.PREPAYMENT, None, register, want, (prepaid, returned),
                "the long-stop's prepayment (the raise not released) and the equity returned (the equity not "
                "released)", block=ev.block)
    if flow_time(ev) < expected.long_stop:
        rec.add(FindingKind.PREPAYMENT, None, register, f"at or after {expected.long_stop}", flow_time(ev),
                f"the long-stop was settled in block {ev.block}, before it", block=ev.block)
    if str(a["treasury"]).lower() != expected.treasury.lower():
        rec.add(FindingKind.PREPAYMENT, None, register, expected.treasury, str(a["treasury"]),
                "the equity left was returned to another account than the deal's treasury", block=ev.block)
    pool_side = [p for p in history.prepaid if p.tx_hash == ev.tx_hash]
    got = sum(int(p.args["amount"]) for p in pool_side)
    if got != prepaid or any(str(p.args["from"]).lower() != register.lower() for p in pool_side):
        rec.add(FindingKind.PREPAYMENT, None, register, prepaid, got,
                "the pool's Prepaid in the settlement's transaction against the register's prepayment", block=ev.block)
    if prepaid:
        rec.disclose(DisclosureKind.LONG_STOP_PREPAYMENT, ev, register, prepaid,
                     f"at the long-stop {prepaid:,} of the raise was never released against a delivery: it prepaid the "
                     f"pool; {returned:,} of the issuer's equity returned to {a['treasury']}", sender=str(a["by"]))
    return 0 if bool(a["equityPaid"]) else returned


def _identity(use: UseOfProceeds, register: str, rec: Reconciliation) -> None:
    """raise - reserve - costs = escrowed + to treasury; escrowed = releases from the raise + prepayment (+ what the
    escrow still holds of the raise before the long-stop)."""
    if use.raised and use.raised - use.reserve - use.costs != use.escrowed + use.to_treasury:
        rec.add(FindingKind.USE_OF_PROCEEDS, None, register, use.raised - use.reserve - use.costs,
                use.escrowed + use.to_treasury, "the raise less reserve and costs against the escrowed and the "
                "treasury's share")
    unreleased = use.escrowed - use.released_from_raise - use.prepaid
    if unreleased < 0 or (use.settled and unreleased != 0):
        rec.add(FindingKind.USE_OF_PROCEEDS, None, register, use.escrowed, use.released_from_raise + use.prepaid,
                "the raise escrowed against the releases from the raise and the prepayment")
