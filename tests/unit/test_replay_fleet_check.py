"""The fleet check on a register's events: a register deployed with the deal's orders and leases, deliveries within
their orders and reports whose tapes follow the allocation rule reconcile; each departure is a finding (or, for a
lessee past due, a disclosure) naming the period, the lease, what was expected and what the chain shows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from rwa.model.deal_file import load_deal
from rwa.model.fleet import LeaseRow, RegisterTerms, allocate, contracted_rent, register_terms
from rwa.onchain.oracle import tape_hash
from rwa.replay.checks.fleet import RegisterReads, reconcile_fleet
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History, ReportRecord, TapeRecord
from rwa.replay.ledger import Event

ROOT = Path(__file__).resolve().parents[2]
REGISTER, ORACLE, POOL, OFFERING = ("0x" + c * 40 for c in "1234")
TREASURY = "0x" + "78" * 20
PAST_DUE_DAYS = 90


@pytest.fixture(scope="module")
def terms() -> RegisterTerms:
    deal = load_deal(ROOT / "examples" / "deal-h800-offering.toml")
    return register_terms(deal, TREASURY)


def _reads(terms: RegisterTerms) -> RegisterReads:
    return RegisterReads(REGISTER, terms.long_stop, terms.treasury, terms.period_count, POOL, OFFERING, REGISTER,
                         REGISTER, REGISTER)


def _ends(terms: RegisterTerms) -> list[int]:
    return [terms.long_stop - 86_400 * 30 * (terms.long_stop_period - p) for p in range(1, terms.period_count + 1)]


class _History:
    """A register deployed with ``terms``, and events added in chain order (a block each)."""

    def __init__(self, terms: RegisterTerms) -> None:
        self.h = History()
        self.block = 10
        self.sequence = 0
        self.fleet = 0
        self.delivered = [0] * len(terms.orders)
        deploy = "0x" + "ab" * 32
        for i, o in enumerate(terms.orders):
            self.h.register.append(Event(10, i, deploy, "register", REGISTER, "OrderRegistered", {
                "order": i, "supplier": o.supplier, "recipient": o.recipient, "servers": o.servers,
                "unitPrice": o.unit_price}))
        for i, lease in enumerate(terms.leases):
            self.h.register.append(Event(10, 100 + i, deploy, "register", REGISTER, "LeaseRegistered", {
                "lease": i + 1, "lessee": lease.lessee, "servers": lease.servers,
                "rentPerServer": lease.rent_per_server, "startPeriod": lease.start_period,
                "endPeriod": lease.end_period, "status": 0}))
        self.terms = terms

    def _event(self, contract: str, name: str, args: dict[str, object]) -> Event:
        self.block += 1
        return Event(self.block, 0, f"0x{self.block:064x}", contract, REGISTER if contract == "register" else ORACLE,
                     name, args)

    def deliver(self, order: int, servers: int, accepted: int) -> None:
        self.fleet += servers
        self.h.register.append(self._event("register", "DeliveryAttested", {
            "delivery": sum(1 for e in self.h.register if e.event == "DeliveryAttested"), "order": order,
            "servers": servers, "acceptedAt": accepted, "price": servers * self.terms.orders[order].unit_price,
            "fleetAfter": self.fleet, "sequence": self.sequence}))
        self.sequence += 1

    def report(self, period: int, fleet: int, *, days_past_due: int = 0, **changes: int) -> ReportRecord:
        """An honest report of ``period`` with ``fleet`` servers in service, and its tape (``changes`` applied to the
        report's figures after the tape was made)."""
        leases = list(self.terms.leases)
        servers = allocate(leases, fleet, period)
        rows = tuple(LeaseRow(i + 1, n, n * 7 * lease.rent_per_server, n * 7 * lease.rent_per_server,
                              days_past_due if i == 0 else 0) for i, (n, lease) in enumerate(zip(servers, leases,
                                                                                                     strict=True)))
        ev = self._event("oracle", "ReportSubmitted", {})
        record = ReportRecord(period, 0, contracted_rent(leases, fleet, period), 10_000, sum(servers),
                              sum(r.billed for r in rows), 0, ev.block, event=ev,
                              tape_hash="0x" + tape_hash(rows).hex())
        record = replace(record, **changes)
        self.h.reports[period].append(record)
        self.h.tapes[period].append(TapeRecord(period, 0, rows, replace(ev, event="LeaseTape", log_index=1)))
        return record


def _check(terms: RegisterTerms, built: _History) -> Reconciliation:
    rec = Reconciliation()
    reconcile_fleet(built.h, terms, _reads(terms), REGISTER, (POOL, OFFERING), _ends(terms), PAST_DUE_DAYS, ORACLE,
                    rec)
    return rec


def _honest(terms: RegisterTerms) -> _History:
    built = _History(terms)
    ends = _ends(terms)
    built.deliver(0, 330, ends[0] - 10)
    built.deliver(1, 320, ends[0] - 5)
    built.report(1, 650)
    built.deliver(2, 150, ends[1] - 5)
    built.report(2, 800)
    return built


def test_a_fleet_that_follows_the_rules_reconciles(terms: RegisterTerms) -> None:
    built = _honest(terms)
    rec = _check(terms, built)
    assert rec.findings == [] and rec.disclosures == []


def test_a_delivery_beyond_its_order_is_a_finding(terms: RegisterTerms) -> None:
    built = _honest(terms)
    built.deliver(0, 5, _ends(terms)[2] - 5)
    [finding] = _check(terms, built).findings
    assert (finding.kind, finding.expected, finding.actual) == (FindingKind.DELIVERY, 330, 335)


def test_an_attestation_out_of_sequence_is_a_finding(terms: RegisterTerms) -> None:
    built = _honest(terms)
    built.sequence += 1
    built.deliver(2, 1, _ends(terms)[2] - 5)
    [finding] = [f for f in _check(terms, built).findings if f.kind == FindingKind.ATTESTATION_SEQUENCE]
    assert (finding.expected, finding.actual) == (3, 4)


def test_active_servers_above_the_fleet_and_a_contracted_rent_not_the_registers_are_findings(
    terms: RegisterTerms
) -> None:
    built = _honest(terms)
    rent = contracted_rent(list(terms.leases), 800, 3)
    built.report(3, 800, active_servers=820, contracted_rent=rent + 1)
    rec = _check(terms, built)
    by_kind = {f.kind: f for f in rec.findings}
    assert (by_kind[FindingKind.ACTIVE_SERVERS].expected, by_kind[FindingKind.ACTIVE_SERVERS].actual) == (800, 820)
    assert (by_kind[FindingKind.CONTRACTED_RENT].expected, by_kind[FindingKind.CONTRACTED_RENT].actual) == (
        rent, rent + 1)
    assert by_kind[FindingKind.TAPE_TOTAL].period == 3  # the tape's servers are not the 820 reported


def test_a_lessee_past_due_beyond_the_deals_limit_is_disclosed(terms: RegisterTerms) -> None:
    built = _honest(terms)
    built.report(3, 800, days_past_due=PAST_DUE_DAYS + 1)
    rec = _check(terms, built)
    assert rec.findings == []
    [late] = rec.disclosures
    assert late.kind == DisclosureKind.LESSEE_PAST_DUE and late.period == 3
    assert f"lease 1 ({terms.leases[0].lessee}) {PAST_DUE_DAYS + 1} days past due" in late.detail


def test_a_register_deployed_with_other_orders_than_the_deals_is_a_finding(terms: RegisterTerms) -> None:
    built = _honest(terms)
    first = built.h.register[0]
    built.h.register[0] = replace(first, args={**first.args, "unitPrice": int(first.args["unitPrice"]) + 1})
    kinds = {f.kind for f in _check(terms, built).findings}
    assert FindingKind.FLEET_TERMS in kinds


def test_an_oracle_bound_to_another_register_is_a_finding(terms: RegisterTerms) -> None:
    built = _honest(terms)
    rec = Reconciliation()
    reads = replace(_reads(terms), oracle_register=POOL)
    reconcile_fleet(built.h, terms, reads, REGISTER, (POOL, OFFERING), _ends(terms), PAST_DUE_DAYS, ORACLE, rec)
    [finding] = rec.findings
    assert (finding.kind, finding.expected, finding.actual) == (FindingKind.FLEET_LINK, REGISTER, POOL)


def test_an_oracle_whose_binding_event_names_another_register_is_a_finding(terms: RegisterTerms) -> None:
    built = _honest(terms)
    built.h.register_bound.append(Event(5, 0, "0x" + "cd" * 32, "oracle", ORACLE, "RegisterBound", {"register": POOL}))
    [finding] = _check(terms, built).findings
    assert (finding.kind, finding.expected, finding.actual) == (FindingKind.FLEET_LINK, REGISTER, POOL)
    assert "RegisterBound in block 5" in finding.detail
