"""Independent reporters: each signs a period's report on its own machine, from its own copy of the billing data,
into a signature file; the publisher collects M of them and submits, holding no reporter key.

A signature file (``rwa-report-signature/3``; ``/2`` predates the lease tape and ``/1`` the report's source revenue
and rate, and each signs another EIP-712 type) names the chain, the oracle, the report (every signed field, its
version, conversion and lease tape, row by row, included) and one 85-byte signature (signer address || r || s || v).
:func:`collect` accepts a folder of them only when every file is for this oracle on this chain, recovers to the
signer it names, and signs the very same report: the signature covers the tape's rows, so a row changed after
signing no longer recovers and the file is refused as altered. It returns the report and the signatures in the
order the oracle wants (by signer address).

Before a reporter signs, :func:`report_to_sign` holds the report to what the chain fixes, as the oracle will
(:func:`check_tape`): one tape row per lease of the fleet register in lease order, each within the servers the
register gives its lease in the period (the servers delivered by the period's end, to the leases in force in
lease order), the contracted rent the register's, the source revenue the tape's billed total, the active servers
the tape's servers and within the fleet.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address

from rwa.chain.tx import call
from rwa.errors import ContractRevertError, InputError
from rwa.onchain.oracle import Report, RevenueOracle
from rwa.oracle.report import require_quorum, sign_report, signer_of, typed_data
from rwa.paths import write_json_atomic

if TYPE_CHECKING:
    from rwa.oracle.attest import PlannedDelivery

SIGNATURE_FORMAT = "rwa-report-signature/3"


@dataclass(frozen=True)
class SignedReport:
    report: Report
    signer: str
    signature: bytes
    chain_id: int
    oracle: str

    def to_json(self) -> dict[str, Any]:
        return {"format": SIGNATURE_FORMAT, "chain_id": self.chain_id, "oracle": self.oracle, "signer": self.signer,
                "report": self.report.to_json(), "signature": "0x" + self.signature.hex()}


def report_to_sign(oracle: RevenueOracle, report: Report, amend: bool) -> Report:
    """``report`` with the version the oracle expects next, checked against what the chain fixes: the period has
    ended, its tape, contracted rent and servers against the fleet register (:func:`check_tape`), whether it is
    already reported, and that an amended period is not distributed yet: a signature the oracle would refuse is
    never made."""
    now = oracle.chain.now()
    config = oracle.config()
    if not 1 <= report.period <= len(config.period_ends):
        raise InputError(f"--period {report.period}: the deal has periods 1..{len(config.period_ends)}")
    if report.period > config.ended_by(now):
        raise InputError(f"--period {report.period}: it has not ended (it ends at {config.period_end(report.period)}"
                         f", the chain's time is {now}): sign it once it has")
    if amend:
        refuse_distributed(oracle, report.period)
    check_tape(oracle, report)
    onchain = oracle.report_of(report.period)
    if onchain is None:
        if amend:
            raise InputError(f"period {report.period} has no report on-chain: sign it without --amend")
        return report
    if not amend:
        raise InputError(f"period {report.period} is already on-chain: to correct it, sign with --amend")
    return replace(report, version=onchain.version + 1)


def check_tape(oracle: RevenueOracle, report: Report) -> None:
    """Refuse, with one line naming the lease or the field, a report the oracle would refuse against its fleet
    register (``FleetRegister.tapeTotals`` at the period's end): a tape that is not one row per lease in lease
    order, a lease given more servers than the register gives it, a contracted rent that is not the register's, a
    source revenue that is not the tape's billed total, active servers that are not the tape's or exceed the fleet."""
    from rwa.onchain.register import FleetRegister

    period = report.period
    address = oracle.register()
    if int(address, 16) == 0:
        raise InputError(f"period {period}: the oracle {oracle.address} has no fleet register bound: no report can "
                         "be accepted until the deployer binds it")
    register = FleetRegister.at(oracle.chain, address)
    leases = int(register.contract.functions.leaseCount().call())
    if len(report.tape) != leases:
        raise InputError(f"period {period}: tape: {len(report.tape)} rows, the register holds {leases} leases (one "
                         "row per lease, in lease order); check the export's tape")
    for i, row in enumerate(report.tape):
        if row.lease != i + 1:
            raise InputError(f"period {period}: tape row {i + 1}: lease {row.lease}, must be lease {i + 1} (one row "
                             "per lease, in lease order)")
    try:
        raw = call(register.contract.functions.tapeTotals(period, oracle.config().period_end(period),
                                                          report.tape_tuples()))
    except ContractRevertError as err:
        if err.error_name != "TapeServersAboveLease":
            raise
        args = err.error_args
        raise InputError(f"period {period}: lease {args['lease']}: the tape has {args['servers']} servers in "
                         f"service, the register gives the lease {args['allowed']} (the servers delivered by the "
                         "period's end go to the leases in force in lease order)") from None
    billed, servers, rent, fleet = (int(x) for x in raw[:4])
    if report.source_revenue != billed:
        raise InputError(f"period {period}: source_revenue: {report.source_revenue:,} is not the tape's billed total "
                         f"{billed:,}")
    if report.active_servers > fleet:
        raise InputError(f"period {period}: active_servers: {report.active_servers} is above the fleet delivered by "
                         f"the period's end ({fleet})")
    if report.active_servers != servers:
        raise InputError(f"period {period}: active_servers: {report.active_servers} is not the tape's servers "
                         f"({servers})")
    if report.contracted_rent != rent:
        raise InputError(f"period {period}: contracted_rent: {report.contracted_rent:,} is not the register's "
                         f"{rent:,} (the rent of the servers delivered to the leases in force); "
                         "check the export")


def require_attested(oracle: RevenueOracle, planned: Sequence[PlannedDelivery], period: int) -> None:
    """A simulated deal's figures count the batches its schedule delivers by ``period``: refuse to sign them before
    the register holds those batches (a reporter signs no report the register contradicts). A period that has not
    ended is left to :func:`report_to_sign`, which refuses it for that."""
    from rwa.onchain.register import FleetRegister
    from rwa.oracle.attest import due_deliveries, on_calendar

    if period > oracle.config().ended_by(oracle.chain.now()):
        return
    register = FleetRegister.at(oracle.chain, oracle.register())
    due = due_deliveries(register, on_calendar(planned, oracle.config()), period)
    if due:
        first = due[0]
        raise InputError(f"period {period}: {len(due)} scheduled deliveries due by this period are not in the fleet "
                         f"register yet (first: {first.servers} servers of {first.supplier} in period {first.period}); "
                         "attest them first (`rwa oracle sign --delivery` by each reporter, then `rwa oracle attest`, "
                         "or `rwa oracle publish --simulate`)")


def refuse_distributed(oracle: RevenueOracle, period: int) -> None:
    """Refuse to amend a period the pool has distributed, as the oracle would (``AmendAfterDistribution``), before
    anything is signed or sent."""
    from rwa.onchain.pool import LeasePool

    pool = oracle.pool()
    if int(pool, 16) == 0:
        return  # no pool bound yet: nothing is distributed
    last = LeasePool.at(oracle.chain, pool).last_distributed_period()
    if period <= last:
        raise InputError(f"period {period} is distributed (the pool has paid periods 1..{last}): its "
                         "report can no longer be amended")


def sign_to_file(oracle: RevenueOracle, chain_id: int, report: Report, key: LocalAccount, out: Path) -> Path:
    """Sign ``report`` (already :func:`report_to_sign`) with ``key`` into a file in folder ``out``."""
    reporters = {r.lower() for r in oracle.reporters()}
    if key.address.lower() not in reporters:
        raise InputError(f"--key: {key.address} is not a reporter of the oracle {oracle.address}")
    (signature,) = sign_report(report, [key], chain_id, oracle.address)
    signed = SignedReport(report, key.address, signature, chain_id, to_checksum_address(oracle.address))
    return write_json_atomic(out / f"period-{report.period}-v{report.version}-{key.address}.json", signed.to_json())


def _load(path: Path) -> SignedReport:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != SIGNATURE_FORMAT:
            raise ValueError(f"format is not {SIGNATURE_FORMAT!r}")
        report = Report.from_json(data["report"])
        recorded = str(data["report"].get("tape_hash", "0x" + report.tape_hash.hex()))
        if bytes.fromhex(recorded.removeprefix("0x")) != report.tape_hash:
            raise ValueError("its tape_hash is not the hash of its tape rows: the file was altered")
        return SignedReport(report, to_checksum_address(data["signer"]),
                            bytes.fromhex(str(data["signature"]).removeprefix("0x")), int(data["chain_id"]),
                            to_checksum_address(data["oracle"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"--signatures: {path} is not a report signature file ({exc})") from None


def collect(folder: Path, chain_id: int, oracle: str, period: int) -> tuple[Report, list[bytes]]:
    """The report of ``period`` and its signatures from the files in ``folder`` (see the module docstring)."""
    if not folder.is_dir():
        raise InputError(f"--signatures {folder}: not a folder of signature files")
    signed = [s for s in (_load(p) for p in sorted(folder.glob("period-*.json"))) if s.report.period == period]
    if not signed:
        raise InputError(f"--signatures {folder}: no signature file for period {period}")
    latest = max(s.report.version for s in signed)
    signed = [s for s in signed if s.report.version == latest]  # older versions were superseded
    for s in signed:  # each file on its own first: an altered file is named as such, not as a disagreement
        where = f"the signature of {s.signer} for period {period}"
        if s.chain_id != chain_id or s.oracle.lower() != oracle.lower():
            raise InputError(f"{where} is for oracle {s.oracle} on chain {s.chain_id}, not {oracle} on {chain_id}")
        if signer_of(s.signature) != s.signer or _recover(s) != s.signer.lower():
            raise InputError(f"{where} does not recover to {s.signer}: the file was altered")
    report = signed[0].report
    by_signer: dict[str, bytes] = {}
    for s in signed:
        if s.report != report:
            raise InputError(f"the signature of {s.signer} for period {period} signs other figures than "
                             f"{signed[0].signer}'s: the reporters disagree")
        by_signer[s.signer.lower()] = s.signature
    return report, [by_signer[k] for k in sorted(by_signer)]


def check_quorum(oracle: RevenueOracle, period: int, signatures: list[bytes]) -> None:
    """Refuse, before anything is sent, what the oracle would revert: a signer that is not one of its reporters, or
    fewer distinct reporters than its threshold (:func:`collect` keeps one signature per signer)."""
    reporters, threshold = oracle.quorum()
    known = {r.lower() for r in reporters}
    strangers = [signer_of(s) for s in signatures if signer_of(s).lower() not in known]
    if strangers:
        raise InputError(f"--signatures: {', '.join(strangers)} signed period {period} but is not a reporter of the "
                         f"oracle {oracle.address}; remove that file")
    require_quorum(period, signatures, threshold)


def _recover(s: SignedReport) -> str:
    """The key that made the signature, recovered from the EIP-712 message (not from what the file says)."""
    message = encode_typed_data(full_message=typed_data(s.report, s.chain_id, s.oracle))
    return str(Account.recover_message(message, signature=s.signature[20:])).lower()
