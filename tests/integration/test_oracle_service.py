"""The scheduled publisher: catch-up at start, firing on its trigger, clean stop on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.triggers.interval import IntervalTrigger

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.model.deal_file import load_deal
from rwa.onchain.oracle import RevenueOracle
from rwa.oracle.service import OracleService, cron_trigger, period_end_trigger
from tests.support.anvil import free_port
from tests.support.oracle import (
    CLI,
    PERIOD,
    billing_rows,
    deal_file,
    deploy_oracle,
    run_cli,
    write_export,
    write_manifest,
)


def test_interval_trigger_catches_up_two_missed_periods_then_fires_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))
    state = tmp_path / "chain.sqlite"
    with connect(state=state) as chain:  # each run of the service opens the state file itself, in its thread
        setup = deploy_oracle(chain, ended=2)
        oracle_address = setup.oracle.address
        manifest = tmp_path / "deployment.json"
        write_manifest(setup, manifest, deal_file(tmp_path))
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")
    service = OracleService(manifest, state=state, source=csv)
    thread = threading.Thread(target=service.run, args=(IntervalTrigger(seconds=0.2),),
                              kwargs={"install_signals": False})
    thread.start()
    try:
        assert service.wait_runs(1, timeout=30)
        assert [r.period for r in service.runs[0]] == [1, 2]  # the two missed periods, at start
        with service.lock, connect(state=state) as chain:  # between runs: period 3 ends and its billing arrives
            chain.time_travel(setup.first_start + 3 * PERIOD)
            write_export(billing_rows(range(1, 4)), csv)
        deadline = time.monotonic() + 30
        while not any(r.period == 3 for run in service.runs for r in run) and time.monotonic() < deadline:
            service.wait_runs(len(service.runs) + len(service.failures) + 1, timeout=5)
    finally:
        service.stop()
        thread.join(timeout=30)
    assert not thread.is_alive()
    published = [r.period for run in service.runs for r in run if r.status == "published"]
    assert published == [1, 2, 3]
    assert service.failures == []
    with connect(state=state) as chain:
        assert [e.period for e in RevenueOracle.at(chain, oracle_address).events()] == [1, 2, 3]


def test_bad_cron_is_an_input_error() -> None:
    with pytest.raises(InputError, match="--cron"):
        cron_trigger("every month")
    monthly = cron_trigger("0 6 1 * *")
    fire = monthly.get_next_fire_time(None, datetime(2026, 3, 15, tzinfo=UTC))
    assert fire == datetime(2026, 4, 1, 6, 0, tzinfo=UTC)


def test_the_default_schedule_fires_six_hours_after_each_of_the_deals_period_ends(tmp_path: Path) -> None:
    with connect(state=tmp_path / "chain.sqlite") as chain:
        manifest = write_manifest(deploy_oracle(chain), tmp_path / "deployment.json", deal_file(tmp_path))
    trigger = period_end_trigger(tmp_path / "deployment.json")
    deal = load_deal(Path(manifest.deal_file))
    assert len(trigger.fire_times) == deal.periods.count
    first = trigger.get_next_fire_time(None, datetime(2025, 7, 15, tzinfo=UTC))
    assert first == deal.periods.end_of(1) + timedelta(hours=6) == datetime(2025, 8, 1, 6, tzinfo=UTC)
    fires = [first]
    while (fire := trigger.get_next_fire_time(fires[-1], fires[-1])) is not None:
        fires.append(fire)
    assert fires[-1] == datetime(2030, 7, 1, 6, tzinfo=UTC)  # period 60 ends with the leases, then nothing
    assert len(fires) == deal.periods.count and all(f.day == 1 and f.hour == 6 for f in fires)
    assert trigger.get_next_fire_time(None, datetime(2028, 2, 1, 6, tzinfo=UTC)) == datetime(2028, 2, 1, 6, tzinfo=UTC)


def _run_service_until(tmp_path: Path, args: list[str], marker: str) -> tuple[int, str]:
    """Start `rwa oracle run ARGS`, wait for a stderr line holding ``marker``, stop it with SIGTERM; (code, log)."""
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "RWA_HOME": str(tmp_path / ".rwa")}
    proc = subprocess.Popen(
        [sys.executable, "-c", CLI, "oracle", "run", "--deployment", str(tmp_path / "deployment.json"), *args],
        cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    lines: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if marker in line:
            break
    proc.send_signal(signal.SIGTERM)
    _, rest = proc.communicate(timeout=30)
    return proc.returncode, "".join(lines) + rest


def test_run_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    state = tmp_path / "chain.sqlite"
    with connect(state=state) as disk_chain:
        setup = deploy_oracle(disk_chain, ended=2)
        write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")
    code, log = _run_service_until(
        tmp_path, ["--state", str(state), "--source", str(csv), "--cron", "0 6 1 * *"], "publish job: done"
    )
    assert code == 0, log
    assert "publish job: done, 2 period(s) published" in log
    assert "oracle service: stopped" in log


@pytest.mark.parametrize("problem", ["missing", "malformed", "other-chain"])
def test_run_with_an_unusable_manifest_exits_at_once(tmp_path: Path, problem: str) -> None:
    state = tmp_path / "chain.sqlite"
    with connect(state=state) as disk_chain:
        setup = deploy_oracle(disk_chain, ended=2)
        write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    manifest = tmp_path / "run.json"
    if problem == "malformed":
        manifest.write_bytes(b"\x00{not json")
        expected = "not a JSON deployment manifest"
    elif problem == "other-chain":
        data = json.loads((tmp_path / "deployment.json").read_text())
        data["chain_id"] += 7
        manifest.write_text(json.dumps(data))
        expected = f"the deployment is on chain {data['chain_id']}"
    else:
        expected = f"no deployment manifest at {manifest}"
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")
    done = run_cli(["run", "--deployment", str(manifest), "--state", str(state), "--source", str(csv)],
                   {"RWA_HOME": str(tmp_path / ".rwa")}, timeout=60)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and expected in errors[0], done.stderr
    assert "oracle service: started" not in done.stderr
    with connect(state=state) as chain:
        assert RevenueOracle.at(chain, setup.oracle.address).events() == []


def test_a_scenario_typo_is_refused_before_the_service_starts(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="use one of base, stress"):
        OracleService(tmp_path / "deployment.json", simulate=True, scenario="strss")


def test_a_node_down_at_start_is_a_warning_and_the_service_keeps_running(tmp_path: Path) -> None:
    state = tmp_path / "chain.sqlite"
    with connect(state=state) as disk_chain:
        setup = deploy_oracle(disk_chain, ended=2)
        write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    csv = write_export(billing_rows(range(1, 3)), tmp_path / "billing.csv")
    node = f"http://127.0.0.1:{free_port()}"
    code, log = _run_service_until(
        tmp_path, ["--rpc-url", node, "--source", str(csv), "--retries", "1"], "publish job failed"
    )
    assert code == 0, log
    assert "starting anyway, each run retries the node" in log and "oracle service: stopped" in log


@pytest.mark.parametrize("scenario", ["base", "delivery-shortfall"])
def test_a_simulated_run_attests_the_scheduled_deliveries_before_each_report(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, scenario: str
) -> None:
    """The service's run over a simulated deal: the batches the deal schedules by each period (the scenario's: the
    largest order short in ``delivery-shortfall``) are attested before that period's report, so the reports'
    tapes, servers and rents are the register's; a second run sends nothing."""
    from rwa.model.fleet import contracted_rent, delivery_batches, register_terms
    from rwa.onchain.register import FleetRegister

    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))
    deal_path = deal_file(tmp_path)
    deal = load_deal(deal_path)
    terms = register_terms(deal, chain.accounts[0].address)
    setup = deploy_oracle(chain, ended=2, bound=True, terms=terms)
    write_manifest(setup, tmp_path / "deployment.json", deal_path)
    service = OracleService(tmp_path / "deployment.json", simulate=True, scenario=scenario, chain=chain)
    results = service.publish_once()
    assert [(r.period, r.status) for r in results] == [(1, "published"), (2, "published")]
    batches = delivery_batches(deal, shortfall=scenario == "delivery-shortfall")
    register = FleetRegister.at(chain, setup.oracle.register())
    due = [b for b in batches if b.period <= 2]
    assert [(d.order, d.servers) for d in register.deliveries()] == [
        (terms.order_index(b.supplier), b.servers) for b in due]
    for period in (1, 2):
        fleet = sum(b.servers for b in batches if b.period <= period)
        assert register.fleet_at(setup.oracle.period_end(period)) == fleet
        report = setup.oracle.report_of(period)
        assert report is not None and report.contracted_rent == contracted_rent(terms.leases, fleet, period)
        assert report.active_servers <= fleet
    if scenario == "delivery-shortfall":
        assert sum(b.servers for b in due) < sum(o.servers for o in terms.orders)
    # the next run (the development clock moves to period 3's end) attests no batch twice
    assert [r.period for r in service.publish_once()] == [3]
    assert len(register.deliveries()) == len([b for b in batches if b.period <= 3])
