"""Rebuild a deployment's history from the ledger: reports, deposits, waterfall legs, token and stablecoin flows."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from typing import Any

from rwa.model.fleet import LeaseRow
from rwa.model.units import TRANCHES, ZERO_ADDRESS
from rwa.model.waterfall import PeriodLegs, PoolState
from rwa.onchain.pool import legs_from_event
from rwa.replay.ledger import Event, Ledger


@dataclass(frozen=True)
class ReportRecord:
    period: int
    revenue: int
    contracted_rent: int
    utilization_bps: int
    active_servers: int
    source_revenue: int
    fx_rate: int
    """The revenue in the source currency and the rate it was converted at, as the report states them (the auditor
    recomputes the conversion: ``rwa.model.units.fx_convert_down``)."""
    block: int
    amended_from: int | None = None  # the revenue it replaced, for an amendment
    signers: tuple[str, ...] = ()
    event: Event | None = None
    tape_hash: str = ""
    """The hash of the lease tape the reporters signed with the figures (0x-hex; the rows are in ``LeaseTape``)."""
    version: int = 0


@dataclass(frozen=True)
class TapeRecord:
    """A period's lease tape as the oracle's ``LeaseTape`` carries it: one row per lease, of report ``version``."""

    period: int
    version: int
    rows: tuple[LeaseRow, ...]
    event: Event


@dataclass
class TokenHistory:
    """One tranche token's flows, in chain order."""

    name: str
    address: str
    transfers: list[Event] = field(default_factory=list)
    distributions: list[Event] = field(default_factory=list)
    claims: list[Event] = field(default_factory=list)
    recoveries: list[Event] = field(default_factory=list)
    forced: list[Event] = field(default_factory=list)
    freezes: list[Event] = field(default_factory=list)
    held_deliveries: list[Event] = field(default_factory=list)
    """``HeldDelivered``: the offering's held units delivered to a buyer with the distributions they accrued."""
    ordered: list[Event] = field(default_factory=list)


