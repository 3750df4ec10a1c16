"""Recompute the history independently and compare it with the chain, to the unit.

The waterfall is recomputed from the deal file, the oracle reports and the deposits alone (the pure-integer model
in ``rwa.model.waterfall``); holders' entitlements from their balances over time and the distributions (the tokens'
per-share accumulator, replayed in points); money from the stablecoin's own transfers and balances. Every
difference is a :class:`Finding` with its period, account, expected and actual values.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

from rwa.model.calendar import late_periods
from rwa.model.units import Tranche, fx_convert_down
from rwa.model.waterfall import (
    PeriodLegs,
    PoolState,
    PoolTerms,
    cure_default,
    declare_default,
    fund_reserve,
    run_maturity,
    run_period,
    run_recovery,
)
from rwa.replay.history import ZERO, History, ReportRecord, TokenHistory
from rwa.replay.ledger import Event

LEG_FIELDS = [f.name for f in fields(PeriodLegs) if f.name not in ("period", "senior_dust", "junior_dust")]


class FindingKind(enum.StrEnum):
    """What a finding is about; the value is what ``findings.json`` and the report show."""

    AMENDED_AFTER_DISTRIBUTION = "amended-after-distribution"
    CLAIM = "claim"
    CLAIMABLE = "claimable"
    CONTRACTED_RENT = "contracted-rent"
    DEAL_FILE_CHANGED = "deal-file-changed"
    DISTRIBUTED_WITHOUT_REPORT = "distributed-without-report"
    DISTRIBUTION_OUTSIDE_WATERFALL = "distribution-outside-waterfall"
    DISTRIBUTOR_GRANTED = "distributor-granted"
    DUST = "dust"
    LATE_DISTRIBUTION = "late-distribution"
    MANIFEST_LINK = "manifest-link"
    OFFERING_ALLOCATION = "offering-allocation"
    OFFERING_BALANCE = "offering-balance"
    OFFERING_CLOSE = "offering-close"
    OFFERING_MINT = "offering-mint"
    OFFERING_OUTFLOW = "offering-outflow"
    OFFERING_TERMS = "offering-terms"
    ORACLE_CALENDAR = "oracle-calendar"
    ORACLE_FX = "oracle-fx"
    OUTSIDE_WATERFALL = "outside-waterfall"
    PAUSE_BOUND = "pause-bound"
    PERIOD_ORDER = "period-order"
    POOL_BALANCE = "pool-balance"
    POOL_INFLOW = "pool-inflow"
    POOL_OUTFLOW = "pool-outflow"
    POOL_TERMS = "pool-terms"
    REPORT_QUORUM = "report-quorum"
    REPORTERS = "reporters"
    ROLE_OUTSIDE_TABLE = "role-outside-table"
    STATE_WITHOUT_EVENT = "state-without-event"
    TOKEN_ACCUMULATOR = "token-accumulator"
    TOKEN_BALANCE = "token-balance"
    TOKEN_OUTFLOW = "token-outflow"
    TIMELOCK_DELAY = "timelock-delay"
    TOKEN_SUPPLY = "token-supply"
    TRADE = "trade"
    UNTIMELOCKED_ACT = "untimelocked-act"
    WATERFALL_LEG = "waterfall-leg"


class DisclosureKind(enum.StrEnum):
    """Legitimate but material facts a holder should know; the value is what ``disclosures.json`` shows."""

    COLLECTION_SHORTFALL = "collection-shortfall"
    DEFAULT_CURED = "default-cured"
    DEFAULT_DECLARED = "default-declared"
    DONATION = "donation"
    FEE_DEFERRED = "fee-deferred"
    FORCED_TRANSFER = "forced-transfer"
    INVESTOR_ALLOWED = "investor-allowed"
    INVESTOR_FROZEN = "investor-frozen"
    INVESTOR_REVOKED = "investor-revoked"
    KYC_UPDATED = "kyc-updated"
    PAUSE = "pause"
    REPORT_AMENDED = "report-amended"
    REPORTER_CHANGE = "reporter-change"
    ROLE_CHANGE = "role-change"
    THRESHOLD_CHANGE = "threshold-change"
    TIMELOCK_DELAY = "timelock-delay"
    TOKEN_BOUND = "token-bound"
    WALLET_FREEZE = "wallet-freeze"
    WALLET_RECOVERY = "wallet-recovery"


@dataclass(frozen=True)
class Finding:
    """One discrepancy between what should have happened and what the chain shows: the money or the rules were
    broken."""

    kind: FindingKind
    period: int | None
    account: str
    expected: Any
    actual: Any
    detail: str
    block: int | None = None
    sender: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Disclosure:
    """A legitimate but material act or fact, with where it happened, who did it and the amount involved."""

    kind: DisclosureKind
    period: int | None
    block: int | None
    sender: str | None
    account: str
    amount: int | None
    detail: str
    tx_hash: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HolderLine:
    tranche: str
    holder: str
    balance: int = 0
    correction: int = 0
    withdrawn: int = 0
    claimed_events: int = 0
    expected_claimable: int = 0
    onchain_claimable: int | None = None


@dataclass
class HolderFlows:
    """One holder's realised cash flows, in smallest units, each with the time it happened."""

    paid: int = 0
    refunded: int = 0
    received: int = 0
    flows: list[tuple[int, int]] = field(default_factory=list)
    """(unix time, signed amount): negative paid in, positive paid out to the holder."""

    def xirr(self, held: tuple[int, int] | None = None) -> float | None:
        """The realised annual rate (actual/365) of the flows so far (pyxirr); None when it cannot be computed.
        Flows on the same date are netted first. Tokens still held count as nothing unless ``held`` (unix time,
        value) says what they were worth then: cash so far is not a yield to maturity."""
        from rwa.leverage.analysis import xirr

        by_time: dict[int, int] = {}
        for t, a in [*self.flows, *([held] if held is not None else [])]:
            by_time[t] = by_time.get(t, 0) + a
        times = sorted(by_time)
        return xirr([float(by_time[t]) for t in times], [datetime.fromtimestamp(t, tz=UTC) for t in times])


