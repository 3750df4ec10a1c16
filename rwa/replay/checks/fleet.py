"""The fleet register against the deal file and the reports against the register: the orders and leases it was
deployed with, its long-stop and the contracts bound to it; every delivery within its order, the attestations in
sequence; every report and its lease tape against the register as it stood when the report was accepted (its fleet
at the period's end, its leases in force: :mod:`rwa.model.fleet`'s allocation rule); every change of a lease
disclosed, and every lessee past due beyond the deal's limit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from rwa.model.fleet import LeaseRow, LeaseStatus, LeaseTerms, RegisterTerms, allocate, contracted_rent
from rwa.model.units import ZERO_ADDRESS
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History, ReportRecord
from rwa.replay.ledger import Event


@dataclass(frozen=True)
class RegisterReads:
    """What the chain says of the register at the replay's head, and who names it."""

    address: str
    long_stop: int
    treasury: str
    period_count: int
    pool: str
    offering: str
    oracle_register: str
    pool_register: str
    offering_escrow: str | None
    """The escrow the offering routes the raise to (``None``: the deal sells through no offering)."""


@dataclass
class FleetView:
    """The fleet over time as the auditor rebuilt it: per period the servers ordered, delivered by the period's end,
    active as reported, and leased per lessee as the tape shows them."""

    ordered: int = 0
    delivered: int = 0
    rows: list[dict[str, int]] = field(default_factory=list)
    lessees: list[str] = field(default_factory=list)
    deliveries: int = 0
    lease_changes: int = 0
    tapes: int = 0


def _at(ev: Event) -> tuple[int, int]:
    return (ev.block, ev.log_index)


def leases_at(history: History, at: tuple[int, int] | None = None) -> list[LeaseTerms]:
    """The register's leases just before ``at`` (block, log index; ``None``: at the head), from its events."""
    leases: list[LeaseTerms] = []
    for ev in history.register:
        if at is not None and _at(ev) >= at:
            break
        a = ev.args
        if ev.event == "LeaseRegistered":
            leases.append(LeaseTerms(str(a["lessee"]), int(a["servers"]), int(a["rentPerServer"]),
                                     int(a["startPeriod"]), int(a["endPeriod"]), LeaseStatus(int(a["status"]))))
        elif ev.event == "LeaseUpdated" and 1 <= int(a["lease"]) <= len(leases):
            i = int(a["lease"]) - 1
            leases[i] = LeaseTerms(leases[i].lessee, int(a["servers"]), int(a["rentPerServer"]),
                                   int(a["startPeriod"]), int(a["endPeriod"]), LeaseStatus(int(a["status"])))
    return leases


def fleet_at(history: History, timestamp: int, at: tuple[int, int] | None = None) -> int:
    """The servers accepted before ``timestamp`` among the deliveries recorded before ``at`` (``FleetRegister``'s
    ``fleetAt`` as it answered then)."""
    fleet = 0
    for ev in history.register:
        if at is not None and _at(ev) >= at:
            break
        if ev.event == "DeliveryAttested" and int(ev.args["acceptedAt"]) < timestamp:
            fleet = int(ev.args["fleetAfter"])
    return fleet


