"""Issuance, monthly operation and their failure modes, on the embedded chain and on anvil."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError, InputError
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import claim_all, claim_for, distribute_period
from rwa.issuance.resume import StepRunner
from rwa.model.deal_file import load_deal
from rwa.model.terms import period_ends
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.deployment import load_manifest
from rwa.onchain.register import FleetRegister
from rwa.oracle.publisher import publish
from tests.support.anvil import AnvilNode
from tests.support.issuance import EXAMPLE, deal_for, rwa


def _investors(chain: Chain) -> list:
    return chain.accounts[15:20]


@pytest.fixture(scope="module")
def issued_once(session_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Path]]:
    """One issuance for the module; each test starts from its snapshot."""
    with session_chain.snapshot():
        folder = tmp_path_factory.mktemp("issued")
        deal_path = deal_for(_investors(session_chain), folder, session_chain.now())
        issue(session_chain, plan_issue(deal_path), folder / "deployment.json", lambda _m: None)
        yield session_chain.take_snapshot(), folder / "deployment.json"


def _issued(chain: Chain, issued_once: tuple[object, Path]) -> tuple[DeployedDeal, Path]:
    snapshot, out = issued_once
    chain.revert_to(snapshot)
    return open_deployment(chain, load_manifest(out)), out


def test_issue_mints_exact_allocations_and_refuses_twice(chain: Chain, issued_once: tuple[object, Path]) -> None:
    deal, out = _issued(chain, issued_once)
    plan = plan_issue(Path(deal.manifest.deal_file))
    for tranche in ("senior", "junior"):
        token = deal.tokens[tranche]
        assert token.total_supply() == getattr(plan.sizing, f"{tranche}_size")
        for holder, amount in plan.allocations[tranche].items():
            assert token.balance_of(holder) == amount
        assert token.issuance_closed()
    manifest = load_manifest(out)
    assert manifest.complete and set(manifest.contracts) == {"stablecoin", "registry", "oracle", "senior", "junior",
                                                             "timelock", "pool", "settlement", "register"}
    register = FleetRegister.at(chain, manifest.address("register"))
    # the register is the oracle's and the pool's, bound to the pool (no offering in a private placement)
    assert deal.oracle.register() == register.address == deal.pool.addresses()["register"]
    assert register.pool() == deal.pool.address and int(register.offering(), 16) == 0
    assert manifest.abi_hashes and manifest.compiler_version.startswith("0.8.30")
    head = chain.w3.eth.block_number
    with pytest.raises(InputError, match="already issued"):
        issue(chain, plan, out, lambda _m: None)
    assert chain.w3.eth.block_number == head


def test_issue_resumes_and_adopts_the_contracts_of_a_batch_sent_before_a_crash(
    chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    deal_path = deal_for(_investors(chain), tmp_path, chain.now())
    out = tmp_path / "deployment.json"

    def die(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt("killed after the first batch was sent, before its contracts were recorded")

    monkeypatch.setattr(StepRunner, "_settle", die)
    nonce = chain.nonce(chain.accounts[0].address)
    with pytest.raises(KeyboardInterrupt):
        issue(chain, plan_issue(deal_path), out, lambda _m: None)
    half = load_manifest(out)
    assert not half.complete and half.contracts == {} and half.pending_batch is not None
    sent = {t.step: t.created for t in half.pending_batch.transactions}
    assert list(sent) == ["stablecoin", "registry", "oracle", "timelock"]
    assert chain.nonce(chain.accounts[0].address) == nonce + 4  # all four were mined
    monkeypatch.undo()
    notes: list[str] = []
    manifest = issue(chain, plan_issue(deal_path), out, notes.append)
    assert manifest.complete and manifest.pending_batch is None
    assert {k: manifest.contracts[k] for k in sent} == sent  # adopted, not deployed again
    assert sum("adopted" in n for n in notes) == 4


def test_period_60_of_the_example_deal_ends_with_the_leases_and_the_pools_period_ends_are_the_deals(
    chain: Chain, tmp_path: Path
) -> None:
    deal = load_deal(EXAMPLE)
    leases_end = datetime(2030, 7, 1, tzinfo=UTC)
    assert deal.periods.end_of(60) == leases_end
    expected = period_ends(deal)  # periods 1..60 and the maturity settlement 61
    manifest = issue(chain, plan_issue(EXAMPLE), tmp_path / "deployment.json", lambda _m: None)
    deployed = open_deployment(chain, manifest)
    # every end read back from the deployed contracts, each computed on-chain
    assert deployed.pool.terms().period_ends == expected
    assert tuple(deployed.pool.period_end(p) for p in range(1, 62)) == expected
    assert tuple(deployed.pool.period_start(p) for p in range(1, 62)) == (expected[0] - 31 * 86_400, *expected[:-1])
    assert deployed.oracle.period_ends() == expected[:-1]
    assert tuple(deployed.oracle.period_end(p) for p in range(1, 61)) == expected[:-1]
    assert deployed.pool.period_end(60) == deployed.oracle.period_end(60) == int(leases_end.timestamp())


def test_distribute_claim_and_status(chain: Chain, issued_once: tuple[object, Path]) -> None:
    deal, _ = _issued(chain, issued_once)
    publish(chain, deal.manifest, period=1, simulate=True)
    result = distribute_period(deal, 1)
    assert result.legs is not None and result.legs.collected == deal.oracle.report_of(1).revenue  # type: ignore[union-attr]
    again = distribute_period(deal, 1)
    assert again.legs is None and "already distributed" in again.note
    holder = _investors(chain)[0].address
    owed = deal.tokens["senior"].claimable(holder)
    assert owed > 0
    paid = claim_for(deal, holder)
    assert paid.paid["senior"] == owed and deal.tokens["senior"].claimable(holder) == 0


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ("out-of-order", "the next one is 1"),
        ("before-report", "has no oracle report yet"),
        ("unknown-holder", "holds no tranche tokens"),
        ("frozen-holder", "cannot claim senior"),
        ("bad-period", "the deal has periods 1..60"),
    ],
)
def test_bad_operations_change_nothing(
    chain: Chain, issued_once: tuple[object, Path], action: str, message: str
) -> None:
    deal, _ = _issued(chain, issued_once)
    holder = _investors(chain)[0].address
    if action == "frozen-holder":
        publish(chain, deal.manifest, period=1, simulate=True)
        distribute_period(deal, 1)
        from rwa.onchain.registry import ComplianceRegistry

        registry = ComplianceRegistry.at(chain, deal.manifest.address("registry"))
        registry.set_frozen(holder, True, sender=deal.manifest.roles.agent)
    head = chain.w3.eth.block_number
    with pytest.raises(InputError, match=message):
        if action == "out-of-order":
            distribute_period(deal, 2)
        elif action == "before-report":
            distribute_period(deal, 1)
        elif action == "unknown-holder":
            claim_for(deal, Account.create().address)
        elif action == "frozen-holder":
            claim_for(deal, holder)
        else:
            distribute_period(deal, 61)
    assert chain.w3.eth.block_number == head


def test_a_batch_claim_reads_every_candidate_at_once_and_refuses_a_restricted_one(
    chain: Chain, issued_once: tuple[object, Path]
) -> None:
    from rwa.onchain.registry import ComplianceRegistry
    from rwa.onchain.tranche import Restriction

    deal, _ = _issued(chain, issued_once)
    investors = [a.address for a in _investors(chain)]
    publish(chain, deal.manifest, period=1, simulate=True)
    distribute_period(deal, 1)
    frozen = investors[1]
    ComplianceRegistry.at(chain, deal.manifest.address("registry")).set_frozen(
        frozen, True, sender=deal.manifest.roles.agent)
    owed = {t: [token.claimable(h) for h in investors] for t, token in deal.tokens.items()}
    for token in deal.tokens.values():  # claimsDue: each one's claimable and claim restriction, in order
        assert token.claims_of(investors, batch=2) == [
            (token.claimable(h), token.detect_claim_restriction(h)) for h in investors]
    assert deal.tokens["senior"].claims_of([frozen])[0][1] == Restriction.SENDER_FROZEN
    head = chain.w3.eth.block_number
    with pytest.raises(InputError, match=f"{frozen} cannot claim senior"):
        claim_all(deal, [frozen])
    assert chain.w3.eth.block_number == head
    results = claim_all(deal, [investors[0], investors[0].lower(), investors[2], Account.create().address])
    assert [r.holder for r in results] == [investors[0], investors[2]]  # once each; no key, no claim
    for r, i in zip(results, (0, 2), strict=True):
        assert r.paid == {t: owed[t][i] for t in deal.tokens} and sum(r.paid.values()) > 0
        assert all(token.claimable(r.holder) == 0 for token in deal.tokens.values())


def test_non_compliant_recipient_is_refused_by_the_token(chain: Chain, issued_once: tuple[object, Path]) -> None:
    deal, _ = _issued(chain, issued_once)
    sender = _investors(chain)[0].address
    stranger = Account.create().address
    token = deal.tokens["senior"]
    assert token.detect_transfer_restriction(sender, stranger, 1) != 0
    with pytest.raises(ContractRevertError) as info:
        token.transfer(stranger, 1, sender=sender)
    assert info.value.error_name == "TransferRestricted"


def _pool_state(deal: DeployedDeal, holders: list[str]) -> dict[str, object]:
    pool = deal.pool
    return {
        "last": pool.last_distributed_period(),
        "outstanding": pool.senior_outstanding(),
        "reserve": pool.reserve_balance(),
        "senior_paid": pool.total_senior_paid(),
        "junior_paid": pool.total_junior_paid(),
        "fees": pool.total_fees_paid(),
        "claimable": [deal.tokens[t].claimable(h) for t in ("senior", "junior") for h in holders],
        "withdrawn": [deal.tokens[t].withdrawn_of(h) for t in ("senior", "junior") for h in holders],
        "report": deal.oracle.report_of(1),
    }


def test_separate_processes_leave_the_state_one_process_would(tmp_path: Path) -> None:
    """issue.py, then oracle publish, then distribute, then claim: each its own process, sharing the state file."""
    multi, single = tmp_path / "multi", tmp_path / "single"
    multi.mkdir()
    single.mkdir()
    with connect(state=multi / "chain.sqlite") as chain:
        investors = chain.accounts[15:20]
        deal_path = deal_for(investors, multi, chain.now(), periods_ended=1)
    holder = investors[0].address
    common = ["--state", str(multi / "chain.sqlite")]
    dep = ["--deployment", str(multi / "deployment.json")]
    import subprocess
    import sys

    issue_cmd = [sys.executable, "scripts/issue.py", "--deal", str(deal_path), "--out", str(multi / "deployment.json")]
    subprocess.run([*issue_cmd, *common], check=True, capture_output=True)
    rwa("oracle", "publish", *dep, *common, "--simulate", "--period", "1", check=True)
    rwa("distribute", "--period", "1", *dep, *common, check=True)
    rwa("claim", "--holder", holder, *dep, *common, check=True)

    with connect(state=single / "chain.sqlite") as chain:
        manifest = issue(chain, plan_issue(deal_path), single / "deployment.json", lambda _m: None)
        deal = open_deployment(chain, manifest)
        publish(chain, manifest, period=1, simulate=True)
        distribute_period(deal, 1)
        claim_for(deal, holder)
        expected = _pool_state(deal, [i.address for i in investors])
    with connect(state=multi / "chain.sqlite") as chain:
        reopened = open_deployment(chain, load_manifest(multi / "deployment.json"))
        got = _pool_state(reopened, [i.address for i in investors])
    assert got == expected
    assert expected["withdrawn"][0] > 0  # type: ignore[index]


def test_issue_publish_distribute_claim_on_anvil(anvil: AnvilNode, tmp_path: Path) -> None:
    keys = anvil.private_keys
    investors = [Account.from_key(k) for k in keys[15:20]]
    with connect(rpc_url=anvil.url, accounts=[Account.from_key(k) for k in keys]) as chain:
        deal_path = deal_for(investors, tmp_path, chain.now(), periods_ended=1)
    env = {"RWA_PRIVATE_KEYS": ",".join(keys)}
    url = ["--rpc-url", anvil.url]
    dep = ["--deployment", str(tmp_path / "deployment.json")]
    rwa("issue", "--deal", str(deal_path), "--out", str(tmp_path / "deployment.json"), *url, env=env, check=True)
    again = rwa("issue", "--deal", str(deal_path), "--out", str(tmp_path / "deployment.json"), *url, env=env)
    assert again.returncode == 2 and "already issued" in again.stderr
    rwa("oracle", "publish", *dep, *url, "--simulate", "--period", "1", env=env, check=True)
    out = rwa("distribute", "--period", "1", *dep, *url, env=env, check=True)
    assert "period 1 distributed" in out.stdout
    claim = rwa("claim", "--holder", investors[0].address, "--raw", *dep, *url, env=env, check=True)
    paid = int(claim.stdout.split("senior ")[1].split()[0])
    assert paid > 0
    status = rwa("status", *dep, *url, env=env, check=True)
    assert "1 of 60" in status.stdout
    manifest = json.loads((tmp_path / "deployment.json").read_text())
    assert manifest["chain_id"] == 31337 and manifest["network"] == anvil.url


def test_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    done = rwa("distribute", "--period", "1", "--deployment", str(tmp_path / "missing.json"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and done.stderr.startswith("error: no deployment manifest")
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    done = rwa("status", "--deployment", str(bad))
    assert done.returncode == 2 and "not a deployment manifest" in done.stderr


def test_stress_demo_traps_cash_and_still_reconciles(tmp_path: Path) -> None:
    """Rent -20% from month 13 and utilization gliding to 50%: the covenant traps the junior's cash."""
    import os

    from rich.console import Console

    from rwa.cli.demo import run_demo

    with open(os.devnull, "w") as quiet:
        summary = run_demo(Console(file=quiet), months=14, holders=4, scenario="stress", out=tmp_path / "stress")
    assert summary.trapped_periods and min(summary.trapped_periods) >= 13
    assert summary.replay_exit_code == 0 and summary.periods_distributed == 14
    saved = json.loads((tmp_path / "stress" / "summary.json").read_text())
    assert saved["trapped_periods"] == summary.trapped_periods
    rows = (tmp_path / "stress" / "audit" / "periods.csv").read_text().splitlines()
    header = rows[0].split(",")
    refund_period = rows[12].split(",")  # period 12 is a tax-refund period in the example deal
    collected = int(refund_period[header.index("collected")])
    reported = int(refund_period[header.index("reported")])
    assert collected > reported  # the scheduled tax refund was deposited beside the rent
    _reserve_is_the_calculators(tmp_path / "stress", summary.periods_distributed)


