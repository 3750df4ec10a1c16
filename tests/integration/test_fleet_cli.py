"""``rwa fleet``: the issuer's equity into the escrow, a release deferred for want of it and sent later, the
long-stop settled into a prepayment of the senior; each refusal one line, before anything is sent."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from rwa.chain.connect import connect
from rwa.cli.demo import write_offering_deal
from rwa.issuance.governance import check_bindings
from rwa.model.deal_file import load_deal
from rwa.model.fleet import register_terms, release_split
from rwa.model.terms import treasury_of
from rwa.model.units import money_formatter
from rwa.onchain.deployed import open_deployment
from rwa.onchain.deployment import load_manifest
from rwa.oracle.attest import attest_deliveries, scheduled_deliveries
from rwa.oracle.keys import reporter_keys
from tests.support.deals import EXAMPLE_DEAL
from tests.support.issuance import rwa

WEEK = 7 * 86_400


def test_equity_a_deferred_release_and_the_long_stop_through_the_cli(tmp_path: Path) -> None:
    state = ["--state", str(tmp_path / "chain.sqlite")]
    dep = ["--deployment", str(tmp_path / "deployment.json")]
    with connect(state=tmp_path / "chain.sqlite") as chain:
        now = chain.now()
        investors = chain.accounts[15:20]
        recipients = [chain.accounts[12].address, chain.accounts[13].address]
    path = write_offering_deal(EXAMPLE_DEAL, tmp_path, investors, datetime.fromtimestamp(now - 60, tz=UTC),
                               datetime.fromtimestamp(now + WEEK, tz=UTC), recipients, max_ticket=10**9)
    subprocess.run([sys.executable, "scripts/issue.py", "--deal", str(path), "--out", str(tmp_path / "deployment.json"),
                    *state], check=True, capture_output=True)
    manifest = json.loads((tmp_path / "deployment.json").read_text())
    early = rwa("fleet", "release", *dep, *state)
    assert early.returncode == 2 and early.stderr == "error: the raise is not in escrow yet: the offering has not " \
        "closed\n"
    for who, tranche, amount in ((investors[0], "senior", manifest["senior_size"]),
                                 (investors[4], "junior", manifest["junior_size"])):
        rwa("offering", "subscribe", "--tranche", tranche, "--investor", who.address, "--amount", str(amount),
            "--raw", *dep, *state, check=True)
    rwa("offering", "close", *dep, *state, check=True)
    deal_model = load_deal(path)
    with connect(state=tmp_path / "chain.sqlite") as chain:
        deal = open_deployment(chain, load_manifest(tmp_path / "deployment.json"))
        register = deal.register
        assert register is not None
        assert check_bindings(deal) == []  # the oracle, the pool and the offering are bound to the manifest's register
        escrow = register.escrow()
        terms = register_terms(deal_model, treasury_of(deal_model, manifest["roles"]["issuer"]))
        assert escrow.capex_total == terms.capex_total and 0 < escrow.raise_amount < terms.capex_total
        # period 1's two batches, attested before any equity is in: recorded, their releases deferred
        chain.time_travel(deal.pool.period_end(1))
        planned = [p for p in scheduled_deliveries(deal_model, terms) if p.period == 1]
        attest_deliveries(register, deal.oracle, planned, reporter_keys(chain), chain.accounts[0].address)
        records = register.deliveries()
        assert [r.released for r in records] == [False, False] and register.fleet() == 650
    first = release_split(0, records[0].price, escrow.raise_amount, escrow.capex_total)
    money = money_formatter(6, "USDC", raw=True)
    short = rwa("fleet", "release", "--delivery", "0", *dep, *state)
    assert short.returncode == 2 and short.stderr.startswith("error: delivery 0 needs ")
    assert "rwa fleet fund-equity" in short.stderr
    paid = rwa("fleet", "fund-equity", "--amount", str(first[1]), "--raw", *dep, *state, check=True).stdout
    assert f"paid {money(first[1])} of equity into the escrow" in paid
    sent = rwa("fleet", "release", "--raw", *dep, *state, check=True).stdout.splitlines()
    # the equity paid covers the first release only: the second waits
    assert sent == [f"delivery 0: released {money(records[0].price)} ({money(first[0])} from the raise, "
                    f"{money(first[1])} from the equity)"]
    again = rwa("fleet", "release", "--delivery", "0", *dep, *state)
    assert again.returncode == 2 and again.stderr == "error: --delivery 0: already released\n"
    early_settle = rwa("fleet", "settle", *dep, *state)
    assert early_settle.returncode == 2 and early_settle.stderr.startswith("error: the long-stop is ")
    with connect(state=tmp_path / "chain.sqlite") as chain:
        deal = open_deployment(chain, load_manifest(tmp_path / "deployment.json"))
        assert deal.register is not None
        chain.time_travel(deal.register.long_stop())
        balance = deal.pool.senior_outstanding()
    settled = rwa("fleet", "settle", "--raw", *dep, *state, check=True).stdout
    prepaid = escrow.raise_amount - first[0]
    assert settled.startswith(f"long-stop settled: {money(prepaid)} prepaid the senior, {money(0)} of equity returned")
    with connect(state=tmp_path / "chain.sqlite") as chain:
        deal = open_deployment(chain, load_manifest(tmp_path / "deployment.json"))
        assert deal.pool.senior_outstanding() == balance - prepaid
        assert deal.pool.prepayments()[0].senior == prepaid
    late = rwa("fleet", "release", "--delivery", "1", *dep, *state)
    assert late.returncode == 2 and "has passed: nothing is released after it" in late.stderr
    twice = rwa("fleet", "settle", *dep, *state)
    assert twice.returncode == 2 and twice.stderr == "error: the long-stop is settled already\n"
