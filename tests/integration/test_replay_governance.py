"""The auditor's governance review against hostile histories: a key outside the deal's table, a privileged act that
no timelock operation made, the registry's acts and the timelock's own delay. Each history is built as an attacker
or a careless deployer would build it, and the replay must name it."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from eth_account import Account
from web3.types import RPCEndpoint

from rwa.chain.interface import Chain
from rwa.issuance.governance import check_roles, timelock_of
from rwa.issuance.operate import distribute_period
from rwa.issuance.resume import StepRunner
from rwa.model.deal_file import load_deal
from rwa.onchain.base import Role
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.timelock import Call
from rwa.onchain.tranche import TrancheToken
from rwa.oracle.keys import reporter_keys, select_signers
from rwa.oracle.report import sign_report
from tests.support.lifecycle import (
    disclosed,
    kinds,
    replay,
    restated_with_tape,
    run_lifecycle,
    tape_of,
    through_timelock,
)
from tests.support.reverts import reverts


def _grant_at_issuance(monkeypatch: pytest.MonkeyPatch, grant: Callable[[StepRunner], None]) -> None:
    """Issuance as a deployer that adds one grant of its own once the contracts are wired (the senior minted in a
    private placement), before handing over."""
    original = StepRunner.step

    def step(self: StepRunner, name: str, action: Callable[[], None]) -> None:
        original(self, name, action)
        if name == "mint-senior":
            grant(self)

    monkeypatch.setattr(StepRunner, "step", step)


def test_an_agent_role_kept_at_issuance_by_an_unnamed_key_fails_the_roles_check_and_the_audit(
    any_chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = any_chain
    second = chain.accounts[6].address

    def grant(run: StepRunner) -> None:
        senior = TrancheToken.at(run.chain, run.manifest.contracts["senior"])
        senior.grant_role(Role.AGENT_ROLE, second, sender=run.manifest.roles.admin)

    _grant_at_issuance(monkeypatch, grant)
    deal, manifest = run_lifecycle(chain, tmp_path, periods=1)
    monkeypatch.undo()
    assert check_roles(deal) == [f"senior AGENT_ROLE: held by {second}, which the deal's table does not give it "
                                 "(meant timelock)"]
    a, b = (acct.address for acct in chain.accounts[15:17])
    deal.tokens["senior"].forced_transfer(a, b, 1_000, sender=second)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 1
    assert kinds(result) == {"role-outside-table", "untimelocked-act"}, [f.detail for f in result.findings]
    [kept] = [f for f in result.findings if f.kind == "role-outside-table"]
    assert (kept.account, kept.expected) == (second, "timelock") and "AGENT_ROLE on the senior" in kept.detail
    [act] = [f for f in result.findings if f.kind == "untimelocked-act"]
    assert act.sender == second and act.detail.startswith("ForcedTransfer(")
    assert disclosed(result, "forced-transfer") == []  # not an ordinary agent act


def _impersonating(chain: Chain, account: str) -> None:
    """Let ``account`` (a contract) send transactions on anvil, with gas money: a node that lets anyone act as it."""
    chain.w3.provider.make_request(RPCEndpoint("anvil_impersonateAccount"), [account])
    chain.w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [account, hex(10**18)])


def test_a_reporter_and_a_role_given_by_acting_as_the_timelock_are_findings_and_the_report_has_no_quorum(
    anvil_chain: Chain, tmp_path: Path
) -> None:
    chain = anvil_chain
    deal, manifest = run_lifecycle(chain, tmp_path, periods=2, distribute=1)
    timelock, oracle, junior = timelock_of(deal).address, deal.oracle, deal.tokens["junior"]
    rogue = Account.create()
    _impersonating(chain, timelock)
    oracle.add_reporter(rogue.address, sender=timelock)
    junior.grant_role(Role.COMPLIANCE_ROLE, rogue.address, sender=timelock)
    # the rogue's signature and threshold-minus-one honest ones reach the oracle's quorum
    honest = select_signers(reporter_keys(chain), oracle.reporters(), oracle.threshold())[: oracle.threshold() - 1]
    period = 2
    report = oracle.report_of(period)
    assert report is not None
    amended = restated_with_tape(report, tape_of(deal, period), report.revenue - 1, version=1)
    oracle.amend(period, amended, sign_report(amended, [rogue, *honest], chain.chain_id, oracle.address),
                 sender=deal.manifest.roles.servicer)
    distribute_period(deal, period)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 1
    untied = [f for f in result.findings if f.kind == "untimelocked-act"]
    assert sorted(f.detail.split("(")[0] for f in untied) == ["ReporterAdded", "RoleGranted"]
    assert all(f.sender == timelock for f in untied)
    [quorum] = [f for f in result.findings if f.kind == "report-quorum"]
    assert quorum.period == period and quorum.actual == len(honest)
    assert disclosed(result, "reporter-change") == [] and disclosed(result, "role-change") == []


def test_privileged_acts_through_the_timelock_stay_disclosures(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    rogue = Account.create().address
    junior = deal.tokens["junior"]
    through_timelock(deal, Call.of(junior.contract.functions.grantRole(Role.COMPLIANCE_ROLE.id, rogue), "second"))
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    assert len(disclosed(result, "role-change")) == 1


def test_the_registrys_acts_after_issuance_are_disclosed_and_listed(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    agent, registry = deal.manifest.roles.agent, deal.registry
    a, b = (acct.address for acct in chain.accounts[15:17])
    spender = Account.create().address
    expiry = chain.now() + 400 * 86_400
    registry.allow_investors([spender], [expiry], [702], sender=agent)
    before = registry.investor_of(a).kyc_expiry
    registry.update_kyc(a, chain.now() + 30 * 86_400, sender=agent)
    registry.set_frozen(b, True, sender=agent)
    registry.revoke_investor(spender, sender=agent)
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    [allowed] = disclosed(result, "investor-allowed")
    assert (allowed.account, allowed.sender) == (spender, agent)
    [kyc] = disclosed(result, "kyc-updated")
    assert kyc.account == a and "shortened" in kyc.detail and str(before) not in kyc.detail
    [frozen] = disclosed(result, "investor-frozen")
    assert frozen.account == b and "frozen" in frozen.detail
    [revoked] = disclosed(result, "investor-revoked")
    assert revoked.account == spender
    with (tmp_path / "audit" / "governance.csv").open(encoding="utf-8") as fh:
        acts = [row["act"] for row in csv.DictReader(fh)]
    assert {"InvestorAllowed", "KycUpdated", "InvestorFrozen", "InvestorRevoked"} <= set(acts)


def test_a_delay_cut_through_the_timelock_is_disclosed_and_under_the_deals_delay_is_a_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    timelock = timelock_of(deal)
    stated = load_deal(Path(deal.manifest.deal_file)).governance_delay
    through_timelock(deal, Call.of(timelock.contract.functions.updateDelay(1), "one second"))
    assert timelock.min_delay() == 1
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 1 and kinds(result) == {"timelock-delay"}, [f.detail for f in result.findings]
    [cut] = result.findings
    assert (cut.expected, cut.actual, cut.account) == (stated, 1, timelock.address)
    [change] = disclosed(result, "timelock-delay")
    assert change.amount == 1 and f"{stated:,} s -> 1 s" in change.detail


def test_one_unit_a_stranger_sends_the_settlement_is_a_donation_not_a_trade_finding(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    stranger, settlement = chain.accounts[8].address, deal.manifest.address("settlement")
    deal.stablecoin.mint(stranger, 1, sender=deal.manifest.roles.admin)
    deal.stablecoin.transfer(settlement, 1, sender=stranger)
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    [gift] = disclosed(result, "donation")
    assert (gift.amount, gift.sender, gift.account) == (1, stranger, settlement)


def test_junior_units_minted_before_the_close_stop_the_first_distribution_and_are_a_supply_finding(
    any_chain: Chain, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = any_chain

    def dilute(run: StepRunner) -> None:
        junior = TrancheToken.at(run.chain, run.manifest.contracts["junior"])
        junior.mint(run.manifest.contracts["settlement"], 1_000, sender=run.manifest.roles.admin)

    original = StepRunner.step

    def step(self: StepRunner, name: str, action: Callable[[], None]) -> None:
        if name == "mint-junior":  # before the junior's own mint, which closes its issuance
            dilute(self)
        original(self, name, action)

    monkeypatch.setattr(StepRunner, "step", step)
    deal, manifest = run_lifecycle(chain, tmp_path, periods=1, distribute=0)
    monkeypatch.undo()
    junior = deal.tokens["junior"]
    assert junior.issuance_closed() and junior.total_supply() == deal.manifest.junior_size + 1_000
    reverts(lambda: distribute_period(deal, 1), "JuniorSupplyMismatch", supply=deal.manifest.junior_size + 1_000,
            face=deal.manifest.junior_size)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 1 and kinds(result) == {"token-supply"}, [f.detail for f in result.findings]
    [finding] = result.findings
    assert (finding.account, finding.expected, finding.actual) == (junior.address, deal.manifest.junior_size,
                                                                   deal.manifest.junior_size + 1_000)


def test_a_pause_that_ended_by_itself_reconciles(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    deal.pool.pause(sender=deal.manifest.roles.trustee)
    chain.time_travel(int(deal.pool.contract.functions.pauseExpiresAt().call()) + 1)
    assert not deal.pool.paused()
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    assert len(disclosed(result, "pause")) == 1


def test_a_pause_held_past_its_bound_by_a_write_no_event_records_is_a_finding(
    anvil_chain: Chain, tmp_path: Path
) -> None:
    chain = anvil_chain
    deal, manifest = run_lifecycle(chain, tmp_path, periods=1)
    pool = deal.pool
    pool.pause(sender=deal.manifest.roles.trustee)
    expiry = int(pool.contract.functions.pauseExpiresAt().call())
    mask = (1 << 64) - 1
    # the expiry packs beside the pause flag: find its word and move it a month on, as a storage write would
    for slot in range(32):
        word = int.from_bytes(chain.w3.eth.get_storage_at(pool.address, slot), "big")
        if (word >> 32) & mask == expiry:
            held = word & ~(mask << 32) | ((expiry + 30 * 86_400) << 32)
            chain.w3.provider.make_request(RPCEndpoint("anvil_setStorageAt"),
                                           [pool.address, hex(slot), "0x" + held.to_bytes(32, "big").hex()])
            break
    else:
        raise AssertionError("the pause expiry is not in the pool's first slots")
    chain.time_travel(expiry + 86_400)
    assert pool.paused()  # past its 14 days, and no event says so
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 1 and kinds(result) == {"pause-bound"}, [f.detail for f in result.findings]
    [finding] = result.findings
    assert finding.account == pool.address and finding.actual == (True, expiry + 30 * 86_400)
    assert finding.expected == (False, expiry)


def test_a_token_bound_to_the_registry_through_the_timelock_is_disclosed(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path], tmp_path: Path
) -> None:
    admin = deal.manifest.roles.admin
    third = TrancheToken.deploy(chain, "Third", "THD", deal.stablecoin.address, deal.registry, admin, bind=False)
    through_timelock(deal, Call.of(deal.registry.contract.functions.bindToken(third.address), "a third token"))
    result = replay(chain, history[1], tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    [bound] = disclosed(result, "token-bound")
    assert (bound.account, bound.sender) == (third.address, timelock_of(deal).address)
