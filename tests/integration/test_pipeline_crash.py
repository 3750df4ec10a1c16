"""A batch of transactions killed between its broadcast and its receipts: the next run adopts what was mined and
sends nothing twice (:mod:`rwa.chain.pipeline`, :mod:`rwa.issuance.resume`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from hexbytes import HexBytes
from web3.exceptions import TransactionNotFound

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.cli.demo import write_offering_deal
from rwa.errors import InputError
from rwa.issuance.governance import check_roles
from rwa.issuance.issue import issue, plan_issue
from rwa.onchain.deployed import open_deployment
from rwa.onchain.deployment import load_manifest
from tests.support.anvil import AnvilNode, start_anvil
from tests.support.deals import EXAMPLE_DEAL

WEEK = 7 * 86_400


@pytest.fixture
def slow_node() -> Iterator[AnvilNode]:
    """anvil mining a block every 2 seconds: a batch waits long enough for its receipts to be killed meanwhile."""
    node = start_anvil(block_time=2)
    yield node
    node.stop()


def _in_flight(chain: Chain, tx_hash: str) -> bool:
    """The node holds ``tx_hash`` pending, not mined."""
    try:
        return chain.w3.eth.get_transaction(HexBytes(tx_hash))["blockNumber"] is None
    except TransactionNotFound:
        return False


def _kill_in_flight(process: subprocess.Popen[bytes], chain: Chain, out: Path, step: str, timeout: float = 90.0
                    ) -> list[str]:
    """SIGKILL ``process`` once the batch holding ``step`` is recorded in ``out`` and every one of its transactions
    waits in the node's pool; the hashes killed in flight."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the issuance ended before its batch could be killed"
        try:
            pending = load_manifest(out).pending_batch if out.is_file() else None
        except InputError:
            pending = None  # the file is being replaced
        if pending is not None and any(t.step == step for t in pending.transactions):
            hashes = [str(t.tx_hash) for t in pending.transactions]
            if all(_in_flight(chain, h) for h in hashes):
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
                return hashes
        time.sleep(0.01)
    process.kill()
    raise AssertionError(f"the batch of {step} never waited in the node's pool")


@pytest.mark.anvil
def test_an_issuance_killed_between_send_and_receipt_adopts_what_was_mined_and_sends_nothing_twice(
    slow_node: AnvilNode, tmp_path: Path
) -> None:
    keys = slow_node.private_keys
    chain = connect(rpc_url=slow_node.url, accounts=[Account.from_key(k) for k in keys])
    now = chain.now()
    deal = write_offering_deal(EXAMPLE_DEAL, tmp_path, chain.accounts[15:20], datetime.fromtimestamp(now - 60, tz=UTC),
                               datetime.fromtimestamp(now + WEEK, tz=UTC),
                               [chain.accounts[12].address, chain.accounts[13].address], max_ticket=10**9)
    out = tmp_path / "deployment.json"
    admin = chain.accounts[0].address
    first_block = chain.head()[0] + 1
    process = subprocess.Popen(
        [sys.executable, "-m", "rwa.cli.main", "issue", "--deal", str(deal), "--out", str(out), "--rpc-url",
         slow_node.url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "RWA_PRIVATE_KEYS": ",".join(keys)},
    )
    # the second batch: the tranche tokens' creations, the deal's mark and the registry's and timelock's roles
    killed = _kill_in_flight(process, chain, out, "mark")
    half = load_manifest(out)
    assert not half.complete and half.pending_batch is not None
    assert "senior" not in half.contracts and "mark" not in half.progress  # recorded as sent, not as done

    notes: list[str] = []
    manifest = issue(chain, plan_issue(deal), out, notes.append)
    assert manifest.complete and manifest.pending_batch is None
    assert any("adopted senior" in n for n in notes) and any("adopted junior" in n for n in notes)
    for tx_hash in killed:  # what was in flight at the kill was mined, once
        assert chain.w3.eth.get_transaction_receipt(HexBytes(tx_hash))["status"] == 1

    sent: list[Any] = []
    for number in range(first_block, chain.head()[0] + 1):
        block: Any = chain.w3.eth.get_block(number, full_transactions=True)
        sent += [t for t in block["transactions"] if str(t["from"]).lower() == admin.lower()]
    creations = [t for t in sent if t["to"] is None]
    assert len(creations) == len(manifest.contracts) == len(set(manifest.contracts.values()))
    twice = [k for k, count in Counter((t["to"], bytes(t["input"])) for t in sent).items() if count > 1]
    assert twice == [], "a transaction was sent twice"
    assert len(sent) == chain.nonce(admin)  # nothing of the admin's is left pending
    assert check_roles(open_deployment(chain, manifest)) == []  # and the deployment is whole
