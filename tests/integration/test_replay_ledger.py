"""The auditor's ledger is a cache of the chain, never evidence: a file edited between two runs (rows deleted,
amounts swapped with the totals kept, a seizure dressed up) is compared with the chain, read again where it differs,
and the verdict is the honest chain's, without any option asking for it."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from eth_account import Account

from rwa.chain.interface import Chain
from rwa.issuance.governance import forced_transfer_call
from rwa.onchain.deployed import DeployedDeal
from rwa.replay.run import ReplayResult
from tests.support.lifecycle import disclosed, kinds, replay, through_timelock


def _outputs(result: ReplayResult, folder: Path) -> dict[str, object]:
    """What a verdict consists of: the exit code and every output but the fingerprint of the ledger it came from."""
    out = folder / "audit"
    summary = json.loads((out / "summary.json").read_text())
    summary.pop("fingerprint")
    files = {p.name: p.read_bytes() for p in out.iterdir() if p.name not in ("summary.json", "report.html")}
    return {"exit": result.exit_code, "summary": summary, **files}


def _edit(db: Path, sql: str, *params: object) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql, params).rowcount


def _rows(db: Path, where: str, *params: object) -> list[tuple[int, int, str, str]]:
    with sqlite3.connect(db) as conn:
        return list(conn.execute(f"SELECT block, log_index, tx_hash, args FROM events WHERE {where} "
                                 "ORDER BY block, log_index", params))


def _read_again(result: ReplayResult) -> bool:
    return any("differs from the chain" in note and "read again" in note for note in result.notes)


def test_rows_deleted_from_the_ledger_are_read_again_and_the_disclosure_and_balances_come_back(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    a, b = (acct.address for acct in chain.accounts[15:17])
    through_timelock(deal, forced_transfer_call(deal, "senior", a, b, 1_000))
    honest = replay(chain, history[1], tmp_path)
    assert honest.exit_code == 0 and len(disclosed(honest, "forced-transfer")) == 1
    before = _outputs(honest, tmp_path)
    [(_, _, tx, _)] = _rows(tmp_path / "ledger.sqlite", "event = 'ForcedTransfer'")
    # the forced transfer and the token transfer it made, gone from the file: the supply and totals still agree
    assert _edit(tmp_path / "ledger.sqlite", "DELETE FROM events WHERE tx_hash = ? AND contract = 'senior'", tx) == 2
    again = replay(chain, history[1], tmp_path)
    assert _read_again(again)
    assert _outputs(again, tmp_path) == before


def test_claim_amounts_swapped_in_the_ledger_with_their_total_kept_are_no_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    honest = replay(chain, history[1], tmp_path)
    assert honest.exit_code == 0
    before = _outputs(honest, tmp_path)
    db = tmp_path / "ledger.sqlite"
    claims = [row for row in _rows(db, "event = 'FundsClaimed' AND contract = 'senior'")]
    first, second = claims[0], claims[-1]
    assert json.loads(first[3])["amount"] != json.loads(second[3])["amount"]
    for (block, index, _, _), (_, _, _, args) in ((first, second), (second, first)):
        amount = json.loads(args)["amount"]
        _edit(db, "UPDATE events SET args = json_set(args, '$.amount', ?) WHERE block = ? AND log_index = ?",
              amount, block, index)
    again = replay(chain, history[1], tmp_path)
    assert again.exit_code == 0 and _read_again(again), [f.detail for f in again.findings]
    assert _outputs(again, tmp_path) == before


def test_a_seizure_hidden_by_an_edit_that_keeps_the_pools_balance_is_still_a_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    admin, stranger, thief = deal.manifest.roles.admin, chain.accounts[8].address, Account.create().address
    deal.stablecoin.mint(stranger, 777, sender=admin)
    deal.stablecoin.transfer(deal.pool.address, 777, sender=stranger)
    deal.stablecoin.contract.functions.seize(deal.pool.address, thief, 777).transact({"from": admin})
    honest = replay(chain, history[1], tmp_path)
    assert "outside-waterfall" in kinds(honest) and len(disclosed(honest, "donation")) == 1
    before = _outputs(honest, tmp_path)
    db = tmp_path / "ledger.sqlite"
    # the donation forgotten and the seizure made the stranger's own transfer: the pool's balance by the events is
    # still the chain's, and every total still agrees
    transfers = "contract = 'stablecoin' AND json_extract(args, ?) = ?"
    assert _edit(db, f"DELETE FROM events WHERE {transfers}", "$.from", stranger) == 1
    assert _edit(db, f"UPDATE events SET args = json_set(args, '$.from', ?) WHERE {transfers}", stranger,
                 "$.to", thief) == 1
    again = replay(chain, history[1], tmp_path)
    assert _read_again(again) and "outside-waterfall" in kinds(again)
    assert _outputs(again, tmp_path) == before