@dataclass
class Reconciliation:
    findings: list[Finding] = field(default_factory=list)
    expected_legs: dict[int, PeriodLegs] = field(default_factory=dict)
    holders: dict[tuple[str, str], HolderLine] = field(default_factory=dict)
    token_dust: dict[str, int] = field(default_factory=dict)
    expected_balances: dict[str, int] = field(default_factory=dict)
    disclosures: list[Disclosure] = field(default_factory=list)
    donations: dict[str, int] = field(default_factory=dict)
    """Stablecoin that reached the pool or a token other than by the rules (a deposit, a waterfall leg), per account."""
    flows: dict[tuple[str, str], HolderFlows] = field(default_factory=dict)
    """Each (tranche, holder)'s realised cash flows: paid for its subscription, refunded, received from claims."""

    def add(
        self,
        kind: FindingKind,
        period: int | None,
        account: str,
        expected: Any,
        actual: Any,
        detail: str,
        *,
        block: int | None = None,
        sender: str | None = None,
    ) -> None:
        self.findings.append(Finding(kind, period, account, expected, actual, detail, block, sender))

    def disclose(
        self,
        kind: DisclosureKind,
        event: Event | None,
        account: str,
        amount: int | None,
        detail: str,
        *,
        period: int | None = None,
        sender: str | None = None,
    ) -> None:
        self.disclosures.append(
            Disclosure(
                kind,
                period,
                None if event is None else event.block,
                sender if sender is not None or event is None else event.sender,
                account,
                amount,
                detail,
                None if event is None else event.tx_hash,
            )
        )


# -- the waterfall ------------------------------------------------------------------------------------------------


