"""Publishing reports: validate the data, collect M signatures, submit, wait for the receipt; exactly once.

Crash safety. A SQLite outbox (``.rwa/oracle-outbox-<chain>-<oracle>.sqlite``) records, per period, the signed
report before anything is sent, then the signed raw transaction and its hash *before* it is broadcast. A re-run
first reads the chain: a report already there with the same data is done; otherwise a recorded transaction is
looked up (mined, pending or unknown) and the *same* raw transaction is re-broadcast, which can never execute twice
(same nonce). Only when the recorded transaction can no longer be mined (its nonce is used) is a new one built.

Faults for tests: ``RWA_FAULT=after-sign`` kills the process (exit 137) right after the signatures are recorded,
``RWA_FAULT=after-submit`` right after the transaction is broadcast, before its receipt.

A node that does not answer is retried with bounded exponential backoff (``RetryPolicy``; ``RWA_RETRY_ATTEMPTS``,
``RWA_RETRY_BASE_DELAY``), then a one-line ``NodeUnavailableError``.
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import requests
from eth_account.signers.local import LocalAccount
from hexbytes import HexBytes
from web3.exceptions import ProviderConnectionError, TimeExhausted, TransactionNotFound
from web3.types import RPCEndpoint

from rwa.chain import Chain
from rwa.deployment import Manifest
from rwa.errors import ChainError, ContractRevertError, InputError, NodeUnreachableError, RwaError
from rwa.onchain.oracle import OracleConfig, Report, RevenueOracle
from rwa.oracle.keys import reporter_keys, select_signers
from rwa.oracle.report import sign_report
from rwa.oracle.simulator import load_params, simulate
from rwa.oracle.sources import BillingExport, read_billing
from rwa.paths import state_dir
from rwa.tx import reraise_revert

log = logging.getLogger("rwa.oracle.publish")

DEFAULT_SEED = 20250701
FAULT_ENV = "RWA_FAULT"
T = TypeVar("T")


class NodeUnavailableError(ChainError):
    """The node did not answer after every retry (not itself retried: it is the end of the retries)."""


class AmendRequiredError(InputError):
    """The period is on-chain with other figures: a correction goes through ``rwa oracle amend``."""

    exit_code = 1


# -- retries --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded exponential backoff: ``attempts`` tries, waiting ``base_delay * 2**i`` (at most ``max_delay``)."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0

    @classmethod
    def from_env(cls, attempts: int | None = None, base_delay: float | None = None) -> RetryPolicy:
        return cls(
            attempts=max(1, attempts if attempts is not None else int(os.environ.get("RWA_RETRY_ATTEMPTS", "5"))),
            base_delay=base_delay if base_delay is not None else float(os.environ.get("RWA_RETRY_BASE_DELAY", "0.5")),
        )

    def run(self, fn: Callable[[], T], what: str) -> T:
        for attempt in range(1, self.attempts + 1):
            try:
                return fn()
            except _TRANSIENT as exc:
                if attempt == self.attempts:
                    raise NodeUnavailableError(
                        f"{what}: the node did not answer after {self.attempts} attempts ({_short(exc)}); "
                        "check that it is running and --rpc-url"
                    ) from None
                delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
                log.warning("%s: node unavailable (%s); retry %d/%d in %.2fs", what, _short(exc), attempt,
                            self.attempts - 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


_TRANSIENT: tuple[type[BaseException], ...] = (
    NodeUnreachableError,
    requests.ConnectionError,
    requests.Timeout,
    ProviderConnectionError,
    ConnectionError,
    TimeoutError,
)
"""A node that does not answer; never a ``ChainError`` about a state file, a URL or a transaction."""


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:120]}" if text else type(exc).__name__


def connect_with_retry(connect: Callable[[], Chain], policy: RetryPolicy, where: str) -> Chain:
    """``connect()`` retried while the node does not answer (``NodeUnreachableError``); any other failure, such as
    a corrupt state file or a malformed URL, is raised at once."""
    return policy.run(connect, f"connecting to {where}")


# -- the outbox -----------------------------------------------------------------------------------------------


def default_outbox_path(manifest: Manifest) -> Path:
    """One outbox per (chain, oracle), under the local state folder."""
    oracle = manifest.address("oracle").lower()
    block = manifest.deployment_block_hash.removeprefix("0x")[:8]
    suffix = f"-{block}" if block else ""
    return state_dir() / f"oracle-outbox-{manifest.chain_id}-{oracle[2:12]}{suffix}.sqlite"


class Outbox:
    """Per-period records of what was signed and sent: ``signed`` -> ``sending`` -> ``done``."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS outbox (oracle TEXT, period INTEGER, report TEXT NOT NULL, "
            "signatures TEXT NOT NULL, raw_tx TEXT, tx_hash TEXT, status TEXT NOT NULL, updated INTEGER NOT NULL, "
            "PRIMARY KEY (oracle, period))"
        )

    def get(self, oracle: str, period: int) -> dict[str, Any] | None:
        row = self.db.execute(
            "SELECT report, signatures, raw_tx, tx_hash, status FROM outbox WHERE oracle = ? AND period = ?",
            (oracle.lower(), period),
        ).fetchone()
        if row is None:
            return None
        return {
            "report": Report.from_json(json.loads(row[0])),
            "signatures": [bytes.fromhex(s) for s in json.loads(row[1])],
            "raw_tx": bytes.fromhex(row[2]) if row[2] else None,
            "tx_hash": row[3],
            "status": row[4],
        }

    def record_signed(self, oracle: str, report: Report, signatures: Sequence[bytes]) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO outbox VALUES (?, ?, ?, ?, NULL, NULL, 'signed', ?)",
            (oracle.lower(), report.period, json.dumps(report.to_json()), json.dumps([s.hex() for s in signatures]),
             int(time.time())),
        )

    def record_sending(self, oracle: str, period: int, raw_tx: bytes, tx_hash: str) -> None:
        self.db.execute(
            "UPDATE outbox SET raw_tx = ?, tx_hash = ?, status = 'sending', updated = ? "
            "WHERE oracle = ? AND period = ?",
            (raw_tx.hex(), tx_hash, int(time.time()), oracle.lower(), period),
        )

    def record_done(self, oracle: str, period: int, tx_hash: str | None) -> None:
        self.db.execute(
            "UPDATE outbox SET status = 'done', tx_hash = COALESCE(?, tx_hash), updated = ? "
            "WHERE oracle = ? AND period = ?",
            (tx_hash, int(time.time()), oracle.lower(), period),
        )

    def pending(self, oracle: str) -> list[tuple[int, str]]:
        rows = self.db.execute(
            "SELECT period, status FROM outbox WHERE oracle = ? AND status != 'done' ORDER BY period", (oracle.lower(),)
        )
        return [(int(p), str(s)) for p, s in rows]

    def close(self) -> None:
        self.db.close()


