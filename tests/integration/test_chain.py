"""Chains: the persisted embedded chain across processes, state-file safety, JSON-RPC nodes, decoded reverts."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from web3 import Web3

import rwa.chain.embedded as embedded_module
from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.chain.tx import send
from rwa.errors import ContractRevertError, StateFileError
from rwa.onchain.stablecoin import Stablecoin
from tests.support.anvil import AnvilNode, start_anvil


def rwa(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "rwa.cli.main", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False,
    )


DEPLOY = """
import sys
from pathlib import Path
from rwa.chain.connect import connect
from rwa.onchain.stablecoin import Stablecoin
with connect(state=Path(sys.argv[1])) as chain:
    token = Stablecoin.deploy_test(chain, chain.accounts[0].address).contract
    print(token.address, chain.w3.eth.block_number)
"""


def test_second_process_sees_first_process_deployment(tmp_path: Path) -> None:
    state = tmp_path / "chain.sqlite"
    out = subprocess.run([sys.executable, "-c", DEPLOY, str(state)], capture_output=True, text=True, check=True)
    address, head = out.stdout.split()
    info = rwa("chain", "info", "--state", str(state))
    assert info.returncode == 0, info.stderr
    assert any(line.split("│")[1:3] and "head block" in line and line.split("│")[2].strip() == head
               for line in info.stdout.splitlines())
    code = rwa("chain", "code", address, "--state", str(state))
    assert code.returncode == 0, code.stderr
    assert int(code.stdout.split(": ")[1].split()[0]) > 1000


def test_state_survives_reopen_with_balances(tmp_path: Path) -> None:
    state = tmp_path / "c.sqlite"
    with connect(state=state) as chain:
        token = Stablecoin.deploy_test(chain, chain.accounts[0].address).contract
        send(token.functions.mint(chain.accounts[3].address, 777), chain.accounts[0].address)
        head = chain.w3.eth.block_number
    with connect(state=state) as chain:
        assert chain.w3.eth.block_number == head
        reopened = chain.w3.eth.contract(address=token.address, abi=token.abi)
        assert reopened.functions.balanceOf(chain.accounts[3].address).call() == 777
        send(reopened.functions.mint(chain.accounts[3].address, 1), chain.accounts[0].address)
        assert reopened.functions.balanceOf(chain.accounts[3].address).call() == 778


def test_corrupt_state_file_is_an_error_not_a_reset(tmp_path: Path) -> None:
    state = tmp_path / "bad.sqlite"
    state.write_bytes(b"this is not a database" * 100)
    before = state.read_bytes()
    with pytest.raises(StateFileError, match="corrupt"):
        connect(state=state)
    assert state.read_bytes() == before
    done = rwa("chain", "info", "--state", str(state))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "corrupt" in done.stderr


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "other.sqlite"
    with sqlite3.connect(state) as db:
        db.execute("CREATE TABLE notes (x TEXT)")
    with pytest.raises(StateFileError, match="not an embedded-chain state file"):
        connect(state=state)


def test_state_from_another_genesis_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "c.sqlite"
    connect(state=state).close()
    with sqlite3.connect(state) as db:
        db.execute("UPDATE meta SET value = '00' WHERE key = 'genesis'")
    with pytest.raises(StateFileError, match="another genesis"):
        connect(state=state)


def _genesis(chain: Chain) -> str:
    return chain.w3.eth.get_block(0)["hash"].to_0x_hex()


def test_every_new_embedded_chain_has_a_genesis_of_its_own_and_keeps_it(tmp_path: Path) -> None:
    with connect(state=tmp_path / "a.sqlite") as a, connect(state=tmp_path / "b.sqlite") as b:
        assert a.chain_id == b.chain_id and [k.address for k in a.accounts] == [k.address for k in b.accounts]
        first = _genesis(a)
        assert first != _genesis(b)
        a.time_travel(a.now() + 60)
        head = a.head()
    with connect(state=tmp_path / "a.sqlite") as again:
        assert _genesis(again) == first and again.head() == head


def test_a_state_file_from_before_genesis_salts_opens_on_the_fixed_genesis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "old.sqlite"
    fixed = embedded_module.genesis_params
    with monkeypatch.context() as m:  # made as before: the fixed genesis, no salt recorded
        m.setattr(embedded_module, "genesis_params", lambda _salt: fixed(None))
        with connect(state=state) as old:
            old.time_travel(old.now() + 60)
            head, genesis = old.head(), _genesis(old)
    with sqlite3.connect(state) as db:
        db.execute("DELETE FROM meta WHERE key = 'salt'")
    with connect(state=state) as reopened:
        assert _genesis(reopened) == genesis and reopened.head() == head
    with connect(state=tmp_path / "new.sqlite") as new:
        assert _genesis(new) != genesis  # a new file is salted


def test_reset_asks_for_yes(tmp_path: Path) -> None:
    state = tmp_path / "c.sqlite"
    connect(state=state).close()
    refused = rwa("chain", "reset", "--state", str(state))
    assert refused.returncode == 2 and "--yes" in refused.stderr and state.exists()
    done = rwa("chain", "reset", "--state", str(state), "--yes")
    assert done.returncode == 0 and not state.exists()


def test_unknown_rpc_url_is_one_line_exit_2() -> None:
    done = rwa("chain", "info", "--rpc-url", "http://127.0.0.1:9")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: cannot reach a JSON-RPC node at http://127.0.0.1:9: ConnectionError"
    ]


def test_deploy_and_call_on_each_backend(any_chain: Chain) -> None:
    owner, holder = any_chain.accounts[0].address, any_chain.accounts[1].address
    token = Stablecoin.deploy_test(any_chain, owner).contract
    send(token.functions.mint(holder, 5_000_000), owner)
    assert token.functions.balanceOf(holder).call() == 5_000_000
    assert token.functions.decimals().call() == 6


@pytest.mark.parametrize("gas", [None, 200_000])
def test_custom_error_with_arguments_is_decoded(any_chain: Chain, gas: int | None) -> None:
    owner, other = any_chain.accounts[0].address, any_chain.accounts[1].address
    token = Stablecoin.deploy_test(any_chain, owner).contract
    with pytest.raises(ContractRevertError) as info:
        send(token.functions.mint(other, 1), other, gas=gas)
    assert info.value.error_name == "OwnableUnauthorizedAccount"
    assert info.value.error_args == {"account": other}
    with pytest.raises(ContractRevertError) as zero:
        send(token.functions.mint(other, 0), owner, gas=gas)
    assert zero.value.error_name == "ZeroMint" and zero.value.error_args == {"to": other}
    assert str(zero.value).endswith(f"reverted with ZeroMint(to={other})")


def test_cli_against_anvil_and_anvil_stops_by_pid(anvil: AnvilNode) -> None:
    done = rwa("chain", "info", "--rpc-url", anvil.url,
               env={"RWA_PRIVATE_KEYS": ",".join(anvil.private_keys[:2])})
    assert done.returncode == 0, done.stderr
    assert "31337" in done.stdout and "rpc chain" in done.stdout


def test_anvil_node_is_stopped_by_its_pid() -> None:
    from tests.support.anvil import start_anvil

    node = start_anvil(accounts=2)
    os.kill(node.pid, 0)  # running
    node.stop()
    with pytest.raises(ProcessLookupError):
        os.kill(node.pid, 0)


def test_test_stablecoin_refused_off_dev_chains(chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    from rwa.errors import InputError

    monkeypatch.setattr(Chain, "is_dev", property(lambda self: False))
    with pytest.raises(InputError, match="not a local development"):
        Stablecoin.deploy_test(chain, chain.accounts[0].address)


def test_embedded_get_logs_equals_eth_testers_own(chain: Chain) -> None:
    """The embedded chain's faster eth_getLogs returns exactly what eth-tester's would, filters included."""
    from eth_tester import EthereumTester

    owner = chain.accounts[0].address
    first = chain.w3.eth.block_number
    tokens = [Stablecoin.deploy_test(chain, owner).contract for _ in range(2)]
    for i, token in enumerate(tokens * 2):
        send(token.functions.mint(chain.accounts[i + 1].address, 10 + i), owner)
    chain.w3.eth.send_transaction({"from": owner, "to": chain.accounts[5].address, "value": 1, "gas": 21_000})
    tester = chain.w3.provider.ethereum_tester  # type: ignore[attr-defined]
    head = chain.w3.eth.block_number
    minted = Web3.keccak(text="Minted(address,uint256)").to_0x_hex()
    for kwargs in (
        {},
        {"address": tokens[0].address},
        {"address": [tokens[0].address, tokens[1].address]},
        {"address": tokens[1].address, "topics": [minted]},
    ):
        fast = tester.get_logs(first, head, **kwargs)
        slow = EthereumTester.get_logs(tester, first, head, **kwargs)
        assert fast == slow
    assert tester.backend.chain.mined  # the fast scan read the blocks this process mined from memory ...
    fast = tester.get_logs(first, head)
    tester.backend.chain.mined.clear()
    assert tester.get_logs(first, head) == fast  # ... and reads the same from the database
    assert len(fast) >= 8


def _kv_rows(state: Path) -> int:
    with sqlite3.connect(state) as db:
        return int(db.execute("SELECT count(*) FROM kv_log").fetchone()[0])


def test_a_format_1_state_file_is_migrated_to_the_log_with_its_chain(tmp_path: Path) -> None:
    """A state file written by the previous version (pairs in a table keyed by key) opens with its chain intact,
    converted to the append-only log in one transaction."""
    state = tmp_path / "c.sqlite"
    with connect(state=state) as chain:
        token = Stablecoin.deploy_test(chain, chain.accounts[0].address).contract
        send(token.functions.mint(chain.accounts[3].address, 777), chain.accounts[0].address)
        head = chain.w3.eth.get_block("latest")
    with sqlite3.connect(state) as db:  # what format 1 held: the live pairs by key
        live = dict(db.execute("SELECT k, v FROM kv_log ORDER BY seq"))
        db.execute("CREATE TABLE kv (k BLOB PRIMARY KEY, v BLOB NOT NULL)")
        db.executemany("INSERT INTO kv(k, v) VALUES (?, ?)", [(k, v) for k, v in live.items() if v is not None])
        db.execute("DROP TABLE kv_log")
        db.execute("UPDATE meta SET value = 'rwa-embedded-chain/1' WHERE key = 'format'")
    with connect(state=state) as chain:
        assert chain.w3.eth.get_block("latest")["hash"] == head["hash"]
        reopened = chain.w3.eth.contract(address=token.address, abi=token.abi)
        assert reopened.functions.balanceOf(chain.accounts[3].address).call() == 777
        send(reopened.functions.mint(chain.accounts[3].address, 1), chain.accounts[0].address)
    with sqlite3.connect(state) as db:
        tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert tables == {"meta", "kv_log"}
        assert dict(db.execute("SELECT key, value FROM meta"))["format"] == "rwa-embedded-chain/2"


def test_the_log_replays_deletes_and_is_compacted_when_it_outgrows_its_keys(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import rwa.chain.state_log as chain_module

    path = tmp_path / "s.sqlite"
    state = chain_module.ChainStateLog(path)
    assert state.open() == ({}, {})
    store = {b"a": b"1", b"b": b"2", b"c": b"3"}
    state.write({"format": chain_module.STATE_FORMAT}, store, {b"a", b"b", b"c"})
    store[b"a"] = b"4"
    del store[b"b"]
    state.write({"format": chain_module.STATE_FORMAT}, store, {b"a", b"b"})
    state.close()

    def reopened() -> dict[bytes, bytes]:
        again = chain_module.ChainStateLog(path)
        try:
            return again.open()[1]
        finally:
            again.close()

    assert _kv_rows(path) == 5
    assert reopened() == {b"a": b"4", b"c": b"3"}
    assert _kv_rows(path) == 5  # 5 rows, 2 live keys: under the threshold
    monkeypatch.setattr(chain_module, "COMPACT_AFTER", 0)  # 5 rows > 2 * 2 live keys: rewritten
    assert reopened() == {b"a": b"4", b"c": b"3"}
    assert _kv_rows(path) == 2
    assert reopened() == {b"a": b"4", b"c": b"3"}


def _head(state: Path) -> tuple[int, int]:
    with connect(state=state) as chain:
        return chain.head()


def test_chain_advance_moves_a_development_clock_by_one_empty_block_and_refuses_the_past(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from rwa.model.deal_file import load_deal
    from rwa.model.terms import period_ends
    from tests.support.oracle import deal_file, deploy_oracle, write_manifest

    state = tmp_path / "chain.sqlite"
    with connect(state=state) as chain:
        setup = deploy_oracle(chain)
        manifest = write_manifest(setup, tmp_path / "deployment.json", deal_file(tmp_path))
        block, start = chain.head()
    moved = rwa("chain", "advance", "--by", "30d", "--state", str(state))
    assert moved.returncode == 0, moved.stderr
    with connect(state=state) as chain:
        head, when = chain.head()
        assert head == block + 1 and when >= start + 30 * 86_400
        assert chain.w3.eth.get_block(head)["transactions"] == []
    assert f"(block {head}; no transaction sent)" in moved.stdout
    for args, why in ((["--to", "2020-01-01"], "a clock only moves forward"), (["--by", "30 days"], "not a duration"),
                      (["--by", "1d", "--to", "2040-01-01"], "exactly one of"),
                      (["--period-end", "999", "--deployment", str(tmp_path / "deployment.json")], "--period-end 999")):
        refused = rwa("chain", "advance", *args, "--state", str(state))
        assert refused.returncode == 2 and refused.stderr.startswith("error: ") and why in refused.stderr, refused
        assert _head(state) == (head, when)
    ends = period_ends(load_deal(Path(manifest.deal_file)))
    period = next(p for p, end in enumerate(ends, 1) if end > when + 1)  # the deal's next period end
    assert rwa("chain", "advance", "--period-end", str(period), "--deployment", str(tmp_path / "deployment.json"),
               "--state", str(state)).returncode == 0
    assert _head(state)[1] >= ends[period - 1]
    later = rwa("chain", "advance", "--to", "2040-01-01T00:00:00Z", "--state", str(state))
    assert "clock moved to 2040-01-01T00:00:00Z" in later.stdout
    assert _head(state)[1] >= int(datetime(2040, 1, 1, tzinfo=UTC).timestamp())


def test_chain_advance_is_refused_on_a_node_that_is_not_a_development_chain() -> None:
    node = start_anvil(chain_id=1)
    try:
        with connect(rpc_url=node.url) as chain:
            head = chain.head()
        refused = rwa("chain", "advance", "--by", "1d", "--rpc-url", node.url)
        assert refused.returncode == 2 and refused.stderr.startswith("error: ") and "development" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1
        with connect(rpc_url=node.url) as chain:
            assert chain.head() == head
    finally:
        node.stop()


@pytest.mark.parametrize(("first", "then"), [(True, False), (False, True), (False, False)],
                         ids=["fast-then-plain", "plain-then-fast", "plain-then-plain"])
def test_a_state_file_reopens_where_it_stopped_with_the_fast_path_on_or_off(
        tmp_path: Path, first: bool, then: bool) -> None:
    state = tmp_path / "chain.sqlite"
    with connect(state=state, fast=first) as chain:
        owner, alice = (a.address for a in chain.accounts[:2])
        coin = Stablecoin.deploy_test(chain, owner)
        coin.mint(alice, 500, sender=owner)
        head = chain.head()
    with connect(state=state, fast=then) as again:
        assert again.head() == head
        reopened = Stablecoin.at(again, coin.address)
        assert reopened.balance_of(alice) == 500
        reopened.mint(alice, 1, sender=owner)
        assert reopened.balance_of(alice) == 501 and again.head()[0] == head[0] + 1


def test_the_fast_path_setting_is_read_and_checked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rwa.errors import InputError

    monkeypatch.setenv("RWA_FAST_PATH", "0")
    with connect(state=tmp_path / "a.sqlite") as plain:
        assert not plain.local_views
    with connect(state=tmp_path / "b.sqlite", fast=True) as fast:  # the parameter wins over the setting
        assert fast.local_views
    monkeypatch.setenv("RWA_FAST_PATH", "sometimes")
    with pytest.raises(InputError, match="RWA_FAST_PATH='sometimes': not a switch"):
        connect(state=tmp_path / "c.sqlite")
    monkeypatch.setenv("RWA_FAST_PATH", "")
    with connect(state=tmp_path / "d.sqlite") as default:
        assert default.local_views
