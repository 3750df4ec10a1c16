"""The replay's own files as bad input: outputs it left damaged are replaced by a verdict, a path it can never create
and a file that is not its ledger (another program's SQLite file, a chain state file, another chain's ledger) are
refused with exit 2 and left as they were."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.onchain.deployed import DeployedDeal
from tests.support.lifecycle import replay, run_lifecycle


@pytest.mark.parametrize("garbage", [b"\x00\xffnot json", b"[]", b'{"fingerprint": 1}', b'[{"kind": "x"}]'])
def test_damaged_outputs_of_an_earlier_run_are_replaced_by_a_verdict(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path, garbage: bytes
) -> None:
    first = replay(chain, history[1], tmp_path)
    assert first.exit_code == 0
    out = tmp_path / "audit"
    for name in ("summary.json", "findings.json", "disclosures.json", "holders.csv"):
        (out / name).write_bytes(garbage)
    again = replay(chain, history[1], tmp_path)
    assert again.exit_code == 0 and not again.reused
    assert json.loads((out / "summary.json").read_text())["verdict"] == "reconciled"
    assert json.loads((out / "findings.json").read_text()) == []
    assert (out / "holders.csv").read_text().startswith("tranche,")


@pytest.mark.parametrize("option", ["db", "out"])
def test_a_db_or_out_under_a_file_is_bad_input(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path, option: str
) -> None:
    from rwa.replay.run import run_replay

    blocker = tmp_path / "a-file"
    blocker.write_text("mine")
    under = blocker / "sub" / ("ledger.sqlite" if option == "db" else "audit")
    paths = {"db": tmp_path / "ledger.sqlite", "out": tmp_path / "audit"} | {option: under}
    head = chain.w3.eth.block_number
    with pytest.raises(InputError, match=f"^--{option} .*a-file is a file, not a folder") as refused:
        run_replay(chain, history[1], paths["out"], db=paths["db"])
    assert refused.value.exit_code == 2
    assert blocker.read_text() == "mine" and sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]
    assert chain.w3.eth.block_number == head


def _sqlite_of_another_program(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        db.execute("INSERT INTO meta VALUES ('owner', 'someone else')")
        db.execute("CREATE TABLE notes (body TEXT)")
    sqlite3.connect(path).close()


def _chain_state_file(path: Path) -> None:
    connect(state=path).close()


def _not_sqlite(path: Path) -> None:
    path.write_bytes(b"just some bytes, not a database" * 100)


@pytest.mark.parametrize("make", [_sqlite_of_another_program, _chain_state_file, _not_sqlite])
def test_a_db_that_is_not_a_ledger_is_refused_and_left_as_it_was(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path, make: Callable[[Path], None]
) -> None:
    other = tmp_path / "other.sqlite"
    make(other)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(InputError, match=r"^--db .*other\.sqlite: ") as refused:
        _replay_into(chain, history[1], tmp_path, other)
    assert refused.value.exit_code == 2
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def _replay_into(chain: Chain, manifest: Path, folder: Path, db: Path) -> None:
    from rwa.replay.run import run_replay

    run_replay(chain, manifest, folder / "audit", db=db)


def test_a_ledger_written_on_another_fresh_chain_is_refused(tmp_path: Path) -> None:
    """Two fresh embedded chains, the same deal issued on each by the same keys: the ledger of one is not the
    other's, though the addresses, chain id and block numbers are the same."""
    ledgers: list[bytes] = []
    with connect(state=tmp_path / "a" / "chain.sqlite") as first:
        _, manifest_a = run_lifecycle(first, tmp_path / "a", periods=1)
        assert replay(first, manifest_a, tmp_path / "a").exit_code == 0
    ledger = tmp_path / "a" / "ledger.sqlite"
    ledgers.append(ledger.read_bytes())
    with connect(state=tmp_path / "b" / "chain.sqlite") as second:
        _, manifest_b = run_lifecycle(second, tmp_path / "b", periods=1)
        assert load_pool(manifest_a) == load_pool(manifest_b)
        with pytest.raises(InputError, match=re.escape(str(ledger))) as refused:
            _replay_into(second, manifest_b, tmp_path / "b", ledger)
    assert refused.value.exit_code == 2
    assert ledger.read_bytes() == ledgers[0]


def load_pool(manifest: Path) -> str:
    return str(json.loads(manifest.read_text())["contracts"]["pool"])
