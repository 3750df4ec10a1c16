"""Publishing: idempotence, amend, bad inputs, simulated months, kills at each point, a dead node, anvil."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from eth_account import Account

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.model.units import FX_RATE_SCALE, fx_convert_down
from rwa.onchain.deployment import Manifest, load_manifest
from rwa.onchain.oracle import Report, ReportKind, RevenueOracle
from rwa.oracle.billing import read_billing
from rwa.oracle.outbox import Outbox, OutboxStatus
from rwa.oracle.publisher import AmendRequiredError, Publisher, amend, publish, status
from tests.support.anvil import AnvilNode, free_port
from tests.support.oracle import (
    PERIOD,
    RMB_RATE,
    SERVERS,
    THRESHOLD,
    OracleSetup,
    billing_rows,
    converted_rows,
    deal_file,
    deploy_oracle,
    run_cli,
    set_revenue,
    tape_of,
    write_export,
    write_manifest,
)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))
    monkeypatch.delenv("RWA_FAULT", raising=False)


@pytest.fixture
def deployed(chain: Chain, tmp_path: Path) -> tuple[OracleSetup, Manifest]:
    setup = deploy_oracle(chain, ended=2, bound=True)
    manifest = write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    return setup, manifest


def test_publish_catches_up_then_is_idempotent(deployed: tuple[OracleSetup, Manifest], tmp_path: Path) -> None:
    setup, manifest = deployed
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")
    results = publish(setup.chain, manifest, source=csv)
    assert [(r.period, r.status) for r in results] == [(1, "published"), (2, "published")]
    assert setup.oracle.report_of(2) == read_billing(csv).row(2).to_report()
    assert publish(setup.chain, manifest, source=csv) == []
    [again] = publish(setup.chain, manifest, period=1, source=csv)
    assert again.status == "unchanged" and "already on-chain with the same data" in again.message
    assert len(setup.oracle.events()) == 2


def test_json_and_csv_of_the_same_rows_give_the_same_report(tmp_path: Path) -> None:
    rows = billing_rows(range(1, 4))
    a = read_billing(write_export(rows, tmp_path / "b.csv"))
    b = read_billing(write_export(rows, tmp_path / "b.json"))
    assert [a.row(p).to_report() for p in (1, 2, 3)] == [b.row(p).to_report() for p in (1, 2, 3)]


def test_other_figures_for_a_published_period_point_to_amend(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    setup, manifest = deployed
    publish(setup.chain, manifest, source=write_export(billing_rows(range(1, 3)), tmp_path / "a.csv"))
    changed = billing_rows(range(1, 3))
    set_revenue(changed[0], 1_234)
    fixed = write_export(changed, tmp_path / "fixed.csv")
    with pytest.raises(AmendRequiredError, match=r"rwa oracle amend --period 1"):
        publish(setup.chain, manifest, period=1, source=fixed)
    result = amend(setup.chain, manifest, 1, source=fixed)
    assert result.status == "amended" and setup.oracle.report_of(1).revenue == 1_234  # type: ignore[union-attr]
    assert amend(setup.chain, manifest, 1, source=fixed).status == "unchanged"


BAD_INPUTS = {
    "missing-month": ([1, 3], {}, "missing month: period 2 is absent"),
    "negative-revenue": ([1, 2], {"revenue": "-5"}, "revenue: negative (-5)"),
    "non-numeric-revenue": ([1, 2], {"revenue": "12k"}, "revenue: not a number ('12k')"),
    "decimal-revenue": ([1, 2], {"revenue": "12.5"}, "is not an integer"),
    "duplicate-rows": ([1, 1, 2], {}, "duplicate row for period 1"),
    "wrong-period-not-ended": ([1, 2, 3], {}, "wrong period 3: only periods up to 2 have ended"),
}


@pytest.mark.parametrize("kind", sorted(BAD_INPUTS))
@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_bad_input_gives_one_line_and_changes_nothing(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path, kind: str, suffix: str
) -> None:
    setup, manifest = deployed
    periods, override, expected = BAD_INPUTS[kind]
    rows = billing_rows(range(1, 1))
    for p in periods:
        rows += billing_rows(range(p, p + 1))
    rows[-1].update(override)
    path = write_export(rows, tmp_path / f"bad{suffix}")
    with pytest.raises(InputError) as info:
        publish(setup.chain, manifest, source=path)
    message = str(info.value)
    assert expected in message and "\n" not in message and str(path) in message
    assert setup.oracle.latest_period() == 0 and setup.oracle.events() == []


def test_asking_for_a_period_that_has_not_ended_is_refused(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    setup, manifest = deployed
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "b.csv")
    publish(setup.chain, manifest, source=csv)
    with pytest.raises(InputError, match="--period 3: wrong period: it has not ended"):
        publish(setup.chain, manifest, period=3, source=csv)
    with pytest.raises(InputError, match="no row for period 2"):
        publish(setup.chain, manifest, period=2, source=write_export(billing_rows(range(1, 2)), tmp_path / "one.csv"))
    assert setup.oracle.latest_period() == 2


@pytest.fixture
def simulated(chain: Chain, tmp_path: Path) -> tuple[OracleSetup, Manifest]:
    """An oracle whose register holds the example deal's orders and leases and no delivery yet: a simulated run
    attests the deal's schedule before each period's report."""
    from rwa.model.deal_file import load_deal
    from rwa.model.fleet import register_terms

    deal = deal_file(tmp_path)
    terms = register_terms(load_deal(deal), chain.accounts[0].address)
    setup = deploy_oracle(chain, ended=2, bound=True, terms=terms)
    return setup, write_manifest(setup, tmp_path / "deployment.json", deal)


def test_simulate_moves_the_dev_clock_one_period_at_a_time(simulated: tuple[OracleSetup, Manifest]) -> None:
    setup, manifest = simulated
    first = publish(setup.chain, manifest, simulate=True)
    assert [r.period for r in first] == [1, 2]
    for expected in (3, 4):
        [result] = publish(setup.chain, manifest, simulate=True)
        assert result.period == expected and result.status == "published"
        assert setup.chain.now() >= setup.first_start + expected * PERIOD
    assert not setup.oracle.is_overdue()
    # deterministic: the simulator gives the same figures again, so re-publishing period 1 is a no-op
    [same] = publish(setup.chain, manifest, period=1, simulate=True)
    assert same.status == "unchanged"


def test_the_simulator_publishes_each_months_rmb_revenue_with_its_rate_and_the_status_shows_it(
    simulated: tuple[OracleSetup, Manifest],
) -> None:
    from rwa.model.deal_file import load_deal
    from rwa.oracle.simulator import simulate
    from rwa.oracle.source import DEFAULT_SEED

    setup, manifest = simulated
    assert status(setup.chain, manifest)["latest_report"] is None
    assert [r.period for r in publish(setup.chain, manifest, simulate=True)] == [1, 2]
    rows = simulate(load_deal(Path(manifest.deal_file)), DEFAULT_SEED)
    for period in (1, 2):
        onchain = setup.oracle.report_of(period)
        assert onchain is not None and onchain == rows[period - 1].to_report()
        assert onchain.fx_rate == RMB_RATE and onchain.revenue == fx_convert_down(onchain.source_revenue, RMB_RATE)
        assert onchain.source_revenue > 7 * onchain.revenue  # billed in RMB, paid in USDC
    assert status(setup.chain, manifest)["latest_report"] == {
        "period": 2, "version": 0, "revenue": onchain.revenue, "source_revenue": onchain.source_revenue,
        "fx_rate": RMB_RATE, "fx_rate_shown": "0.13888888 USDC per RMB (= 7.2000 RMB per USDC)",
    }


def test_an_export_with_its_conversion_is_published_with_it_and_an_old_one_at_the_rate_one(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    setup, manifest = deployed
    rows = converted_rows(range(1, 2)) + billing_rows(range(2, 3))
    with caplog.at_level("WARNING", logger="rwa.oracle.source"):
        publish(setup.chain, manifest, period=1, source=write_export(rows[:1], tmp_path / "fx.csv"))
    assert not caplog.records
    first = setup.oracle.report_of(1)
    assert first is not None and (first.source_revenue, first.fx_rate) == (rows[0]["source_revenue"], RMB_RATE)
    with caplog.at_level("WARNING", logger="rwa.oracle.source"):
        publish(setup.chain, manifest, period=2, source=write_export(rows, tmp_path / "mixed.json"))
    second = setup.oracle.report_of(2)
    assert second is not None and (second.source_revenue, second.fx_rate) == (second.revenue, FX_RATE_SCALE)
    [warning] = caplog.records  # the deal bills in RMB: an export without the conversion is worth a word
    assert "no source_revenue and fx_rate columns" in warning.getMessage() and "RMB" in warning.getMessage()
    assert status(setup.chain, manifest)["latest_report"]["fx_rate_shown"] == "1.00000000 USDC per USDC"


def test_an_unknown_scenario_is_refused_not_read_as_base(deployed: tuple[OracleSetup, Manifest]) -> None:
    setup, manifest = deployed
    with pytest.raises(InputError, match=r"--scenario 'strss': unknown scenario; use one of base, stress"):
        publish(setup.chain, manifest, simulate=True, scenario="strss")
    assert setup.oracle.latest_period() == 0


def test_an_amendment_lost_before_its_broadcast_is_resent_from_the_outbox(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash between recording the signed amendment and broadcasting it: the re-run sends the recorded bytes."""
    setup, manifest = deployed
    box = tmp_path / "outbox.sqlite"
    publish(setup.chain, manifest, source=write_export(billing_rows(range(1, 3)), tmp_path / "a.csv"), outbox=box)
    changed = billing_rows(range(1, 3))
    set_revenue(changed[1], 4_321)
    fixed = write_export(changed, tmp_path / "fixed.csv")
    real = Publisher._broadcast

    def crash(self: Publisher, raw: bytes, period: int) -> None:
        raise KeyboardInterrupt("killed before the broadcast")

    monkeypatch.setattr(Publisher, "_broadcast", crash)
    with pytest.raises(KeyboardInterrupt):
        amend(setup.chain, manifest, 2, source=fixed, outbox=box)
    outbox = Outbox(box)
    try:
        entry = outbox.get(setup.oracle.address, ReportKind.AMENDED, 2)
    finally:
        outbox.close()
    assert entry is not None and entry.status is OutboxStatus.SENDING and entry.raw_tx is not None
    assert setup.oracle.report_of(2).revenue != 4_321  # type: ignore[union-attr]
    monkeypatch.setattr(Publisher, "_broadcast", real)
    result = amend(setup.chain, manifest, 2, source=fixed, outbox=box)
    assert result.status == "amended" and result.tx_hash == entry.tx_hash  # the recorded transaction, not a new one
    assert [e.kind for e in setup.oracle.events()] == [ReportKind.SUBMITTED, ReportKind.SUBMITTED, ReportKind.AMENDED]
    assert setup.oracle.report_of(2).revenue == 4_321  # type: ignore[union-attr]