def reconcile_waterfall(history: History, terms: PoolTerms, pool: str, rec: Reconciliation) -> None:
    from rwa.onchain.pool import DepositKind

    state = PoolState.opening(terms)
    changes = sorted([*history.default_events, *history.reserve_funded], key=lambda e: (e.block, e.log_index))
    for period in sorted(history.legs):
        actual, event = history.legs[period]
        while changes and (changes[0].block, changes[0].log_index) < (event.block, event.log_index):
            change = changes.pop(0)
            if change.event == "ReserveFunded":
                state = fund_reserve(state, int(change.args["amount"]))
            elif change.event == "DefaultDeclared" and not state.defaulted:
                state = declare_default(state)
            elif change.event == "DefaultCured" and state.defaulted:
                state = cure_default(state)
        cash = sum(history.deposits.get(period, {}).values())
        if period == terms.maturity_period:
            state, expected = run_maturity(terms, state, cash)
        elif period > terms.maturity_period:
            if not state.finalized:
                rec.add(FindingKind.PERIOD_ORDER, period, pool, terms.maturity_period, period,
                        "a recovery was distributed before maturity")
                continue
            state, expected = run_recovery(terms, state, period, cash)
        else:
            report = history.report_at(period, event.block)
            if report is None:
                rec.add(
                    FindingKind.DISTRIBUTED_WITHOUT_REPORT,
                    period,
                    pool,
                    "a report",
                    None,
                    f"period {period} was distributed with no oracle report in the history",
                )
                continue
            if period != state.last_distributed_period + 1:
                rec.add(
                    FindingKind.PERIOD_ORDER,
                    period,
                    pool,
                    state.last_distributed_period + 1,
                    period,
                    "periods must be distributed in order",
                )
                continue
            kinds = history.deposits.get(period, {})
            state, expected = run_period(terms, state, period, cash, report.revenue,
                                         rent=kinds.get(int(DepositKind.RENT), 0),
                                         refund=kinds.get(int(DepositKind.TAX_REFUND), 0))
        rec.expected_legs[period] = expected
        for name in LEG_FIELDS:
            want, got = getattr(expected, name), getattr(actual, name)
            if want != got:
                rec.add(FindingKind.WATERFALL_LEG, period, pool, want, got,
                        f"{name}: recomputed {want:,}, on-chain {got:,}")


def reconcile_terms(onchain: PoolTerms, expected: PoolTerms, pool: str, rec: Reconciliation) -> None:
    """The pool's terms as deployed (its period ends as it computes them included) against the deal's."""
    for name in (
        "first_period_start",
        "period_count",
        "senior_coupon_bps",
        "servicing_fee_per_period",
        "reserve_periods",
        "cash_trap_dscr_bps",
    ):
        want, got = getattr(expected, name), getattr(onchain, name)
        if want != got:
            rec.add(
                FindingKind.POOL_TERMS, None, pool, want, got,
                f"the pool was deployed with {name}={got}, the deal says {want}",
            )
    for what, want_all, got_all in (
        ("principal", expected.principal_schedule, onchain.principal_schedule),
        ("refund", expected.refund_schedule, onchain.refund_schedule),
    ):
        for i, (want, got) in enumerate(zip(want_all, got_all, strict=False)):
            if want != got:
                rec.add(FindingKind.POOL_TERMS, i + 1, pool, want, got, f"scheduled {what} for period {i + 1}")
        if len(want_all) != len(got_all):
            rec.add(FindingKind.POOL_TERMS, None, pool, len(want_all), len(got_all), f"length of the {what} schedule")
    reconcile_period_ends(onchain.period_ends, expected.period_ends, FindingKind.POOL_TERMS, pool, rec)


