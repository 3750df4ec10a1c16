"""The auditor's replay: reconciles honest history, catches each kind of tampering, resumes after a crash."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from eth_account import Account
from eth_utils.crypto import keccak
from web3 import Web3
from web3.types import RPCEndpoint

from rwa.chain.interface import Chain
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import distribute_period
from rwa.model.deal_file import deal_hash, load_deal
from rwa.model.units import TRANCHES, format_money
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.deployment import load_manifest, save_manifest
from rwa.oracle.publisher import amend, publish
from rwa.replay.ledger import Ledger
from rwa.replay.run import run_replay
from tests.support.anvil import AnvilNode
from tests.support.browser import screenshot
from tests.support.issuance import deal_for
from tests.support.lifecycle import attest_fleet, run_lifecycle
from tests.support.lifecycle import kinds as _kinds
from tests.support.lifecycle import replay as _replay
from tests.support.report_sections import assert_asset_sections_render


def test_honest_history_reconciles_and_writes_every_output(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    out = tmp_path / "audit"
    for name in ("summary.json", "periods.csv", "holders.csv", "findings.json", "report.html"):
        assert (out / name).is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["verdict"] == "reconciled" and summary["periods_distributed"] == 3
    assert summary["claims"] == 2 and summary["senior_paid"] == deal.pool.total_senior_paid()
    rows = (out / "periods.csv").read_text().splitlines()
    assert len(rows) == 4 and rows[1].endswith("True")
    holders = (out / "holders.csv").read_text().splitlines()[1:]
    assert all(line.split(",")[5] == line.split(",")[6] for line in holders)
    again = _replay(chain, history[1], tmp_path)
    assert again.reused and again.exit_code == 0 and again.events == result.events


def test_the_period_rows_carry_each_tranches_fair_value_per_token_after_the_distribution(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    import csv

    from rwa.leverage.valuation import payment_date, value_tranches
    from rwa.model.deal_file import load_deal

    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    with (tmp_path / "audit" / "periods.csv").open() as f:
        rows = list(csv.DictReader(f))
    senior = [int(r["senior_value_per_token"]) for r in rows]
    junior = [int(r["junior_value_per_token"]) for r in rows]
    assert len(senior) == 3 and senior[0] > senior[1] > senior[2] > 0  # the senior amortizes
    assert senior[0] < 10**6 and all(j > 0 for j in junior)
    # the last row is the shared valuation of the pool's state now, read from the chain, at the period's end
    model = load_deal(Path(deal.manifest.deal_file))
    supplies = {t: deal.tokens[t].total_supply() for t in TRANCHES}
    now = value_tranches(model, deal.pool.terms(), deal.pool.state(), supplies, payment_date(model, 3))
    assert [now["senior"].per_token, now["junior"].per_token] == [senior[2], junior[2]]
    page = (tmp_path / "audit" / "report.html").read_text()
    assert '<table id="fair-value">' in page and '<figure id="chart-value">' in page
    assert f"<td>3</td><td>{format_money(senior[2], 6, 'USDC')}</td>" in page


def test_new_blocks_are_read_incrementally(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    first = _replay(chain, history[1], tmp_path)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    cursor = ledger.last_block()
    ledger.close()
    publish(chain, deal.manifest, simulate=True, move_clock=True, outbox=tmp_path / "outbox.sqlite")
    distribute_period(deal, 4)
    second = _replay(chain, history[1], tmp_path)
    assert second.exit_code == 0 and not second.reused
    assert second.events > first.events
    ledger = Ledger(tmp_path / "ledger.sqlite")
    assert ledger.last_block() > cursor  # type: ignore[operator]
    assert len({(e.block, e.log_index) for e in ledger.events()}) == ledger.count()
    ledger.close()


def test_crash_in_the_middle_of_ingest_loses_nothing_and_counts_nothing_twice(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clean = _replay(chain, history[1], tmp_path / "clean", block_range=5)
    real_append = Ledger.append
    calls = {"n": 0}

    def crash_on_third(self: Ledger, events: list, through_block: int, hashes: dict) -> None:  # type: ignore[type-arg]
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed while writing a range")
        real_append(self, events, through_block, hashes)

    monkeypatch.setattr(Ledger, "append", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        _replay(chain, history[1], tmp_path / "crashed", block_range=5)
    monkeypatch.setattr(Ledger, "append", real_append)
    resumed = _replay(chain, history[1], tmp_path / "crashed", block_range=5)
    assert resumed.exit_code == 0
    assert resumed.events == clean.events


def test_stablecoin_seized_from_the_pool_is_caught(chain: Chain, deal: DeployedDeal, history: tuple[object, Path],
                                                   tmp_path: Path) -> None:
    thief = Account.create().address
    amount = 1_234_567
    deal.stablecoin.contract.functions.seize(deal.pool.address, thief, amount).transact(
        {"from": deal.manifest.roles.admin}
    )
    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 1
    outside = [f for f in result.findings if f.kind == "outside-waterfall"]
    assert len(outside) == 1 and outside[0].actual == amount and outside[0].period == 4
    assert outside[0].block == chain.w3.eth.block_number
    assert not [f for f in result.findings if f.kind == "pool-balance"]  # the transfer explains the balance


def test_deal_file_edited_after_issuance_is_caught(chain: Chain, deal: DeployedDeal, history: tuple[object, Path],
                                                   tmp_path: Path) -> None:
    deal_file = Path(deal.manifest.deal_file)
    original = deal_file.read_text()
    try:
        deal_file.write_text(original.replace("senior_coupon_bps = 800", "senior_coupon_bps = 750"))
        result = _replay(chain, history[1], tmp_path)
    finally:
        deal_file.write_text(original)
    assert result.exit_code == 1
    kinds = _kinds(result)
    assert {"deal-file-changed", "pool-terms", "waterfall-leg"} <= kinds
    coupon = [f for f in result.findings if f.kind == "pool-terms" and "senior_coupon_bps" in f.detail]
    assert coupon[0].expected == 750 and coupon[0].actual == 800
    interest = [f for f in result.findings if f.kind == "waterfall-leg" and f.detail.startswith("senior_interest")]
    assert interest[0].period == 1 and interest[0].expected < interest[0].actual


def test_pool_deployed_with_another_coupon_than_the_deal_is_caught(chain: Chain, tmp_path: Path) -> None:
    investors = chain.accounts[15:20]
    honest = deal_for(investors, tmp_path, chain.now(), periods_ended=1)
    crooked_dir = tmp_path / "crooked"
    crooked_dir.mkdir()
    crooked = crooked_dir / "deal.toml"
    crooked.write_text(honest.read_text().replace("senior_coupon_bps = 800", "senior_coupon_bps = 950"))
    out = tmp_path / "deployment.json"
    manifest = issue(chain, plan_issue(crooked), out, lambda _m: None)
    attest_fleet(open_deployment(chain, manifest), 1)
    publish(chain, manifest, simulate=True, outbox=tmp_path / "outbox.sqlite")
    distribute_period(open_deployment(chain, manifest), 1)
    manifest.deal_file, manifest.deal_hash = str(honest), deal_hash(honest)  # the issuer shows the honest deal
    save_manifest(manifest, out)
    assert tomllib.loads(honest.read_text())["financing"]["senior_coupon_bps"] == 800
    result = _replay(chain, out, tmp_path)
    assert result.exit_code == 1
    coupon = [f for f in result.findings if f.kind == "pool-terms" and "senior_coupon_bps" in f.detail]
    assert coupon and coupon[0].expected == 800 and coupon[0].actual == 950


def test_a_pool_and_oracle_on_30_day_periods_are_caught_period_by_period(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rwa.issuance.issue
    import rwa.onchain.pool

    thirty_days = 30 * 86_400
    for module in (rwa.issuance.issue, rwa.onchain.pool):  # the issuer deploys the old clock
        monkeypatch.setattr(module, "clock_length", lambda _first, _ends: thirty_days)
    path = deal_for(chain.accounts[15:20], tmp_path, chain.now(), periods_ended=1)
    out = tmp_path / "deployment.json"
    issue(chain, plan_issue(path), out, lambda _m: None)
    monkeypatch.undo()
    result = _replay(chain, out, tmp_path)
    assert result.exit_code == 1
    deal = load_deal(path)
    ends = {kind: {f.period: (f.expected, f.actual) for f in result.findings if f.kind == kind}
            for kind in ("pool-terms", "oracle-calendar")}
    first = int(deal.periods.first_start.timestamp())
    for kind, count in (("pool-terms", 61), ("oracle-calendar", 60)):
        for p in range(1, count + 1):
            calendar_end, onchain_end = int(deal.periods.end_of(p).timestamp()), first + p * thirty_days
            assert ends[kind].get(p) == ((calendar_end, onchain_end) if calendar_end != onchain_end else None)
    assert len(ends["pool-terms"]) > 50


def test_an_amendment_within_the_oracles_rules_is_disclosed_not_a_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    publish(chain, deal.manifest, simulate=True, move_clock=True, outbox=tmp_path / "outbox.sqlite")
    period = deal.oracle.latest_period()
    before = deal.oracle.report_of(period)
    assert before is not None
    amend(chain, deal.manifest, period, simulate=True, seed=99)
    after = deal.oracle.report_of(period)
    assert after is not None and after.revenue != before.revenue
    distribute_period(deal, period)
    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    amended = [d for d in result.disclosures if d.kind == "report-amended"]
    assert len(amended) == 1 and amended[0].period == period
    assert amended[0].amount == after.revenue - before.revenue and amended[0].sender == deal.manifest.roles.admin
    rows = (tmp_path / "audit" / "disclosures.csv").read_text().splitlines()
    assert rows[0].startswith("kind,period,block,tx_hash,sender") and any("report-amended" in r for r in rows[1:])
    assert "Disclosures" in (tmp_path / "audit" / "report.html").read_text()


def _rwa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "scripts/replay.py", *args], capture_output=True, text=True,
                          env=dict(os.environ), check=False)


def test_bad_input_exits_2(tmp_path: Path, history: tuple[object, Path]) -> None:
    missing = _rwa("--deployment", str(tmp_path / "none.json"), "--out", str(tmp_path / "o"))
    assert missing.returncode == 2 and missing.stderr.startswith("error: no deployment manifest")
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"hello": "world"}))
    done = _rwa("--deployment", str(foreign), "--out", str(tmp_path / "o"))
    assert done.returncode == 2 and "not a deployment manifest" in done.stderr
    other_chain = load_manifest(history[1])
    other_chain.chain_id = 1
    wrong = tmp_path / "wrong.json"
    save_manifest(other_chain, wrong)
    done = _rwa("--deployment", str(wrong), "--out", str(tmp_path / "o"), "--state", str(tmp_path / "c.sqlite"))
    assert done.returncode == 2 and "on chain 1" in done.stderr


def _balance_slot(holder: str) -> int:
    """OpenZeppelin ERC20's `_balances` is the first storage slot: balance of holder at keccak(holder . 0)."""
    return int.from_bytes(keccak(bytes.fromhex(holder[2:].rjust(64, "0")) + (0).to_bytes(32, "big")), "big")


