"""The embedded chain's state file: a SQLite file holding py-evm's key-value pairs as an append-only log.

Every write is flushed to the file when a request that changed the chain returns, so separate processes share one
local chain and a crash loses at most the request in flight. Only one process holds the file at a time (an exclusive
lock). A new file's genesis carries a random salt (:data:`GENESIS_SALT_BYTES`), so every embedded chain has block
hashes of its own.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
import time
from pathlib import Path
from typing import Any

from rwa.errors import StateFileError
from rwa.paths import SQLITE_HEADER, read_only_uri, state_dir
from rwa.settings import env_number

STATE_FORMAT = "rwa-embedded-chain/2"
"""The key-value pairs as an append-only log (``kv_log``): a block's writes append a few pages."""
_STATE_FORMAT_V1 = "rwa-embedded-chain/1"
"""The pairs in a table keyed by the key (``kv``): each block rewrote pages all over its B-tree. Migrated on open."""
COMPACT_AFTER = 100_000
"""A log holding this many rows more than twice its live keys is rewritten when it is opened."""
GENESIS_SALT_BYTES = 32
"""A new state file's genesis carries this many random bytes (its header's ``extra_data``, stored in the file's
``salt`` meta row): every embedded chain then has a genesis, and block hashes, of its own, though its chain id, keys
and contract addresses are those of every other embedded chain. A file without the row is older, and its genesis
the fixed one every such file shares."""



def default_state_path() -> Path:
    return Path(os.environ.get("RWA_STATE") or state_dir() / "chain.sqlite")


class TrackingDict(dict[bytes, bytes]):
    """py-evm's in-memory key-value store, remembering which keys changed since the last flush."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.dirty: set[bytes] = set()

    def __setitem__(self, key: bytes, value: bytes) -> None:
        super().__setitem__(key, value)
        self.dirty.add(key)

    def __delitem__(self, key: bytes) -> None:
        super().__delitem__(key)
        self.dirty.add(key)


class ChainStateLog:
    """A SQLite file holding the embedded chain: a ``meta`` table and the py-evm key-value pairs.

    The pairs are a log (``kv_log``: sequence, key, value; a deleted key is a row without a value): the whole
    chain is read into memory when the file is opened, so the file is only ever read whole, in order, and each
    block's writes are appended at the end of one table instead of updating pages all over a keyed index (py-evm's
    keys are hashes: an index by key rewrote about 30 scattered pages a block, four times the cost of appending)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock_fd: int | None = None
        self._db: sqlite3.Connection | None = None
        self._meta_written: dict[str, str] = {}
        """the meta rows as the file holds them (read at open, then as written)"""

    def open(self) -> tuple[dict[str, str], dict[bytes, bytes]]:
        """Lock and read the file; an absent file gives empty meta (a new chain).

        A file that is not an embedded-chain state file is refused before anything in it changes: its tables are
        checked before the journal mode is switched to WAL (which rewrites the file's header)."""
        if self.path.is_dir():
            raise StateFileError(f"--state {self.path}: is a folder; give the embedded chain's state file")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StateFileError(f"--state {self.path}: cannot create its folder ({exc.strerror or exc})") from None
        if self.path.exists() and self.path.stat().st_size > 0:
            check_state_file(self.path)  # read-only, before the lock file is made beside it
        try:
            return self._open_locked()
        except BaseException:
            self.close()
            raise

    def lock(self, timeout: float | None = None) -> None:
        """Take the file's exclusive lock, waiting up to ``timeout`` seconds (default ``RWA_STATE_LOCK_TIMEOUT``)."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        try:
            self._lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
        except OSError as exc:
            raise StateFileError(f"--state {self.path}: cannot create its lock {lock_path} ({exc.strerror or exc})"
                                 ) from None
        wait = env_number("RWA_STATE_LOCK_TIMEOUT", float, 60.0) if timeout is None else timeout
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StateFileError(f"{self.path} is in use by another process (lock {lock_path})") from None
                time.sleep(0.05)

    def _open_locked(self) -> tuple[dict[str, str], dict[bytes, bytes]]:
        self.lock()
        existed = self.path.exists() and self.path.stat().st_size > 0
        try:
            # one process holds the file (the lock above); its threads (e.g. a scheduler's) may share the connection
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # a commit reaches the WAL file before it returns, so a crash of this process loses nothing; NORMAL
            # leaves the fsync to the checkpoint, so an operating-system crash may lose the last blocks of a
            # development chain, never corrupt it (SQLite's WAL guarantee); FULL would fsync every block
            self._db.execute("PRAGMA synchronous=NORMAL")
            # the file is only read whole when opened: a larger WAL between checkpoints costs nothing to read,
            # and each checkpoint (which syncs) moves ten times the blocks
            self._db.execute("PRAGMA wal_autocheckpoint=10000")
            if not existed:
                self._db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self._db.execute(_KV_LOG_TABLE)
                return {}, {}
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
            if meta.get("format") == _STATE_FORMAT_V1:
                meta = self._migrate_v1()
            kv: dict[bytes, bytes] = {}
            rows = 0
            for k, v in self._db.execute("SELECT k, v FROM kv_log ORDER BY seq"):
                rows += 1
                if v is None:
                    kv.pop(bytes(k), None)
                else:
                    kv[bytes(k)] = bytes(v)
            if rows > 2 * len(kv) + COMPACT_AFTER:
                self._compact(kv)
            self._meta_written = dict(meta)
            return meta, kv
        except sqlite3.DatabaseError as exc:
            raise StateFileError(
                f"{self.path} is corrupt or not a SQLite file ({exc}); "
                "nothing was changed: restore it or run `rwa chain reset --yes`"
            ) from None

    def _migrate_v1(self) -> dict[str, str]:
        """Turn a format-1 file's keyed table into the log, in one transaction; the new meta."""
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute(_KV_LOG_TABLE)
            db.execute("INSERT INTO kv_log(k, v) SELECT k, v FROM kv")
            db.execute("DROP TABLE kv")
            db.execute("UPDATE meta SET value = ? WHERE key = 'format'", (STATE_FORMAT,))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        return dict(db.execute("SELECT key, value FROM meta").fetchall())

    def _compact(self, kv: dict[bytes, bytes]) -> None:
        """Rewrite the log as its live pairs, in one transaction."""
        assert self._db is not None
        db = self._db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("DELETE FROM kv_log")
            db.executemany("INSERT INTO kv_log(k, v) VALUES (?, ?)", kv.items())
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def write(self, meta: dict[str, str], store: dict[bytes, bytes], keys: set[bytes]) -> None:
        """Append the values of ``keys`` (a key no longer in ``store`` as deleted) and the meta, in one
        transaction."""
        assert self._db is not None
        db = self._db
        changed = [(k, v) for k, v in meta.items() if self._meta_written.get(k) != v]
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", changed)
            db.executemany("INSERT INTO kv_log(k, v) VALUES (?, ?)", [(k, store.get(k)) for k in keys])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        self._meta_written.update(changed)

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None


