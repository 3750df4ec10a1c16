"""Independent reporters: M separate `rwa oracle sign` processes, each with its own key file and its own copy of the
billing data, and a publisher that holds no reporter key and only relays their signatures."""

from __future__ import annotations

from pathlib import Path

from eth_account import Account

from rwa.chain.interface import Chain
from rwa.model.units import fx_convert_down
from rwa.oracle.keys import write_keystore
from tests.support.anvil import AnvilNode
from tests.support.lifecycle import run_lifecycle
from tests.support.oracle import RMB_RATE, converted_rows, register_tape, run_cli, write_export

PASSWORD = "reporter-test-password"


def test_a_report_from_m_signature_files_made_by_separate_processes_by_a_publisher_without_reporter_keys(
    anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path
) -> None:
    chain = anvil_chain
    deal, manifest = run_lifecycle(chain, tmp_path, periods=1)
    oracle, threshold = deal.oracle, deal.manifest.roles.threshold
    period = oracle.latest_period() + 1
    assert deal.register is not None
    _, rent = register_tape(deal.register, oracle, period, 0)  # the rent of the leases' delivered servers
    keys = {a.address.lower(): a for a in (Account.from_key(k) for k in anvil.private_keys)}
    reporters = [keys[r.lower()] for r in oracle.reporters()][:threshold]
    signatures = tmp_path / "signatures"
    billed = converted_rows(range(1, period + 1), rent=rent)  # the month's RMB billing and the rate it converts at
    month = billed[period - 1]
    tape, _ = register_tape(deal.register, oracle, period, int(str(month["source_revenue"])))  # one row per lease
    month.update(active_servers=sum(r.servers for r in tape), tape=[
        {"lease": r.lease, "servers": r.servers, "billed": r.billed, "collected": r.collected,
         "days_past_due": r.days_past_due} for r in tape])
    env = {"RWA_PRIVATE_KEYS": ""}  # a reporter's machine: its own key file only
    chain.time_travel(oracle.period_end(period))  # a period is signed once it has ended
    for i, reporter in enumerate(reporters):
        home = tmp_path / f"reporter-{i}"
        home.mkdir()
        keystore = write_keystore(reporter, home / "key.json", PASSWORD, iterations=2)
        export = write_export(billed, home / "billing.csv")
        done = run_cli(["sign", "--period", str(period), "--source", str(export), "--key", str(keystore),
                        "--password", PASSWORD, "--out", str(signatures), "--deployment", str(manifest),
                        "--rpc-url", anvil.url], env=env)
        assert done.returncode == 0, done.stderr
        assert reporter.address in done.stdout
    assert len(list(signatures.glob("period-*.json"))) == threshold
    publisher_key = chain.accounts[1]  # the servicer's machine: it is not a reporter
    assert publisher_key.address.lower() not in {r.lower() for r in oracle.reporters()}
    relay = run_cli(["publish", "--signatures", str(signatures), "--deployment", str(manifest), "--rpc-url",
                     anvil.url], env={"RWA_PRIVATE_KEYS": "0x" + bytes(publisher_key.key).hex()})
    assert relay.returncode == 0, relay.stderr
    (event,) = [e for e in oracle.events() if e.report.period == period]
    assert sorted(s.lower() for s in event.signers) == sorted(r.address.lower() for r in reporters)
    row = billed[period - 1]
    assert (event.report.revenue, event.report.source_revenue, event.report.fx_rate) == (
        row["revenue"], row["source_revenue"], RMB_RATE)
    assert event.report.revenue == fx_convert_down(event.report.source_revenue, RMB_RATE)
    tampered = next(signatures.glob("period-*.json"))
    tampered.write_text(tampered.read_text().replace('"revenue": ', '"revenue": 1'), encoding="utf-8")
    again = run_cli(["publish", "--signatures", str(signatures), "--period", str(period), "--deployment",
                     str(manifest), "--rpc-url", anvil.url],
                    env={"RWA_PRIVATE_KEYS": "0x" + bytes(publisher_key.key).hex()})
    assert again.returncode == 2 and again.stderr.startswith("error: ") and "altered" in again.stderr
