"""The outbox: what was signed and sent for each report transaction, kept in SQLite so a crash loses nothing.

Crash rule, the same for a first report (``submit``) and a correction (``amend``): the signed report is recorded
(``signed``) before anything is sent, and the signed raw transaction with its hash (``sending``) *before* it is
broadcast; ``done`` once the chain holds the report. A re-run reads the chain first: a period that already holds
these figures is done. Otherwise a recorded transaction is looked up (mined, pending or unknown) and the *same* raw
bytes are re-broadcast, which can never execute twice (same nonce). Only when the recorded transaction can no
longer be mined (it failed, or its nonce was used by another one), or none was built, is a new one built: from the
recorded signatures, or from a set of signature files given to this run, which supersedes them. A set of signatures
too short for the oracle's quorum is refused before it is recorded, so it never blocks a complete one.

Attestations (a delivery, a lease update) follow the same rule in their own table, keyed by the register and the
attestation's ``sequence``: each number is good for one attestation, so a re-run either finds it on the chain
(done), waits for or re-broadcasts the recorded transaction, or sends it once.

One outbox per (chain, oracle), ``.rwa/oracle-outbox-<chain id>-<oracle>[-<deployment block>].sqlite``; an entry
is keyed by the oracle, the kind of transaction and the period, so an amendment of a published period has its own
entry next to the first report's. The file records the deployment it serves (chain id, oracle, and the manifest's
anchor block and hash: embedded chains share ids and addresses, not blocks), and a file of another deployment, of
another program or of no SQLite at all is refused before anything in it changes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from rwa.errors import InputError
from rwa.onchain.deployment import Manifest
from rwa.onchain.oracle import Report, ReportKind
from rwa.paths import read_only_uri, sqlite_tables, state_dir


class OutboxStatus(StrEnum):
    """Where an entry is in the crash rule."""

    SIGNED = "signed"
    """The signatures are recorded; no transaction was built yet."""
    SENDING = "sending"
    """The signed raw transaction and its hash are recorded and may have been broadcast."""
    DONE = "done"
    """The chain holds the report."""


@dataclass(frozen=True)
class OutboxEntry:
    """One report transaction: the report, its signatures and, once built, the raw transaction and its hash."""

    oracle: str
    kind: ReportKind
    report: Report
    signatures: tuple[bytes, ...]
    raw_tx: bytes | None
    tx_hash: str | None
    status: OutboxStatus

    @property
    def period(self) -> int:
        return self.report.period


def default_outbox_path(manifest: Manifest) -> Path:
    """Attestations (a delivery, a lease update) follow the same rule in their own table, keyed by the register and the
attestation's ``sequence``: each number is good for one attestation, so a re-run either finds it on the chain
(done), waits for or re-broadcasts the recorded transaction, or sends it once.

