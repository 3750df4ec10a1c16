"""The monthly report the reporters sign, and its EIP-712 signing (done locally with eth-account).

A signature as the oracle contract takes it is 85 bytes: the signer's address (20 bytes) followed by the 65-byte
ECDSA signature ``r || s || v``. Naming the signer lets the contract tell a signature made for another chain, oracle
or report (``SignerMismatch``) from one by an unauthorised key (``SignerNotReporter``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from rwa.onchain.base import eip712_digest, eip712_message
from rwa.onchain.oracle import DOMAIN_NAME, DOMAIN_VERSION, LEASE_ROW_TYPE, Report

REPORT_TYPE = [
    {"name": "period", "type": "uint64"},
    {"name": "revenue", "type": "uint128"},
    {"name": "utilizationBps", "type": "uint32"},
    {"name": "activeServers", "type": "uint32"},
    {"name": "contractedRent", "type": "uint128"},
    {"name": "dataHash", "type": "bytes32"},
    {"name": "version", "type": "uint32"},
    {"name": "sourceRevenue", "type": "uint128"},
    {"name": "fxRate", "type": "uint96"},
    {"name": "tape", "type": "LeaseRow[]"},
]

__all__ = ["DOMAIN_NAME", "DOMAIN_VERSION", "Report", "data_hash_of", "digest", "sign_report", "signer_of",
           "typed_data"]


def typed_data(report: Report, chain_id: int, oracle_address: str) -> dict[str, Any]:
    """The EIP-712 message for ``report`` and its tape under the oracle's domain (the tape's rows in full: a reporter
    signs what it sees)."""
    tape = [{"lease": r.lease, "servers": r.servers, "billed": r.billed, "collected": r.collected,
             "daysPastDue": r.days_past_due} for r in report.tape]
    return eip712_message(DOMAIN_NAME, DOMAIN_VERSION, chain_id, oracle_address, "Report", REPORT_TYPE, {
        "period": report.period,
        "revenue": report.revenue,
        "utilizationBps": report.utilization_bps,
        "activeServers": report.active_servers,
        "contractedRent": report.contracted_rent,
        "dataHash": report.data_hash,
        "version": report.version,
        "sourceRevenue": report.source_revenue,
        "fxRate": report.fx_rate,
        "tape": tape,
    }, {"LeaseRow": LEASE_ROW_TYPE})


def digest(report: Report, chain_id: int, oracle_address: str) -> bytes:
    """The 32-byte EIP-712 digest the reporters sign (equals the contract's ``reportDigest``)."""
    return eip712_digest(typed_data(report, chain_id, oracle_address))


def sign_report(
    report: Report, accounts: Sequence[LocalAccount], chain_id: int, oracle_address: str
) -> list[bytes]:
    """One 85-byte signature (signer address || r || s || v) per account, ordered by signer address."""
    return sign_typed(typed_data(report, chain_id, oracle_address), accounts)


def sign_typed(message: dict[str, Any], accounts: Sequence[LocalAccount]) -> list[bytes]:
    """One 85-byte signature (signer address || r || s || v) per account over the EIP-712 ``message``, ordered by
    signer address (what the oracle wants of a report and of the register's attestations)."""
    out: list[tuple[bytes, bytes]] = []
    for account in accounts:
        signed = Account.sign_typed_data(account.key, full_message=message)
        signer = bytes.fromhex(account.address[2:])
        out.append((signer, signer + bytes(signed.signature)))
    out.sort(key=lambda pair: pair[0])
    return [sig for _, sig in out]


def signer_of(signature: bytes) -> str:
    """The signer an 85-byte oracle signature names."""
    return to_checksum_address(signature[:20])


def data_hash_of(payload: bytes) -> bytes:
    """keccak256 of a canonical encoding of raw billing data."""
    return bytes(keccak(payload))


def distinct_signers(signatures: Sequence[bytes]) -> int:
    """How many distinct signers ``signatures`` hold (a signature names its signer in its first 20 bytes)."""
    return len({signer_of(s).lower() for s in signatures})


def require_quorum(period: int, signatures: Sequence[bytes], threshold: int) -> None:
    """Refuse, before it is recorded or sent, a set of signatures too short for the quorum: recorded, it would be
    reused by every later run; sent, the oracle would revert it."""
    from rwa.errors import InputError

    present = distinct_signers(signatures)
    if present < threshold:
        raise InputError(f"period {period}: {present} reporter signature{'s' if present != 1 else ''} present, "
                         f"the quorum needs {threshold}; nothing was sent: publish again once the missing "
                         "reporters have signed")