def reconcile_register_terms(history: History, expected: RegisterTerms, reads: RegisterReads, manifest_register: str,
                             pool: str, offering: str, rec: Reconciliation) -> None:
    """The orders and leases the register was deployed with, its long-stop, treasury and period count against the
    deal's (``expected``), and the register the pool, the oracle and the offering are bound to against the
    manifest's."""
    register = reads.address
    first = history.register[0].tx_hash if history.register else None
    orders = [ev.args for ev in history.register if ev.event == "OrderRegistered" and ev.tx_hash == first]
    got_orders = [(str(a["supplier"]), str(a["recipient"]).lower(), int(a["servers"]), int(a["unitPrice"]))
                  for a in orders]
    want_orders = [(o.supplier, o.recipient.lower(), o.servers, o.unit_price) for o in expected.orders]
    if got_orders != want_orders:
        rec.add(FindingKind.FLEET_TERMS, None, register, want_orders, got_orders,
                "the register's supplier orders (supplier, recipient, servers, unit price) are not the deal's")
    leases = [ev.args for ev in history.register if ev.event == "LeaseRegistered" and ev.tx_hash == first]
    got_leases = [(str(a["lessee"]), int(a["servers"]), int(a["rentPerServer"]), int(a["startPeriod"]),
                   int(a["endPeriod"])) for a in leases]
    want_leases = [(lease.lessee, lease.servers, lease.rent_per_server, lease.start_period, lease.end_period)
                   for lease in expected.leases]
    if got_leases != want_leases:
        rec.add(FindingKind.FLEET_TERMS, None, register, want_leases, got_leases,
                "the register's leases at deployment (lessee, servers, rent per server, term) are not the deal's")
    for name, want, got in (("long-stop", expected.long_stop, reads.long_stop),
                            ("treasury", expected.treasury.lower(), reads.treasury.lower()),
                            ("period count", expected.period_count, reads.period_count)):
        if want != got:
            rec.add(FindingKind.FLEET_TERMS, None, register, want, got, f"the register's {name} is not the deal's")
    named = manifest_register.lower()
    bound = {"the pool": reads.pool_register, "the oracle": reads.oracle_register}
    if reads.offering_escrow is not None:
        bound["the offering"] = reads.offering_escrow
    for ev in history.register_bound:  # the oracle's binding, as its event named it
        bound[f"the oracle's RegisterBound in block {ev.block}"] = str(ev.args["register"])
    for who, address in bound.items():
        if address.lower() != named:
            rec.add(FindingKind.FLEET_LINK, None, register, manifest_register, address,
                    f"{who} is bound to the register {address}, the manifest names {manifest_register}")
    for what, want, got in (("pool", pool, reads.pool), ("offering", offering or ZERO_ADDRESS, reads.offering)):
        if want.lower() != got.lower():
            rec.add(FindingKind.FLEET_LINK, None, register, want, got,
                    f"the register is bound to the {what} {got}, the deal's is {want}")


def reconcile_deliveries(history: History, expected: RegisterTerms, register: str, rec: Reconciliation) -> None:
    """Every delivery within its order, at its order's price, the fleet counted up, the acceptance dates in order;
    the attestations (deliveries and lease updates) numbered 0, 1, 2, ... with no gap."""
    delivered = [0] * len(expected.orders)
    fleet, accepted, sequence = 0, 0, 0
    for ev in history.register:
        a = ev.args
        if ev.event not in ("DeliveryAttested", "LeaseUpdated"):
            continue
        if int(a["sequence"]) != sequence:
            rec.add(FindingKind.ATTESTATION_SEQUENCE, None, register, sequence, int(a["sequence"]),
                    f"the {ev.event} in block {ev.block} is attestation {int(a['sequence'])}, the next was {sequence}",
                    block=ev.block)
        sequence = int(a["sequence"]) + 1
        if ev.event != "DeliveryAttested":
            continue
        order, servers, delivery = int(a["order"]), int(a["servers"]), int(a["delivery"])
        if not 0 <= order < len(expected.orders):
            rec.add(FindingKind.DELIVERY, None, register, f"an order below {len(expected.orders)}", order,
                    f"delivery {delivery} in block {ev.block} is for no order of the deal", block=ev.block)
            continue
        terms = expected.orders[order]
        delivered[order] += servers
        fleet += servers
        if delivered[order] > terms.servers:
            rec.add(FindingKind.DELIVERY, None, register, terms.servers, delivered[order],
                    f"delivery {delivery} takes {terms.supplier}'s order to {delivered[order]} servers, beyond the "
                    f"{terms.servers} ordered", block=ev.block)
        if int(a["price"]) != servers * terms.unit_price:
            rec.add(FindingKind.DELIVERY, None, register, servers * terms.unit_price, int(a["price"]),
                    f"delivery {delivery}'s price: {servers} servers of {terms.supplier}'s order at "
                    f"{terms.unit_price:,}", block=ev.block)
        if int(a["fleetAfter"]) != fleet:
            rec.add(FindingKind.DELIVERY, None, register, fleet, int(a["fleetAfter"]),
                    f"the fleet after delivery {delivery}", block=ev.block)
        if int(a["acceptedAt"]) < accepted:
            rec.add(FindingKind.DELIVERY, None, register, f"accepted at or after {accepted}", int(a["acceptedAt"]),
                    f"delivery {delivery} was accepted before the delivery recorded ahead of it", block=ev.block)
        accepted = max(accepted, int(a["acceptedAt"]))


