"""Publishing and amending reports: plan the periods, collect M signatures, send, wait for the receipt; exactly once.

A first report (``publish``) and a correction (``amend``) take the same path through the outbox
(:mod:`rwa.oracle.outbox`, whose docstring states the crash rule): signatures recorded before anything is sent, the
signed raw transaction recorded before it is broadcast, and a re-run that reads the chain, then resumes the recorded
transaction instead of building a second one.

Faults for tests: ``RWA_FAULT=after-sign`` kills the process (exit 137) right after the signatures are recorded,
``RWA_FAULT=after-submit`` right after the transaction is broadcast, before its receipt; both for publish and amend.

Results are returned, not logged: the command prints them. The log (stderr) carries diagnostics only: retries,
recovery after a crash, warnings, and routine steps at DEBUG.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.contract.contract import ContractFunction
from web3.exceptions import TimeExhausted, TransactionNotFound

from rwa.chain.interface import Chain
from rwa.chain.tx import encode_call, reraise_revert
from rwa.errors import ChainError, ContractRevertError, InputError, RwaError
from rwa.model.calendar import format_periods, late_periods
from rwa.model.deal import Deal
from rwa.model.units import FX_RATE_SCALE, format_fx_rate, format_time
from rwa.onchain.deployment import Manifest
from rwa.onchain.oracle import OracleConfig, Report, ReportKind, RevenueOracle, submit_gas
from rwa.oracle.keys import reporter_keys, select_signers
from rwa.oracle.outbox import Outbox, OutboxEntry, OutboxStatus, default_outbox_path, outbox_identity
from rwa.oracle.report import distinct_signers, require_quorum, sign_report
from rwa.oracle.retry import NodeUnavailableError, RetryPolicy, short_error
from rwa.oracle.source import FigureSource, open_source

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch
    from rwa.oracle.attest import PlannedDelivery
    from rwa.oracle.attestations import AttestResult

log = logging.getLogger("rwa.oracle.publisher")

FAULT_ENV = "RWA_FAULT"
T = TypeVar("T")


class AmendRequiredError(InputError):
    """The period is on-chain with other figures: a correction goes through ``rwa oracle amend``."""

    exit_code = 1


class PublishStatus(StrEnum):
    """What a run did to one period."""

    PUBLISHED = "published"
    UNCHANGED = "unchanged"
    AMENDED = "amended"


@dataclass(frozen=True)
class PublishResult:
    """What happened to one period; ``message`` is the line a command prints."""

    period: int
    status: PublishStatus
    report: Report
    tx_hash: str | None
    message: str


@dataclass(frozen=True)
class _Mined:
    tx_hash: str
    block: int


class Publisher:
    """Publishes and amends one deployment's periods; see :mod:`rwa.oracle.outbox` for the crash rule."""

    def __init__(
        self,
        chain: Chain,
        manifest: Manifest,
        keys: Sequence[LocalAccount] | None = None,
        outbox: Path | None = None,
        sender: str | None = None,
        retry: RetryPolicy | None = None,
        receipt_timeout: float = 120.0,
    ) -> None:
        self.chain = chain
        self.manifest = manifest
        self.retry = retry or RetryPolicy.from_env()
        self.oracle = RevenueOracle.at(chain, manifest.address("oracle"))
        self.keys = list(keys) if keys is not None else reporter_keys(chain)
        self.outbox = Outbox(outbox or default_outbox_path(manifest), outbox_identity(manifest))
        self.sender = chain.account(sender or chain.accounts[0].address) if chain.accounts else None
        self.receipt_timeout = receipt_timeout
        self._config: OracleConfig | None = None

    def close(self) -> None:
        self.outbox.close()

    def __enter__(self) -> Publisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def catch_up(self, period: int | None, figures: FigureSource, move_clock: bool | None = None
                 ) -> list[PublishResult]:
        """What :func:`publish` does with this publisher: close what an interrupted run left, then publish
        ``period`` or every ended period not yet on-chain. A caller publishing period after period (the demo) keeps
        one publisher, and its outbox open, for all of them."""
        latest = self.reconcile()
        moving = (figures.simulated if move_clock is None else move_clock) and self.chain.is_dev
        periods = self.plan(period, figures, moving, latest)
        reports = [figures.report(p) for p in periods]  # every row is validated before anything is sent
        results = []
        for report in reports:
            if figures.planned:
                self.attest_due(figures.planned, report.period)
            results.append(self.publish_period(report))
        return results

    def attest_due(self, planned: Sequence[PlannedDelivery], period: int) -> list[AttestResult]:
        """Attest the scheduled deliveries due by ``period`` that the register does not hold yet (a simulated deal's
        fleet, before that period's report), each accepted at the start of its period by the oracle's calendar,
        signed by a quorum of this publisher's reporter keys, sent through the outbox (a re-run sends none twice)."""
        from rwa.onchain.register import FleetRegister
        from rwa.oracle.attest import due_deliveries, on_calendar, sign_delivery
        from rwa.oracle.attestations import Attester

        address = self._node(self.oracle.register, "reading the oracle's register")
        if int(address, 16) == 0:
            return []
        register = FleetRegister.at(self.chain, address)
        timed = on_calendar(planned, self.config)
        due = self._node(lambda: due_deliveries(register, timed, period), "reading the register's deliveries")
        if not due:
            return []
        if self.sender is None:
            raise InputError("no key to send the transaction: set RWA_PRIVATE_KEYS or RWA_KEYSTORE")
        reporters, threshold = self._quorum()
        signers = select_signers(self.keys, reporters, threshold)
        # the schedule's batches are held by index (due_deliveries): no scan of the register's events for duplicates
        attester = Attester(self.chain, register, self.outbox, self.sender, self.receipt_timeout,
                            new_batches_only=False)
        results = []
        for plan in due:
            delivery = plan.delivery(register.sequence())
            signatures = sign_delivery(delivery, signers, self.chain.chain_id, self.oracle.address)
            result = attester.attest(delivery, signatures)
            log.info("%s", result.message)
            results.append(result)
        return results

    def _node(self, fn: Callable[[], T], what: str) -> T:
        return self.retry.run(fn, what)

    @property
    def config(self) -> OracleConfig:
        if self._config is None:
            self._config = self._node(self.oracle.config, "reading the oracle's calendar")
        return self._config

    def _onchain(self, period: int) -> Report | None:
        return self._node(lambda: self.oracle.report_of(period), f"reading period {period}")

    # -- planning ----------------------------------------------------------------------------------------------

    def reconcile(self) -> int:
        """Close outbox entries left by an interrupted run whose report is now on-chain; returns the oracle's latest
        period, read for it."""
        latest = self._node(self.oracle.latest_period, "reading the latest period")
        for entry in self.outbox.pending(self.oracle.address):
            if entry.kind is ReportKind.SUBMITTED:
                landed = entry.period <= latest
            else:
                landed = self._onchain(entry.period) == entry.report
            if landed:
                log.info("period %d: the %s %s recorded in the outbox before an interruption is on-chain",
                         entry.period, entry.status, "report" if entry.kind is ReportKind.SUBMITTED else "amendment")
                self.outbox.record_done(self.oracle.address, entry.kind, entry.period, None)
        return int(latest)

    def plan(self, period: int | None, source: FigureSource, move_clock: bool, latest: int | None = None
             ) -> list[int]:
        """The periods to publish, oldest first; on a dev chain with ``move_clock`` the clock may move forward.
        ``latest`` is the oracle's latest period when the caller has just read it."""
        if latest is None:
            latest = self._node(self.oracle.latest_period, "reading the latest period")
        now = self._node(self.chain.now, "reading the chain's clock")
        ended = self.config.ended_by(now)
        source.check_ended(ended)
        if period is not None:
            if period < 1:
                raise InputError(f"--period {period}: periods start at 1")
            if period > latest + 1:
                raise InputError(f"--period {period}: period {latest + 1} must be published first "
                                 "(publish without --period to catch up)")
            if period > ended:
                if move_clock and period == latest + 1:
                    self._advance_clock(self.config.period_end(period))
                else:
                    raise InputError(f"--period {period}: wrong period: it has not ended "
                                     f"(ends at {format_time(self.config.period_end(period))}, chain time "
                                     f"{format_time(now)})")
            return [period]
        last = ended if source.last_period is None else min(ended, source.last_period)
        periods = list(range(latest + 1, last + 1))
        if not periods and move_clock and (source.last_period is None or latest < source.last_period):
            self._advance_clock(self.config.period_end(latest + 1))
            periods = [latest + 1]
        return periods

    def _advance_clock(self, timestamp: int) -> None:
        log.info("development chain: moving the clock to %d, the end of the next period", timestamp)
        try:
            self.chain.time_travel(timestamp)
        except Exception:
            # eth-tester refuses to travel to a time its pending block (wall clock) already passed: a block mined now
            # is at least that late
            self.chain.mine()
        if self.chain.now() < timestamp:
            raise ChainError(f"could not move the development chain's clock to {format_time(timestamp)}")

    # -- one period --------------------------------------------------------------------------------------------

    def publish_period(self, report: Report, signatures: Sequence[bytes] | None = None) -> PublishResult:
        """Submit ``report`` unless its period is on-chain (same figures: unchanged; others: ``amend``)."""
        period = report.period
        log.debug("period %d: revenue %d (source %d at fx rate %d), utilization %d bps, %d servers, contracted %d, "
                  "dataHash 0x%s", period, report.revenue, report.source_revenue, report.fx_rate,
                  report.utilization_bps, report.active_servers, report.contracted_rent, report.data_hash.hex())
        onchain = self._onchain(period)
        if onchain is not None:
            self.outbox.record_done(self.oracle.address, ReportKind.SUBMITTED, period, None)
            if onchain.same_figures(report):
                return PublishResult(period, PublishStatus.UNCHANGED, onchain, None,
                                     f"period {period}: already on-chain with the same data; nothing to do")
            raise AmendRequiredError(
                f"period {period} is already on-chain with other figures (revenue {onchain.revenue}, dataHash "
                f"0x{onchain.data_hash.hex()[:12]}...); to correct it run `rwa oracle amend --period {period}`"
            )
        mined = self._deliver(ReportKind.SUBMITTED, report, signatures)
        return PublishResult(period, PublishStatus.PUBLISHED, report, mined.tx_hash,
                             f"period {period}: published in transaction {mined.tx_hash} (block {mined.block})")

    def amend_period(self, report: Report, signatures: Sequence[bytes] | None = None) -> PublishResult:
        """Replace the on-chain report of ``report.period`` by ``report`` (unchanged when it already holds it);
        with ``signatures`` (collected from the reporters) they must sign the next version."""
        period = report.period
        onchain = self._onchain(period)
        if onchain is None:
            raise InputError(f"period {period} has no report on-chain yet: use `rwa oracle publish`")
        if signatures is None:
            report = replace(report, version=onchain.version + 1)  # an amendment is the next version, signed so
        elif report.version != onchain.version + 1:
            raise InputError(f"period {period}: the signature files sign version {report.version}, the oracle "
                             f"expects version {onchain.version + 1}: the reporters must sign again")
        if onchain.same_figures(report):
            self.outbox.record_done(self.oracle.address, ReportKind.AMENDED, period, None)
            return PublishResult(period, PublishStatus.UNCHANGED, report, None,
                                 f"period {period}: on-chain report already has these figures; nothing to amend")
        mined = self._deliver(ReportKind.AMENDED, report, signatures)
        return PublishResult(period, PublishStatus.AMENDED, report, mined.tx_hash,
                             f"period {period}: amended in transaction {mined.tx_hash} "
                             f"(revenue {onchain.revenue} -> {report.revenue})")

    def _deliver(self, kind: ReportKind, report: Report, collected: Sequence[bytes] | None = None) -> _Mined:
        """The outbox path: resume a recorded transaction, or sign (recorded), then send (recorded) and wait."""
        period = report.period
        entry = self.outbox.get(self.oracle.address, kind, period)
        if entry is not None and entry.status is OutboxStatus.DONE:
            entry = None  # history: the chain no longer holds these figures, so this is a new transaction
        if entry is not None and entry.report != report:
            log.warning("period %d: the outbox holds other, unsent %s figures; they are replaced", period, kind)
            entry = None
        if entry is not None and entry.raw_tx is not None:
            mined = self._resume(entry)
            if mined is not None:
                return mined
        # From here no recorded transaction can be mined (never built, failed, or its nonce taken), so a set given
        # now may supersede the recorded one: a short set recorded by an older version must not block a full one.
        _, threshold = self._quorum()
        if entry is not None and (collected is not None or distinct_signers(entry.signatures) < threshold):
            entry = None
        if entry is None:
            signatures: Sequence[bytes] = self._sign(report) if collected is None else list(collected)
            require_quorum(period, signatures, threshold)
            self.outbox.record_signed(self.oracle.address, kind, report, signatures)
            log.debug("period %d: %d signatures recorded in the outbox", period, len(signatures))
            _fault("after-sign")
        else:
            signatures = entry.signatures
            log.info("period %d: reusing the %d signatures recorded in the outbox", period, len(signatures))
        return self._send(kind, report, signatures)

    def _quorum(self) -> tuple[list[str], int]:
        return self._node(self.oracle.quorum, "reading the reporters and the threshold")

    def _sign(self, report: Report) -> list[bytes]:
        reporters, threshold = self._quorum()
        signers = select_signers(self.keys, reporters, threshold)
        return sign_report(report, signers, self.chain.chain_id, self.oracle.address)

    def _function(self, kind: ReportKind, report: Report, signatures: Sequence[bytes]) -> ContractFunction:
        if kind is ReportKind.SUBMITTED:
            return self.oracle.submit_fn(report, signatures)  # type: ignore[no-any-return]
        return self.oracle.amend_fn(report.period, report, signatures)  # type: ignore[no-any-return]

    def _send(self, kind: ReportKind, report: Report, signatures: Sequence[bytes]) -> _Mined:
        if self.sender is None:
            raise InputError("no key to send the transaction: set RWA_PRIVATE_KEYS or RWA_KEYSTORE")
        sender = self.sender
        period = report.period
        nonce = self._node(lambda: self.chain.nonce(sender.address), "nonce")
        raw, tx_hash = self._signed(kind, report, signatures, nonce)
        self.outbox.record_sending(self.oracle.address, kind, period, raw, tx_hash)
        if not self._broadcast(raw, period):
            self.outbox.record_signed(self.oracle.address, kind, report, signatures)  # as if never sent
            self._check(kind, report, signatures)  # raises the contract's reason
            raise _failed(kind, {"period": period, "tx": tx_hash})
        log.debug("period %d: %s transaction %s sent", period, kind, tx_hash)
        _fault("after-submit")
        return self._await(kind, report, tx_hash)

    def _signed(self, kind: ReportKind, report: Report, signatures: Sequence[bytes], nonce: int) -> tuple[bytes, str]:
        """The report's transaction signed by the sender with ``nonce``: its raw bytes and hash."""
        assert self.sender is not None
        gas_price = self._node(self.chain.gas_price, "gas price")
        fields: dict[str, Any] = {
            "to": self.oracle.address, "data": encode_call(self._function(kind, report, signatures)), "value": 0,
            "nonce": nonce, "gas": submit_gas(len(report.tape)), "gasPrice": gas_price,
            "chainId": self.chain.chain_id,
        }
        signed = self.sender.sign_transaction(fields)
        return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()

    def publish_in(self, batch: Batch, report: Report) -> Callable[[], PublishResult]:
        """Add ``report``'s first publication to ``batch`` (:class:`rwa.chain.pipeline.Batch`), so that it is mined
        with the batch's other transactions (the servicer's deposits of the month); returns what gives its result
        once the caller has sent the batch.

        The outbox path is kept: the signatures are recorded, the transaction is dry-run (a rejection sends
        nothing), and the signed transaction is recorded before the batch broadcasts it. A period already on-chain,
        a transaction an interrupted run left in the outbox, and the embedded chain (which mines each transaction
        when sent) take :meth:`publish_period`'s own path at once."""
        period = report.period
        entry = self.outbox.get(self.oracle.address, ReportKind.SUBMITTED, period)
        interrupted = entry is not None and entry.status is not OutboxStatus.DONE
        if self.chain.mines_at_once or interrupted or self._onchain(period) is not None:
            done = self.publish_period(report)
            return lambda: done
        if self.sender is None:
            raise InputError("no key to send the transaction: set RWA_PRIVATE_KEYS or RWA_KEYSTORE")
        _, threshold = self._quorum()
        signatures = self._sign(report)
        require_quorum(period, signatures, threshold)
        self.outbox.record_signed(self.oracle.address, ReportKind.SUBMITTED, report, signatures)
        _fault("after-sign")
        self._check(ReportKind.SUBMITTED, report, signatures)
        nonce = batch.nonce(self.sender.address)
        raw, tx_hash = self._signed(ReportKind.SUBMITTED, report, signatures, nonce)
        self.outbox.record_sending(self.oracle.address, ReportKind.SUBMITTED, period, raw, tx_hash)
        data = encode_call(self._function(ReportKind.SUBMITTED, report, signatures))
        batch.add_signed(raw, self.sender.address, nonce, f"publish period {period}", self.oracle.address, data,
                         submit_gas(len(report.tape)), "RevenueOracle")

        def result() -> PublishResult:
            mined = self._await(ReportKind.SUBMITTED, report, tx_hash)
            return PublishResult(period, PublishStatus.PUBLISHED, report, mined.tx_hash,
                                 f"period {period}: published in transaction {mined.tx_hash} (block {mined.block})")

        return result

    def _check(self, kind: ReportKind, report: Report, signatures: Sequence[bytes]) -> None:
        """Dry-run the transaction as a call: a rejection raises the contract's reason."""
        assert self.sender is not None
        sender, period = self.sender.address, report.period
        if kind is ReportKind.SUBMITTED:
            self._node(lambda: self.oracle.check_submit(report, signatures, sender), f"checking period {period}")
        else:
            self._node(lambda: self.oracle.check_amend(period, report, signatures, sender),
                       f"checking the amendment of period {period}")

    def _broadcast(self, raw: bytes, period: int) -> bool:
        """Send ``raw``; False when it would revert, and nothing of it was kept
        (:meth:`rwa.chain.interface.Chain.send_raw_unless_reverted`: a node dry-runs it first, the embedded chain
        runs it once and takes it back)."""
        return self._node(lambda: self.chain.send_raw_unless_reverted(raw), f"sending period {period}") is not None

    def _await(self, kind: ReportKind, report: Report, tx_hash: str) -> _Mined:
        period = report.period
        try:
            receipt = self._node(
                lambda: self.chain.wait_for_receipt(tx_hash, self.receipt_timeout),
                f"waiting for period {period}",
            )
        except TimeExhausted:
            raise ChainError(f"period {period}: transaction {tx_hash} not mined within {self.receipt_timeout:.0f}s; "
                             "re-run the command: it resumes this transaction") from None
        if receipt["status"] != 1:
            self._explain_failure(kind, report, tx_hash, int(receipt["blockNumber"]))
        self.outbox.record_done(self.oracle.address, kind, period, tx_hash)
        return _Mined(tx_hash, int(receipt["blockNumber"]))

    def _explain_failure(self, kind: ReportKind, report: Report, tx_hash: str, block: int) -> None:
        """Raise why the mined transaction ``tx_hash`` failed: its own calldata, from its sender with its gas, run
        as a call on the state before its block, then after it (a report that lost a race within its block, e.g.
        another publisher's report of the same period, reverts only there). Without a reason from either (out of
        gas), ``SubmitFailed``/``AmendFailed``."""
        sent = self._node(lambda: self.chain.w3.eth.get_transaction(HexBytes(tx_hash)), "the failed transaction")
        call: Any = {"from": sent["from"], "to": sent["to"], "data": sent["input"], "gas": sent["gas"]}
        for at in (block - 1, block):
            try:
                self.chain.w3.eth.call(call, block_identifier=at)
            except Exception as exc:
                reraise_revert(exc, "RevenueOracle")
        raise _failed(kind, {"period": report.period, "block": block, "tx": tx_hash})

    def _resume(self, entry: OutboxEntry) -> _Mined | None:
        """A transaction was recorded before a crash: wait for it, re-broadcast it, or give up on it (None)."""
        tx_hash = str(entry.tx_hash)
        period = entry.period
        log.info("period %d: resuming %s transaction %s from the outbox", period, entry.kind, tx_hash)
        try:
            receipt = self._node(lambda: self.chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash)), "receipt")
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            if receipt["status"] == 1:
                return self._await(entry.kind, entry.report, tx_hash)
            log.warning("period %d: recorded transaction %s failed on-chain; building a new one", period, tx_hash)
            return None
        try:
            self._node(lambda: self.chain.w3.eth.get_transaction(HexBytes(tx_hash)), "pending transaction")
            return self._await(entry.kind, entry.report, tx_hash)  # still pending: just wait for it
        except TransactionNotFound:
            pass
        assert entry.raw_tx is not None
        try:
            if not self._broadcast(entry.raw_tx, period):
                log.warning("period %d: recorded transaction %s reverts; building a new one", period, tx_hash)
                return None
        except (NodeUnavailableError, RwaError):
            raise
        except Exception as exc:  # nonce already used by another transaction: this one can never be mined
            log.warning("period %d: recorded transaction cannot be re-sent (%s); building a new one", period,
                        short_error(exc))
            return None
        log.info("period %d: re-broadcast the recorded transaction %s", period, tx_hash)
        return self._await(entry.kind, entry.report, tx_hash)


