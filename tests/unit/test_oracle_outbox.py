"""The outbox on its own: typed entries, one per (oracle, kind, period), and outboxes written before amendments."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from rwa.onchain.oracle import ReportKind
from rwa.oracle.outbox import Outbox, OutboxEntry, OutboxStatus
from tests.support.oracle import sample_report

ORACLE = "0x" + "Ab" * 20


def test_entries_walk_signed_sending_done_and_keep_their_types(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    report = sample_report(3)
    box.record_signed(ORACLE, ReportKind.SUBMITTED, report, [b"\x01" * 85, b"\x02" * 85])
    assert box.get(ORACLE, ReportKind.SUBMITTED, 3) == OutboxEntry(
        ORACLE.lower(), ReportKind.SUBMITTED, report, (b"\x01" * 85, b"\x02" * 85), None, None, OutboxStatus.SIGNED
    )
    box.record_sending(ORACLE, ReportKind.SUBMITTED, 3, b"raw", "0xabc")
    sending = box.get(ORACLE, ReportKind.SUBMITTED, 3)
    assert sending is not None and sending.status is OutboxStatus.SENDING and sending.raw_tx == b"raw"
    assert [e.period for e in box.pending(ORACLE)] == [3]
    box.record_done(ORACLE, ReportKind.SUBMITTED, 3, None)
    done = box.get(ORACLE, ReportKind.SUBMITTED, 3)
    assert done is not None and done.status is OutboxStatus.DONE and done.tx_hash == "0xabc"
    assert box.pending(ORACLE) == []
    box.close()


def test_an_amendment_has_its_own_entry_beside_the_first_report(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "outbox.sqlite")
    first, fixed = sample_report(1), sample_report(1, revenue=1_234)
    box.record_signed(ORACLE, ReportKind.SUBMITTED, first, [b"\x01" * 85])
    box.record_done(ORACLE, ReportKind.SUBMITTED, 1, "0x01")
    box.record_signed(ORACLE, ReportKind.AMENDED, fixed, [b"\x02" * 85])
    submitted, amended = box.get(ORACLE, ReportKind.SUBMITTED, 1), box.get(ORACLE, ReportKind.AMENDED, 1)
    assert submitted is not None and submitted.report == first and submitted.status is OutboxStatus.DONE
    assert amended is not None and amended.report == fixed and amended.status is OutboxStatus.SIGNED
    assert [(e.kind, e.period) for e in box.pending(ORACLE)] == [(ReportKind.AMENDED, 1)]
    box.close()


def test_an_outbox_of_the_first_format_keeps_its_pending_transaction(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    report = sample_report(2)
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE outbox (oracle TEXT, period INTEGER, report TEXT NOT NULL, signatures TEXT NOT NULL, "
        "raw_tx TEXT, tx_hash TEXT, status TEXT NOT NULL, updated INTEGER NOT NULL, PRIMARY KEY (oracle, period))"
    )
    db.execute("INSERT INTO outbox VALUES (?, 2, ?, ?, ?, '0xfeed', 'sending', 0)",
               (ORACLE.lower(), json.dumps(report.to_json()), json.dumps(["03" * 85]), "ff00"))
    db.commit()
    db.close()
    box = Outbox(path)
    [entry] = box.pending(ORACLE)
    assert entry.kind is ReportKind.SUBMITTED and entry.status is OutboxStatus.SENDING and entry.report == report
    assert entry.raw_tx == b"\xff\x00" and entry.tx_hash == "0xfeed" and entry.signatures == (b"\x03" * 85,)
    box.close()
    again = Outbox(path)  # opened again: adopted once, nothing lost
    assert [e.period for e in again.pending(ORACLE)] == [2]
    again.close()


REGISTER = "0x" + "Cd" * 20


def test_an_attestation_walks_signed_sending_done_by_its_sequence_and_its_tape_survives(tmp_path: Path) -> None:
    from rwa.onchain.register import Delivery

    box = Outbox(tmp_path / "outbox.sqlite")
    delivery = Delivery(0, 12, b"\x07" * 32, 1_700_000_000, "Hall 2", 4)
    box.record_attestation_signed(REGISTER, 4, "delivery", delivery.to_json(), [b"\x01" * 85])
    entry = box.attestation(REGISTER, 4)
    assert entry is not None and entry.status is OutboxStatus.SIGNED and entry.raw_tx is None
    assert Delivery.from_json(entry.item) == delivery and entry.signatures == (b"\x01" * 85,)
    box.record_attestation_sending(REGISTER, 4, b"raw", "0xbeef")
    assert [(e.sequence, e.status) for e in box.pending_attestations(REGISTER)] == [(4, OutboxStatus.SENDING)]
    box.record_attestation_done(REGISTER, 4, None)
    done = box.attestation(REGISTER, 4)
    assert done is not None and done.status is OutboxStatus.DONE and done.tx_hash == "0xbeef"
    assert box.pending_attestations(REGISTER) == [] and box.attestation(REGISTER, 5) is None
    late = sample_report(2, days_past_due=40)  # a report's tape goes through the outbox with it
    box.record_signed(ORACLE, ReportKind.SUBMITTED, late, [b"\x02" * 85])
    kept = box.get(ORACLE, ReportKind.SUBMITTED, 2)
    assert kept is not None and kept.report.tape == late.tape and kept.report.tape_hash == late.tape_hash
    box.close()


def test_an_outbox_written_before_attestations_is_read_and_then_gains_their_table(tmp_path: Path) -> None:
    path = tmp_path / "before.sqlite"
    db = sqlite3.connect(path)
    db.execute(
        "CREATE TABLE entries (oracle TEXT NOT NULL, kind TEXT NOT NULL, period INTEGER NOT NULL, report TEXT NOT "
        "NULL, signatures TEXT NOT NULL, raw_tx TEXT, tx_hash TEXT, status TEXT NOT NULL, updated INTEGER NOT NULL, "
        "PRIMARY KEY (oracle, kind, period))"
    )
    db.commit()
    db.close()
    reading = Outbox(path, read_only=True)
    assert reading.pending_attestations(REGISTER) == [] and reading.attestation(REGISTER, 0) is None
    reading.close()
    writing = Outbox(path)
    writing.record_attestation_signed(REGISTER, 0, "lease-update", {"lease": 1}, [])
    assert [e.sequence for e in writing.pending_attestations(REGISTER)] == [0]
    writing.close()