def reconcile_report_against_register(history: History, report: ReportRecord, period_end: int, oracle: str,
                                      rec: Reconciliation) -> None:
    """One accepted report and its tape against the register as it stood when the report was accepted."""
    from rwa.onchain.oracle import tape_hash

    if report.event is None:
        return
    at = _at(report.event)
    period = report.period
    leases = leases_at(history, at)
    fleet = fleet_at(history, period_end, at)
    version = "report" if report.amended_from is None else f"amended report (version {report.version})"
    here = f"period {period}'s {version}"
    if report.active_servers > fleet:
        rec.add(FindingKind.ACTIVE_SERVERS, period, oracle, fleet, report.active_servers,
                f"{here}: {report.active_servers:,} active servers, the register held {fleet:,} accepted before "
                "the period's end", block=report.block)
    rent = contracted_rent(leases, fleet, period)
    if report.contracted_rent != rent:
        rec.add(FindingKind.CONTRACTED_RENT, period, oracle, rent, report.contracted_rent,
                f"{here}: the contracted rent is not the rent of the servers the register's leases in force get",
                block=report.block)
    tape = history.tape_of(report)
    if tape is None:
        rec.add(FindingKind.TAPE_MISSING, period, oracle, "a lease tape", None,
                f"{here} was accepted with no lease tape", block=report.block)
        return
    computed = "0x" + tape_hash(tape.rows).hex()
    if computed != report.tape_hash.lower():
        rec.add(FindingKind.TAPE_HASH, period, oracle, report.tape_hash, computed,
                f"{here}: the tape's rows do not hash to the tape hash the reporters signed (a row changed after "
                "signing)", block=report.block)
    _reconcile_rows(tape.rows, leases, fleet, report, here, oracle, rec)


def _reconcile_rows(rows: Sequence[LeaseRow], leases: Sequence[LeaseTerms], fleet: int, report: ReportRecord,
                    here: str, oracle: str, rec: Reconciliation) -> None:
    period = report.period
    if len(rows) != len(leases) or any(row.lease != i + 1 for i, row in enumerate(rows)):
        rec.add(FindingKind.TAPE_LEASE, period, oracle, list(range(1, len(leases) + 1)), [r.lease for r in rows],
                f"{here}: the tape must have one row per lease, in lease order", block=report.block)
    allowed = allocate(leases, fleet, period)
    for row in rows:
        i = row.lease - 1
        cap = allowed[i] if 0 <= i < len(allowed) else 0
        if row.servers > cap:
            lessee = leases[i].lessee if 0 <= i < len(leases) else "no such lease"
            rec.add(FindingKind.TAPE_LEASE, period, oracle, cap, row.servers,
                    f"{here}: lease {row.lease} ({lessee}) is billed for {row.servers:,} servers, the register "
                    f"gives it {cap:,} of the {fleet:,} accepted before the period's end", block=report.block)
    billed, servers = sum(r.billed for r in rows), sum(r.servers for r in rows)
    if billed != report.source_revenue:
        rec.add(FindingKind.TAPE_TOTAL, period, oracle, report.source_revenue, billed,
                f"{here}: the tape bills {billed:,}, the report's source revenue is {report.source_revenue:,}",
                block=report.block)
    if servers != report.active_servers:
        rec.add(FindingKind.TAPE_TOTAL, period, oracle, report.active_servers, servers,
                f"{here}: the tape's servers add up to {servers:,}, the report says {report.active_servers:,} active",
                block=report.block)


