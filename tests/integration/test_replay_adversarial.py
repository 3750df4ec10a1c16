"""The auditor against a deal's own keys and against its own files: each way of moving money or facts outside the
rules is a finding; each legitimate but material act is a disclosure with its block, sender and amount."""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from eth_account import Account

from rwa.chain.interface import Chain
from rwa.chain.pipeline import Batch
from rwa.issuance.governance import add_reporter_call, forced_transfer_call, recovery_call, set_threshold_call
from rwa.issuance.operate import distribute_period
from rwa.model.deal_file import load_deal
from rwa.model.fleet import LeaseStatus, allocate
from rwa.model.units import fx_convert_down, fx_rate_of
from rwa.onchain.base import Role, create
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.deployment import load_manifest, save_manifest
from rwa.onchain.oracle import RevenueOracle, tape_hash
from rwa.onchain.register import LeaseUpdate
from rwa.onchain.timelock import Call
from rwa.oracle.attest import attest_lease_update
from rwa.oracle.keys import reporter_keys, select_signers
from rwa.oracle.report import sign_report
from rwa.oracle.source import SimulatedSource
from tests.support.lifecycle import disclosed, kinds, replay, restated_with_tape, run_lifecycle, through_timelock


def _admin(deal: DeployedDeal) -> str:
    return deal.manifest.roles.admin


def _to_period_end(chain: Chain, timestamp: int) -> None:
    from web3.types import RPCEndpoint

    try:
        chain.time_travel(timestamp)
    except Exception:
        chain.w3.provider.make_request(RPCEndpoint("evm_mine"), [])
    assert chain.now() >= timestamp