def test_a_rejected_report_on_the_embedded_chain_sends_nothing(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    """The embedded chain runs the report's transaction without a dry run first and takes it back when it
    reverts: the contract's reason is raised, no block is left, no nonce is used, and the outbox holds the
    signatures only (as a dry run's refusal leaves it); the reporters' own signatures then go through."""
    from rwa.errors import ContractRevertError
    from rwa.oracle.report import sign_report

    setup, manifest = deployed
    chain = setup.chain
    report = read_billing(write_export(billing_rows(range(1, 3)), tmp_path / "b.csv")).row(1).to_report()
    strangers = sign_report(report, [Account.create() for _ in range(3)], chain.chain_id, setup.oracle.address)
    box = tmp_path / "outbox.sqlite"
    publisher = Publisher(chain, manifest, keys=setup.reporters, outbox=box)
    try:
        sender = publisher.sender
        assert sender is not None
        head, nonce = chain.head(), chain.nonce(sender.address)
        with pytest.raises(ContractRevertError) as refused:
            publisher.publish_period(report, strangers)
        assert refused.value.error_name == "SignerNotReporter"  # the contract's own reason
        assert chain.head() == head and chain.nonce(sender.address) == nonce
        assert chain.w3.eth.block_number == head[0]
        entry = publisher.outbox.get(setup.oracle.address, ReportKind.SUBMITTED, 1)
        assert entry is not None and entry.status is OutboxStatus.SIGNED and entry.raw_tx is None
        assert setup.oracle.report_of(1) is None
    finally:
        publisher.close()
    honest = Publisher(chain, manifest, keys=setup.reporters, outbox=tmp_path / "another-outbox.sqlite")
    try:
        done = honest.publish_period(report)  # the reporters' own signatures, from the nonce left unused
        assert done.status == "published" and setup.oracle.report_of(1) == report
    finally:
        honest.close()


# -- separate processes: the embedded chain's state file is shared between them ------------------------------


@pytest.fixture
def on_disk(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A chain state file with a deployed oracle (two periods ended), its manifest and a billing export."""
    state = tmp_path / "chain.sqlite"
    with connect(state=state) as chain:
        setup = deploy_oracle(chain, ended=2, bound=True)
        write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    return state, tmp_path / "deployment.json", write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")


def _oracle_events(state: Path, manifest: Path) -> list[int]:
    with connect(state=state) as chain:
        oracle = RevenueOracle.at(chain, load_manifest(manifest).address("oracle"))
        return [e.period for e in oracle.events()]


@pytest.mark.parametrize("point", ["after-sign", "after-submit"])
def test_killed_publish_rerun_publishes_exactly_once(
    on_disk: tuple[Path, Path, Path], tmp_path: Path, point: str
) -> None:
    state, manifest, csv = on_disk
    args = ["publish", "--deployment", str(manifest), "--state", str(state), "--source", str(csv)]
    env = {"RWA_HOME": str(tmp_path / ".rwa")}
    killed = run_cli(args, {**env, "RWA_FAULT": point})
    assert killed.returncode == 137, killed.stderr
    assert _oracle_events(state, manifest) == ([1] if point == "after-submit" else [])
    rerun = run_cli(args, env)
    assert rerun.returncode == 0, rerun.stderr
    assert _oracle_events(state, manifest) == [1, 2]
    if point == "after-submit":
        assert "period 1: the sending report recorded in the outbox before an interruption is on-chain" in rerun.stderr
    else:
        assert "reusing the 3 signatures recorded in the outbox" in rerun.stderr
    third = run_cli(args, env)
    assert third.returncode == 0 and "nothing to publish" in third.stdout
    assert _oracle_events(state, manifest) == [1, 2]


def _kinds(state: Path, manifest: Path) -> list[str]:
    with connect(state=state) as chain:
        oracle = RevenueOracle.at(chain, load_manifest(manifest).address("oracle"))
        return [f"{e.kind}:{e.period}" for e in oracle.events()]


@pytest.mark.parametrize("point", ["after-sign", "after-submit"])
def test_killed_amend_rerun_amends_exactly_once(on_disk: tuple[Path, Path, Path], tmp_path: Path, point: str) -> None:
    state, manifest, csv = on_disk
    env = {"RWA_HOME": str(tmp_path / ".rwa")}
    chain_args = ["--deployment", str(manifest), "--state", str(state)]
    assert run_cli(["publish", *chain_args, "--source", str(csv)], env).returncode == 0
    changed = billing_rows(range(1, 3))
    set_revenue(changed[0], 7_777)
    fixed = write_export(changed, tmp_path / "fixed.csv")
    args = ["amend", "--period", "1", *chain_args, "--source", str(fixed)]
    killed = run_cli(args, {**env, "RWA_FAULT": point})
    assert killed.returncode == 137, killed.stderr
    sent = ["amended:1"] if point == "after-submit" else []
    assert _kinds(state, manifest) == ["submitted:1", "submitted:2", *sent]
    rerun = run_cli(args, env)
    assert rerun.returncode == 0, rerun.stderr
    assert _kinds(state, manifest) == ["submitted:1", "submitted:2", "amended:1"]
    if point == "after-submit":
        recovered = "period 1: the sending amendment recorded in the outbox before an interruption is on-chain"
        assert recovered in rerun.stderr
        assert rerun.stdout.strip() == "period 1: on-chain report already has these figures; nothing to amend"
    else:
        assert "reusing the 3 signatures recorded in the outbox" in rerun.stderr
        assert "period 1: amended in transaction" in rerun.stdout
    third = run_cli(args, env)
    assert third.returncode == 0 and "nothing to amend" in third.stdout
    assert _kinds(state, manifest) == ["submitted:1", "submitted:2", "amended:1"]
    status = run_cli(["status", *chain_args], env)
    assert status.returncode == 0 and json.loads(status.stdout)["outbox_pending"] == []
    assert json.loads(status.stdout)["attestations_pending"] == []


def test_cli_prints_each_result_once_on_stdout(on_disk: tuple[Path, Path, Path], tmp_path: Path) -> None:
    state, manifest, csv = on_disk
    done = run_cli(["publish", "--deployment", str(manifest), "--state", str(state), "--source", str(csv)],
                   {"RWA_HOME": str(tmp_path / ".rwa")})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2 and [line.split(":")[0] for line in lines] == ["period 1", "period 2"]
    for line in lines:
        assert "published in transaction" in line and done.stdout.count(line) == 1
        assert line not in done.stderr
    assert "published in transaction" not in done.stderr
    again = run_cli(["publish", "--deployment", str(manifest), "--state", str(state), "--source", str(csv)],
                    {"RWA_HOME": str(tmp_path / ".rwa")})
    assert again.stdout.splitlines() == ["nothing to publish: every ended period is on-chain"]
    assert "nothing to publish" not in again.stderr


def test_corrupt_state_file_is_one_error_line_at_once(on_disk: tuple[Path, Path, Path], tmp_path: Path) -> None:
    _, manifest, csv = on_disk
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(bytes(range(256)) * 64)
    done = run_cli(["publish", "--deployment", str(manifest), "--state", str(garbage), "--source", str(csv)],
                   {"RWA_HOME": str(tmp_path / ".rwa"), "RWA_RETRY_ATTEMPTS": "5", "RWA_RETRY_BASE_DELAY": "2"})
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        f"error: {garbage} is not an embedded-chain state file (not a SQLite file); pass another --state"
    ]  # one line, and no retry was logged before it


@pytest.mark.parametrize("change", ["chain_id", "oracle"])
def test_publish_refuses_a_manifest_of_another_chain(
    on_disk: tuple[Path, Path, Path], tmp_path: Path, change: str
) -> None:
    state, manifest, csv = on_disk
    data = json.loads(manifest.read_text())
    if change == "chain_id":
        data["chain_id"] += 1
        expected = f"the deployment is on chain {data['chain_id']} but this is chain {data['chain_id'] - 1}"
    else:
        data["contracts"]["oracle"] = "0x" + "ab" * 20
        expected = f"no oracle contract at {data['contracts']['oracle']}"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(data))
    done = run_cli(["publish", "--deployment", str(other), "--state", str(state), "--source", str(csv)],
                   {"RWA_HOME": str(tmp_path / ".rwa")})
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], done.stderr
    assert _oracle_events(state, manifest) == []


def test_cli_bad_input_is_one_error_line_with_exit_2(on_disk: tuple[Path, Path, Path], tmp_path: Path) -> None:
    state, manifest, _ = on_disk
    bad = write_export(billing_rows(range(1, 2)) + billing_rows(range(3, 4)), tmp_path / "gap.csv")
    done = run_cli(["publish", "--deployment", str(manifest), "--state", str(state), "--source", str(bad)],
                   {"RWA_HOME": str(tmp_path / ".rwa")})
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {bad}: line 3: period: missing month: period 2 is absent (rows jump from 1 to 3)"]
    assert _oracle_events(state, manifest) == []


def test_node_down_is_retried_then_one_error_line(tmp_path: Path, on_disk: tuple[Path, Path, Path]) -> None:
    _, manifest, csv = on_disk
    url = f"http://127.0.0.1:{free_port()}"
    env = {"RWA_HOME": str(tmp_path / ".rwa"), "RWA_RETRY_ATTEMPTS": "3", "RWA_RETRY_BASE_DELAY": "0.01"}
    for command in (["publish", "--source", str(csv)], ["status"]):
        done = run_cli([*command, "--deployment", str(manifest), "--rpc-url", url], env)
        assert done.returncode != 0
        (line,) = done.stderr.strip().splitlines()  # the retries are not printed: one line
        assert line.startswith("error: connecting to") and "did not answer after 3 attempts" in line


@pytest.mark.anvil
def test_publish_through_rpc_url_on_anvil(anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path) -> None:
    setup = deploy_oracle(anvil_chain, ended=2, bound=True)
    manifest = tmp_path / "deployment.json"
    write_manifest(setup, manifest, deal_file(tmp_path))
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")
    env = {"RWA_HOME": str(tmp_path / ".rwa"), "RWA_PRIVATE_KEYS": ",".join(anvil.private_keys)}
    args = ["publish", "--deployment", str(manifest), "--rpc-url", anvil.url, "--source", str(csv)]
    first = run_cli(args, env)
    assert first.returncode == 0, first.stderr
    assert "period 2: published" in first.stdout
    second = run_cli([*args, "--period", "2"], env)
    assert second.returncode == 0 and "already on-chain with the same data" in second.stdout
    assert [e.period for e in setup.oracle.events()] == [1, 2]
    assert setup.oracle.report_of(1) == read_billing(csv).row(1).to_report()
    reporters = {Account.from_key(k).address for k in anvil.private_keys[10:15]}
    signers = setup.oracle.events()[0].signers
    assert len(signers) == THRESHOLD and set(signers) <= reporters  # the node's random keys: any M of the five


@pytest.mark.anvil
def test_a_report_that_loses_a_race_in_its_block_names_the_contracts_reason(
    anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path
) -> None:
    """Two publishers (two senders, each its own outbox and connection) send period 1 while the node holds its
    block: both dry runs pass, both transactions are mined in one block, and the second fails there. Its publisher
    names the contract's reason, found by re-running the failed transaction's own calldata after its block
    (``PeriodAlreadyReported``), not a reason of its own making."""
    import threading

    from web3.types import RPCEndpoint

    from rwa.errors import ContractRevertError
    from rwa.oracle.publisher import PublishResult

    setup = deploy_oracle(anvil_chain, ended=2, bound=True)
    manifest = write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    report = read_billing(write_export(billing_rows(range(1, 3)), tmp_path / "b.csv")).row(1).to_report()
    outcomes: dict[str, PublishResult | Exception] = {}

    def publish_from(sender: int) -> None:
        keys = [Account.from_key(k) for k in anvil.private_keys]
        with connect(rpc_url=anvil.url, accounts=keys) as chain, Publisher(
            chain, manifest, keys=setup.reporters, outbox=tmp_path / f"outbox-{sender}.sqlite",
            sender=keys[sender].address, receipt_timeout=30,
        ) as publisher:
            try:
                outcomes[keys[sender].address] = publisher.publish_period(report)
            except Exception as exc:
                outcomes[keys[sender].address] = exc

    node = anvil_chain.w3.provider
    node.make_request(RPCEndpoint("evm_setAutomine"), [False])
    try:
        threads = [threading.Thread(target=publish_from, args=(i,)) for i in (1, 2)]
        for t in threads:
            t.start()
        deadline = 60
        while len(anvil_chain.w3.eth.get_block("pending")["transactions"]) < 2 and deadline:
            threads[0].join(0.25)
            deadline -= 1
        assert deadline, "both report transactions should wait in the node's pool"
        node.make_request(RPCEndpoint("evm_mine"), [])
        for t in threads:
            t.join(60)
    finally:
        node.make_request(RPCEndpoint("evm_setAutomine"), [True])
    results = list(outcomes.values())
    assert len(results) == 2
    published = [r for r in results if isinstance(r, PublishResult)]
    failed = [r for r in results if isinstance(r, ContractRevertError)]
    assert len(published) == 1 and published[0].status == "published", results
    assert len(failed) == 1 and failed[0].error_name == "PeriodAlreadyReported", results
    assert setup.oracle.report_of(1) == report


def test_no_fault_env_leaks() -> None:
    assert "RWA_FAULT" not in os.environ


# -- a quorum collected from signature files ---------------------------------------------------------------------


def test_a_short_set_of_signature_files_is_refused_unrecorded_and_a_complete_one_then_goes_through(
    on_disk: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """A publisher run before every reporter has signed sends and records nothing (exit 2, naming how many are
    present and how many the quorum needs); once the folder holds the quorum, the same outbox publishes it."""
    from rwa.oracle.signatures import sign_to_file

    state, manifest_path, csv = on_disk
    folder, box = tmp_path / "signatures", tmp_path / "outbox.sqlite"
    with connect(state=state) as chain:
        oracle = RevenueOracle.at(chain, load_manifest(manifest_path).address("oracle"))
        from rwa.oracle.keys import dev_reporters

        reporters = [r for r in dev_reporters(chain) if r.address in oracle.reporters()]
        report = read_billing(csv).row(1).to_report()
        sign_to_file(oracle, chain.chain_id, report, reporters[0], folder)
        head = chain.head()
    args = ["publish", "--signatures", str(folder), "--outbox", str(box), "--deployment", str(manifest_path),
            "--state", str(state)]
    env = {"RWA_HOME": str(tmp_path / ".rwa")}
    short = run_cli(args, env)
    assert short.returncode == 2, short.stderr
    assert short.stderr.startswith("error: ") and len(short.stderr.strip().splitlines()) == 1
    assert f"1 reporter signature present, the quorum needs {THRESHOLD}" in short.stderr
    with connect(state=state) as chain:
        assert chain.head() == head
        oracle = RevenueOracle.at(chain, load_manifest(manifest_path).address("oracle"))
        recorded = Outbox(box)
        try:
            assert recorded.get(oracle.address, ReportKind.SUBMITTED, 1) is None
        finally:
            recorded.close()
        for reporter in reporters[1:THRESHOLD]:
            sign_to_file(oracle, chain.chain_id, report, reporter, folder)
    done = run_cli(args, env)
    assert done.returncode == 0, done.stderr
    assert "period 1: published" in done.stdout and _oracle_events(state, manifest_path) == [1]


def test_a_short_set_recorded_unsent_is_superseded_by_a_complete_one(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    """An outbox that already holds a short, never-sent set (as an older version recorded it) does not block the
    complete set: the recorded one is replaced, and the report is sent once."""
    from rwa.oracle.publisher import publish_signed
    from rwa.oracle.report import sign_report
    from rwa.oracle.signatures import sign_to_file

    setup, manifest = deployed
    chain, oracle = setup.chain, setup.oracle
    report = read_billing(write_export(billing_rows(range(1, 3)), tmp_path / "b.csv")).row(1).to_report()
    box_path = tmp_path / "outbox.sqlite"
    box = Outbox(box_path)
    try:
        box.record_signed(oracle.address, ReportKind.SUBMITTED, report,
                          sign_report(report, setup.reporters[:1], chain.chain_id, oracle.address))
    finally:
        box.close()
    folder = tmp_path / "signatures"
    for reporter in setup.reporters[:THRESHOLD]:
        sign_to_file(oracle, chain.chain_id, report, reporter, folder)
    result = publish_signed(chain, manifest, folder, outbox=box_path)
    assert result.status == "published" and oracle.report_of(1) == report
    assert [e.period for e in oracle.events()] == [1]
    box = Outbox(box_path)
    try:
        entry = box.get(oracle.address, ReportKind.SUBMITTED, 1)
        assert entry is not None and entry.status is OutboxStatus.DONE and len(entry.signatures) == THRESHOLD
    finally:
        box.close()


def test_a_publisher_with_too_few_reporter_keys_records_nothing(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    setup, manifest = deployed
    report = read_billing(write_export(billing_rows(range(1, 3)), tmp_path / "b.csv")).row(1).to_report()
    from rwa.oracle.report import sign_report

    short = sign_report(report, setup.reporters[:THRESHOLD - 1], setup.chain.chain_id, setup.oracle.address)
    head = setup.chain.head()
    with Publisher(setup.chain, manifest, keys=setup.reporters, outbox=tmp_path / "o.sqlite") as publisher:
        with pytest.raises(InputError, match=f"{THRESHOLD - 1} reporter signatures present, the quorum needs"):
            publisher.publish_period(report, short)
        assert publisher.outbox.get(setup.oracle.address, ReportKind.SUBMITTED, 1) is None
    assert setup.chain.head() == head


def test_a_tape_row_changed_after_signing_is_refused_by_the_publisher(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    """A signature file carries the tape it signs; a row changed afterwards (here: the lessee shown paid when it
    was not) no longer recovers to its signer, and nothing is sent."""
    from rwa.oracle.publisher import publish_signed
    from rwa.oracle.signatures import collect, sign_to_file

    setup, manifest = deployed
    rows = billing_rows(range(1, 3))
    row = rows[0]
    row["tape"] = [{**tape_of(SERVERS, int(str(row["revenue"])))[0], "collected": 0, "days_past_due": 45}]
    report = read_billing(write_export(rows, tmp_path / "b.json")).row(1).to_report()
    folder = tmp_path / "signatures"
    paths = [sign_to_file(setup.oracle, setup.chain.chain_id, report, key, folder)
             for key in setup.reporters[:THRESHOLD]]
    assert collect(folder, setup.chain.chain_id, setup.oracle.address, 1)[0] == report
    data = json.loads(paths[0].read_text())
    data["report"]["tape"][0].update(collected=data["report"]["tape"][0]["billed"], days_past_due=0)
    paths[0].write_text(json.dumps(data))
    head = setup.chain.head()
    with pytest.raises(InputError, match=r"its tape_hash is not the hash of its tape rows: the file was altered"):
        publish_signed(setup.chain, manifest, folder)
    forged = Report.from_json(data["report"])  # the row and the hash it gives, changed together
    data["report"]["tape_hash"] = "0x" + forged.tape_hash.hex()
    paths[0].write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"does not recover to .*: the file was altered") as info:
        publish_signed(setup.chain, manifest, folder)
    assert "\n" not in str(info.value)
    assert setup.chain.head() == head and setup.oracle.latest_period() == 0


def test_a_reporter_refuses_to_sign_what_the_register_contradicts(
    deployed: tuple[OracleSetup, Manifest], tmp_path: Path
) -> None:
    """`report_to_sign` holds the figures to the register before any signature is made: one line naming the lease
    or the field."""
    from dataclasses import replace

    from rwa.model.fleet import LeaseRow
    from rwa.oracle.signatures import report_to_sign
    from tests.support.oracle import CONTRACTED_RENT, sample_report, with_tape

    setup, _ = deployed
    honest = sample_report(1)
    row = honest.tape[0]
    cases = [
        (with_tape(honest, [row, LeaseRow(2, 0, 0, 0)]), "tape: 2 rows, the register holds 1 leases"),
        (with_tape(honest, [replace(row, lease=2)]), "tape row 1: lease 2, must be lease 1"),
        (with_tape(replace(honest, active_servers=SERVERS + 1), [replace(row, servers=SERVERS + 1)]),
         f"lease 1: the tape has {SERVERS + 1} servers in service, the register gives the lease {SERVERS}"),
        (with_tape(honest, [replace(row, billed=row.billed + 1)]),
         f"source_revenue: {honest.source_revenue:,} is not the tape's billed total {row.billed + 1:,}"),
        (replace(honest, active_servers=SERVERS - 1), f"active_servers: {SERVERS - 1} is not the tape's servers"),
        (replace(honest, contracted_rent=CONTRACTED_RENT + 1),
         f"contracted_rent: {CONTRACTED_RENT + 1:,} is not the register's {CONTRACTED_RENT:,}"),
    ]
    for report, expected in cases:
        with pytest.raises(InputError) as info:
            report_to_sign(setup.oracle, report, amend=False)
        assert f"period 1: {expected}" in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert report_to_sign(setup.oracle, honest, amend=False) == honest


def test_a_reporter_signs_a_simulated_month_only_once_its_scheduled_deliveries_are_attested(
    simulated: tuple[OracleSetup, Manifest],
) -> None:
    """The simulator's figures count the deal's scheduled batches: before the register holds them a reporter refuses
    to sign (naming the first batch missing); once a run has attested them, the same figures are signed."""
    from rwa.oracle.attest import on_calendar
    from rwa.oracle.signatures import report_to_sign, require_attested
    from rwa.oracle.source import open_source

    setup, manifest = simulated
    figures = open_source(manifest, None, simulate=True)
    assert figures.planned
    first = figures.planned[0]
    with pytest.raises(InputError) as info:
        require_attested(setup.oracle, figures.planned, 1)
    due = [p for p in figures.planned if p.period <= 1]
    assert str(info.value).startswith(f"period 1: {len(due)} scheduled deliveries due by this period are not in the "
                                      f"fleet register yet (first: {first.servers} servers of {first.supplier} in "
                                      "period 1)")
    with pytest.raises(InputError, match=r"period 1: lease 1: the tape has \d+ servers in service, the register gives "
                                         r"the lease 0"):
        report_to_sign(setup.oracle, figures.report(1), amend=False)
    with Publisher(setup.chain, manifest, keys=setup.reporters) as publisher:
        sent = publisher.attest_due(figures.planned, 1)
    assert [r.item.servers for r in sent] == [p.servers for p in due]
    assert [r.item.accepted_at for r in sent] == [p.accepted_at for p in on_calendar(due, setup.oracle.config())]
    require_attested(setup.oracle, figures.planned, 1)
    assert report_to_sign(setup.oracle, figures.report(1), amend=False) == figures.report(1)