@dataclass
class History:
    pool_initialized: Event | None = None
    reports: dict[int, list[ReportRecord]] = field(default_factory=lambda: defaultdict(list))
    deposits: dict[int, dict[int, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    deposit_events: list[Event] = field(default_factory=list)
    legs: dict[int, tuple[PeriodLegs, Event]] = field(default_factory=dict)
    fee_events: list[Event] = field(default_factory=list)
    """``FeeDeferred`` and ``FeesPaid``: fees the stablecoin refused to deliver, and their later payment."""
    default_events: list[Event] = field(default_factory=list)
    """``DefaultDeclared`` and ``DefaultCured`` in chain order: the pool's default state over time."""
    reserve_funded: list[Event] = field(default_factory=list)
    """``ReserveFunded``: stablecoin added to the reserve outside a period (the offering's close)."""
    finalized: Event | None = None
    tokens: dict[str, TokenHistory] = field(default_factory=dict)
    stablecoin_transfers: list[Event] = field(default_factory=list)
    governance: list[Event] = field(default_factory=list)
    """The oracle's reporter set, threshold and pool binding, in chain order (its constructor's included)."""
    roles: list[Event] = field(default_factory=list)
    """``RoleGranted`` and ``RoleRevoked`` on every contract of the deal, in chain order."""
    pauses: list[Event] = field(default_factory=list)
    pause_expiries: list[Event] = field(default_factory=list)
    """``PauseExpires`` of the pool and the tokens: when each pause ends by itself (no event marks that end)."""
    issuance_closed: dict[str, Event] = field(default_factory=dict)
    events: int = 0

    trades: list[Event] = field(default_factory=list)
    """The settlement's ``TradeSettled`` and ``OrderCancelled``, in chain order."""
    offering: list[Event] = field(default_factory=list)
    """Every event of the deal's offering, in chain order (requests, cancellations, the close, claims)."""
    timelock_calls: list[Event] = field(default_factory=list)
    """The timelock's ``CallScheduled``, ``CallExecuted`` and ``Cancelled``, in chain order."""
    delay_changes: list[Event] = field(default_factory=list)
    """The timelock's ``MinDelayChange`` (its constructor's included), in chain order."""
    registry_acts: list[Event] = field(default_factory=list)
    """The registry's acts on investors' records (allowed, KYC updated, revoked, frozen) and the tokens it binds, in
    chain order."""
    handed_over: Event | None = None
    """The deployer renouncing the timelock's admin role: the last act of issuance."""
    register: list[Event] = field(default_factory=list)
    """Every event of the fleet register (orders, leases, deliveries, the escrow's money), in chain order."""
    tapes: dict[int, list[TapeRecord]] = field(default_factory=lambda: defaultdict(list))
    """Each period's lease tapes, in chain order (the submission's, then each amendment's)."""
    prepaid: list[Event] = field(default_factory=list)
    """The pool's ``Prepaid``: the register's long-stop prepayment, in chain order."""
    register_bound: list[Event] = field(default_factory=list)
    """The oracle's ``RegisterBound``: the register whose fleet and leases bound its reports."""

    def tape_of(self, report: ReportRecord) -> TapeRecord | None:
        """The tape emitted with ``report`` (same transaction, same version)."""
        if report.event is None:
            return None
        for tape in self.tapes.get(report.period, []):
            if tape.event.tx_hash == report.event.tx_hash and tape.version == report.version:
                return tape
        return None

    @property
    def issuance_end(self) -> tuple[int, int] | None:
        """Where issuance finished (block, log index): the deployer's last renounce, else the last tranche's
        ``IssuanceClosed``; ``None`` while it has not."""
        if self.handed_over is not None:
            return (self.handed_over.block, self.handed_over.log_index)
        if len(self.issuance_closed) < len(TRANCHES):
            return None
        last = max(self.issuance_closed.values(), key=lambda ev: (ev.block, ev.log_index))
        return (last.block, last.log_index)

    def after_issuance(self, ev: Event) -> bool:
        """Whether ``ev`` came after issuance finished (:attr:`issuance_end`)."""
        end = self.issuance_end
        return end is not None and (ev.block, ev.log_index) > end

    def distribution_txs(self) -> dict[str, int]:
        """The transactions that ran the pool's waterfall, each with the period it distributed."""
        return {ev.tx_hash: period for period, (_, ev) in self.legs.items()}

    def state_after(self, period: int) -> PoolState:
        """The pool's state right after ``period``'s distribution, as the chain's events tell it: the balance,
        reserve and arrears its ``PeriodDistributed`` carries, default declared or cured before it, finalized from
        the maturity settlement on (whose ``Finalized`` the same transaction emits). The running totals are not
        kept (0)."""
        legs, event = self.legs[period]
        at = (event.block, event.log_index)
        defaulted = False
        for change in self.default_events:
            if (change.block, change.log_index) < at:
                defaulted = change.event == "DefaultDeclared"
        last, finalized = period, False
        settled = [p for p, (_, ev) in self.legs.items() if self.finalized and ev.tx_hash == self.finalized.tx_hash]
        if settled and period >= settled[0]:
            last, finalized = settled[0] - 1, True
        return PoolState(balance=legs.balance_after, reserve=legs.reserve_after, interest_arrears=legs.interest_arrears,
                         principal_arrears=legs.principal_arrears, last_distributed_period=last, defaulted=defaulted,
                         finalized=finalized)

    def supply_at(self, tranche: str, at: tuple[int, int]) -> int:
        """A tranche token's supply just before the log at ``at`` (block, log index): its mints less its burns."""
        tok = self.tokens.get(tranche)
        supply = 0
        for ev in tok.transfers if tok else []:
            if (ev.block, ev.log_index) >= at:
                break
            value = int(ev.args["value"])
            supply += value if ev.args["from"] == ZERO_ADDRESS else 0
            supply -= value if ev.args["to"] == ZERO_ADDRESS else 0
        return supply

    def report_at(self, period: int, block: int) -> ReportRecord | None:
        """The report for ``period`` as the chain held it at ``block`` (the latest amendment before it)."""
        held = [r for r in self.reports.get(period, []) if r.block <= block]
        return held[-1] if held else None


def _int(args: dict[str, Any], *names: str) -> int:
    for n in names:
        if n in args:
            return int(args[n])
    raise KeyError(names[0])


def _report(args: dict[str, Any], ev: Event, key: str = "report") -> ReportRecord:
    r = args.get(key, args)
    return ReportRecord(
        period=_int(r, "period"),
        revenue=_int(r, "revenue"),
        contracted_rent=_int(r, "contractedRent"),
        utilization_bps=_int(r, "utilizationBps"),
        active_servers=_int(r, "activeServers"),
        source_revenue=_int(r, "sourceRevenue"),
        fx_rate=_int(r, "fxRate"),
        block=ev.block,
        signers=tuple(args.get("signers", ())),
        event=ev,
        tape_hash=str(r.get("tapeHash", "")),
        version=int(r.get("version", 0)),
    )


def rows_of(raw: list[dict[str, Any]]) -> tuple[LeaseRow, ...]:
    """A ``LeaseTape``'s rows as the ledger keeps them (structs by field name)."""
    return tuple(LeaseRow(int(r["lease"]), int(r["servers"]), int(r["billed"]), int(r["collected"]),
                          int(r["daysPastDue"])) for r in raw)


ROLE_EVENTS = frozenset({"RoleGranted", "RoleRevoked"})
PAUSE_EVENTS = frozenset({"Paused", "Unpaused"})
GOVERNANCE_EVENTS = frozenset({"ReporterAdded", "ReporterRemoved", "ThresholdChanged", "PoolBound"})
REGISTRY_ACTS = frozenset({"InvestorAllowed", "KycUpdated", "InvestorRevoked", "InvestorFrozen", "TokenBound"})


def rebuild(ledger: Ledger) -> History:
    h = History()
    for ev in ledger.events():
        h.events += 1
        a = ev.args
        if ev.event in ROLE_EVENTS:
            h.roles.append(ev)
            if (ev.contract == "timelock" and ev.event == "RoleRevoked" and int(str(ev.args["role"]), 16) == 0
                    and str(ev.args["account"]).lower() == str(ev.args["sender"]).lower()):
                h.handed_over = ev
            continue
        if ev.contract == "timelock":
            if ev.event in ("CallScheduled", "CallExecuted", "Cancelled"):
                h.timelock_calls.append(ev)
            elif ev.event == "MinDelayChange":
                h.delay_changes.append(ev)
            continue
        if ev.contract == "registry":
            if ev.event in REGISTRY_ACTS:
                h.registry_acts.append(ev)
            continue
        if ev.event in PAUSE_EVENTS:
            h.pauses.append(ev)
            continue
        if ev.event == "PauseExpires":
            h.pause_expiries.append(ev)
            continue
        if ev.contract == "pool":
            if ev.event == "PoolInitialized":
                h.pool_initialized = ev
            elif ev.event == "Deposited":
                h.deposits[int(a["period"])][int(a["kind"])] += int(a["amount"])
                h.deposit_events.append(ev)
            elif ev.event == "PeriodDistributed":
                period = int(a["period"])
                h.legs[period] = (legs_from_event(period, a["legs"]), ev)
            elif ev.event == "DefaultDeclared" or ev.event == "DefaultCured":
                h.default_events.append(ev)
            elif ev.event == "ReserveFunded":
                h.reserve_funded.append(ev)
            elif ev.event in ("FeeDeferred", "FeesPaid"):
                h.fee_events.append(ev)
            elif ev.event == "Finalized":
                h.finalized = ev
            elif ev.event == "Prepaid":
                h.prepaid.append(ev)
        elif ev.contract == "oracle":
            if ev.event == "ReportSubmitted":
                rec = _report(a, ev)
                h.reports[rec.period].append(rec)
            elif ev.event == "ReportAmended":
                new = _report({**a["newReport"], "signers": a["signers"]}, ev)
                old = _report(a, ev, "oldReport")
                h.reports[new.period].append(replace(new, amended_from=old.revenue))
            elif ev.event in GOVERNANCE_EVENTS:
                h.governance.append(ev)
            elif ev.event == "LeaseTape":
                period = int(a["period"])
                h.tapes[period].append(TapeRecord(period, int(a["version"]), rows_of(a["rows"]), ev))
            elif ev.event == "RegisterBound":
                h.register_bound.append(ev)
        elif ev.contract in TRANCHES:
            tok = h.tokens.setdefault(ev.contract, TokenHistory(ev.contract, ev.address))
            bucket = {
                "Transfer": tok.transfers,
                "FundsDistributed": tok.distributions,
                "FundsClaimed": tok.claims,
                "WalletRecovered": tok.recoveries,
                "ForcedTransfer": tok.forced,
                "WalletFrozen": tok.freezes,
                "HeldDelivered": tok.held_deliveries,
            }.get(ev.event)
            if ev.event == "IssuanceClosed":
                h.issuance_closed[ev.contract] = ev
            if bucket is not None:
                bucket.append(ev)
                tok.ordered.append(ev)
        elif ev.contract == "offering":
            h.offering.append(ev)
        elif ev.contract == "settlement":
            h.trades.append(ev)
        elif ev.contract == "register":
            h.register.append(ev)
        elif ev.contract == "stablecoin" and ev.event == "Transfer":
            h.stablecoin_transfers.append(ev)
    return h