def _utc(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def reconcile_period_ends(
    onchain: Sequence[int], expected: Sequence[int], kind: FindingKind, contract: str, rec: Reconciliation
) -> None:
    """A contract's period ends (the pool's 1..N+1, the oracle's 1..N) against the deal's calendar: one finding per
    period that ends elsewhere, so a pool or oracle counting other months (or 30 days) is named period by period."""
    for i, (want, got) in enumerate(zip(expected, onchain, strict=False)):
        if want != got:
            rec.add(kind, i + 1, contract, want, got,
                    f"period {i + 1} ends at {_utc(got)} on-chain, at {_utc(want)} by the deal's calendar")
    if len(onchain) != len(expected):
        rec.add(kind, None, contract, len(expected), len(onchain), "number of period ends")


def reconcile_reports(history: History, contracted: list[int], oracle: str, rec: Reconciliation) -> None:
    """Each report's conversion recomputed from its source revenue and rate; the latest report's contracted rent
    against the deal's leases; each amendment disclosed, and a finding when it came after the period was distributed
    (the oracle's rules forbid it: the paid figure would no longer be the report)."""
    distributed_at = {period: (ev.block, ev.log_index) for period, (_, ev) in history.legs.items()}
    for period, records in sorted(history.reports.items()):
        for r in records:
            reconcile_conversion(r, oracle, rec)
            if r.amended_from is None or r.event is None:
                continue
            where = (r.event.block, r.event.log_index)
            if period in distributed_at and distributed_at[period] < where:
                rec.add(
                    FindingKind.AMENDED_AFTER_DISTRIBUTION,
                    period,
                    oracle,
                    r.amended_from,
                    r.revenue,
                    f"period {period}'s report was amended after its distribution, from {r.amended_from:,} to "
                    f"{r.revenue:,}",
                    block=r.block,
                    sender=r.event.sender,
                )
            else:
                rec.disclose(
                    DisclosureKind.REPORT_AMENDED,
                    r.event,
                    oracle,
                    r.revenue - r.amended_from,
                    f"period {period}'s revenue amended from {r.amended_from:,} to {r.revenue:,} before its "
                    f"distribution, signed by {len(r.signers)}: {', '.join(r.signers)}",
                    period=period,
                )
        last = records[-1]
        if 1 <= period <= len(contracted) and last.contracted_rent != contracted[period - 1]:
            rec.add(
                FindingKind.CONTRACTED_RENT,
                period,
                oracle,
                contracted[period - 1],
                last.contracted_rent,
                "the report's contracted rent differs from the lease contracts in the deal",
                block=last.block,
            )


def reconcile_conversion(r: ReportRecord, oracle: str, rec: Reconciliation) -> None:
    """A report's revenue must be its source revenue at its rate, rounded down (``rwa.model.units.fx_convert_down``, the
    oracle's own rule): a report that breaks it came from an oracle that does not hold its reports to the rule."""
    expected = fx_convert_down(r.source_revenue, r.fx_rate)
    if r.revenue != expected:
        version = "report" if r.amended_from is None else "amended report"
        rec.add(
            FindingKind.ORACLE_FX,
            r.period,
            oracle,
            expected,
            r.revenue,
            f"period {r.period}'s {version}: source revenue {r.source_revenue:,} at fx rate {r.fx_rate:,} "
            f"(x 1e-18) converts to {expected:,}, the report says {r.revenue:,}",
            block=r.block,
            sender=r.event.sender if r.event is not None else None,
        )


def disclose_shortfalls(history: History, pool: str, rec: Reconciliation) -> None:
    """Per distributed period, rent collected against the revenue reported, and the total: a servicer that deposits
    less than the cluster earned is within the pool's rules (it pays what arrived) but a holder must know."""
    from rwa.onchain.pool import DepositKind

    total_short = 0
    servicer = {int(ev.args["period"]): str(ev.args["from"]) for ev in history.deposit_events}
    for period in sorted(history.legs):
        legs, ev = history.legs[period]
        rent = history.deposits.get(period, {}).get(int(DepositKind.RENT), 0)
        short = legs.reported - rent
        if short > 0:
            total_short += short
            share = short * 10_000 // legs.reported
            rec.disclose(
                DisclosureKind.COLLECTION_SHORTFALL,
                ev,
                pool,
                short,
                f"period {period}: rent deposited {rent:,} against {legs.reported:,} reported "
                f"({share / 100:.2f}% short)",
                period=period,
                sender=servicer.get(period),
            )
    if total_short:
        rec.disclose(DisclosureKind.COLLECTION_SHORTFALL, None, pool, total_short,
                     f"all periods: {total_short:,} of reported revenue was not deposited as rent")


# -- the holders -----------------------------------------------------------------------------------------------


def reconcile_token(tok: TokenHistory, magnitude: int, rec: Reconciliation) -> None:
    """Replay one token's accumulator over its events, in chain order, checking every distribution and claim."""
    pps = 0
    carried = 0
    supply = 0
    lines: dict[str, HolderLine] = {}

    def line(addr: str) -> HolderLine:
        if addr not in lines:
            lines[addr] = rec.holders.setdefault((tok.name, addr), HolderLine(tok.name, addr))
        return lines[addr]

    def claimable(h: HolderLine) -> int:
        return (pps * h.balance + h.correction) // magnitude - h.withdrawn

    for ev in tok.ordered:
        a = ev.args
        if ev.event == "Transfer":
            src, dst, value = a["from"], a["to"], int(a["value"])
            if src != ZERO:
                s = line(src)
                s.balance -= value
                s.correction += pps * value
            else:
                supply += value
            if dst != ZERO:
                d = line(dst)
                d.balance += value
                d.correction -= pps * value
            else:
                supply -= value
        elif ev.event == "FundsDistributed":
            amount = int(a["amount"])
            if int(a["totalSupply"]) != supply:
                rec.add(
                    FindingKind.TOKEN_SUPPLY,
                    None,
                    tok.address,
                    supply,
                    int(a["totalSupply"]),
                    f"{tok.name} supply at distribution in block {ev.block}",
                )
            points = amount * magnitude + carried
            if supply:
                pps += points // supply
                carried = points % supply
            else:
                carried = points
            if pps != int(a["pointsPerShare"]) or carried != int(a["carriedPoints"]):
                rec.add(
                    FindingKind.TOKEN_ACCUMULATOR,
                    None,
                    tok.address,
                    (pps, carried),
                    (int(a["pointsPerShare"]), int(a["carriedPoints"])),
                    f"{tok.name} per-share accumulator after the distribution in block {ev.block}",
                )
                pps, carried = int(a["pointsPerShare"]), int(a["carriedPoints"])
        elif ev.event == "WalletRecovered":
            moved = int(a["entitlement"]) * magnitude
            line(a["lost"]).correction -= moved
            line(a["newWallet"]).correction += moved
        elif ev.event == "HeldDelivered":
            # The points the held units accrued go with them, pro rata to the issuer's balance before the delivery
            # (TrancheToken.deliverHeld). Its Transfer came first and left the issuer's points unchanged.
            issuer, amount = line(a["issuer"]), int(a["amount"])
            before = issuer.balance + amount
            want = (pps * issuer.balance + issuer.correction) * amount // before if before else 0
            moved = int(a["points"])
            if moved != want:
                rec.add(FindingKind.TOKEN_ACCUMULATOR, None, tok.address, want, moved,
                        f"{tok.name} points delivered with held units to {a['to']} in block {ev.block}")
            issuer.correction -= moved
            line(a["to"]).correction += moved
        elif ev.event == "FundsClaimed":
            h = line(a["holder"])
            due = claimable(h)
            paid = int(a["amount"])
            if paid != due:
                rec.add(
                    FindingKind.CLAIM,
                    None,
                    h.holder,
                    due,
                    paid,
                    f"{tok.name} claim in block {ev.block}: entitled to {due:,}, paid {paid:,}",
                )
            h.withdrawn += paid
            h.claimed_events += 1
    for h in lines.values():
        h.expected_claimable = claimable(h)
    rec.token_dust[tok.name] = carried // magnitude


def reconcile_dust(history: History, magnitude: int, rec: Reconciliation) -> None:
    """The pool's per-period dust legs against the tokens' carried remainders as of each distribution (whose
    accumulator values :func:`reconcile_token` has recomputed)."""
    marks = sorted(
        (ev.block, ev.log_index, ev.contract, int(ev.args["carriedPoints"]) // magnitude)
        for tok in history.tokens.values()
        for ev in tok.distributions
    )
    last: dict[str, int] = {"senior": 0, "junior": 0}
    i = 0
    for period in sorted(history.legs):
        legs, ev = history.legs[period]
        while i < len(marks) and marks[i][0] <= ev.block:
            last[marks[i][2]] = marks[i][3]
            i += 1
        for tranche, got in (("senior", legs.senior_dust), ("junior", legs.junior_dust)):
            if last.get(tranche, 0) != got:
                rec.add(
                    FindingKind.DUST,
                    period,
                    tranche,
                    last.get(tranche, 0),
                    got,
                    f"{tranche} carried remainder reported by the pool",
                )


# -- the money -------------------------------------------------------------------------------------------------


def reconcile_money(
    history: History,
    pool: str,
    tokens: Mapping[Tranche, str],
    fee_recipient: str,
    onchain_balances: dict[str, int],
    rec: Reconciliation,
) -> None:
    """Every stablecoin unit into and out of the pool and the tokens, transfer by transfer.

    Into the pool: a ``Deposited`` of the same amount from the same sender in the same transaction, or else a
    donation (disclosed, counted as surplus). Out of the pool: the waterfall's legs of the distribution run in that
    transaction (fee recipient, senior token, junior token), or else a finding. Into a token: its leg, or a donation.
    Out of a token: a claim of the same holder and amount in the same transaction, or else a finding. And the balance
    the chain holds at the head is what the transfers brought in less what they took out (a balance written without
    a transfer is a finding)."""
    pool_l = pool.lower()
    by_name: dict[str, str] = {str(name): addr for name, addr in tokens.items()}
    token_names = {addr.lower(): name for name, addr in by_name.items()}
    fee_l = fee_recipient.lower()
    runs = history.distribution_txs()
    deposits: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for ev in history.deposit_events:
        deposits[ev.tx_hash].append((str(ev.args["from"]).lower(), int(ev.args["amount"])))
    for ev in history.reserve_funded:
        deposits[ev.tx_hash].append((str(ev.args["from"]).lower(), int(ev.args["amount"])))
    claims: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name, tok in history.tokens.items():
        for ev in tok.claims:
            claims[ev.tx_hash].append((f"{name}:{str(ev.args['holder']).lower()}", int(ev.args["amount"])))
    legs_paid: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # tx -> recipient -> paid
    deferred = {ev.tx_hash: int(ev.args["amount"]) for ev in history.fee_events if ev.event == "FeeDeferred"}
    fee_payments: dict[str, list[int]] = defaultdict(list)
    for ev in history.fee_events:
        if ev.event == "FeesPaid":
            fee_payments[ev.tx_hash].append(int(ev.args["amount"]))
    net: dict[str, int] = defaultdict(int)  # account -> in less out, by transfers
    for ev in history.stablecoin_transfers:
        src, dst, value = str(ev.args["from"]).lower(), str(ev.args["to"]).lower(), int(ev.args["value"])
        if dst == pool_l:
            net["pool"] += value
            if (src, value) in deposits.get(ev.tx_hash, []):
                deposits[ev.tx_hash].remove((src, value))
            else:
                _donation(rec, ev, "pool", pool, value)
        if src == pool_l:
            net["pool"] -= value
            if ev.tx_hash in runs and (dst == fee_l or dst in token_names):
                legs_paid[ev.tx_hash][dst] += value
            elif dst == fee_l and value in fee_payments.get(ev.tx_hash, []):
                fee_payments[ev.tx_hash].remove(value)  # a deferred fee, paid later
            else:
                rec.add(
                    FindingKind.OUTSIDE_WATERFALL,
                    _period_at(history, ev.block),
                    pool,
                    0,
                    value,
                    f"{value:,} left the pool to {ev.args['to']} in block {ev.block}, outside the waterfall",
                    block=ev.block,
                    sender=ev.sender,
                )
        if dst in token_names:
            name = token_names[dst]
            net[name] += value
            if not (src == pool_l and ev.tx_hash in runs):
                _donation(rec, ev, name, by_name[name], value)
        if src in token_names:
            name = token_names[src]
            net[name] -= value
            key = (f"{name}:{dst}", value)
            if key in claims.get(ev.tx_hash, []):
                claims[ev.tx_hash].remove(key)
            else:
                rec.add(
                    FindingKind.TOKEN_OUTFLOW,
                    _period_at(history, ev.block),
                    by_name[name],
                    0,
                    value,
                    f"{value:,} left the {name} token to {ev.args['to']} in block {ev.block} with no claim of it",
                    block=ev.block,
                )
    for tx, unmatched in deposits.items():
        for sender, amount in unmatched:
            rec.add(FindingKind.POOL_INFLOW, None, pool, amount, 0,
                    f"a deposit of {amount:,} by {sender} in {tx} with no stablecoin received")
    for tx, unmatched_claims in claims.items():
        for who, amount in unmatched_claims:
            rec.add(FindingKind.TOKEN_OUTFLOW, None, who.split(":", 1)[1], amount, 0,
                    f"a {who.split(':', 1)[0]} claim of {amount:,} in {tx} with no stablecoin paid")
    for tx, period in runs.items():
        legs = history.legs[period][0]
        want = {fee_l: legs.fee - deferred.get(tx, 0), tokens["senior"].lower(): legs.senior_paid,
                tokens["junior"].lower(): legs.junior}
        for dst, amount in want.items():
            got = legs_paid.get(tx, {}).get(dst, 0)
            if got != amount:
                rec.add(FindingKind.POOL_OUTFLOW, period, dst, amount, got,
                        f"period {period}: stablecoin the waterfall paid to {dst}")
    deposited = sum(sum(k.values()) for k in history.deposits.values())
    deposited += sum(int(ev.args["amount"]) for ev in history.reserve_funded)
    paid = sum(legs.fee + legs.senior_paid + legs.junior for legs, _ in history.legs.values())
    rec.expected_balances["pool"] = deposited - paid + rec.donations.get("pool", 0)
    for name in tokens:
        distributed = sum(int(e.args["amount"]) for e in history.tokens.get(name, TokenHistory(name, "")).distributions)
        claimed = sum(int(e.args["amount"]) for e in history.tokens.get(name, TokenHistory(name, "")).claims)
        rec.expected_balances[str(name)] = distributed - claimed
    for account, address in (("pool", pool), *by_name.items()):
        if onchain_balances.get(account) != net[account]:
            rec.add(
                FindingKind.POOL_BALANCE if account == "pool" else FindingKind.TOKEN_BALANCE,
                None,
                address,
                net[account],
                onchain_balances.get(account),
                f"stablecoin the {account} holds against the transfers in and out of it",
            )


def _donation(rec: Reconciliation, ev: Event, account: str, address: str, value: int) -> None:
    rec.donations[account] = rec.donations.get(account, 0) + value
    rec.disclose(
        DisclosureKind.DONATION,
        ev,
        address,
        value,
        f"{value:,} sent to the {account} by {ev.args['from']} outside a deposit or a waterfall leg: surplus, "
        "not distributed",
        sender=str(ev.args["from"]),
    )


def reconcile_distributions(history: History, pool: str, rec: Reconciliation) -> None:
    """Every ``FundsDistributed`` on a token is the pool's waterfall leg for that token, in the distribution's own
    transaction, for the leg's amount; anything else credited holders with money the waterfall did not pay."""
    runs = history.distribution_txs()
    for name, tok in history.tokens.items():
        for ev in tok.distributions:
            amount = int(ev.args["amount"])
            period = runs.get(ev.tx_hash)
            leg = None
            if period is not None:
                legs = history.legs[period][0]
                leg = legs.senior_paid if name == "senior" else legs.junior
            by_pool = str(ev.args["distributor"]).lower() == pool.lower()
            if period is None or not by_pool or leg != amount:
                rec.add(
                    FindingKind.DISTRIBUTION_OUTSIDE_WATERFALL,
                    period if period is not None else _period_at(history, ev.block),
                    tok.address,
                    leg or 0,
                    amount,
                    f"{amount:,} distributed to {name} holders by {ev.args['distributor']} in block {ev.block}, "
                    "not as a leg of the pool's waterfall",
                    block=ev.block,
                    sender=str(ev.args["distributor"]),
                )


def _period_at(history: History, block: int | None) -> int:
    """The period open at ``block``: one after the last distributed by then."""
    done = [p for p, (_, ev) in history.legs.items() if block is None or ev.block <= block]
    return (max(done) if done else 0) + (0 if block is None else 1)


def find_late_periods(ends: Sequence[int], grace: int, last_distributed: int, now: int, pool: str,
                      rec: Reconciliation) -> tuple[int, ...]:
    """Each period late at ``now`` (:func:`rwa.model.calendar.late_periods`, the rule ``rwa status`` and ``rwa value``
    use) is a finding: distributing a period inside its grace is the servicer's duty, and its holders are not paid."""
    late = late_periods(ends, grace, last_distributed, now)
    for period in late:
        end = ends[period - 1]
        rec.add(FindingKind.LATE_DISTRIBUTION, period, pool, f"distributed by {_utc(end + grace)}",
                f"not distributed at {_utc(now)}",
                f"period {period} ended {_utc(end)} and its servicer's window closed {_utc(end + grace)}; it is not "
                "distributed: the servicer failed to distribute it and its holders are unpaid (anyone may now "
                "distribute it)")
    return late
