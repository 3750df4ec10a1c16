"""What every check of the replay shares: a :class:`Finding` (the money or the rules were broken) and a
:class:`Disclosure` (a legitimate but material fact), each of a kind, and the :class:`Reconciliation` the checks
write them into, with the holders' lines and realised cash flows they recompute.

The checks (:mod:`rwa.replay.checks`) each write into one ``Reconciliation``; :mod:`rwa.replay.run` runs them in
order and :mod:`rwa.replay.report` publishes what they found.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from rwa.model.waterfall import PeriodLegs
from rwa.replay.ledger import Event


class FindingKind(enum.StrEnum):
    """What a finding is about; the value is what ``findings.json`` and the report show."""

    ACTIVE_SERVERS = "active-servers"
    AMENDED_AFTER_DISTRIBUTION = "amended-after-distribution"
    ATTESTATION_SEQUENCE = "attestation-sequence"
    CLAIM = "claim"
    CLAIMABLE = "claimable"
    CONTRACTED_RENT = "contracted-rent"
    DEAL_FILE_CHANGED = "deal-file-changed"
    DELIVERY = "delivery"
    DISTRIBUTED_WITHOUT_REPORT = "distributed-without-report"
    DISTRIBUTION_OUTSIDE_WATERFALL = "distribution-outside-waterfall"
    DISTRIBUTOR_GRANTED = "distributor-granted"
    DUST = "dust"
    ESCROW_BALANCE = "escrow-balance"
    ESCROW_FUNDING = "escrow-funding"
    FLEET_LINK = "fleet-link"
    FLEET_TERMS = "fleet-terms"
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
    PREPAYMENT = "prepayment"
    RELEASE = "release"
    REPORT_QUORUM = "report-quorum"
    REPORTERS = "reporters"
    ROLE_OUTSIDE_TABLE = "role-outside-table"
    STATE_WITHOUT_EVENT = "state-without-event"
    TAPE_HASH = "tape-hash"
    TAPE_LEASE = "tape-lease"
    TAPE_MISSING = "tape-missing"
    TAPE_TOTAL = "tape-total"
    TOKEN_ACCUMULATOR = "token-accumulator"
    TOKEN_BALANCE = "token-balance"
    TOKEN_OUTFLOW = "token-outflow"
    TIMELOCK_DELAY = "timelock-delay"
    TOKEN_SUPPLY = "token-supply"
    TRADE = "trade"
    UNTIMELOCKED_ACT = "untimelocked-act"
    USE_OF_PROCEEDS = "use-of-proceeds"
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
    LEASE_ADDED = "lease-added"
    LEASE_CHANGED = "lease-changed"
    LEASE_STATUS = "lease-status"
    LESSEE_PAST_DUE = "lessee-past-due"
    LONG_STOP_PREPAYMENT = "long-stop-prepayment"
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


def flow_time(ev: Event) -> int:
    """When a holder's cash flow happened: the unix time of its event's block (0 when the ledger has none)."""
    return int(ev.timestamp or 0)


@dataclass
class Reconciliation:
    """Everything one replay's checks find and recompute: the findings and disclosures, and the expected legs,
    holders' lines, dust, balances, donations and cash flows the report shows."""

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
