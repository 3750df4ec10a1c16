"""Deliveries and lease updates attested by hand: each reporter signs alone (`rwa oracle sign --delivery` /
`--lease-update`), anyone relays a quorum (`rwa oracle attest`), once; what the register would refuse is refused
before anything is sent."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.errors import InputError
from rwa.model.fleet import LeaseStatus, contracted_rent
from rwa.onchain.deployment import load_manifest
from rwa.onchain.oracle import RevenueOracle
from rwa.onchain.register import Delivery, FleetRegister, LeaseUpdate, serials_hash
from rwa.oracle import attestations
from rwa.oracle.attestations import Attester, check_item, check_sequence, collect
from rwa.oracle.keys import dev_reporters
from rwa.oracle.outbox import Outbox, OutboxStatus
from tests.support.anvil import AnvilNode
from tests.support.oracle import (
    PERIODS,
    SERIALS,
    SERVERS,
    THRESHOLD,
    OracleSetup,
    deal_file,
    deploy_oracle,
    run_cli,
    write_manifest,
)


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))


def _iso(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat().replace("+00:00", "Z")


def _delivery_file(path: Path, servers: int, accepted: int, first: int = 0, **extra: object) -> Path:
    """An operator's delivery file: the supplier by name, the serial numbers, the acceptance as ISO 8601."""
    data = {"order": "Test supplier", "servers": servers, "serials": list(SERIALS[first:first + servers]),
            "site": "Test site", "accepted": _iso(accepted), **extra}
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.fixture
def on_disk(tmp_path: Path) -> tuple[Path, Path, int]:
    """A state file with the test oracle and its register (nothing delivered yet), its manifest, its first start."""
    state = tmp_path / "chain.sqlite"
    with connect(state=state) as chain:
        setup = deploy_oracle(chain, ended=2, bound=True, deliver=False)
        write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
    return state, tmp_path / "deployment.json", setup.first_start


def _register(chain: Chain, manifest: Path) -> tuple[RevenueOracle, FleetRegister]:
    oracle = RevenueOracle.at(chain, load_manifest(manifest).address("oracle"))
    return oracle, FleetRegister.at(chain, oracle.register())


def test_reporters_sign_a_delivery_alone_and_a_relay_attests_it_once(
    on_disk: tuple[Path, Path, int], tmp_path: Path
) -> None:
    state, manifest, first_start = on_disk
    where = ["--deployment", str(manifest), "--state", str(state)]
    delivery = _delivery_file(tmp_path / "delivery.json", 300, first_start)
    folder = tmp_path / "signatures"
    for key in range(THRESHOLD):
        done = run_cli(["sign", "--delivery", str(delivery), "--dev-key", str(key), "--out", str(folder), *where])
        assert done.returncode == 0, done.stderr
        assert "delivery (order 0, 300 servers, sequence 0): signed by" in done.stdout
    assert len(list(folder.glob("delivery-0-*.json"))) == THRESHOLD
    sent = run_cli(["attest", "--delivery", str(delivery), "--signatures", str(folder), *where])
    assert sent.returncode == 0, sent.stderr
    assert "attested in transaction" in sent.stdout
    again = run_cli(["attest", "--delivery", str(delivery), "--signatures", str(folder), *where])
    assert again.returncode == 0, again.stderr
    assert "already attested" in again.stdout  # a re-run finishes, it does not fail on the used sequence
    resigned = run_cli(["sign", "--delivery", str(delivery), "--dev-key", "0", "--out", str(tmp_path / "again"),
                        *where])  # the same batch signed again would take the next sequence: refused
    assert resigned.returncode == 2
    assert "these serial numbers are already attested, as delivery 0 (sequence 0" in resigned.stderr
    with connect(state=state) as chain:
        oracle, register = _register(chain, manifest)
        [record] = register.deliveries()
        assert (record.order, record.servers, record.accepted_at) == (0, 300, first_start)
        [event] = register.events(names=("DeliveryAttested",))
        assert event.args["serialsHash"] == serials_hash(SERIALS[:300]) and event.args["site"] == "Test site"
        assert sorted(s.lower() for s in event.args["signers"]) == sorted(
            r.address.lower() for r in dev_reporters(chain)[:THRESHOLD])
        assert register.sequence() == 1
        # the register's rule follows: period 1's contracted rent is the rent of the 300 servers delivered
        assert contracted_rent(register.leases(), register.fleet_at(oracle.period_end(1)), 1) == \
            300 * register.leases()[0].rent_per_server


