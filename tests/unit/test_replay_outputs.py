"""The replay's outputs are published as one set: a crash at any step leaves the previous set or the new one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from rwa.errors import InputError
from rwa.replay import outputs
from rwa.replay.outputs import OUTPUT_FILES, check_out, publish, recover


def _set(tag: str) -> dict[str, bytes]:
    return {name: f"{tag}:{name}".encode() for name in OUTPUT_FILES}


def _read(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir()}


class Crash(Exception):
    pass


def _steps() -> int:
    """How many file writes and renames one publish makes (the points a crash can fall between)."""
    return len(OUTPUT_FILES) + 1 + 2


@pytest.mark.parametrize("step", range(_steps()))
def test_a_crash_at_any_step_leaves_the_old_set_or_the_new_one(tmp_path: Path, step: int,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "audit"
    publish(out, _set("old"))
    calls = {"n": 0}
    real_write, real_replace = outputs._write, os.replace

    def counted() -> None:
        calls["n"] += 1
        if calls["n"] == step + 1:
            raise Crash(step)

    def write(path: Path, data: bytes) -> None:
        counted()
        real_write(path, data)

    def replace(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
        counted()
        real_replace(src, dst)

    monkeypatch.setattr(outputs, "_write", write)
    monkeypatch.setattr(outputs.os, "replace", replace)
    with pytest.raises(Crash):
        publish(out, _set("new"))
    monkeypatch.undo()
    if out.exists():
        assert _read(out) in (_set("old"), {**_set("new"), ".complete": b""})
    recover(out)
    assert _read(out) in (_set("old"), _set("new"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["audit"]  # nothing left beside it
    publish(out, _set("third"))
    assert _read(out) == _set("third")


def test_a_folder_with_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "report.html").write_text("x")
    (tmp_path / "mine.txt").write_text("x")
    with pytest.raises(InputError, match=r"holds files the replay did not write \(mine.txt\)"):
        check_out(tmp_path)
    with pytest.raises(InputError, match="is a file"):
        check_out(tmp_path / "mine.txt")
