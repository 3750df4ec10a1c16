"""Typed wrapper over ``RevenueOracle``: deploy, submit, amend, read reports and their events.

:class:`Report` is the contract's struct in Python: integers only (money in the stablecoin's smallest unit, the
source revenue in the source currency's smallest unit at the stablecoin's decimals, the rate scaled by
``rwa.model.units.FX_RATE_SCALE``, utilization in basis points) and the 32-byte hash of the raw billing data.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from web3.types import BlockIdentifier, Nonce, TxParams, TxReceipt

from rwa.chain.interface import Chain
from rwa.chain.tx import call, call_many, send
from rwa.errors import ContractRevertError, InputError
from rwa.model.fleet import LeaseRow
from rwa.model.units import BPS, FX_RATE_SCALE, UINT32_MAX, UINT64_MAX, UINT96_MAX, UINT128_MAX
from rwa.onchain.base import ContractWrapper, create

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch

SUBMIT_GAS = 400_000
"""Enough for submit/amend with up to ~10 signatures and no tape; :func:`submit_gas` adds each tape row's share."""
SUBMIT_GAS_PER_ROW = 12_000
"""Gas per tape row: its calldata, its hash, its lease read in the register and its share of the ``LeaseTape`` log
(about 8,800 measured; held by a test)."""

DOMAIN_NAME = "RevenueOracle"
DOMAIN_VERSION = "1"
"""The oracle's EIP-712 domain: reports, and the register's deliveries and lease updates, are signed in it."""

LEASE_ROW_TYPE = [
    {"name": "lease", "type": "uint32"},
    {"name": "servers", "type": "uint32"},
    {"name": "billed", "type": "uint128"},
    {"name": "collected", "type": "uint128"},
    {"name": "daysPastDue", "type": "uint32"},
]
"""EIP-712 type ``LeaseRow``: a row of a report's tape."""
_LEASE_ROW_TYPE_STRING = b"LeaseRow(uint32 lease,uint32 servers,uint128 billed,uint128 collected,uint32 daysPastDue)"


def submit_gas(rows: int) -> int:
    """The gas a submission or amendment with ``rows`` tape rows is sent with (no estimate: faster, and the same
    on every node)."""
    return SUBMIT_GAS + SUBMIT_GAS_PER_ROW * rows


def tape_hash(rows: Sequence[LeaseRow]) -> bytes:
    """EIP-712's encoding of ``LeaseRow[]``: keccak256 of the rows' struct hashes, concatenated (what the oracle's
    ``tapeHash`` computes and a report's ``tapeHash`` must be)."""
    from eth_abi.abi import encode
    from eth_utils.crypto import keccak

    type_hash = keccak(_LEASE_ROW_TYPE_STRING)
    parts = [keccak(encode(["bytes32", "uint32", "uint32", "uint128", "uint128", "uint32"], [type_hash, *r.as_tuple()]))
             for r in rows]
    return bytes(keccak(b"".join(parts)))