def test_a_lease_update_is_signed_and_attested_by_the_cli(on_disk: tuple[Path, Path, int], tmp_path: Path) -> None:
    state, manifest, _ = on_disk
    where = ["--deployment", str(manifest), "--state", str(state)]
    with connect(state=state) as chain:
        _, register = _register(chain, manifest)
        lease = register.leases()[0]
    update = LeaseUpdate(1, LeaseStatus.DEFAULTED, lease.servers, lease.rent_per_server, lease.start_period,
                         lease.end_period, lease.lessee, 0)
    data = update.to_json()
    del data["sequence"]  # read from the register when the file is signed
    path = tmp_path / "update.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    folder = tmp_path / "signatures"
    for key in range(THRESHOLD):
        done = run_cli(["sign", "--lease-update", str(path), "--dev-key", str(key), "--out", str(folder), *where])
        assert done.returncode == 0, done.stderr
    sent = run_cli(["attest", "--lease-update", str(path), "--signatures", str(folder), *where])
    assert sent.returncode == 0, sent.stderr
    with connect(state=state) as chain:
        _, register = _register(chain, manifest)
        assert register.leases()[0].status is LeaseStatus.DEFAULTED
        [event] = register.events(names=("LeaseUpdated",))
        assert (event.args["oldStatus"], event.args["status"], event.args["sequence"]) == (0, 2, 0)


def test_beyond_the_order_or_without_a_quorum_the_cli_refuses_before_sending(
    on_disk: tuple[Path, Path, int], tmp_path: Path
) -> None:
    state, manifest, first_start = on_disk
    where = ["--deployment", str(manifest), "--state", str(state)]
    beyond = tmp_path / "beyond.json"
    beyond.write_text(json.dumps({"order": 0, "servers": SERVERS + 1, "serials_hash": "0x" + "ab" * 32,
                                  "site": "Test site", "accepted_at": first_start}), encoding="utf-8")
    refused = run_cli(["sign", "--delivery", str(beyond), "--dev-key", "0", "--out", str(tmp_path / "s"), *where])
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        f"error: delivery (order 0): {SERVERS + 1} servers are beyond the order: 0 of {SERVERS} delivered already, "
        f"{SERVERS} left"]
    # signature files made without the checks (by another tool): the relay refuses them before sending
    folder = tmp_path / "signatures"
    with connect(state=state) as chain:
        oracle, register = _register(chain, manifest)
        item = attestations.read_delivery(beyond, register)
        for key in dev_reporters(chain)[:THRESHOLD]:
            attestations.sign_to_file(oracle, item, key, folder)
        head = chain.head()
    sent = run_cli(["attest", "--delivery", str(beyond), "--signatures", str(folder), *where])
    assert sent.returncode == 2 and len(sent.stderr.strip().splitlines()) == 1, sent.stderr
    assert "beyond the order" in sent.stderr
    fine = _delivery_file(tmp_path / "fine.json", 10, first_start)
    short = tmp_path / "short"
    for key in range(THRESHOLD - 1):
        assert run_cli(["sign", "--delivery", str(fine), "--dev-key", str(key), "--out", str(short),
                        *where]).returncode == 0
    few = run_cli(["attest", "--delivery", str(fine), "--signatures", str(short), *where])
    assert few.returncode == 2
    assert few.stderr.strip().splitlines() == [
        f"error: delivery (order 0, 10 servers, sequence 0): {THRESHOLD - 1} reporter signatures present, the quorum "
        f"needs {THRESHOLD}; nothing was sent: attest again once the missing reporters have signed"]
    with connect(state=state) as chain:
        assert chain.head() == head
        assert _register(chain, manifest)[1].deliveries() == []


@pytest.fixture
def setup(chain: Chain) -> OracleSetup:
    return deploy_oracle(chain, ended=2, deliver=False)


def _delivery(s: OracleSetup, servers: int, accepted: int, sequence: int = 0, first: int = 0) -> Delivery:
    return Delivery(0, servers, serials_hash(SERIALS[first:first + servers]), accepted, "Test site", sequence)


def _attester(s: OracleSetup, tmp_path: Path) -> Attester:
    return Attester(s.chain, s.register, Outbox(tmp_path / "outbox.sqlite"), s.chain.account(s.admin))


def _signed(s: OracleSetup, item: attestations.Item) -> list[bytes]:
    from rwa.oracle.report import sign_typed

    return sign_typed(attestations.typed_data(item, s.chain.chain_id, s.oracle.address), s.reporters[:THRESHOLD])


