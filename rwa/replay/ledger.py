"""The auditor's local ledger: every event of a deployment in SQLite, with a cursor of the last block read.

Each bounded block range is written in one SQLite transaction together with the cursor, and every log is keyed by
(block, log index): a crash in the middle loses nothing (the range is read again) and counts nothing twice.

The ledger is bound to the chain's actual history, not to a file: it keeps the hash of every block it read an event
from and of every block its cursor stopped at. A run first checks that the cursor's block is still canonical; after
a reorg it rolls back to the last block whose hash the chain still has (:meth:`Ledger.rollback_to`) and reads on
from there; when not even its anchor (the first block of the deployment) matches, the ledger is another chain's.

It is a cache, not evidence: anyone with the disk may edit it, so every run compares its rows with the chain before
anything is rebuilt from them (:func:`rwa.replay.ingest.first_difference`) and reads again what differs.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rwa.errors import InputError
from rwa.paths import check_parent_folders, read_only_uri

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cursor (id INTEGER PRIMARY KEY CHECK (id = 1), last_block INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    block INTEGER NOT NULL,
    log_index INTEGER NOT NULL,
    tx_hash TEXT NOT NULL,
    tx_index INTEGER NOT NULL,
    timestamp INTEGER,
    contract TEXT NOT NULL,
    address TEXT NOT NULL,
    event TEXT NOT NULL,
    args TEXT NOT NULL,
    sender TEXT,
    PRIMARY KEY (block, log_index)
);
CREATE INDEX IF NOT EXISTS events_by_name ON events (contract, event);
CREATE TABLE IF NOT EXISTS blocks (number INTEGER PRIMARY KEY, hash TEXT NOT NULL);
"""


LEDGER_SCHEMA = "5"
"""Part of every ledger's identity: a ledger written by another layout of this file, or of the events it keeps (4:
the oracle's reports carry their source revenue and rate; 5: the fleet register's events, the reports' tape hash and
the block times of deliveries, releases and the long-stop), is set aside, never misread."""


class LedgerIdentityError(InputError):
    """The ledger was made for another deployment, or another history of this chain."""


@dataclass(frozen=True)
class Event:
    """One decoded log, in chain order."""

    block: int
    log_index: int
    tx_hash: str
    contract: str
    address: str
    event: str
    args: dict[str, Any]
    timestamp: int | None = None
    sender: str | None = None
    """The account that sent the event's transaction, for the events a disclosure names it by (else ``None``)."""


LEDGER_TABLES = frozenset({"meta", "cursor", "events", "blocks"})


def check_ledger_file(path: Path) -> None:
    """Refuse, before it is opened for writing, a ``--db`` that is not a ledger: under a file, a folder, a file that is
    not SQLite, or another program's SQLite file (a chain state file among them), which is left as it was."""
    check_parent_folders(path, "--db")
    if path.is_dir():
        raise InputError(f"--db {path}: is a folder; give the ledger's file")
    journal = path.with_name(f"{path.name}-wal")
    if journal.is_file() and journal.stat().st_size:  # the ledger never writes ahead: another program does
        raise InputError(f"--db {path}: another program's SQLite file (it has a write-ahead log), left as it was; "
                         "give a new file or one the replay wrote")
    if not path.is_file() or path.stat().st_size == 0:
        return
    try:  # immutable: a read that leaves no lock or journal file beside another program's database
        with closing(sqlite3.connect(read_only_uri(path), uri=True)) as db:
            tables = {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            keys = {str(row[0]) for row in db.execute("SELECT key FROM meta")} if "meta" in tables else set()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"--db {path}: not a ledger ({exc}); give a new file or one the replay wrote") from None
    if tables - LEDGER_TABLES or (keys and "schema" not in keys):
        shown = ", ".join(sorted(tables - LEDGER_TABLES) or sorted(tables))
        raise InputError(f"--db {path}: another program's SQLite file (tables {shown}), left as it was; give a new "
                         "file or one the replay wrote")


def row_of(event: Event) -> tuple[Any, ...]:
    """An event as the ledger's ``events`` table holds it: what is written, and what a fresh read of the chain is
    compared with."""
    e = event
    return (e.block, e.log_index, e.tx_hash, 0, e.timestamp, e.contract, e.address, e.event,
            json.dumps(e.args, sort_keys=True), e.sender)