def _failed(kind: ReportKind, details: dict[str, Any]) -> ContractRevertError:
    """The error for a report transaction that failed without a reason the contract gave (out of gas)."""
    return ContractRevertError("SubmitFailed" if kind is ReportKind.SUBMITTED else "AmendFailed", details, b"",
                               "RevenueOracle")


def _fault(point: str) -> None:
    if os.environ.get(FAULT_ENV) == point:
        log.error("fault injection: killed %s", point)
        logging.shutdown()
        os._exit(137)


# -- entry points ---------------------------------------------------------------------------------------------


def publish(
    chain: Chain,
    manifest: Manifest,
    period: int | None = None,
    source: Path | None = None,
    simulate: bool = False,
    seed: int | None = None,
    scenario: str = "base",
    keys: Sequence[LocalAccount] | None = None,
    outbox: Path | None = None,
    sender: str | None = None,
    retry: RetryPolicy | None = None,
    move_clock: bool | None = None,
    tape: Path | None = None,
) -> list[PublishResult]:
    """Publish ``period``, or every ended period not yet on-chain (oldest first). Returns one result per period.

    ``move_clock`` (default: ``simulate`` on a development chain) lets the chain's clock jump to the end of the next
    period when none has ended. ``tape`` is the export's tape companion (:mod:`rwa.oracle.billing`). With
    ``simulate`` the deal's scheduled deliveries due by each period are attested before its report.
    """
    figures = open_source(manifest, source, simulate, seed, scenario, tape)
    with Publisher(chain, manifest, keys=keys, outbox=outbox, sender=sender, retry=retry) as publisher:
        return publisher.catch_up(period, figures, move_clock)