_KV_LOG_TABLE = "CREATE TABLE kv_log (seq INTEGER PRIMARY KEY, k BLOB NOT NULL, v BLOB)"


def check_state_file(path: Path) -> None:
    """Refuse ``path`` unless it is an embedded-chain state file: a SQLite file with the ``meta`` and ``kv`` tables
    and this format. Reads only (a read-only connection): the file is never changed, whatever it is."""
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StateFileError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if header != SQLITE_HEADER:
        raise StateFileError(f"{path} is not an embedded-chain state file (not a SQLite file); pass another --state")
    try:
        db = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            meta = dict(db.execute("SELECT key, value FROM meta").fetchall()) if "meta" in tables else {}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise StateFileError(
            f"{path} is corrupt or not a SQLite file ({exc}); nothing was changed: restore it or pass another --state"
        ) from None
    kv_table = "kv" if meta.get("format") == _STATE_FORMAT_V1 else "kv_log"
    if not {"meta", kv_table} <= tables:
        raise StateFileError(
            f"{path} is not an embedded-chain state file (no meta/kv tables); nothing was changed: pass another --state"
        )
    if meta.get("format") not in (STATE_FORMAT, _STATE_FORMAT_V1):
        raise StateFileError(
            f"{path} has format {meta.get('format')!r}, expected {STATE_FORMAT!r}; "
            "use `rwa chain reset --yes` to start a new chain"
        )


def recorded_salt(meta: dict[str, str], state_path: Path) -> bytes | None:
    """The salt a state file's genesis carries; None for a file made before salts."""
    recorded = meta.get("salt")
    if recorded is None:
        return None
    try:
        salt = bytes.fromhex(recorded)
    except ValueError:
        salt = b""
    if len(salt) != GENESIS_SALT_BYTES:
        raise StateFileError(f"{state_path}: its genesis salt {recorded!r} is not {GENESIS_SALT_BYTES} hex bytes; "
                             "the file was edited: restore it or `rwa chain reset --yes`")
    return salt




def reset_state(path: Path) -> bool:
    """Delete the embedded chain's state file (and its lock and WAL); True when there was one.

    Refuses a folder and any file that is not an embedded-chain state file (another app's database, a manifest, a
    typo), leaving it as it was."""
    if path.is_dir():
        raise StateFileError(f"--state {path}: is a folder, not an embedded-chain state file; nothing was deleted")
    existed = path.exists()
    if existed and path.stat().st_size > 0:
        check_state_file(path)
    lock = ChainStateLog(path)
    try:
        if existed:
            lock.lock(timeout=0.0)  # a chain another process has open is not deleted from under it
        for suffix in ("", "-wal", "-shm", ".lock"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(path) + suffix).unlink()
    finally:
        lock.close()
    return existed