# -- results --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishResult:
    """What happened to one period."""

    period: int
    status: Literal["published", "unchanged", "amended"]
    report: Report
    tx_hash: str | None
    message: str


# -- data -----------------------------------------------------------------------------------------------------


class _Data:
    """Where the figures come from: a billing export or the simulator for the deployment's deal."""

    def __init__(self, manifest: Manifest, source: Path | None, simulated: bool, seed: int | None,
                 scenario: str) -> None:
        if (source is None) == (not simulated):
            raise InputError("give exactly one of --source FILE or --simulate")
        self.export: BillingExport | None = None
        self.last_period: int | None = None
        if source is not None:
            self.export = read_billing(source)
        else:
            deal = Path(manifest.deal_file)
            if not deal.is_file():
                raise InputError(f"deployment's deal_file {deal} does not exist: --simulate needs the deal")
            rows = simulate(load_params(deal), DEFAULT_SEED if seed is None else seed,
                            "stress" if scenario == "stress" else "base")
            self.export = BillingExport(rows, f"simulator({deal.name})")
            self.last_period = len(rows)

    def report(self, period: int) -> Report:
        assert self.export is not None
        return self.export.row(period).to_report()


# -- the publisher --------------------------------------------------------------------------------------------


class Publisher:
    """Publishes one deployment's periods; see the module docstring for the crash-safety protocol."""

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
        self.outbox = Outbox(outbox or default_outbox_path(manifest))
        self.sender = chain.account(sender or chain.accounts[0].address) if chain.accounts else None
        self.receipt_timeout = receipt_timeout
        self._config: OracleConfig | None = None

    def close(self) -> None:
        self.outbox.close()

    def _node(self, fn: Callable[[], T], what: str) -> T:
        return self.retry.run(fn, what)

    @property
    def config(self) -> OracleConfig:
        if self._config is None:
            self._config = self._node(self.oracle.config, "reading the oracle's calendar")
        return self._config

    # -- planning ----------------------------------------------------------------------------------------------

    def reconcile(self) -> None:
        """Close outbox entries left by an interrupted run whose period is now on-chain."""
        latest = self._node(self.oracle.latest_period, "reading the latest period")
        for period, state in self.outbox.pending(self.oracle.address):
            if period <= latest:
                log.info("period %d: the %s report recorded in the outbox before an interruption is on-chain",
                         period, state)
                self.outbox.record_done(self.oracle.address, period, None)

    def plan(self, period: int | None, data: _Data, move_clock: bool) -> list[int]:
        """The periods to publish, oldest first; on a dev chain with ``move_clock`` the clock may move forward."""
        latest = self._node(self.oracle.latest_period, "reading the latest period")
        now = self._node(self.chain.now, "reading the chain's clock")
        ended = self.config.ended_by(now)
        if data.export is not None and data.last_period is None:
            data.export.check_ended(ended)
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
                                     f"(ends at {self.config.period_end(period)}, chain time {now})")
            return [period]
        last = ended
        if data.last_period is not None:
            last = min(last, data.last_period)
        periods = list(range(latest + 1, last + 1))
        if not periods and move_clock and (data.last_period is None or latest < data.last_period):
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
            self.chain.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        if self.chain.now() < timestamp:
            raise ChainError(f"could not move the development chain's clock to {timestamp}")

    # -- one period --------------------------------------------------------------------------------------------

    def publish_period(self, report: Report) -> PublishResult:
        period = report.period
        oracle = self.oracle.address
        log.info("period %d: revenue %d, utilization %d bps, %d servers, contracted %d, dataHash 0x%s", period,
                 report.revenue, report.utilization_bps, report.active_servers, report.contracted_rent,
                 report.data_hash.hex())
        onchain = self._node(lambda: self.oracle.report_of(period), f"reading period {period}")
        if onchain is not None:
            return self._already(report, onchain)
        entry = self.outbox.get(oracle, period)
        if entry is not None and entry["report"] != report:
            log.warning("period %d: the outbox holds other, unpublished figures; they are replaced", period)
            entry = None
        if entry is not None and entry["raw_tx"] is not None:
            result = self._resume(entry, report)
            if result is not None:
                return result
        if entry is None:
            signatures = self._sign(report)
            self.outbox.record_signed(oracle, report, signatures)
            log.info("period %d: %d signatures recorded in the outbox", period, len(signatures))
            _fault("after-sign")
        else:
            signatures = entry["signatures"]
            log.info("period %d: reusing the %d signatures recorded in the outbox", period, len(signatures))
        return self._send(report, signatures)

    def _already(self, report: Report, onchain: Report) -> PublishResult:
        self.outbox.record_done(self.oracle.address, report.period, None)
        if onchain == report:
            message = f"period {report.period}: already on-chain with the same data; nothing to do"
            log.info(message)
            return PublishResult(report.period, "unchanged", report, None, message)
        raise AmendRequiredError(
            f"period {report.period} is already on-chain with other figures (revenue {onchain.revenue}, dataHash "
            f"0x{onchain.data_hash.hex()[:12]}...); to correct it run `rwa oracle amend --period {report.period}`"
        )

    def _sign(self, report: Report) -> list[bytes]:
        reporters = self._node(self.oracle.reporters, "reading the reporters")
        threshold = self._node(self.oracle.threshold, "reading the threshold")
        signers = select_signers(self.keys, reporters, threshold)
        return sign_report(report, signers, self.chain.chain_id, self.oracle.address)

    def _send(self, report: Report, signatures: Sequence[bytes]) -> PublishResult:
        if self.sender is None:
            raise InputError("no key to send the transaction: set RWA_PRIVATE_KEYS or RWA_KEYSTORE")
        sender = self.sender
        period = report.period
        self._node(lambda: self.oracle.check_submit(report, signatures, sender.address), f"checking period {period}")
        nonce = self._node(lambda: self.chain.w3.eth.get_transaction_count(sender.address, "pending"), "nonce")
        tx = self.oracle.submit_tx(report, signatures, sender.address, nonce)
        tx.setdefault("gasPrice", self._node(lambda: self.chain.w3.eth.gas_price, "gas price"))  # type: ignore[typeddict-item]
        tx.pop("maxFeePerGas", None)  # type: ignore[misc]
        tx.pop("maxPriorityFeePerGas", None)  # type: ignore[misc]
        signed = sender.sign_transaction(dict(tx))  # type: ignore[arg-type]
        raw = bytes(signed.raw_transaction)
        tx_hash = "0x" + bytes(signed.hash).hex()
        self.outbox.record_sending(self.oracle.address, period, raw, tx_hash)
        self._broadcast(raw, period)
        log.info("period %d: transaction %s sent", period, tx_hash)
        _fault("after-submit")
        return self._await(report, tx_hash)

    def _broadcast(self, raw: bytes, period: int) -> None:
        self._node(lambda: self.chain.w3.eth.send_raw_transaction(raw), f"sending period {period}")

    def _await(self, report: Report, tx_hash: str) -> PublishResult:
        period = report.period
        try:
            receipt = self._node(
                lambda: self.chain.w3.eth.wait_for_transaction_receipt(HexBytes(tx_hash), timeout=self.receipt_timeout),
                f"waiting for period {period}",
            )
        except TimeExhausted:
            raise ChainError(f"period {period}: transaction {tx_hash} not mined within {self.receipt_timeout:.0f}s; "
                             "re-run publish: it resumes this transaction") from None
        if receipt["status"] != 1:
            self._explain_failure(report, int(receipt["blockNumber"]))
        self.outbox.record_done(self.oracle.address, period, tx_hash)
        message = f"period {period}: published in transaction {tx_hash} (block {receipt['blockNumber']})"
        log.info(message)
        return PublishResult(period, "published", report, tx_hash, message)

    def _explain_failure(self, report: Report, block: int) -> None:
        fn = self.oracle.contract.functions.submit(report.as_tuple(), [])
        try:
            fn.call(block_identifier=block - 1)
        except Exception as exc:
            reraise_revert(exc, "RevenueOracle")
        raise ContractRevertError("SubmitFailed", {"period": report.period, "block": block}, b"", "RevenueOracle")

    def _resume(self, entry: dict[str, Any], report: Report) -> PublishResult | None:
        """A transaction was recorded before a crash: wait for it, re-broadcast it, or give up on it (None)."""
        tx_hash = str(entry["tx_hash"])
        period = report.period
        log.info("period %d: resuming transaction %s from the outbox", period, tx_hash)
        try:
            receipt = self._node(lambda: self.chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash)), "receipt")
        except TransactionNotFound:
            receipt = None
        if receipt is not None:
            if receipt["status"] == 1:
                return self._await(report, tx_hash)
            log.warning("period %d: recorded transaction %s failed on-chain; building a new one", period, tx_hash)
            return None
        try:
            self._node(lambda: self.chain.w3.eth.get_transaction(HexBytes(tx_hash)), "pending transaction")
            return self._await(report, tx_hash)  # still pending: just wait for it
        except TransactionNotFound:
            pass
        try:
            self._broadcast(entry["raw_tx"], period)
        except (NodeUnavailableError, RwaError):
            raise
        except Exception as exc:  # nonce already used by another transaction: this one can never be mined
            log.warning("period %d: recorded transaction cannot be re-sent (%s); building a new one", period,
                        _short(exc))
            return None
        log.info("period %d: re-broadcast the recorded transaction %s", period, tx_hash)
        return self._await(report, tx_hash)


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
) -> list[PublishResult]:
    """Publish ``period``, or every ended period not yet on-chain (oldest first). Returns one result per period.

    ``move_clock`` (default: ``simulate`` on a development chain) lets the chain's clock jump to the end of the next
    period when none has ended.
    """
    data = _Data(manifest, source, simulate, seed, scenario)
    publisher = Publisher(chain, manifest, keys=keys, outbox=outbox, sender=sender, retry=retry)
    try:
        publisher.reconcile()
        moving = (simulate and chain.is_dev) if move_clock is None else (move_clock and chain.is_dev)
        periods = publisher.plan(period, data, moving)
        if not periods:
            log.info("nothing to publish: every ended period is on-chain")
        reports = [data.report(p) for p in periods]  # every row is validated before anything is sent
        return [publisher.publish_period(report) for report in reports]
    finally:
        publisher.close()


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
) -> PublishResult:
    """Replace period ``period``'s on-chain report by the source's figures (same quorum; refused once distributed)."""
    data = _Data(manifest, source, simulate, seed, scenario)
    report = data.report(period)
    publisher = Publisher(chain, manifest, keys=keys, sender=sender, retry=retry)
    try:
        onchain = publisher._node(lambda: publisher.oracle.report_of(period), f"reading period {period}")
        if onchain is None:
            raise InputError(f"period {period} has no report on-chain yet: use `rwa oracle publish`")
        if onchain == report:
            message = f"period {period}: on-chain report already has these figures; nothing to amend"
            log.info(message)
            return PublishResult(period, "unchanged", report, None, message)
        signatures = publisher._sign(report)
        assert publisher.sender is not None
        address = publisher.sender.address
        publisher._node(lambda: publisher.oracle.check_amend(period, report, signatures, address), "checking amend")
        receipt = publisher.oracle.amend(period, report, signatures, sender=address)
        tx_hash = "0x" + bytes(receipt["transactionHash"]).hex()
        message = f"period {period}: amended in transaction {tx_hash} (revenue {onchain.revenue} -> {report.revenue})"
        log.info(message)
        return PublishResult(period, "amended", report, tx_hash, message)
    finally:
        publisher.close()


def status(chain: Chain, manifest: Manifest, outbox: Path | None = None) -> dict[str, Any]:
    """The oracle's state for ``rwa oracle status``."""
    oracle = RevenueOracle.at(chain, manifest.address("oracle"))
    config = oracle.config()
    now = chain.now()
    box = Outbox(outbox or default_outbox_path(manifest))
    try:
        pending = box.pending(oracle.address)
    finally:
        box.close()
    return {
        "oracle": oracle.address,
        "latest_period": oracle.latest_period(),
        "last_ended_period": config.ended_by(now),
        "next_deadline": oracle.next_deadline(),
        "overdue": oracle.is_overdue(),
        "chain_time": now,
        "threshold": oracle.threshold(),
        "reporters": oracle.reporters(),
        "outbox_pending": [{"period": p, "status": s} for p, s in pending],
    }

