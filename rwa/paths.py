"""Where the project's files live: the root (contracts/, node_modules/, build/) and the local state folder."""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

from rwa.errors import InputError

_PACKAGE_DIR = Path(__file__).resolve().parent


def project_root() -> Path:
    """The folder holding ``contracts/`` and ``package.json``.

    ``RWA_ROOT`` wins; otherwise the nearest such folder at or above the working directory; otherwise the checkout
    this package was installed from (an editable install).
    """
    env = os.environ.get("RWA_ROOT")
    if env:
        return Path(env).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "contracts").is_dir() and (candidate / "package.json").is_file():
            return candidate
    return _PACKAGE_DIR.parent


def contracts_dir() -> Path:
    return project_root() / "contracts"


def build_dir() -> Path:
    return Path(os.environ.get("RWA_BUILD_DIR") or project_root() / "build")


def node_modules() -> Path:
    return Path(os.environ.get("RWA_NODE_MODULES") or project_root() / "node_modules")


def example_deal(name: str = "deal-h800.toml") -> Path:
    """One of the example deals the package ships (in a checkout, ``rwa/examples`` is a link to ``examples/``)."""
    return _PACKAGE_DIR / "examples" / name


def state_dir() -> Path:
    """Local records of this checkout: the embedded chain, deployment manifests, ledgers."""
    return Path(os.environ.get("RWA_HOME") or Path.cwd() / ".rwa")


# -- checks before a command writes a local file: run before its first transaction -------------------------------


def writable_file(path: Path, option: str) -> Path:
    """``path`` when a file can be written there: refuses a folder and a path under a file (``--out a/b`` where
    ``a`` is a file), with the option named, before anything is done."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give a file name")
    check_parent_folders(path, option)
    return path


def writable_folder(path: Path, option: str) -> Path:
    """``path`` when files can be written in it (it is a folder, or can be made one): refuses a file and a path
    under a file."""
    if path.exists() and not path.is_dir():
        raise InputError(f"{option} {path}: is a file; give a folder")
    check_parent_folders(path, option)
    return path


def check_parent_folders(path: Path, option: str) -> None:
    """Refuse a path that sits under a file: it can never be created, and saying so is bad input, not a failure."""
    for parent in path.absolute().parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"{option} {path}: {parent} is a file, not a folder; give a path under a folder")
            return


SQLITE_HEADER = b"SQLite format 3\x00"


def read_only_uri(path: Path) -> str:
    """A SQLite URI that reads ``path`` and writes nothing, not even beside it: a read-only connection to a file in
    WAL mode makes its ``-wal``/``-shm`` files when they are absent, so without them (no writer has it open) the
    file is opened as immutable; with them, as an ordinary reader."""
    live = Path(f"{path}-wal").exists() or Path(f"{path}-shm").exists()
    return f"{path.resolve().as_uri()}?mode=ro" + ("" if live else "&immutable=1")


def sqlite_tables(path: Path, option: str) -> set[str] | None:
    """The tables of the SQLite file at ``path``, read without changing it (a read-only connection); None when
    there is no file yet (absent or empty). A folder, an unreadable file or one that is not SQLite is refused:
    a command checks a file is its own before it writes to it."""
    if path.is_dir():
        raise InputError(f"{option} {path}: is a folder; give a file")
    if not path.exists() or path.stat().st_size == 0:
        return None
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise InputError(f"{option} {path}: cannot read it ({exc.strerror or exc})") from None
    if header != SQLITE_HEADER:
        raise InputError(f"{option} {path}: not a SQLite file; nothing was changed")
    try:
        db = sqlite3.connect(read_only_uri(path), uri=True)
        try:
            return {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        finally:
            db.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"{option} {path}: corrupt or not a SQLite file ({exc}); nothing was changed") from None


def write_json_atomic(path: Path, data: Any) -> Path:
    """Write ``data`` as indented JSON to ``path`` atomically (a temporary file in the same folder, synced, then
    renamed over it): a reader sees the old file or the new one, never half of one; the folder is made if missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
