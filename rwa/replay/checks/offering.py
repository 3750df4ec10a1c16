"""The auditor follows the offering's money from its first unit: every request, cancellation, the close, every claim,
and every stablecoin unit in and out of the offering contract, against the deal's terms and the allocation rule.

The book is rebuilt from the offering's events alone and each of its decisions is recomputed with the reference
model (:mod:`rwa.model.offering_book`): a close or a claim that does not follow the rule, an abandonment before its
time or with another book, stablecoin that left the offering other than as a refund, a routing of the close or a
withdrawal of what was owed, a token minted other than to the offering by its close, a token leaving the offering
other than as the delivery of what it held for that buyer, or a balance the book cannot explain, is a finding naming
the account, the expected and the actual.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from rwa.model.offering_book import CloseOutcome, Cost, OfferingConfig, abandoned, allocation, close_book
from rwa.model.units import TRANCHES, ZERO_ADDRESS
from rwa.replay.findings import DisclosureKind, FindingKind, HolderFlows, Reconciliation, flow_time
from rwa.replay.history import History
from rwa.replay.ledger import Event

_TRANCHE = dict(enumerate(TRANCHES))


@dataclass
class OfferingBook:
    """What the replay rebuilt of the offering."""

    requested: list[int] = field(default_factory=lambda: [0, 0])
    sold: tuple[int, int] = (0, 0)
    taken_up: tuple[int, int] = (0, 0)
    allotted: list[int] = field(default_factory=lambda: [0, 0])
    """Tokens the claims allotted (the requests' share of the raise)."""
    delivered: list[int] = field(default_factory=lambda: [0, 0])
    """Tokens that left the offering to their buyers (allotments and take-ups)."""
    held: dict[tuple[int, str], int] = field(default_factory=dict)
    """Tokens allotted or taken up, waiting in the offering for a buyer that could not receive them yet."""
    claimed_assets: list[int] = field(default_factory=lambda: [0, 0])
    phase: str = "open"
    reserve: int = 0
    costs: int = 0
    proceeds: int = 0
    refunds: int = 0
    subscribers: int = 0
    open_requests: dict[tuple[int, str], int] = field(default_factory=dict)
    owed: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def raised(self) -> int:
        return sum(self.sold)


def reconcile_offering(
    history: History,
    offering: str,
    onchain: tuple[OfferingConfig, list[Cost]],
    expected: tuple[OfferingConfig, list[Cost]],
    sizes: Sequence[int],
    pool: str,
    tokens: Mapping[str, str],
    balance: int,
    rec: Reconciliation,
    capex_total: int = 0,
) -> OfferingBook:
    """Check the offering at ``offering`` (see the module); ``balance`` is its stablecoin balance at the head."""
    _reconcile_config(onchain, expected, offering, rec)
    config, costs = onchain
    flows = rec.flows
    book = OfferingBook()
    seen: set[str] = set()
    allowed_out: dict[str, list[tuple[str, int]]] = defaultdict(list)  # tx -> (recipient, amount) the rules allow
    allowed_in: dict[str, list[tuple[str, int]]] = defaultdict(list)
    mints: dict[str, list[tuple[str, str, int]]] = defaultdict(list)  # tx -> (tranche, to, amount)
    deliveries: dict[str, list[tuple[str, str, int]]] = defaultdict(list)  # tx -> (tranche, to, amount)
    outcome: CloseOutcome | None = None
    for ev in history.offering:
        a = ev.args
        if ev.event == "DepositRequest":
            t, who, assets = int(a["requestId"]), str(a["controller"]).lower(), int(a["assets"])
            key = (t, who)
            book.open_requests[key] = book.open_requests.get(key, 0) + assets
            book.requested[t] += assets
            allowed_in[ev.tx_hash].append((str(a["owner"]).lower(), assets))
            seen.add(who)
            f = flows.setdefault((_TRANCHE[t], who), HolderFlows())
            f.paid += assets
            f.flows.append((flow_time(ev), -assets))
        elif ev.event == "DepositRequestCancelled":
            t, who, assets = int(a["requestId"]), str(a["controller"]).lower(), int(a["assets"])
            held = book.open_requests.pop((t, who), 0)
            if held != assets:
                rec.add(FindingKind.OFFERING_ALLOCATION, None, who, held, assets,
                        f"{_TRANCHE[t]} cancellation in block {ev.block} refunded {assets:,}, the request was "
                        f"{held:,}", block=ev.block)
            book.requested[t] -= held
            allowed_out[ev.tx_hash].append((who, assets))
            book.refunds += assets
            _refund(flows, (_TRANCHE[t], who), assets, ev)
        elif ev.event in ("OfferingClosed", "OfferingCancelled"):
            outcome = close_book(sizes, book.requested, config.take_up(), config.reserve_at_close,
                                 [c.amount for c in costs])
            _reconcile_close(ev, outcome, offering, rec)
            book.phase = "cancelled" if outcome.cancelled else "closed"
            book.sold, book.taken_up = outcome.sold, outcome.taken_up
            book.reserve, book.costs, book.proceeds = outcome.reserve, outcome.costs, outcome.proceeds
            if not outcome.cancelled:  # the close mints each tranche's whole size to the offering, to hold
                mints[ev.tx_hash] += [(_TRANCHE[t], offering.lower(), sizes[t]) for t in _TRANCHE]
        elif ev.event == "OfferingAbandoned":
            outcome = abandoned(book.requested)
            _reconcile_abandon(ev, book, config, offering, rec)
            book.phase = "cancelled"
        elif ev.event == "TakenUp":
            t, amount = int(a["requestId"]), int(a["amount"])
            want = outcome.taken_up[t] if outcome is not None else 0
            if amount != want:
                rec.add(FindingKind.OFFERING_CLOSE, None, str(a["treasury"]), want, amount,
                        f"{_TRANCHE[t]} taken up at the close in block {ev.block}", block=ev.block)
            key = (t, str(a["treasury"]).lower())
            book.held[key] = book.held.get(key, 0) + amount
        elif ev.event == "SharesDelivered":
            t, who, shares = int(a["requestId"]), str(a["controller"]).lower(), int(a["shares"])
            held = book.held.pop((t, who), 0)
            if held != shares:
                rec.add(FindingKind.OFFERING_ALLOCATION, None, who, held, shares,
                        f"{_TRANCHE[t]} delivery in block {ev.block}: the offering held {held:,} for it",
                        block=ev.block)
            book.delivered[t] += shares
            deliveries[ev.tx_hash].append((_TRANCHE[t], who, shares))
        elif ev.event == "CloseRouted":
            recipient, amount = str(a["recipient"]).lower(), int(a["amount"])
            if bool(a["paid"]):
                allowed_out[ev.tx_hash].append((recipient, amount))
            else:
                book.owed[recipient] += amount
        elif ev.event == "DepositClaimed":
            _claim(ev, book, outcome, sizes, allowed_out, flows, rec)
        elif ev.event == "OwedWithdrawn":
            who, amount = str(a["account"]).lower(), int(a["amount"])
            if book.owed.get(who, 0) != amount:
                rec.add(FindingKind.OFFERING_OUTFLOW, None, who, book.owed.get(who, 0), amount,
                        f"a withdrawal of what the offering owed in block {ev.block}", block=ev.block)
            book.owed[who] = 0
            allowed_out[ev.tx_hash].append((who, amount))
            owed_to = [k for k in flows if k[1] == who]
            if owed_to:
                _refund(flows, owed_to[0], amount, ev)
    book.subscribers = len(seen)
    if outcome is not None and not outcome.cancelled:
        _reconcile_routing(history, outcome, config, costs, offering, pool, rec, capex_total)
    _reconcile_flows(history, offering, allowed_in, allowed_out, balance, book, rec)
    _reconcile_tokens(history, offering, tokens, mints, deliveries, rec)
    return book


def _refund(flows: dict[tuple[str, str], HolderFlows], key: tuple[str, str], amount: int, ev: Event) -> None:
    if amount:
        f = flows.setdefault(key, HolderFlows())
        f.refunded += amount
        f.flows.append((flow_time(ev), amount))


def _claim(
    ev: Event,
    book: OfferingBook,
    outcome: CloseOutcome | None,
    sizes: Sequence[int],
    allowed_out: dict[str, list[tuple[str, int]]],
    flows: dict[tuple[str, str], HolderFlows],
    rec: Reconciliation,
) -> None:
    a = ev.args
    t, who = int(a["requestId"]), str(a["controller"]).lower()
    assets, shares, refund = int(a["assets"]), int(a["shares"]), int(a["refund"])
    held = book.open_requests.pop((t, who), 0)
    if held != assets:
        rec.add(FindingKind.OFFERING_ALLOCATION, None, who, held, assets,
                f"{_TRANCHE[t]} claim in block {ev.block} settled a request of {assets:,}; the book holds {held:,}",
                block=ev.block)
    if outcome is None:
        rec.add(FindingKind.OFFERING_ALLOCATION, None, who, "a close", "none",
                f"{_TRANCHE[t]} claim in block {ev.block} before the offering closed", block=ev.block)
        return
    want = 0 if outcome.cancelled else allocation(sizes[t], outcome.requested[t], book.claimed_assets[t], held)
    book.claimed_assets[t] += held
    if (shares, refund) != (want, held - want):
        rec.add(FindingKind.OFFERING_ALLOCATION, None, who, (want, held - want), (shares, refund),
                f"{_TRANCHE[t]} claim in block {ev.block}: the rule allocates {want:,} tokens and refunds "
                f"{held - want:,} of the {held:,} requested; the offering gave {shares:,} and {refund:,}",
                block=ev.block)
    book.allotted[t] += shares
    if shares:
        book.held[(t, who)] = book.held.get((t, who), 0) + shares
    if bool(a["refundPaid"]):
        allowed_out[ev.tx_hash].append((who, refund))
        book.refunds += refund
        _refund(flows, (_TRANCHE[t], who), refund, ev)
    elif refund:
        book.owed[who] += refund


def _reconcile_config(onchain: tuple[OfferingConfig, list[Cost]], expected: tuple[OfferingConfig, list[Cost]],
                      offering: str, rec: Reconciliation) -> None:
    got, want = onchain, expected
    for name in OfferingConfig.__dataclass_fields__:
        g, w = getattr(got[0], name), getattr(want[0], name)
        if (g.lower() if isinstance(g, str) else g) != (w.lower() if isinstance(w, str) else w):
            rec.add(FindingKind.OFFERING_TERMS, None, offering, w, g,
                    f"the offering was deployed with {name}={g}, the deal says {w}")
    if [(c.recipient.lower(), c.amount) for c in got[1]] != [(c.recipient.lower(), c.amount) for c in want[1]]:
        rec.add(FindingKind.OFFERING_TERMS, None, offering, [(c.recipient, c.amount) for c in want[1]],
                [(c.recipient, c.amount) for c in got[1]], "the offering's upfront costs differ from the deal's")


def _reconcile_close(ev: Event, outcome: CloseOutcome, offering: str, rec: Reconciliation) -> None:
    a = ev.args
    if ev.event == "OfferingCancelled":
        if outcome.cancelled_by != int(a["tranche"]):
            rec.add(FindingKind.OFFERING_CLOSE, None, offering, outcome.cancelled_by, int(a["tranche"]),
                    f"the close in block {ev.block} cancelled the offering; by the book it "
                    f"{'cancels' if outcome.cancelled else 'allocates'}", block=ev.block)
        return
    got = (tuple(int(x) for x in a["requested"]), tuple(int(x) for x in a["sold"]),
           tuple(int(x) for x in a["takenUp"]), int(a["reserve"]), int(a["costs"]), int(a["proceeds"]))
    want = (outcome.requested, outcome.sold, outcome.taken_up, outcome.reserve, outcome.costs, outcome.proceeds)
    if outcome.cancelled or got != want:
        rec.add(FindingKind.OFFERING_CLOSE, None, offering, "cancelled" if outcome.cancelled else want, got,
                f"the close in block {ev.block}: requested, sold, taken up, reserve, costs, proceeds", block=ev.block)


def _reconcile_abandon(ev: Event, book: OfferingBook, config: OfferingConfig, offering: str,
                       rec: Reconciliation) -> None:
    """An abandonment comes no earlier than the window's end plus its grace, with the book as it stood."""
    a = ev.args
    at = config.close_time + config.close_grace
    if int(a["abandonableAt"]) != at or flow_time(ev) < at:
        rec.add(FindingKind.OFFERING_CLOSE, None, offering, at, (int(a["abandonableAt"]), flow_time(ev)),
                f"the offering was abandoned in block {ev.block}: allowed from {at}", block=ev.block)
    got = tuple(int(x) for x in a["requested"])
    if got != tuple(book.requested):
        rec.add(FindingKind.OFFERING_CLOSE, None, offering, tuple(book.requested), got,
                f"the book the abandonment in block {ev.block} refunds", block=ev.block)


def _reconcile_routing(history: History, outcome: CloseOutcome, config: OfferingConfig, costs: list[Cost],
                       offering: str, pool: str, rec: Reconciliation, capex_total: int) -> None:
    """The close's routing events name the deal's recipients with the book's amounts: the reserve, the costs, the
    capex share of the proceeds (at most ``capex_total``, the fleet's price) into the escrow, the rest to the
    treasury."""
    want = ([(0, pool.lower(), outcome.reserve)] if outcome.reserve else [])
    want += [(1, c.recipient.lower(), c.amount) for c in costs]
    escrowed = min(outcome.proceeds, capex_total) if config.escrow and int(config.escrow, 16) else 0
    want += [(3, config.escrow.lower(), escrowed)] if escrowed else []
    want += [(2, config.treasury.lower(), outcome.proceeds - escrowed)] if outcome.proceeds - escrowed else []
    got = [(int(e.args["kind"]), str(e.args["recipient"]).lower(), int(e.args["amount"]))
           for e in history.offering if e.event == "CloseRouted"]
    if got != want:
        rec.add(FindingKind.OFFERING_CLOSE, None, offering, want, got,
                "the close's routing (reserve to the pool, costs, proceeds to the treasury)")


def _reconcile_flows(
    history: History,
    offering: str,
    allowed_in: dict[str, list[tuple[str, int]]],
    allowed_out: dict[str, list[tuple[str, int]]],
    balance: int,
    book: OfferingBook,
    rec: Reconciliation,
) -> None:
    me = offering.lower()
    net = 0
    for ev in history.stablecoin_transfers:
        src, dst, value = str(ev.args["from"]).lower(), str(ev.args["to"]).lower(), int(ev.args["value"])
        if dst == me:
            net += value
            if (src, value) in allowed_in.get(ev.tx_hash, []):
                allowed_in[ev.tx_hash].remove((src, value))
            else:
                rec.donations["offering"] = rec.donations.get("offering", 0) + value
                rec.disclose(DisclosureKind.DONATION, ev, offering, value,
                             f"{value:,} sent to the offering by {src} outside any request", sender=src)
        if src == me:
            net -= value
            if (dst, value) in allowed_out.get(ev.tx_hash, []):
                allowed_out[ev.tx_hash].remove((dst, value))
            else:
                rec.add(FindingKind.OFFERING_OUTFLOW, None, offering, 0, value,
                        f"{value:,} left the offering to {ev.args['to']} in block {ev.block}, not as a refund, the "
                        "close's routing or a withdrawal of what it owed", block=ev.block, sender=ev.sender)
    if net != balance:
        rec.add(FindingKind.OFFERING_BALANCE, None, offering, net, balance,
                "stablecoin the offering holds against the transfers in and out of it")
    # What the book says it must hold: requests not yet settled, less the part of them the close routed already.
    unsettled = sum(book.open_requests.values())
    routed_ahead = 0 if book.phase != "closed" else book.raised - sum(book.allotted)
    need = unsettled - routed_ahead + sum(book.owed.values()) + rec.donations.get("offering", 0)
    if balance != need:
        rec.add(FindingKind.OFFERING_BALANCE, None, offering, need, balance,
                "stablecoin the offering holds against its book (open requests, refunds to come, what it owes)")


def _reconcile_tokens(history: History, offering: str, tokens: Mapping[str, str],
                      mints: dict[str, list[tuple[str, str, int]]],
                      deliveries: dict[str, list[tuple[str, str, int]]], rec: Reconciliation) -> None:
    """With an offering every unit of a tranche is minted to the offering by its close, and leaves the offering only
    as the delivery, in that same transaction, of what it held for that buyer."""
    # Where a unit may come from, what explains it there, and how one that nothing explains is described.
    sources = {ZERO_ADDRESS.lower(): (mints, "minted to {to} in block {block}, not to the offering by its close"),
               offering.lower(): (deliveries, "left the offering to {to} in block {block}, not as the delivery of "
                                              "what it held for that buyer")}
    for name, tok in history.tokens.items():
        for ev in tok.transfers:
            source = sources.get(str(ev.args["from"]).lower())
            if source is None:
                continue
            expected, unexplained = source
            key = (name, str(ev.args["to"]).lower(), int(ev.args["value"]))
            if key in expected.get(ev.tx_hash, []):
                expected[ev.tx_hash].remove(key)
            else:
                rec.add(FindingKind.OFFERING_MINT, None, tokens.get(name, name), 0, key[2],
                        f"{key[2]:,} {name} " + unexplained.format(to=ev.args["to"], block=ev.block),
                        block=ev.block)
