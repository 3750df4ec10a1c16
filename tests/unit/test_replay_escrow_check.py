"""The use-of-proceeds check on an escrow's events: a history that follows the rules (built with the model's own
escrow, :class:`rwa.model.fleet.Escrow`) reconciles to the unit, and each release or prepayment that breaks a rule
is a finding with what was expected and what the chain shows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from rwa.model.deal_file import load_deal
from rwa.model.fleet import Escrow, RegisterTerms, register_terms
from rwa.model.terms import treasury_of
from rwa.replay.checks.escrow import reconcile_escrow
from rwa.replay.findings import FindingKind, Reconciliation
from rwa.replay.history import History
from rwa.replay.ledger import Event

ROOT = Path(__file__).resolve().parents[2]
REGISTER, OFFERING, POOL = "0x" + "12" * 20, "0x" + "34" * 20, "0x" + "56" * 20
ISSUER = "0x" + "78" * 20
RESERVE, COSTS = 11_000_000, 1_900_000


@pytest.fixture(scope="module")
def terms() -> RegisterTerms:
    deal = load_deal(ROOT / "examples" / "deal-h800-offering.toml")
    return register_terms(deal, treasury_of(deal, ISSUER))


class _Chain:
    """Events numbered in chain order, one block each."""

    def __init__(self) -> None:
        self.block = 100

    def event(self, contract: str, name: str, args: dict[str, object], timestamp: int | None = None) -> Event:
        self.block += 1
        address = {"register": REGISTER, "offering": OFFERING, "pool": POOL}[contract]
        return Event(self.block, 0, f"0x{self.block:064x}", contract, address, name, args, timestamp)


def honest_history(terms: RegisterTerms, delivered: list[tuple[int, int]], *, settle: bool = True
                   ) -> tuple[History, int]:
    """The events of a close that escrows the raise, the issuer's equity, ``delivered`` (order, servers) attested and
    released by the rules, and (``settle``) the long-stop; returns them and the register's balance at the end."""
    chain = _Chain()
    raised = terms.capex_total * 2 // 3
    h = History()
    h.offering += [
        chain.event("offering", "OfferingClosed", {"reserve": RESERVE, "costs": COSTS, "proceeds": raised}),
        chain.event("offering", "CloseRouted", {"kind": 3, "recipient": REGISTER, "amount": raised, "paid": True}),
    ]
    escrow = Escrow(terms.capex_total).fund_raise(raised).fund_equity(terms.capex_total - raised)
    h.register += [chain.event("register", "RaiseEscrowed", {"from": OFFERING, "amount": raised}),
                   chain.event("register", "EquityFunded", {"from": ISSUER, "amount": escrow.equity_funded})]
    h.offering[-1] = replace(h.offering[-1], tx_hash=h.register[0].tx_hash)
    fleet = 0
    for k, (order, servers) in enumerate(delivered):
        fleet += servers
        price = servers * terms.orders[order].unit_price
        accepted = terms.long_stop - 86_400 * (10 - k)
        h.register.append(chain.event("register", "DeliveryAttested", {
            "delivery": k, "order": order, "servers": servers, "acceptedAt": accepted, "price": price,
            "fleetAfter": fleet, "sequence": k}, accepted))
        escrow, release = escrow.release(k, order, price)
        h.register.append(chain.event("register", "Released", {
            "delivery": k, "order": order, "recipient": terms.orders[order].recipient, "fromRaise": release.from_raise,
            "fromEquity": release.from_equity, "paid": True}, accepted))
    if settle:
        escrow = escrow.settle()
        settled = chain.event("register", "LongStopSettled", {
            "prepaid": escrow.prepaid, "equityReturned": escrow.equity_returned, "treasury": terms.treasury,
            "equityPaid": True, "by": ISSUER}, terms.long_stop)
        h.register.append(settled)
        h.prepaid.append(replace(chain.event("pool", "Prepaid", {"from": REGISTER, "amount": escrow.prepaid}),
                                 tx_hash=settled.tx_hash))
    held = escrow.raise_amount + escrow.equity_funded - escrow.raise_released - escrow.equity_released
    return h, (0 if settle else held)


SHORTFALL = [(0, 12), (1, 320), (2, 150)]


def _check(terms: RegisterTerms, h: History, balance: int) -> Reconciliation:
    rec = Reconciliation()
    reconcile_escrow(h, terms, REGISTER, OFFERING, balance, rec)
    return rec