def test_a_distributor_granted_by_the_admin_and_its_direct_distribution_are_findings(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    admin, junior = _admin(deal), deal.tokens["junior"]
    grant = Call.of(junior.contract.functions.grantRole(Role.DISTRIBUTOR_ROLE.id, admin), "a second distributor")
    through_timelock(deal, grant)  # announced a period ahead: the holders could see it coming
    deal.stablecoin.mint(admin, 5_000_000, sender=admin)
    deal.stablecoin.transfer(junior.address, 5_000_000, sender=admin)
    junior.distribute_funds(5_000_000, sender=admin)
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 1
    assert {"distributor-granted", "distribution-outside-waterfall"} <= kinds(result)
    outside = [f for f in result.findings if f.kind == "distribution-outside-waterfall"]
    assert len(outside) == 1 and outside[0].actual == 5_000_000 and outside[0].sender == admin
    donation = disclosed(result, "donation")
    assert len(donation) == 1 and donation[0].amount == 5_000_000 and donation[0].sender == admin
    role = disclosed(result, "role-change")
    assert len(role) == 1 and role[0].sender == deal.manifest.address("timelock")
    assert "DISTRIBUTOR_ROLE" in role[0].detail


def test_a_report_let_through_by_a_lowered_threshold_is_a_finding_and_the_changes_are_disclosed(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    admin, oracle = _admin(deal), deal.oracle
    rogue = Account.create()
    executor = through_timelock(deal, add_reporter_call(deal, rogue.address), set_threshold_call(deal, 1))
    period = oracle.latest_period() + 1
    _to_period_end(chain, oracle.period_end(period))
    honest = SimulatedSource(Path(deal.manifest.deal_file)).report(period)
    report = restated_with_tape(honest, honest.tape, honest.revenue // 2)
    oracle.submit(report, sign_report(report, [rogue], chain.chain_id, oracle.address), sender=admin)
    distribute_period(deal, period)
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 1
    quorum = [f for f in result.findings if f.kind == "report-quorum"]
    deal_threshold = load_deal(Path(deal.manifest.deal_file)).oracle.threshold
    assert len(quorum) == 1 and quorum[0].period == period
    assert (quorum[0].expected, quorum[0].actual) == (deal_threshold, 1) and rogue.address in quorum[0].detail
    added = disclosed(result, "reporter-change")
    assert len(added) == 1 and added[0].account == rogue.address and added[0].sender == executor
    lowered = disclosed(result, "threshold-change")
    assert len(lowered) == 1 and lowered[0].amount == 1 and lowered[0].sender == executor
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    assert summary["threshold"] == 1 and summary["reporters"] == len(deal.manifest.roles.reporters) + 1


def _lax_oracle(cls: type[RevenueOracle], chain: Chain, admin: str, *args: object,
                sender: str | None = None, batch: Batch | None = None) -> RevenueOracle:
    """``RevenueOracle.deploy`` deploying the test double without the FX rule (``LaxRevenueOracle``) instead."""
    return cls(chain, create(chain, "LaxRevenueOracle", admin, *args, sender=sender or admin, batch=batch))


def test_a_report_whose_revenue_is_not_its_conversion_is_a_finding_naming_the_figures(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a pool bound to an oracle that does not hold reports to the FX rule, as a rogue contract could be
    monkeypatch.setattr(RevenueOracle, "deploy", classmethod(_lax_oracle))
    deal, manifest = run_lifecycle(chain, tmp_path, periods=2)
    monkeypatch.undo()
    oracle = deal.oracle
    period = oracle.latest_period() + 1
    _to_period_end(chain, oracle.period_end(period))
    honest = SimulatedSource(Path(deal.manifest.deal_file)).report(period)
    assert honest.fx_rate == fx_rate_of(7.2)
    assert honest.revenue == fx_convert_down(honest.source_revenue, honest.fx_rate)
    forged = replace(honest, revenue=honest.revenue + 1_000_000)  # one USDC more than its RMB are worth
    signers = select_signers(reporter_keys(chain), oracle.reporters(), oracle.threshold())
    oracle.submit(forged, sign_report(forged, signers, chain.chain_id, oracle.address), sender=_admin(deal))
    distribute_period(deal, period)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 1 and kinds(result) == {"oracle-fx"}, [f.detail for f in result.findings]
    [finding] = result.findings
    assert (finding.period, finding.account) == (period, oracle.address)
    assert (finding.expected, finding.actual) == (honest.revenue, forged.revenue)
    assert (f"source revenue {honest.source_revenue:,} at fx rate {honest.fx_rate:,}" in finding.detail
            and f"converts to {honest.revenue:,}, the report says {forged.revenue:,}" in finding.detail)
    with (tmp_path / "audit" / "periods.csv").open() as fh:
        rows = {int(r["period"]): r for r in csv.DictReader(fh)}
    assert (int(rows[period]["source_revenue"]), int(rows[period]["fx_rate"])) == (honest.source_revenue,
                                                                                   honest.fx_rate)
    assert int(rows[period]["reported"]) == forged.revenue
    page = (tmp_path / "audit" / "report.html").read_text()
    assert '<table id="revenue">' in page and "0.13888888 USDC per RMB (= 7.2000 RMB per USDC)" in page


def test_a_donation_to_the_pool_is_disclosed_and_the_deal_still_reconciles(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    stranger = chain.accounts[8].address
    deal.stablecoin.mint(stranger, 1, sender=_admin(deal))
    deal.stablecoin.transfer(deal.pool.address, 1, sender=stranger)
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    gift = disclosed(result, "donation")
    assert len(gift) == 1 and (gift[0].amount, gift[0].sender, gift[0].account) == (1, stranger, deal.pool.address)
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    assert summary["donations"] == 1 and summary["verdict"] == "reconciled"


def test_short_collections_forced_transfers_recoveries_and_freezes_are_disclosed(chain: Chain, tmp_path: Path) -> None:
    deal, manifest = run_lifecycle(chain, tmp_path, periods=4, distribute=0)
    reported = []
    for period in range(1, 5):
        report = deal.oracle.report_of(period)
        assert report is not None
        reported.append(report.revenue)
        distribute_period(deal, period, amount=report.revenue * 60 // 100)
    agent, senior = deal.manifest.roles.agent, deal.tokens["senior"]
    a, b, c = (acct.address for acct in chain.accounts[15:18])
    senior.set_wallet_frozen(c, True, sender=agent)
    timelock = deal.manifest.address("timelock")
    through_timelock(deal, forced_transfer_call(deal, "senior", a, b, 1_000), recovery_call(deal, "senior", c, a))
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    short = disclosed(result, "collection-shortfall")
    per_period = [d for d in short if d.period is not None]
    assert [d.period for d in per_period] == [1, 2, 3, 4]
    assert [d.amount for d in per_period] == [r - r * 60 // 100 for r in reported]
    assert all(d.sender == deal.manifest.roles.servicer for d in per_period)
    total = [d for d in short if d.period is None]
    assert len(total) == 1 and total[0].amount == sum(d.amount or 0 for d in per_period)
    forced = disclosed(result, "forced-transfer")
    assert len(forced) == 1 and (forced[0].amount, forced[0].sender, forced[0].account) == (1_000, timelock, a)
    recovered = disclosed(result, "wallet-recovery")
    assert len(recovered) == 1 and recovered[0].account == c and recovered[0].sender == timelock
    assert len(disclosed(result, "wallet-freeze")) == 1
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    assert summary["collection_shortfall"] == total[0].amount
    assert summary["disclosures_by_kind"]["collection-shortfall"] == 5
    csv_rows = (tmp_path / "audit" / "disclosures.csv").read_text().splitlines()
    assert len(csv_rows) == 1 + len(result.disclosures)


def test_a_manifest_naming_another_oracle_than_the_pools_is_a_finding_and_the_pools_is_read(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    manifest = load_manifest(history[1])
    decoy = chain.accounts[9].address
    manifest.contracts["oracle"] = decoy
    path = tmp_path / "deployment.json"
    save_manifest(manifest, path)
    result = replay(chain, path, tmp_path)
    assert result.exit_code == 1
    links = [f for f in result.findings if f.kind == "manifest-link"]
    assert len(links) == 1 and links[0].actual == decoy and links[0].expected == deal.oracle.address
    assert kinds(result) == {"manifest-link"}  # the reports were read from the pool's own oracle


def _tamper(db: Path, sql: str) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql)


def test_a_ledger_with_an_event_deleted_is_read_again_and_never_hides_a_seizure(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    thief = Account.create().address
    deal.stablecoin.contract.functions.seize(deal.pool.address, thief, 777).transact({"from": _admin(deal)})
    first = replay(chain, history[1], tmp_path)
    assert "outside-waterfall" in kinds(first)
    _tamper(tmp_path / "ledger.sqlite", "DELETE FROM events WHERE contract = 'stablecoin' AND args LIKE '%777%'")
    again = replay(chain, history[1], tmp_path)
    assert "outside-waterfall" in kinds(again)  # read again: the same ledger as the first run, the same verdict
    assert any("read again" in note for note in again.notes)


def test_a_ledger_with_an_amount_rewritten_is_caught_by_the_chain(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    clean = replay(chain, history[1], tmp_path)
    assert clean.exit_code == 0
    # a claim's amount doubled in the file: the chain's own totals no longer add up to the ledger's
    _tamper(tmp_path / "ledger.sqlite",
            "UPDATE events SET args = replace(args, '\"amount\": ', '\"amount\": 1') WHERE event = 'FundsClaimed'")
    again = replay(chain, history[1], tmp_path)
    assert again.exit_code == 0, [f.detail for f in again.findings]
    assert any("differs from the chain" in note for note in again.notes)
    assert again.events == clean.events


def test_an_honest_replay_and_its_rerun_make_no_note(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    first = replay(chain, history[1], tmp_path)
    assert first.exit_code == 0 and first.notes == []
    again = replay(chain, history[1], tmp_path)
    assert again.exit_code == 0 and again.reused and again.notes == []


def test_the_replay_never_replaces_a_folder_holding_other_files(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    from rwa.errors import InputError

    (tmp_path / "audit").mkdir()
    (tmp_path / "audit" / "notes.txt").write_text("mine")
    with pytest.raises(InputError, match="holds files the replay did not write"):
        replay(chain, history[1], tmp_path)
    assert (tmp_path / "audit" / "notes.txt").read_text() == "mine"


def test_an_internal_failure_exits_3_with_one_line_and_leaves_the_outputs(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    import rwa.chain.interface
    import rwa.replay.run
    from rwa.cli.main import main

    replay(chain, history[1], tmp_path)
    before = {p.name: p.read_bytes() for p in (tmp_path / "audit").iterdir()}

    def broken(*_a: object, **_k: object) -> None:
        raise KeyError("legs")

    monkeypatch.setattr(rwa.replay.run, "_reconcile", broken)
    monkeypatch.setattr(rwa.replay.run, "_reuse", lambda *_a: None)

    class Same:
        def __enter__(self) -> Chain:
            return chain

        def __exit__(self, *_a: object) -> None:
            return None

    monkeypatch.setattr(rwa.chain.connect, "connect", lambda **_k: Same())
    monkeypatch.setattr(sys, "argv", ["rwa", "replay", "--deployment", str(history[1]), "--out",
                                      str(tmp_path / "audit"), "--db", str(tmp_path / "ledger.sqlite")])
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code == 3
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: internal failure before a verdict (KeyError")
    assert {p.name: p.read_bytes() for p in (tmp_path / "audit").iterdir()} == before


def test_a_tape_row_changed_after_signing_forced_onto_a_lax_oracle_is_a_finding_naming_the_lease(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an oracle that does not hold reports to the tape rules, as a rogue contract could be
    monkeypatch.setattr(RevenueOracle, "deploy", classmethod(_lax_oracle))
    deal, manifest = run_lifecycle(chain, tmp_path, periods=2)
    monkeypatch.undo()
    oracle, register = deal.oracle, deal.register
    assert register is not None
    period = oracle.latest_period() + 1
    _to_period_end(chain, oracle.period_end(period))
    honest = SimulatedSource(Path(deal.manifest.deal_file)).report(period)
    signatures = sign_report(honest, select_signers(reporter_keys(chain), oracle.reporters(), oracle.threshold()),
                             chain.chain_id, oracle.address)
    leases = register.leases()
    fleet = register.fleet_at(oracle.period_end(period))
    allowed = allocate(leases, fleet, period)
    last = len(leases) - 1
    # after the quorum signed, the last lease's row bills 40 servers more than the register gives it
    rows = list(honest.tape)
    rows[last] = replace(rows[last], servers=allowed[last] + 40)
    forced = replace(honest, tape=tuple(rows))  # the tape hash stays the one the reporters signed
    oracle.submit(forced, signatures, sender=_admin(deal))
    distribute_period(deal, period)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 1
    assert kinds(result) == {"tape-hash", "tape-lease", "tape-total"}, [f.detail for f in result.findings]
    [lease] = [f for f in result.findings if f.kind == "tape-lease"]
    assert (lease.period, lease.expected, lease.actual) == (period, allowed[last], allowed[last] + 40)
    assert f"lease {last + 1} ({leases[last].lessee})" in lease.detail
    [hashed] = [f for f in result.findings if f.kind == "tape-hash"]
    assert (hashed.period, hashed.expected, hashed.actual) == (
        period, "0x" + honest.tape_hash.hex(), "0x" + tape_hash(tuple(rows)).hex())
    [servers] = [f for f in result.findings if f.kind == "tape-total"]
    moved = allowed[last] + 40 - honest.tape[last].servers
    assert (servers.expected, servers.actual) == (honest.active_servers, honest.active_servers + moved)
    with (tmp_path / "audit" / "tapes.csv").open() as fh:
        forced_rows = [r for r in csv.DictReader(fh) if int(r["period"]) == period]
    assert [int(r["servers"]) for r in forced_rows] == [r.servers for r in rows]


def test_a_lease_status_change_is_a_disclosure_not_a_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    register = deal.register
    assert register is not None
    lease = register.leases()[1]
    update = LeaseUpdate(2, LeaseStatus.DEFAULTED, lease.servers, lease.rent_per_server, lease.start_period,
                         lease.end_period, lease.lessee, register.sequence())
    receipt = attest_lease_update(register, deal.oracle, update, reporter_keys(chain), deal.manifest.roles.servicer)
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    [status] = disclosed(result, "lease-status")
    assert f"lease 2 ({lease.lessee}) went from active to defaulted" in status.detail
    assert (status.block, status.account) == (int(receipt["blockNumber"]), register.address)
    assert status.amount == lease.servers * lease.rent_per_server
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    assert summary["fleet"]["lease_changes"] == 1