def disclose_lease_changes(history: History, register: str, rec: Reconciliation) -> int:
    """Every lease the reporters changed or added after deployment, disclosed; returns how many."""
    first = history.register[0].tx_hash if history.register else None
    lessees: dict[int, str] = {}
    count = 0
    for ev in history.register:
        a = ev.args
        if ev.event == "LeaseRegistered":
            lessees[int(a["lease"])] = str(a["lessee"])
            if ev.tx_hash != first:
                count += 1
                rec.disclose(DisclosureKind.LEASE_ADDED, ev, register, int(a["servers"]) * int(a["rentPerServer"]),
                             f"lease {int(a['lease'])} added for {a['lessee']}: {int(a['servers']):,} servers at "
                             f"{int(a['rentPerServer']):,} per server and period, periods {int(a['startPeriod'])} to "
                             f"{int(a['endPeriod'])} ({LeaseStatus(int(a['status'])).label})")
        elif ev.event == "LeaseUpdated":
            lease, old, new = int(a["lease"]), LeaseStatus(int(a["oldStatus"])), LeaseStatus(int(a["status"]))
            signers = ", ".join(str(s) for s in a.get("signers", []))
            terms = (f"{int(a['servers']):,} servers at {int(a['rentPerServer']):,}, periods {int(a['startPeriod'])} "
                     f"to {int(a['endPeriod'])}; attested by {signers}")
            count += 1
            if old != new:
                rec.disclose(DisclosureKind.LEASE_STATUS, ev, register, int(a["servers"]) * int(a["rentPerServer"]),
                             f"lease {lease} ({lessees.get(lease, '?')}) went from {old.label} to {new.label}: "
                             f"{terms}")
            else:
                rec.disclose(DisclosureKind.LEASE_CHANGED, ev, register, int(a["servers"]) * int(a["rentPerServer"]),
                             f"lease {lease} ({lessees.get(lease, '?')}) changed ({new.label}): {terms}")
    return count


def disclose_past_due(history: History, limit_days: int, oracle: str, rec: Reconciliation) -> None:
    """Each lessee whose row of a period's tape in force (the latest version) is past due beyond the deal's limit:
    an objective event the deal's past-due trigger acts on."""
    if limit_days <= 0:
        return
    leases = leases_at(history)
    for period, tapes in sorted(history.tapes.items()):
        tape = tapes[-1]
        for row in tape.rows:
            if row.days_past_due > limit_days:
                lessee = leases[row.lease - 1].lessee if 0 < row.lease <= len(leases) else "?"
                rec.disclose(DisclosureKind.LESSEE_PAST_DUE, tape.event, oracle, row.billed - row.collected,
                             f"period {period}: lease {row.lease} ({lessee}) {row.days_past_due} days past due, beyond "
                             f"the deal's {limit_days}", period=period)


def fleet_view(history: History, ordered: int, period_ends: Sequence[int], through: int) -> FleetView:
    """The fleet per period 1..``through`` from the register and the tapes in force."""
    leases = leases_at(history)
    names = list(dict.fromkeys(lease.lessee for lease in leases))
    view = FleetView(ordered=ordered, lessees=names)
    view.deliveries = sum(1 for ev in history.register if ev.event == "DeliveryAttested")
    view.delivered = max((int(ev.args["fleetAfter"]) for ev in history.register if ev.event == "DeliveryAttested"),
                         default=0)
    view.tapes = sum(len(t) for t in history.tapes.values())
    for period in range(1, through + 1):
        reports = history.reports.get(period, [])
        tape = history.tapes[period][-1] if history.tapes.get(period) else None
        row = {"period": period, "ordered": ordered,
               "delivered": fleet_at(history, period_ends[period - 1]) if period <= len(period_ends) else 0,
               "active": reports[-1].active_servers if reports else 0}
        leased = dict.fromkeys(names, 0)
        for r in tape.rows if tape is not None else ():
            if 0 < r.lease <= len(leases):
                leased[leases[r.lease - 1].lessee] += r.servers
        view.rows.append(row | {f"leased:{n}": v for n, v in leased.items()})
    return view


def reconcile_fleet(history: History, expected: RegisterTerms, reads: RegisterReads, manifest_register: str,
                    deal_contracts: tuple[str, str], period_ends: Sequence[int], past_due_days: int, oracle: str,
                    rec: Reconciliation) -> FleetView:
    """The whole fleet check (see the module's docstring); ``deal_contracts`` the pool and the offering (empty: none)
    the register must be bound to. Returns the fleet over time for the outputs."""
    reconcile_register_terms(history, expected, reads, manifest_register, *deal_contracts, rec)
    reconcile_deliveries(history, expected, reads.address, rec)
    for period, records in sorted(history.reports.items()):
        if not 1 <= period <= len(period_ends):
            continue
        for report in records:
            reconcile_report_against_register(history, report, period_ends[period - 1], oracle, rec)
    view = fleet_view(history, sum(o.servers for o in expected.orders), period_ends,
                      max(history.reports, default=0))
    view.lease_changes = disclose_lease_changes(history, reads.address, rec)
    disclose_past_due(history, past_due_days, oracle, rec)
    return view