def test_replay_on_anvil_reconciles_and_catches_a_balance_set_directly(anvil: AnvilNode, anvil_chain: Chain,
                                                                       tmp_path: Path) -> None:
    deal, manifest = run_lifecycle(anvil_chain, tmp_path, periods=2)
    honest = _replay(anvil_chain, manifest, tmp_path)
    assert honest.exit_code == 0, [f.detail for f in honest.findings]
    pool = deal.pool.address
    held = deal.stablecoin.balance_of(pool)
    slot = _balance_slot(pool)
    anvil_chain.w3.provider.make_request(
        RPCEndpoint("anvil_setStorageAt"),
        [deal.stablecoin.address, Web3.to_hex(slot), "0x" + (held - 777).to_bytes(32, "big").hex()],
    )
    assert deal.stablecoin.balance_of(pool) == held - 777
    tampered = _replay(anvil_chain, manifest, tmp_path)
    assert tampered.exit_code == 1
    found = [f for f in tampered.findings if f.kind == "pool-balance"]
    assert found and found[0].expected == held and found[0].actual == held - 777


def test_replay_cli_after_the_demo(tmp_path: Path) -> None:
    from rich.console import Console

    from rwa.cli.demo import run_demo

    with open(os.devnull, "w") as quiet:
        summary = run_demo(Console(file=quiet), months=3, holders=6, out=tmp_path / "demo")
    assert summary.replay_exit_code == 0 and summary.periods_distributed == 3
    done = _rwa("--deployment", str(tmp_path / "demo" / "deployment.json"), "--out", str(tmp_path / "cli"),
                "--state", str(tmp_path / "demo" / "chain.sqlite"), "--db", str(tmp_path / "cli.sqlite"))
    assert done.returncode == 0, done.stderr
    assert "reconciled" in done.stdout