def test_an_escrow_that_follows_the_rules_adds_up_to_the_unit(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    rec = Reconciliation()
    use = reconcile_escrow(h, terms, REGISTER, OFFERING, balance, rec)
    assert rec.findings == []
    assert use.raised - use.reserve - use.costs == use.escrowed + use.to_treasury
    assert use.escrowed == use.released_from_raise + use.prepaid and use.prepaid > 0
    assert use.equity_funded == use.released_from_equity + use.equity_returned
    assert [o.delivered for o in use.orders] == [12, 320, 150]
    assert [d.kind for d in rec.disclosures] == ["long-stop-prepayment"]
    before, unsettled = honest_history(terms, SHORTFALL[:2], settle=False)
    assert _check(terms, before, unsettled).findings == []


def _edit(h: History, name: str, index: int, change: Callable[[Event], Event]) -> History:
    events = [i for i, ev in enumerate(h.register) if ev.event == name]
    h.register[events[index]] = change(h.register[events[index]])
    return h


def test_a_release_that_takes_more_of_the_raise_than_its_share_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    released = [ev for ev in h.register if ev.event == "Released"][1]
    honest = (int(released.args["fromRaise"]), int(released.args["fromEquity"]))
    _edit(h, "Released", 1, lambda ev: replace(ev, args={**ev.args, "fromRaise": honest[0] + 1,
                                                          "fromEquity": honest[1] - 1}))
    rec = _check(terms, h, balance)
    [finding] = [f for f in rec.findings if f.kind == FindingKind.RELEASE]
    assert (finding.expected, finding.actual) == (honest, (honest[0] + 1, honest[1] - 1))
    assert "delivery 1's release" in finding.detail


def test_a_release_after_the_long_stop_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    _edit(h, "Released", 2, lambda ev: replace(ev, timestamp=terms.long_stop + 1))
    rec = _check(terms, h, balance)
    [finding] = [f for f in rec.findings if f.kind == FindingKind.RELEASE]
    assert finding.actual == terms.long_stop + 1 and "after the long-stop" in finding.detail


def test_a_release_to_another_recipient_than_the_order_names_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    _edit(h, "Released", 0, lambda ev: replace(ev, args={**ev.args, "recipient": ISSUER}))
    [finding] = [f for f in _check(terms, h, balance).findings if f.kind == FindingKind.RELEASE]
    assert (finding.expected, finding.actual) == (terms.orders[0].recipient, ISSUER)


def test_a_prepayment_short_of_the_raise_not_released_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    settled = next(ev for ev in h.register if ev.event == "LongStopSettled")
    prepaid, returned = int(settled.args["prepaid"]), int(settled.args["equityReturned"])
    _edit(h, "LongStopSettled", 0, lambda ev: replace(ev, args={**ev.args, "prepaid": prepaid - 1_000}))
    h.prepaid[0] = replace(h.prepaid[0], args={**h.prepaid[0].args, "amount": prepaid - 1_000})
    rec = _check(terms, h, balance + 1_000)
    kinds = {f.kind for f in rec.findings}
    assert kinds == {FindingKind.PREPAYMENT, FindingKind.USE_OF_PROCEEDS}, [f.detail for f in rec.findings]
    [rule] = [f for f in rec.findings if f.kind == FindingKind.PREPAYMENT]
    assert (rule.expected, rule.actual) == ((prepaid, returned), (prepaid - 1_000, returned))


def test_a_pool_prepayment_other_than_the_registers_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    prepaid = int(h.prepaid[0].args["amount"])
    h.prepaid[0] = replace(h.prepaid[0], args={**h.prepaid[0].args, "amount": prepaid - 1})
    [finding] = _check(terms, h, balance).findings
    assert (finding.kind, finding.expected, finding.actual) == (FindingKind.PREPAYMENT, prepaid, prepaid - 1)


def test_stablecoin_left_in_or_taken_from_the_register_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL)
    [finding] = _check(terms, h, balance - 7).findings
    assert (finding.kind, finding.expected, finding.actual) == (FindingKind.ESCROW_BALANCE, balance, balance - 7)


def test_a_raise_escrowed_other_than_the_close_routed_is_a_finding(terms: RegisterTerms) -> None:
    h, balance = honest_history(terms, SHORTFALL[:1], settle=False)
    routed = int(h.offering[1].args["amount"])
    h.offering[1] = replace(h.offering[1], args={**h.offering[1].args, "amount": routed - 5})
    kinds = [f.kind for f in _check(terms, h, balance).findings]
    assert FindingKind.ESCROW_FUNDING in kinds
