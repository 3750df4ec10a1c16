"""The replay's outputs are one set: a reader (or a re-run) finds the previous set or the new one, never a mix.

A new set is written whole into a sibling folder ``.<out>.new`` (each file flushed to disk), marked complete, and
swapped in with two renames: ``out`` to ``.<out>.old``, then ``.<out>.new`` to ``out``. A crash between the two leaves
no ``out`` but a complete new set and the old one beside it; :func:`recover`, run first by every replay, finishes the
swap (or, for a new set that was never marked complete, drops it). ``out`` is the replay's own folder: a folder
holding anything else is refused, so a replay never replaces a user's files.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from rwa.errors import InputError
from rwa.paths import check_parent_folders

OUTPUT_FILES = (
    "summary.json",
    "findings.json",
    "findings.csv",
    "disclosures.json",
    "disclosures.csv",
    "governance.csv",
    "periods.csv",
    "holders.csv",
    "tapes.csv",
    "fleet.csv",
    "report.html",
)
COMPLETE = ".complete"


def _siblings(out: Path) -> tuple[Path, Path]:
    return out.with_name(f".{out.name}.new"), out.with_name(f".{out.name}.old")


def check_out(out: Path) -> None:
    """Refuse an ``--out`` that is not a folder of the replay's own (before anything is read or written)."""
    check_parent_folders(out, "--out")
    if out.exists() and not out.is_dir():
        raise InputError(f"--out {out}: is a file; give a folder for the replay's outputs")
    if out.is_dir():
        foreign = sorted(p.name for p in out.iterdir() if p.name not in OUTPUT_FILES and p.name != COMPLETE)
        if foreign:
            shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
            raise InputError(
                f"--out {out}: holds files the replay did not write ({shown}); give it a folder of its own"
            )


def recover(out: Path) -> None:
    """Finish or undo a swap a crash interrupted, so that ``out`` holds one whole set (or nothing yet)."""
    new, old = _siblings(out)
    if not out.exists():
        if (new / COMPLETE).is_file():
            os.replace(new, out)
        elif old.is_dir():
            os.replace(old, out)
    for leftover in (new, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    (out / COMPLETE).unlink(missing_ok=True)


def publish(out: Path, files: Mapping[str, bytes]) -> None:
    """Replace the set in ``out`` by ``files`` (names from :data:`OUTPUT_FILES`) as one step."""
    unknown = set(files) - set(OUTPUT_FILES)
    assert not unknown, unknown
    recover(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    new, old = _siblings(out)
    new.mkdir()
    for name in OUTPUT_FILES:
        if name in files:
            _write(new / name, files[name])
    _write(new / COMPLETE, b"")
    _sync_dir(new)
    if out.exists():
        os.replace(out, old)
    os.replace(new, out)
    _sync_dir(out.parent)
    (out / COMPLETE).unlink()
    if old.exists():
        shutil.rmtree(old)


def _write(path: Path, data: bytes) -> None:
    with path.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
