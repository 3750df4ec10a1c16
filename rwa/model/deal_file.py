"""Reading a deal file: its bytes hashed (what the issuer records on chain and the auditor checks) and parsed into a
:class:`~rwa.model.deal.Deal`, each once per process while the file is unchanged."""

from __future__ import annotations

import hashlib
import time
import tomllib
from decimal import Decimal
from pathlib import Path

from rwa.errors import DealConfigError
from rwa.model.deal import Deal, parse_deal


def deal_hash(path: Path) -> str:
    """sha256 hex digest of the deal file's bytes: what the issuer records on chain and the auditor checks."""
    return _file_digest(Path(path)).hex()


def _file_digest(path: Path) -> bytes:
    """sha256 of ``path``'s bytes, hashed once per process while the file is unchanged: a deal of thousands of
    investors is megabytes, and every monthly step checks it. Unchanged means the same inode, size and change time
    (``st_ctime_ns``, which any write moves and no user can set back), so an edit is always hashed afresh. A file
    changed within the last second is not remembered: the change time ticks coarsely, and a second write in the
    same tick would otherwise look unchanged."""
    info = path.stat()
    key = (str(path.resolve()), info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
    digest = _DIGESTS.get(key)
    if digest is None:
        digest = hashlib.sha256(path.read_bytes()).digest()
        if time.time_ns() - info.st_ctime_ns > 1_000_000_000:
            if len(_DIGESTS) >= 64:
                _DIGESTS.clear()
            _DIGESTS[key] = digest
    return digest


_DIGESTS: dict[tuple[str, int, int, int, int], bytes] = {}


def load_deal(path: Path) -> Deal:
    """Read, parse and validate a deal file; any problem raises ``DealConfigError`` naming the field."""
    path = Path(path)
    try:
        digest = _file_digest(path)
        cached = _PARSED.get(digest)
        if cached is not None:
            return cached
        raw = path.read_bytes()
    except OSError as exc:
        raise DealConfigError(f"deal: cannot read {path}: {exc.strerror or exc}") from exc
    digest = hashlib.sha256(raw).digest()  # what was parsed, even if the file changed since it was hashed
    try:
        data = tomllib.loads(raw.decode("utf-8"), parse_float=Decimal)
    except UnicodeDecodeError as exc:
        raise DealConfigError(f"deal: {path} is not UTF-8 text") from exc
    except tomllib.TOMLDecodeError as exc:
        raise DealConfigError(f"deal: {path} is not valid TOML: {exc}") from exc
    deal = parse_deal(data)
    if len(_PARSED) >= 8:
        _PARSED.clear()
    _PARSED[digest] = deal
    return deal


_PARSED: dict[bytes, Deal] = {}
"""Deals parsed in this process, by the sha256 of their file's bytes: a deal of thousands of investors is parsed
once, not at every command step that reads it (a ``Deal`` is frozen, so sharing it is safe)."""