def test_what_the_register_would_refuse_is_one_line_before_anything_is_sent(setup: OracleSetup,
                                                                            tmp_path: Path) -> None:
    s = setup
    now = s.chain.now()
    attester = _attester(s, tmp_path)
    head = s.chain.head()
    cases: list[tuple[attestations.Item, str]] = [
        (replace(_delivery(s, 10, s.first_start), order=1), "unknown order 1: the register has orders 0..0"),
        (_delivery(s, 10, now + 3_600), f"accepted_at {now + 3_600} is in the future"),
        (_delivery(s, 10, s.first_start, sequence=1), "sequence 1, the register's next is 0"),
        (LeaseUpdate(3, LeaseStatus.ACTIVE, 1, 1, 1, 2, "New lessee", 0),
         "unknown lease 3: the register has leases 1..1, or 2 for a new one"),
        (LeaseUpdate(2, LeaseStatus.TERMINATED, 1, 1, 1, 2, "New lessee", 0),
         "a new lease is active or re-let, not terminated"),
        (LeaseUpdate(1, LeaseStatus.ACTIVE, 1, 1, 1, PERIODS + 1, "Test lessee", 0),
         f"term 1..{PERIODS + 1} is not within the deal's periods 1..{PERIODS}"),
    ]
    for item, expected in cases:
        with pytest.raises(InputError) as info:
            attester.attest(item, _signed(s, item))
        assert expected in str(info.value) and "\n" not in str(info.value), str(info.value)
    assert s.chain.head() == head
    attester.attest(_delivery(s, 10, s.first_start + 100), _signed(s, _delivery(s, 10, s.first_start + 100)))
    early = _delivery(s, 10, s.first_start, sequence=1, first=10)
    with pytest.raises(InputError, match=r"is before the last delivery's \(\d+\): deliveries are attested in"):
        check_item(s.register, early, s.chain.now())
    taken = _delivery(s, 20, s.first_start + 200)  # sequence 0 was used by another delivery
    with pytest.raises(InputError, match="sequence 0 was used by another attestation; the reporters must sign it "
                                         "again with sequence 1"):
        attester.attest(taken, _signed(s, taken))
    check_sequence(s.register, replace(taken, sequence=1))
    attester.outbox.close()


def test_an_attestation_interrupted_before_its_broadcast_is_resent_from_the_outbox(
    setup: OracleSetup, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    s = setup
    item = _delivery(s, 100, s.first_start)
    attester = _attester(s, tmp_path)
    real = type(s.chain).send_raw_unless_reverted

    def crash(chain: Chain, raw: bytes) -> str | None:
        raise KeyboardInterrupt("killed before the broadcast")

    monkeypatch.setattr(type(s.chain), "send_raw_unless_reverted", crash)
    with pytest.raises(KeyboardInterrupt):
        attester.attest(item, _signed(s, item))
    entry = attester.outbox.attestation(s.register.address, 0)
    assert entry is not None and entry.status is OutboxStatus.SENDING and entry.raw_tx is not None
    assert s.register.deliveries() == []
    monkeypatch.setattr(type(s.chain), "send_raw_unless_reverted", real)
    done = attester.attest(item, _signed(s, item))
    assert done.attested and done.tx_hash == entry.tx_hash  # the recorded transaction, not a second one
    again = attester.attest(item, _signed(s, item))
    assert not again.attested and again.tx_hash == entry.tx_hash
    assert len(s.register.deliveries()) == 1 and s.register.sequence() == 1
    [recorded] = [attester.outbox.attestation(s.register.address, 0)]
    assert recorded is not None and recorded.status is OutboxStatus.DONE
    attester.outbox.close()


def test_collect_refuses_an_altered_file_and_files_of_another_item(setup: OracleSetup, tmp_path: Path) -> None:
    s = setup
    item = _delivery(s, 10, s.first_start)
    folder = tmp_path / "signatures"
    paths = [attestations.sign_to_file(s.oracle, item, key, folder) for key in s.reporters[:THRESHOLD]]
    got, sigs = collect(folder, s.chain.chain_id, s.oracle.address, item)
    assert got == item and len(sigs) == THRESHOLD
    with pytest.raises(InputError, match="no signature file for this delivery"):
        collect(folder, s.chain.chain_id, s.oracle.address, replace(item, servers=11))
    data = json.loads(paths[0].read_text())
    data["signature"] = data["signature"][:-2] + ("1c" if data["signature"].endswith("1b") else "1b")
    paths[0].write_text(json.dumps(data))
    with pytest.raises(InputError, match=r"does not recover to .*: the file was altered"):
        collect(folder, s.chain.chain_id, s.oracle.address, item)


@pytest.mark.anvil
def test_a_relay_attests_through_rpc_url_on_anvil_once(anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path) -> None:
    s = deploy_oracle(anvil_chain, ended=2, bound=True, deliver=False)
    manifest = tmp_path / "deployment.json"
    write_manifest(s, manifest, deal_file(tmp_path))
    path = _delivery_file(tmp_path / "delivery.json", 40, s.first_start, sequence=0)
    item = attestations.read_delivery(path, s.register)
    folder = tmp_path / "signatures"
    for key in s.reporters[:THRESHOLD]:  # each reporter's own machine; the relay holds no reporter key
        attestations.sign_to_file(s.oracle, item, key, folder)
    env = {"RWA_HOME": str(tmp_path / ".rwa"), "RWA_PRIVATE_KEYS": anvil.private_keys[1]}
    args = ["attest", "--delivery", str(path), "--signatures", str(folder), "--deployment", str(manifest),
            "--rpc-url", anvil.url]
    first = run_cli(args, env)
    assert first.returncode == 0, first.stderr
    again = run_cli(args, env)
    assert again.returncode == 0 and "already attested" in again.stdout, again.stderr
    [record] = s.register.deliveries()
    assert (record.servers, record.accepted_at) == (40, s.first_start) and s.register.sequence() == 1