class Ledger:
    """A SQLite file of decoded events for one deployment."""

    def __init__(self, path: Path) -> None:
        check_ledger_file(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise InputError(f"--db {path}: not a usable ledger ({exc})") from None
        self.path = path

    def bind(self, identity: dict[str, str]) -> None:
        """Tie the ledger to one deployment; a ledger made for another one is refused, not mixed."""
        identity = {**identity, "schema": LEDGER_SCHEMA}
        stored = dict(self.db.execute("SELECT key, value FROM meta").fetchall())
        if stored and stored != identity:
            diff = sorted(k for k in identity.keys() | stored.keys() if identity.get(k) != stored.get(k))
            raise LedgerIdentityError(
                f"--db {self.path} belongs to another deployment or history (differs in {', '.join(diff)})"
            )
        if not stored:
            # One transaction: a replay killed while binding leaves no identity or all of it, never a part that
            # the next run would take for another deployment's.
            self.db.execute("BEGIN IMMEDIATE")
            try:
                self.db.executemany("INSERT INTO meta(key, value) VALUES (?, ?)", identity.items())
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")

    def last_block(self) -> int | None:
        row = self.db.execute("SELECT last_block FROM cursor WHERE id = 1").fetchone()
        return None if row is None else int(row[0])

    def append(self, events: list[Event], through_block: int, hashes: dict[int, str] | None = None) -> None:
        """Store one range's events, the hashes of the blocks read (``hashes``: the cursor's block and every block
        an event is in), and move the cursor to ``through_block``, atomically."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT OR REPLACE INTO blocks(number, hash) VALUES (?, ?)",
                                sorted((hashes or {}).items()))
            self.db.executemany("INSERT OR IGNORE INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                [row_of(e) for e in events])
            self.db.execute(
                "INSERT INTO cursor(id, last_block) VALUES (1, ?) ON CONFLICT(id) DO UPDATE SET last_block = ?",
                (through_block, through_block),
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def events(self, contract: str | None = None, event: str | None = None) -> Iterator[Event]:
        sql = "SELECT block, log_index, tx_hash, contract, address, event, args, timestamp, sender FROM events"
        where, params = [], []
        if contract:
            where.append("contract = ?")
            params.append(contract)
        if event:
            where.append("event = ?")
            params.append(event)
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY block, log_index"
        for block, log_index, tx_hash, c, address, name, args, ts, sender in self.db.execute(sql, params):
            yield Event(block, log_index, tx_hash, c, address, name, json.loads(args), ts, sender)

    def rows_between(self, frm: int, to: int) -> list[tuple[Any, ...]]:
        """The stored rows of blocks ``frm``..``to`` as :func:`row_of` gives them, in chain order."""
        return [tuple(row) for row in self.db.execute(
            "SELECT * FROM events WHERE block BETWEEN ? AND ? ORDER BY block, log_index", (frm, to))]

    def event_span(self) -> tuple[int | None, int | None]:
        """The lowest and highest block of a stored event (``None`` for an empty ledger)."""
        low, high = self.db.execute("SELECT MIN(block), MAX(block) FROM events").fetchone()
        return low, high

    def hashes_of(self, numbers: list[int]) -> dict[int, str]:
        """The stored hashes of the blocks ``numbers`` (those the ledger has)."""
        marks = ",".join("?" * len(numbers))
        return {int(n): str(h) for n, h in self.db.execute(
            f"SELECT number, hash FROM blocks WHERE number IN ({marks})", numbers)}

    def block_hashes(self, above: int | None = None) -> list[tuple[int, str]]:
        """The stored block hashes, newest first (only those above ``above`` when given)."""
        sql = "SELECT number, hash FROM blocks"
        params: tuple[int, ...] = ()
        if above is not None:
            sql += " WHERE number > ?"
            params = (above,)
        return [(int(n), str(h)) for n, h in self.db.execute(sql + " ORDER BY number DESC", params)]

    def rollback_to(self, block: int | None) -> int:
        """Forget everything read after ``block`` (``None``: everything); returns the events dropped."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            floor = -1 if block is None else block
            dropped = int(self.db.execute("SELECT COUNT(*) FROM events WHERE block > ?", (floor,)).fetchone()[0])
            self.db.execute("DELETE FROM events WHERE block > ?", (floor,))
            self.db.execute("DELETE FROM blocks WHERE number > ?", (floor,))
            if block is None:
                self.db.execute("DELETE FROM cursor")
            else:
                self.db.execute("UPDATE cursor SET last_block = ? WHERE id = 1", (block,))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return dropped

    def digest(self) -> str:
        """A hash of the ledger's whole content (events, block hashes, cursor): what a re-used verdict must match."""
        h = hashlib.sha256()
        for row in self.db.execute("SELECT block, log_index, tx_hash, contract, event, args, sender FROM events "
                                   "ORDER BY block, log_index"):
            h.update(repr(row).encode())
        for row in self.db.execute("SELECT number, hash FROM blocks ORDER BY number"):
            h.update(repr(row).encode())
        h.update(repr(self.last_block()).encode())
        return h.hexdigest()

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def close(self) -> None:
        self.db.close()