One outbox per (chain, oracle), under the local state folder."""
    oracle = manifest.address("oracle").lower()
    block = manifest.deployment_block_hash.removeprefix("0x")[:8]
    suffix = f"-{block}" if block else ""
    return state_dir() / f"oracle-outbox-{manifest.chain_id}-{oracle[2:12]}{suffix}.sqlite"


def outbox_identity(manifest: Manifest) -> dict[str, str]:
    """What ties an outbox to one deployment on one chain (the manifest is checked against the chain first)."""
    return {
        "chain_id": str(manifest.chain_id),
        "oracle": manifest.address("oracle").lower(),
        "anchor_block": str(manifest.deployment_block),
        "anchor_hash": manifest.deployment_block_hash.lower(),
    }


_COLUMNS = "oracle, kind, period, report, signatures, raw_tx, tx_hash, status"
_ENTRIES_TABLE = (
    "CREATE TABLE IF NOT EXISTS entries (oracle TEXT NOT NULL, kind TEXT NOT NULL, period INTEGER NOT NULL, "
    "report TEXT NOT NULL, signatures TEXT NOT NULL, raw_tx TEXT, tx_hash TEXT, status TEXT NOT NULL, "
    "updated INTEGER NOT NULL, PRIMARY KEY (oracle, kind, period))"
)
_ATTESTATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS attestations (register TEXT NOT NULL, sequence INTEGER NOT NULL, kind TEXT NOT NULL, "
    "item TEXT NOT NULL, signatures TEXT NOT NULL, raw_tx TEXT, tx_hash TEXT, status TEXT NOT NULL, "
    "updated INTEGER NOT NULL, PRIMARY KEY (register, sequence))"
)
_TABLES = frozenset({"entries", "outbox", "identity", "attestations"})
"""Every table an outbox file holds (``outbox`` in the first format)."""


def _check_outbox(path: Path, identity: dict[str, str] | None) -> set[str]:
    """The tables of the outbox at ``path`` (none: no file yet); refuses, reading only, a file that is not an outbox or
    that serves another deployment than ``identity``."""
    tables = sqlite_tables(path, "--outbox")
    if tables is None:
        return set()
    if not tables & {"entries", "outbox"} or not tables <= _TABLES:
        raise InputError(f"--outbox {path}: not an oracle outbox (its tables are {sorted(tables)}); nothing was "
                         "changed: pass another --outbox")
    if identity is not None and "identity" in tables:
        db = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            recorded = dict(db.execute("SELECT key, value FROM identity").fetchall())
        finally:
            db.close()
        differs = sorted(k for k in identity if recorded.get(k, identity[k]) != identity[k])
        if differs:
            shown = ", ".join(f"{k} {recorded[k]} (here {identity[k]})" for k in differs)
            raise InputError(f"--outbox {path}: written for another deployment or chain: {shown}; nothing was "
                             "changed: pass this deployment's --outbox")
    return tables


class Outbox:
    """The entries of one outbox file; see the module docstring for the crash rule they implement.

    ``identity`` (:func:`outbox_identity`) is checked against the one the file records, and recorded in a file
    that has none. ``read_only`` (a status) changes nothing: an absent file stays absent and reads as empty."""

    def __init__(self, path: Path, identity: dict[str, str] | None = None, read_only: bool = False) -> None:
        self.path = path
        tables = _check_outbox(path, identity)
        if read_only and "entries" not in tables:  # nothing recorded yet (or only the first format's pending rows)
            self.db = sqlite3.connect(":memory:")
            self.db.execute(_ENTRIES_TABLE)
            return
        if read_only:
            self.db = sqlite3.connect(read_only_uri(path), uri=True)
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None, timeout=30)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("CREATE TABLE IF NOT EXISTS identity (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        if identity is not None:
            self.db.executemany("INSERT OR IGNORE INTO identity(key, value) VALUES (?, ?)", identity.items())
        self.db.execute(_ENTRIES_TABLE)
        self.db.execute(_ATTESTATIONS_TABLE)
        self._adopt_first_format()

    def _adopt_first_format(self) -> None:
        """An outbox written before amendments had entries keeps its (submit-only) rows, pending ones included."""
        tables = {r[0] for r in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "outbox" not in tables:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                f"INSERT OR IGNORE INTO entries ({_COLUMNS}, updated) SELECT oracle, ?, period, report, signatures, "
                "raw_tx, tx_hash, status, updated FROM outbox", (ReportKind.SUBMITTED.value,)
            )
            self.db.execute("DROP TABLE outbox")
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def get(self, oracle: str, kind: ReportKind, period: int) -> OutboxEntry | None:
        row = self.db.execute(
            f"SELECT {_COLUMNS} FROM entries WHERE oracle = ? AND kind = ? AND period = ?",
            (oracle.lower(), kind.value, period),
        ).fetchone()
        return None if row is None else _entry(row)

    def record_signed(self, oracle: str, kind: ReportKind, report: Report, signatures: Sequence[bytes]) -> None:
        """Step one: the signatures, before anything is sent (replaces an older entry of the same period)."""
        self.db.execute(
            f"INSERT OR REPLACE INTO entries ({_COLUMNS}, updated) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
            (oracle.lower(), kind.value, report.period, json.dumps(report.to_json()),
             json.dumps([s.hex() for s in signatures]), OutboxStatus.SIGNED.value, int(time.time())),
        )

    def record_sending(self, oracle: str, kind: ReportKind, period: int, raw_tx: bytes, tx_hash: str) -> None:
        """Step two: the signed raw transaction and its hash, before it is broadcast."""
        self.db.execute(
            "UPDATE entries SET raw_tx = ?, tx_hash = ?, status = ?, updated = ? "
            "WHERE oracle = ? AND kind = ? AND period = ?",
            (raw_tx.hex(), tx_hash, OutboxStatus.SENDING.value, int(time.time()), oracle.lower(), kind.value,
             period),
        )

    def record_done(self, oracle: str, kind: ReportKind, period: int, tx_hash: str | None) -> None:
        """The chain holds the report (``tx_hash`` when this run saw the transaction mined)."""
        self.db.execute(
            "UPDATE entries SET status = ?, tx_hash = COALESCE(?, tx_hash), updated = ? "
            "WHERE oracle = ? AND kind = ? AND period = ?",
            (OutboxStatus.DONE.value, tx_hash, int(time.time()), oracle.lower(), kind.value, period),
        )

    def pending(self, oracle: str) -> list[OutboxEntry]:
        """Entries not yet done, by period, first reports before amendments."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM entries WHERE oracle = ? AND status != ? ORDER BY period, kind DESC",
            (oracle.lower(), OutboxStatus.DONE.value),
        )
        return [_entry(row) for row in rows]

    # -- attestations ------------------------------------------------------------------------------------------

    def attestation(self, register: str, sequence: int) -> AttestationEntry | None:
        if not self._has_attestations():
            return None
        row = self.db.execute(
            "SELECT register, sequence, kind, item, signatures, raw_tx, tx_hash, status FROM attestations "
            "WHERE register = ? AND sequence = ?", (register.lower(), sequence)).fetchone()
        if row is None:
            return None
        reg, seq, kind, item, signatures, raw_tx, tx_hash, status = row
        return AttestationEntry(reg, int(seq), str(kind), json.loads(item),
                                tuple(bytes.fromhex(s) for s in json.loads(signatures)),
                                bytes.fromhex(raw_tx) if raw_tx else None, tx_hash, OutboxStatus(status))

    def record_attestation_signed(self, register: str, sequence: int, kind: str, item: dict[str, object],
                                  signatures: Sequence[bytes]) -> None:
        """Step one for an attestation: the signed item, before anything is sent (replaces an unsent entry)."""
        self.db.execute(
            "INSERT OR REPLACE INTO attestations (register, sequence, kind, item, signatures, raw_tx, tx_hash, status, "
            "updated) VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?)",
            (register.lower(), sequence, kind, json.dumps(item, sort_keys=True),
             json.dumps([s.hex() for s in signatures]), OutboxStatus.SIGNED.value, int(time.time())),
        )

    def record_attestation_sending(self, register: str, sequence: int, raw_tx: bytes, tx_hash: str) -> None:
        """Step two: the signed raw transaction and its hash, before it is broadcast."""
        self.db.execute(
            "UPDATE attestations SET raw_tx = ?, tx_hash = ?, status = ?, updated = ? WHERE register = ? AND "
            "sequence = ?", (raw_tx.hex(), tx_hash, OutboxStatus.SENDING.value, int(time.time()), register.lower(),
                             sequence))

    def record_attestation_done(self, register: str, sequence: int, tx_hash: str | None) -> None:
        self.db.execute(
            "UPDATE attestations SET status = ?, tx_hash = COALESCE(?, tx_hash), updated = ? WHERE register = ? AND "
            "sequence = ?", (OutboxStatus.DONE.value, tx_hash, int(time.time()), register.lower(), sequence))

    def pending_attestations(self, register: str) -> list[AttestationEntry]:
        if not self._has_attestations():
            return []
        rows = self.db.execute("SELECT sequence FROM attestations WHERE register = ? AND status != ? ORDER BY "
                               "sequence", (register.lower(), OutboxStatus.DONE.value)).fetchall()
        return [e for e in (self.attestation(register, int(r[0])) for r in rows) if e is not None]

    def _has_attestations(self) -> bool:
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'attestations'"
                               ).fetchone() is not None

    def close(self) -> None:
        self.db.close()


@dataclass(frozen=True)
class AttestationEntry:
    """One attestation transaction: the signed item (its JSON), its signatures and, once built, the raw
    transaction and its hash."""

    register: str
    sequence: int
    kind: str
    item: dict[str, object]
    signatures: tuple[bytes, ...]
    raw_tx: bytes | None
    tx_hash: str | None
    status: OutboxStatus


def _entry(row: tuple[str, str, int, str, str, str | None, str | None, str]) -> OutboxEntry:
    oracle, kind, _period, report, signatures, raw_tx, tx_hash, status = row
    return OutboxEntry(
        oracle=oracle,
        kind=ReportKind(kind),
        report=Report.from_json(json.loads(report)),
        signatures=tuple(bytes.fromhex(s) for s in json.loads(signatures)),
        raw_tx=bytes.fromhex(raw_tx) if raw_tx else None,
        tx_hash=tx_hash,
        status=OutboxStatus(status),
    )