def amend(
    chain: Chain,
    manifest: Manifest,
    period: int,
    source: Path | None = None,
    simulate: bool = False,
    seed: int | None = None,
    scenario: str = "base",
    keys: Sequence[LocalAccount] | None = None,
    sender: str | None = None,
    retry: RetryPolicy | None = None,
    outbox: Path | None = None,
    tape: Path | None = None,
) -> PublishResult:
    """Replace period ``period``'s on-chain report by the source's figures (same quorum; refused once distributed).

    The amendment goes through the outbox like a first report, so a re-run after a crash resumes it."""
    from rwa.oracle.signatures import refuse_distributed

    report = open_source(manifest, source, simulate, seed, scenario, tape).report(period)
    refuse_distributed(RevenueOracle.at(chain, manifest.address("oracle")), period)
    with Publisher(chain, manifest, keys=keys, outbox=outbox, sender=sender, retry=retry) as publisher:
        publisher.reconcile()
        return publisher.amend_period(report)


def publish_signed(
    chain: Chain,
    manifest: Manifest,
    folder: Path,
    period: int | None = None,
    outbox: Path | None = None,
    sender: str | None = None,
    retry: RetryPolicy | None = None,
) -> PublishResult:
    """Submit (or amend) ``period`` (default: the next one) with the reporters' signature files in ``folder``; the
    publisher holds no reporter key: it only relays what M reporters signed on their own machines."""
    from rwa.oracle.signatures import check_quorum, collect, refuse_distributed

    oracle = RevenueOracle.at(chain, manifest.address("oracle"))
    policy = retry or RetryPolicy.from_env()
    target = period if period is not None else policy.run(oracle.latest_period, "reading the latest period") + 1
    report, signatures = collect(folder, chain.chain_id, oracle.address, target)
    policy.run(lambda: check_quorum(oracle, target, signatures), "reading the oracle's reporters")  # nothing sent yet
    if report.version > 0:
        refuse_distributed(oracle, target)
    with Publisher(chain, manifest, keys=[], outbox=outbox, sender=sender, retry=policy) as publisher:
        publisher.reconcile()
        if report.version == 0:
            return publisher.publish_period(report, signatures)
        return publisher.amend_period(report, signatures)