def _reserve_is_the_calculators(out: Path, periods: int) -> None:
    """The reserve after every period on chain (the replay's table) is the calculator's engine's on the same cash
    after the fee, opening with the reserve funded at close; within the engine's unrounded interest."""
    import csv
    import itertools
    from dataclasses import replace

    import numpy as np

    from rwa.leverage.path_engine import PathTerms, run_paths
    from rwa.model.deal_file import load_deal
    from rwa.model.terms import recorded_terms, reserve_at_close

    manifest = load_manifest(out / "deployment.json")
    deal = load_deal(Path(manifest.deal_file))
    terms = recorded_terms(deal, manifest.terms)
    with (out / "audit" / "periods.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if 1 <= int(r["period"]) <= periods]
    collected = [int(r["collected"]) for r in rows] + [0] * (terms.period_count - periods)
    reported = [int(r["reported"]) for r in rows] + [0] * (terms.period_count - periods)
    fee = terms.servicing_fee_per_period
    engine_terms = replace(PathTerms.of(terms, reserve_at_close(deal, terms)),
                           uncovered=[float(c - r) for c, r in zip(collected, reported, strict=True)])
    engine = run_paths(np.asarray([[max(c - fee, 0) for c in collected]], dtype=float), engine_terms, 0.0)
    on_chain = [int(r["reserve_after"]) for r in rows]
    assert any(b < a for a, b in itertools.pairwise(on_chain))  # the stress draws or releases it
    assert np.abs(engine.reserve[0][:periods] - on_chain).max() <= terms.reserve_periods + 1