CHART_COLORS = {"blue": (0x1F, 0x77, 0xB4), "orange": (0xFF, 0x7F, 0x0E), "green": (0x2C, 0xA0, 0x2C),
                "red": (0xD6, 0x27, 0x28), "verdict": (0x1B, 0x7F, 0x3B)}


def test_report_html_is_self_contained_and_its_charts_render_in_a_browser(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    import re

    import numpy as np
    from matplotlib.image import imread

    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 0
    report = tmp_path / "audit" / "report.html"
    html = report.read_text()
    assert all(s.startswith("data:") for s in re.findall(r'(?:src|href)="([^"]+)"', html))  # nothing fetched
    assert "<script" not in html and "<link" not in html
    assert len(re.findall(r'<figure id="chart-[a-z]+"><svg ', html)) == 8  # six of the money, proceeds, fleet
    shot = screenshot(report.as_uri(), tmp_path / "report.png", width=1200, height=2600)
    pixels = (imread(shot)[:, :, :3] * 255).round().astype(np.int16)

    def count(rgb: tuple[int, int, int]) -> int:
        return int((np.abs(pixels - np.array(rgb)).max(axis=2) <= 12).sum())

    counts = {name: count(rgb) for name, rgb in CHART_COLORS.items()}
    assert counts["verdict"] > 5_000, counts  # the green "reconciled" banner
    for name in ("blue", "orange", "green", "red"):
        assert counts[name] > 50, counts  # every series colour is drawn somewhere on the page
    non_white = int((pixels.min(axis=2) < 235).sum())
    assert non_white > 0.05 * pixels.shape[0] * pixels.shape[1], non_white
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    assert_asset_sections_render(report, summary)



def test_only_stablecoin_transfers_touching_the_deal_are_read(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    """On a real network the stablecoin is everybody's token: the ledger keeps what moved in and out of the deal."""
    admin = deal.manifest.roles.admin
    strangers = [Account.create().address for _ in range(2)]
    deal.stablecoin.mint(strangers[0], 5_000, sender=admin)
    deal.stablecoin.contract.functions.seize(strangers[0], strangers[1], 2_000).transact({"from": admin})
    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    ledger = Ledger(tmp_path / "ledger.sqlite")
    moves = [e for e in ledger.events("stablecoin", "Transfer")]
    ledger.close()
    deal_accounts = {deal.pool.address, *(t.address for t in deal.tokens.values())}
    assert moves and all({e.args["from"], e.args["to"]} & deal_accounts for e in moves)
    assert not any(strangers[1] in (e.args["from"], e.args["to"]) for e in moves)


def test_the_auditor_never_runs_the_calculators_sizing(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rwa.leverage
    import rwa.leverage.sizing

    def refuse(*_args: object) -> None:
        raise AssertionError("the replay ran the float sizing")

    monkeypatch.setattr(rwa.leverage.sizing, "size_deal", refuse)
    monkeypatch.setattr(rwa.leverage, "size_deal", refuse)
    result = _replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]


def test_a_recorded_schedule_other_than_the_pools_is_a_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    manifest = load_manifest(history[1])
    assert manifest.terms is not None
    schedule = manifest.terms.principal_schedule
    paying = [i for i, amount in enumerate(schedule) if amount > 0]
    schedule[paying[0]] -= 1
    schedule[paying[1]] += 1
    tampered = tmp_path / "deployment.json"
    save_manifest(manifest, tampered)
    result = _replay(chain, tampered, tmp_path)
    terms = [f for f in result.findings if f.kind == "pool-terms"]
    assert result.exit_code == 1
    assert {(f.period, f.expected, f.actual) for f in terms} == {
        (paying[0] + 1, schedule[paying[0]], schedule[paying[0]] + 1),
        (paying[1] + 1, schedule[paying[1]], schedule[paying[1]] - 1),
    }


def test_a_reset_chain_reissued_gets_a_new_default_ledger_and_the_old_one_is_set_aside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rwa.chain.connect import connect
    from rwa.chain.state_log import reset_state
    from rwa.errors import InputError

    monkeypatch.setenv("RWA_HOME", str(tmp_path / "home"))
    state = tmp_path / "chain.sqlite"
    (tmp_path / "first").mkdir()
    (tmp_path / "second").mkdir()
    with connect(state=state) as first:
        _, manifest = run_lifecycle(first, tmp_path / "first", periods=2)
        old = run_replay(first, manifest, tmp_path / "audit-1")
        assert old.exit_code == 0 and not old.notes
    ledgers = list((tmp_path / "home").glob("replay-*.sqlite"))
    assert len(ledgers) == 1
    reset_state(state)
    with connect(state=state) as second:
        _, manifest = run_lifecycle(second, tmp_path / "second", periods=2, distribute=1)  # period 2 in its grace
        with pytest.raises(InputError, match="another deployment or history"):
            run_replay(second, manifest, tmp_path / "audit-x", db=ledgers[0])
        new = run_replay(second, manifest, tmp_path / "audit-2")
    assert new.exit_code == 0, [f.detail for f in new.findings]
    assert len(new.notes) == 1 and "set aside" in new.notes[0]
    assert len(list((tmp_path / "home").glob("replay-*.set-aside-*.sqlite"))) == 1
    assert json.loads((tmp_path / "audit-2" / "summary.json").read_text())["periods_distributed"] == 1


def test_a_replay_six_blocks_behind_a_growing_head_reconciles_on_every_run(any_chain: Chain, tmp_path: Path) -> None:
    from rwa.issuance.operate import claim_for

    chain = any_chain
    deal, manifest = run_lifecycle(chain, tmp_path, periods=2)
    holders = [a.address for a in chain.accounts[15:20]]
    for run, holder in enumerate(holders):
        if deal.tokens["senior"].claimable(holder) or deal.tokens["junior"].claimable(holder):
            claim_for(deal, holder)  # a claim the replay sees on a later run, once six blocks cover it
        for _ in range(run % 3 + 1):
            chain.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
        result = _replay(chain, manifest, tmp_path, confirmations=6)
        assert result.exit_code == 0, (run, [f.detail for f in result.findings])
        summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
        assert summary["last_block"] == chain.w3.eth.block_number - 6


def test_a_node_that_refuses_large_log_ranges_is_read_in_smaller_ones(anvil: AnvilNode, anvil_chain: Chain,
                                                                       tmp_path: Path) -> None:
    from rwa.chain.connect import connect
    from tests.support.rpc_proxy import capped_logs_proxy

    _, manifest = run_lifecycle(anvil_chain, tmp_path, periods=2)
    direct = _replay(anvil_chain, manifest, tmp_path / "direct")
    with capped_logs_proxy(anvil.url, max_range=3) as proxy, connect(rpc_url=proxy.url) as capped:
        result = _replay(capped, manifest, tmp_path / "capped")
    assert result.exit_code == 0, [f.detail for f in result.findings]
    assert result.events == direct.events and proxy.refused > 0
    assert any("refused the log range" in note for note in result.notes)
    direct_rows = (tmp_path / "direct" / "audit" / "holders.csv").read_bytes()
    assert (tmp_path / "capped" / "audit" / "holders.csv").read_bytes() == direct_rows


def test_a_reorg_that_drops_a_claim_the_ledger_read_is_rolled_back(anvil: AnvilNode, anvil_chain: Chain,
                                                                    tmp_path: Path) -> None:
    from rwa.issuance.operate import claim_for

    deal, manifest = run_lifecycle(anvil_chain, tmp_path, periods=2)
    claimer = anvil_chain.accounts[15].address
    claim_for(deal, claimer)
    seen = _replay(anvil_chain, manifest, tmp_path)
    assert seen.exit_code == 0, [f.detail for f in seen.findings]
    anvil_chain.w3.provider.make_request(RPCEndpoint("anvil_reorg"), [1, []])
    assert deal.tokens["senior"].claimable(claimer) > 0  # the claim is gone from the canonical chain
    again = _replay(anvil_chain, manifest, tmp_path)
    assert again.exit_code == 0, [f.detail for f in again.findings]
    assert not again.reused and any("reorg" in note for note in again.notes)
    assert again.events < seen.events  # the claim and its stablecoin transfer are no longer in the ledger


def _killed_at(url: str, manifest: Path, folder: Path, delay: float) -> None:
    """Run the replay in a forked child and SIGKILL it after ``delay`` seconds (or let it finish first)."""
    import multiprocessing
    import signal

    def child() -> None:
        from rwa.chain.connect import connect

        with connect(rpc_url=url) as node:
            _replay(node, manifest, folder)
        os._exit(0)

    proc = multiprocessing.get_context("fork").Process(target=child)
    proc.start()
    proc.join(delay)
    if proc.is_alive():
        os.kill(proc.pid, signal.SIGKILL)
        proc.join()


def _outputs(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((folder / "audit").iterdir())}


def test_a_replay_killed_twenty_times_ends_with_the_outputs_of_a_clean_run(anvil: AnvilNode, anvil_chain: Chain,
                                                                          tmp_path: Path) -> None:
    import random

    from rwa.replay.outputs import OUTPUT_FILES

    _, manifest = run_lifecycle(anvil_chain, tmp_path, periods=3)
    clean = _replay(anvil_chain, manifest, tmp_path / "clean")
    assert clean.exit_code == 0
    ingest, total = clean.timings["ingest"], clean.timings["total"]
    rng = random.Random(11)
    delays = [rng.uniform(0, ingest) for _ in range(10)] + [rng.uniform(ingest, total) for _ in range(10)]
    killed = tmp_path / "killed"
    for delay in delays:
        _killed_at(anvil.url, manifest, killed, delay)
        audit = killed / "audit"
        if audit.exists():  # whatever the moment of the kill, the folder is a whole set or absent
            names = {p.name for p in audit.iterdir()} - {".complete"}
            assert names == set(OUTPUT_FILES), (delay, names)
            summary = json.loads((audit / "summary.json").read_text())
            assert summary["verdict"] == "reconciled"
            assert "Reconciled" in (audit / "report.html").read_text()
    final = _replay(anvil_chain, manifest, killed)
    assert final.exit_code == 0 and final.events == clean.events
    assert _outputs(killed) == _outputs(tmp_path / "clean")