def status(chain: Chain, manifest: Manifest, outbox: Path | None = None) -> dict[str, Any]:
    """The oracle's state for ``rwa oracle status`` (a JSON object): ``latest_report`` is the latest period's
    figures with its conversion (``null`` before the first), in smallest units, the rate also as a person reads it."""
    oracle = RevenueOracle.at(chain, manifest.address("oracle"))
    config = oracle.config()
    now = chain.now()
    register = oracle.register()
    box = Outbox(outbox or default_outbox_path(manifest), outbox_identity(manifest), read_only=True)
    try:
        pending = box.pending(oracle.address)
        attesting = box.pending_attestations(register) if int(register, 16) else []
    finally:
        box.close()
    latest = oracle.latest()
    deal = _deal_of(manifest)
    late = _late_periods(chain, manifest, config, now, deal)
    return {
        "oracle": oracle.address,
        "latest_period": oracle.latest_period(),
        "latest_report": None if latest is None else _report_status(latest, deal),
        "last_ended_period": config.ended_by(now),
        "next_deadline": format_time(oracle.next_deadline()),
        "overdue": oracle.is_overdue(),
        "late_periods": list(late),
        "late_periods_shown": (f"{len(late)} period(s) late: {format_periods(late)} (ended, the servicer's grace "
                               "passed, not distributed)") if late else "none",
        "chain_time": format_time(now),
        "threshold": oracle.threshold(),
        "reporters": oracle.reporters(),
        "outbox_pending": [{"period": e.period, "kind": e.kind.value, "status": e.status.value} for e in pending],
        "attestations_pending": [{"sequence": e.sequence, "kind": e.kind, "status": e.status.value}
                                 for e in attesting],
    }