@dataclass(frozen=True)
class Report:
    """One period's figures as the reporters sign them and the oracle stores them.

    ``revenue`` should be ``rwa.model.units.fx_convert_down(source_revenue, fx_rate)``: the oracle refuses a report that
    breaks the rule and the auditor recomputes it, but a report read from a chain is taken as the chain holds it."""

    period: int
    revenue: int
    utilization_bps: int
    active_servers: int
    contracted_rent: int
    data_hash: bytes
    source_revenue: int
    """The revenue in the source currency's smallest unit (the stablecoin's decimals); ``revenue`` without one."""
    fx_rate: int
    """Stablecoin smallest units per source smallest unit, times ``FX_RATE_SCALE`` (which means no conversion)."""
    version: int = 0
    """0 for a period's first report, one more for each amendment (signed: old signatures cannot be replayed)."""
    tape: tuple[LeaseRow, ...] = field(default=(), compare=False)
    """The lease tape: one row per lease of the register (empty for a report read from a contract's storage, which
    keeps only its hash; the rows are in the ``LeaseTape`` event)."""
    tape_hash: bytes = b""
    """:func:`tape_hash` of the rows (computed from ``tape`` when not given)."""

    def __post_init__(self) -> None:
        if not self.tape_hash:
            object.__setattr__(self, "tape_hash", tape_hash(self.tape))
        object.__setattr__(self, "tape", tuple(self.tape))
        for name, top in (
            ("period", UINT64_MAX),
            ("revenue", UINT128_MAX),
            ("utilization_bps", BPS),
            ("active_servers", UINT32_MAX),
            ("contracted_rent", UINT128_MAX),
            ("source_revenue", UINT128_MAX),
            ("fx_rate", UINT96_MAX),
            ("version", UINT32_MAX),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= top:
                raise InputError(
                    f"report period {self.period}: {name} must be an integer from 0 to {top}, got {value!r}"
                )
        if not isinstance(self.data_hash, bytes) or len(self.data_hash) != 32:
            raise InputError(f"report period {self.period}: data_hash must be 32 bytes")
        if not isinstance(self.tape_hash, bytes) or len(self.tape_hash) != 32:
            raise InputError(f"report period {self.period}: tape_hash must be 32 bytes")

    def same_figures(self, other: Report) -> bool:
        """Whether ``other`` reports the same figures (its version aside)."""
        return replace(self, version=0) == replace(other, version=0)

    def as_tuple(self) -> tuple[int, int, int, int, int, bytes, int, int, int, bytes]:
        """The contract's ``Report`` struct, in field order (the conversion after ``version``: see the struct)."""
        return (self.period, self.revenue, self.utilization_bps, self.active_servers, self.contracted_rent,
                self.data_hash, self.version, self.source_revenue, self.fx_rate, self.tape_hash)

    def tape_tuples(self) -> list[tuple[int, int, int, int, int]]:
        """The tape as the contract's ``LeaseRow[]``."""
        return [row.as_tuple() for row in self.tape]

    @classmethod
    def from_tuple(cls, value: Sequence[Any]) -> Report:
        return cls(int(value[0]), int(value[1]), int(value[2]), int(value[3]), int(value[4]), bytes(value[5]),
                   version=int(value[6]), source_revenue=int(value[7]), fx_rate=int(value[8]),
                   tape_hash=bytes(value[9]))

    def to_json(self) -> dict[str, Any]:
        return {
            "period": self.period, "revenue": self.revenue, "utilization_bps": self.utilization_bps,
            "active_servers": self.active_servers, "contracted_rent": self.contracted_rent,
            "data_hash": "0x" + self.data_hash.hex(), "source_revenue": self.source_revenue, "fx_rate": self.fx_rate,
            "version": self.version, "tape_hash": "0x" + self.tape_hash.hex(),
            "tape": [{"lease": r.lease, "servers": r.servers, "billed": r.billed, "collected": r.collected,
                      "days_past_due": r.days_past_due} for r in self.tape],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Report:
        """A report as :meth:`to_json` wrote it; one written before reports carried a conversion is its revenue in
        the stablecoin (source = revenue at ``FX_RATE_SCALE``)."""
        revenue = int(data["revenue"])
        return cls(
            period=int(data["period"]),
            revenue=revenue,
            utilization_bps=int(data["utilization_bps"]),
            active_servers=int(data["active_servers"]),
            contracted_rent=int(data["contracted_rent"]),
            data_hash=bytes.fromhex(str(data["data_hash"]).removeprefix("0x")),
            source_revenue=int(data.get("source_revenue", revenue)),
            fx_rate=int(data.get("fx_rate", FX_RATE_SCALE)),
            version=int(data.get("version", 0)),
            tape=tuple(LeaseRow(int(r["lease"]), int(r["servers"]), int(r["billed"]), int(r["collected"]),
                                int(r.get("days_past_due", 0))) for r in data.get("tape", [])),
        )


@dataclass(frozen=True)
class OracleConfig:
    """The calendar and bounds fixed at deployment. ``period_ends`` are the ends of periods 1..N as the oracle
    computes them (``periodEnds``): the deal's calendar months, or a test oracle's equal periods."""

    first_period_start: int
    period_ends: tuple[int, ...]
    grace_seconds: int
    max_revenue_multiple_bps: int

    def period_end(self, period: int) -> int:
        """When ``period`` (1..N) ends and may be reported."""
        if not 1 <= period <= len(self.period_ends):
            raise InputError(f"period {period}: the deal's periods are 1..{len(self.period_ends)}")
        return self.period_ends[period - 1]

    def ended_by(self, timestamp: int) -> int:
        """The last period that has ended at ``timestamp`` (0 when none)."""
        return bisect_right(self.period_ends, timestamp)


class ReportKind(StrEnum):
    """What a report transaction does to a period: the first report (``submit``) or a correction (``amend``)."""

    SUBMITTED = "submitted"
    AMENDED = "amended"


@dataclass(frozen=True)
class ReportEvent:
    """A ``ReportSubmitted`` or ``ReportAmended`` log, enough to replay the oracle's history."""

    kind: ReportKind
    period: int
    report: Report
    old_report: Report | None
    signers: list[str]
    block_number: int
    tx_hash: str


class RevenueOracle(ContractWrapper):
    """A deployed ``RevenueOracle``."""

    CONTRACT = "RevenueOracle"

    @classmethod
    def deploy(
        cls,
        chain: Chain,
        admin: str,
        reporters: Sequence[str],
        threshold: int,
        first_start: int,
        period_length: int,
        grace: int,
        max_multiple_bps: int,
        period_count: int,
        sender: str | None = None,
        batch: Batch | None = None,
    ) -> RevenueOracle:
        """Deploy with the deal's reporters and quorum and its number of periods;
        ``period_length`` is ``rwa.model.calendar.CALENDAR_MONTHS`` for the deal's calendar months from ``first_start``,
        or the seconds of equal periods (a test oracle)."""
        contract = create(
            chain, "RevenueOracle", admin, list(reporters), threshold, first_start, period_length, grace,
            max_multiple_bps, period_count, sender=sender or admin, batch=batch,
        )
        return cls(chain, contract)

    # -- transactions ------------------------------------------------------------------------------------------

    def submit_fn(self, report: Report, signatures: Sequence[bytes]) -> Any:
        """The ``submit`` call of ``report`` with its tape."""
        return self.contract.functions.submit(report.as_tuple(), report.tape_tuples(), list(signatures))

    def amend_fn(self, period: int, report: Report, signatures: Sequence[bytes]) -> Any:
        """The ``amend`` call of ``period`` with ``report`` and its tape."""
        return self.contract.functions.amend(period, report.as_tuple(), report.tape_tuples(), list(signatures))

    def submit(self, report: Report, signatures: Sequence[bytes], sender: str, gas: int | None = None
               ) -> TxReceipt:
        return send(self.submit_fn(report, signatures), sender=sender,
                    gas=submit_gas(len(report.tape)) if gas is None else gas)

    def amend(self, period: int, report: Report, signatures: Sequence[bytes], sender: str,
              gas: int | None = None) -> TxReceipt:
        return send(self.amend_fn(period, report, signatures), sender=sender,
                    gas=submit_gas(len(report.tape)) if gas is None else gas)

    def check_submit(self, report: Report, signatures: Sequence[bytes], sender: str) -> None:
        """Dry-run ``submit`` as a call; a rejection raises ``ContractRevertError`` and nothing is sent."""
        call(self.submit_fn(report, signatures), sender=sender)

    def check_amend(self, period: int, report: Report, signatures: Sequence[bytes], sender: str) -> None:
        call(self.amend_fn(period, report, signatures), sender=sender)

    def submit_tx(self, report: Report, signatures: Sequence[bytes], sender: str, nonce: int,
                  gas: int | None = None) -> TxParams:
        """An unsigned ``submit`` transaction, for callers that sign and record it before sending."""
        params: TxParams = {"from": sender, "nonce": Nonce(nonce),
                            "gas": submit_gas(len(report.tape)) if gas is None else gas, "chainId": self.chain.chain_id}
        return self.submit_fn(report, signatures).build_transaction(params)  # type: ignore[no-any-return]

    def bind_pool(self, pool: str, sender: str) -> TxReceipt:
        return send(self.contract.functions.bindPool(pool), sender=sender, gas=120_000)

    def bind_register(self, register: str, sender: str) -> TxReceipt:
        return send(self.contract.functions.bindRegister(register), sender=sender, gas=120_000)

    def register(self, block: BlockIdentifier = "latest") -> str:
        return str(self.contract.functions.register().call(block_identifier=block))

    def period_count(self) -> int:
        return int(call(self.contract.functions.periodCount()))

    def past_due_of(self, period: int) -> tuple[int, int]:
        """The lease most days past due in ``period``'s accepted tape and its days (0, 0 when none is)."""
        lease, days = call(self.contract.functions.pastDueOf(period))
        return int(lease), int(days)

    def tape_events(self, from_block: int = 0, to_block: int | None = None
                    ) -> list[tuple[int, int, tuple[LeaseRow, ...]]]:
        """Every ``LeaseTape`` log: (period, version, rows), in chain order."""
        last = self.chain.w3.eth.block_number if to_block is None else to_block
        out = []
        for log in self.contract.events.LeaseTape.get_logs(from_block=from_block, to_block=last):
            a = log["args"]
            out.append((int(a["period"]), int(a["version"]), rows_of(a["rows"])))
        return out

    def add_reporter(self, reporter: str, sender: str) -> TxReceipt:
        return send(self.contract.functions.addReporter(reporter), sender=sender, gas=150_000)

    def remove_reporter(self, reporter: str, sender: str) -> TxReceipt:
        return send(self.contract.functions.removeReporter(reporter), sender=sender, gas=150_000)

    def set_threshold(self, threshold: int, sender: str) -> TxReceipt:
        return send(self.contract.functions.setThreshold(threshold), sender=sender, gas=100_000)

    # -- views -------------------------------------------------------------------------------------------------

    def report_of(self, period: int, block: BlockIdentifier = "latest") -> Report | None:
        try:
            raw = call(self.contract.functions.reportOf(period), block=block)
        except ContractRevertError as err:
            if err.error_name == "NoReport":
                return None
            raise
        return Report.from_tuple(raw)

    def has_report(self, period: int) -> bool:
        return bool(call(self.contract.functions.hasReport(period)))

    def latest_period(self) -> int:
        return int(call(self.contract.functions.latestPeriod()))

    def latest(self) -> Report | None:
        period = self.latest_period()
        return self.report_of(period) if period else None

    def is_overdue(self) -> bool:
        return bool(call(self.contract.functions.isOverdue()))

    def period_end(self, period: int) -> int:
        return int(call(self.contract.functions.periodEnd(period)))

    def next_deadline(self) -> int:
        return int(call(self.contract.functions.nextDeadline()))

    def domain_separator(self) -> bytes:
        return bytes(call(self.contract.functions.domainSeparator()))

    def report_digest(self, report: Report) -> bytes:
        return bytes(call(self.contract.functions.reportDigest(report.as_tuple())))

    def threshold(self) -> int:
        return int(call(self.contract.functions.threshold()))

    def reporters(self) -> list[str]:
        return [str(a) for a in call(self.contract.functions.reporters())]

    def quorum(self) -> tuple[list[str], int]:
        """The reporters and the threshold, read together."""
        reporters, threshold = call_many([self.contract.functions.reporters(), self.contract.functions.threshold()])
        return [str(a) for a in reporters], int(threshold)

    def pool(self, block: BlockIdentifier = "latest") -> str:
        return str(self.contract.functions.pool().call(block_identifier=block))

    def period_ends(self, block: BlockIdentifier = "latest") -> tuple[int, ...]:
        """The ends of periods 1..N as the oracle computes them."""
        return tuple(int(t) for t in call(self.contract.functions.periodEnds(), block=block))

    def config(self) -> OracleConfig:
        """The oracle's calendar and limits. They are immutables, part of the contract's code: they are read once per
        process for each code, known by its hash (computing 60 period ends in the EVM is not free)."""
        key = (self.address, self.chain.code_hash(self.address))
        if key in _CONFIGS:
            return _CONFIGS[key]
        (first, _length, grace, multiple), ends = call_many([self.contract.functions.config(),
                                                             self.contract.functions.periodEnds()])
        config = OracleConfig(int(first), tuple(int(t) for t in ends), int(grace), int(multiple))
        _CONFIGS[key] = config
        return config

    # -- events ------------------------------------------------------------------------------------------------

    def events(self, from_block: int = 0, to_block: int | None = None, step: int = 2_000) -> list[ReportEvent]:
        """Every submission and amendment between the blocks, in chain order, read in bounded ranges."""
        last = self.chain.w3.eth.block_number if to_block is None else to_block
        out: list[tuple[int, int, ReportEvent]] = []
        start = from_block
        while start <= last:
            end = min(start + step - 1, last)
            for log in self.contract.events.ReportSubmitted.get_logs(from_block=start, to_block=end):
                a = log["args"]
                rep = _struct(a["report"])
                out.append((log["blockNumber"], log["logIndex"], ReportEvent(
                    ReportKind.SUBMITTED, rep.period, rep, None, [str(s) for s in a["signers"]], log["blockNumber"],
                    log["transactionHash"].hex())))
            for log in self.contract.events.ReportAmended.get_logs(from_block=start, to_block=end):
                a = log["args"]
                new, old = _struct(a["newReport"]), _struct(a["oldReport"])
                out.append((log["blockNumber"], log["logIndex"], ReportEvent(
                    ReportKind.AMENDED, int(a["period"]), new, old, [str(s) for s in a["signers"]], log["blockNumber"],
                    log["transactionHash"].hex())))
            start = end + 1
        out.sort(key=lambda item: (item[0], item[1]))
        return [event for _, _, event in out]


_CONFIGS: dict[tuple[str, bytes], OracleConfig] = {}
"""Oracle configurations read on the embedded chain, by address and code hash."""


def _struct(value: Any) -> Report:
    """A report from a decoded struct (by name) or a tuple."""
    if hasattr(value, "keys"):
        return Report(int(value["period"]), int(value["revenue"]), int(value["utilizationBps"]),
                      int(value["activeServers"]), int(value["contractedRent"]), bytes(value["dataHash"]),
                      source_revenue=int(value["sourceRevenue"]), fx_rate=int(value["fxRate"]),
                      version=int(value.get("version", 0)), tape_hash=bytes(value["tapeHash"]))
    return Report.from_tuple(value)


def rows_of(raw: Sequence[Any]) -> tuple[LeaseRow, ...]:
    """A decoded ``LeaseRow[]`` (structs by name, or tuples) as :class:`LeaseRow` values."""
    out = []
    for r in raw:
        if hasattr(r, "keys"):
            out.append(LeaseRow(int(r["lease"]), int(r["servers"]), int(r["billed"]), int(r["collected"]),
                                int(r["daysPastDue"])))
        else:
            out.append(LeaseRow(*(int(x) for x in r)))
    return tuple(out)