def _deal_of(manifest: Manifest) -> Deal | None:
    """The manifest's deal file, when this machine has it (a reporter's machine may not)."""
    deal_file = Path(manifest.deal_file)
    if not deal_file.is_file():
        return None
    from rwa.model.deal_file import load_deal

    try:
        return load_deal(deal_file)
    except RwaError:
        return None


def _late_periods(chain: Chain, manifest: Manifest, config: OracleConfig, now: int, deal: Deal | None
                  ) -> tuple[int, ...]:
    """The periods late at ``now`` (:func:`rwa.model.calendar.late_periods`) by the oracle's calendar, the pool's
    distributions and the deal's distribution grace (the pool's own when the deal file is not here)."""
    from rwa.onchain.pool import LeasePool

    pool = LeasePool.at(chain, manifest.address("pool"))
    grace = (deal.events_of_default.distribution_grace_seconds if deal is not None
             else pool.default_rules().distribution_grace)
    return late_periods(config.period_ends, grace, pool.last_distributed_period(), now)


def _report_status(report: Report, deal: Deal | None) -> dict[str, Any]:
    """One report as the status shows it: the revenue, the source revenue and the rate it was converted at."""
    currency, source = "stablecoin", "source"  # the deal file names them; a reporter's machine may not have it
    if deal is not None:
        currency, source = deal.currency, deal.source_currency or source
    if report.fx_rate == FX_RATE_SCALE:  # no conversion: the source is the stablecoin
        source = currency
    return {
        "period": report.period,
        "version": report.version,
        "revenue": report.revenue,
        "source_revenue": report.source_revenue,
        "fx_rate": report.fx_rate,
        "fx_rate_shown": format_fx_rate(report.fx_rate, currency, source),
    }
