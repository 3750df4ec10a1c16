"""The trust model of an issued deal: no single key moves holders' money or rewrites the deal's facts at once; every
such power waits the timelock's delay in public and the trustee can cancel it; default has objective triggers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.issuance.governance import (
    add_reporter_call,
    check_roles,
    recovery_call,
    set_threshold_call,
    timelock_of,
)
from rwa.issuance.operate import distribute_period
from rwa.model.units import FX_RATE_SCALE
from rwa.onchain.base import Role
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.oracle import Report
from rwa.onchain.pool import DefaultTrigger
from rwa.onchain.privileges import privileges_markdown
from rwa.onchain.timelock import Call, State
from tests.support.anvil import AnvilNode
from tests.support.lifecycle import disclosed, replay, run_lifecycle
from tests.support.oracle import onchain_report, register_tape, restated
from tests.support.reverts import reverts

README = Path(__file__).resolve().parents[2] / "README.md"


def test_issuance_leaves_exactly_the_roles_of_the_readmes_table(
    chain: Chain, deal: DeployedDeal, history: tuple[object, Path]
) -> None:
    assert check_roles(deal) == []
    deployer = deal.manifest.roles.admin
    for contract in (*deal.tokens.values(), deal.pool, deal.oracle, deal.registry, timelock_of(deal)):
        assert not contract.has_role(Role.DEFAULT_ADMIN_ROLE, deployer), contract.address
    assert privileges_markdown() in README.read_text(encoding="utf-8")


def _freeze(deal: DeployedDeal, wallet: str) -> None:
    deal.tokens["senior"].set_wallet_frozen(wallet, True, sender=deal.manifest.roles.agent)


def test_a_recovery_waits_the_announced_delay_the_trustee_can_cancel_it_and_then_it_runs(
    any_chain: Chain, tmp_path: Path
) -> None:
    chain = any_chain
    deal, _ = run_lifecycle(chain, tmp_path, periods=1)
    roles, senior = deal.manifest.roles, deal.tokens["senior"]
    lost, new = chain.accounts[16].address, chain.accounts[17].address
    _freeze(deal, lost)
    for key in {roles.admin, roles.issuer, roles.agent, roles.trustee}:  # no single key does it now
        reverts(lambda k=key: senior.recover_wallet(lost, new, sender=k), "AccessControlUnauthorizedAccount")
    timelock = timelock_of(deal)
    delay = timelock.min_delay()
    assert delay > deal.pool.terms().longest_period  # a whole 31-day month and its distribution
    call = recovery_call(deal, "senior", lost, new)
    timelock.schedule(call, sender=roles.issuer)
    assert timelock.state(call) == State.WAITING
    reverts(lambda: timelock.execute(call, sender=roles.issuer), "TimelockUnexpectedOperationState")
    timelock.cancel(call, sender=roles.trustee)
    assert timelock.state(call) == State.UNSET
    balance = senior.balance_of(lost)
    again = recovery_call(deal, "senior", lost, new).__class__(call.target, call.data, b"\x02" * 32, "again")
    timelock.schedule(again, sender=roles.issuer)
    chain.time_travel(timelock.ready_at(again))
    timelock.execute(again, sender=chain.accounts[9].address)  # anyone runs it once the delay has passed
    assert timelock.state(again) == State.DONE
    assert (senior.balance_of(lost), senior.balance_of(new) >= balance) == (0, True)


def test_the_admin_cannot_add_a_reporter_and_lower_the_threshold_in_one_block(any_chain: Chain, tmp_path: Path) -> None:
    chain = any_chain
    deal, _ = run_lifecycle(chain, tmp_path, periods=1)
    roles, oracle = deal.manifest.roles, deal.oracle
    rogue = Account.create().address
    reverts(lambda: oracle.add_reporter(rogue, sender=roles.admin), "AccessControlUnauthorizedAccount")
    reverts(lambda: oracle.set_threshold(1, sender=roles.admin), "AccessControlUnauthorizedAccount")
    timelock = timelock_of(deal)
    add, lower = add_reporter_call(deal, rogue), set_threshold_call(deal, 1)
    for call in (add, lower):
        timelock.schedule(call, sender=roles.issuer)
    with pytest.raises(ContractRevertError, match="TimelockUnexpectedOperationState"):
        timelock.execute(add, sender=roles.issuer)
    assert oracle.threshold() == roles.threshold and rogue not in oracle.reporters()
    chain.time_travel(timelock.ready_at(lower))
    timelock.execute(add, sender=roles.issuer)
    timelock.execute(lower, sender=roles.issuer)
    assert oracle.threshold() == 1 and rogue in oracle.reporters()


def test_three_periods_of_interest_arrears_let_anyone_trigger_default_and_the_issuer_cannot_declare(
    chain: Chain, tmp_path: Path
) -> None:
    deal, manifest = run_lifecycle(chain, tmp_path, periods=4, distribute=0, reserve_at_close=0)
    roles, pool = deal.manifest.roles, deal.pool
    stranger = chain.accounts[9].address
    for period in (1, 2):
        distribute_period(deal, period, amount=0, tax_refund=0)
    assert pool.arrears_streak() == 2
    reverts(lambda: pool.trigger_default(DefaultTrigger.INTEREST_ARREARS, sender=stranger), "TriggerConditionNotMet",
            trigger=1)
    distribute_period(deal, 3, amount=0, tax_refund=0)
    reverts(lambda: pool.declare_default("the issuer alone", sender=roles.issuer), "AccessControlUnauthorizedAccount",
            neededRole=Role.TRUSTEE_ROLE.id)
    pool.trigger_default(DefaultTrigger.INTEREST_ARREARS, sender=stranger)
    assert pool.defaulted() and pool.default_trigger() == DefaultTrigger.INTEREST_ARREARS
    reverts(lambda: pool.cure_default("paid up", sender=roles.trustee), "TriggerConditionStillHolds", trigger=1)
    pool.waive_default("the lessee's payment is on its way", sender=roles.trustee)  # before any period ran under it
    assert not pool.defaulted()
    distribute_period(deal, 4)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    declared, cured = disclosed(result, "default-declared"), disclosed(result, "default-cured")
    assert len(declared) == 1 and declared[0].sender == stranger and declared[0].period == 4
    assert len(cured) == 1 and cured[0].sender == roles.trustee and "waived" in cured[0].detail


def test_a_cure_ends_the_default_but_not_the_arrears_streak_and_only_the_arrears_waiver_restarts_it(
    any_chain: Chain, tmp_path: Path
) -> None:
    chain = any_chain
    deal, _ = run_lifecycle(chain, tmp_path, periods=5, distribute=0, reserve_at_close=0)
    roles, pool = deal.manifest.roles, deal.pool
    stranger = chain.accounts[9].address
    for period in (1, 2):
        distribute_period(deal, period, amount=0, tax_refund=0)
    assert pool.arrears_streak() == 2
    pool.declare_default("the trustee's own", sender=roles.trustee)
    pool.cure_default("and cured at once", sender=roles.trustee)
    assert not pool.defaulted() and pool.arrears_streak() == 2  # the cure did not forgive two unpaid coupons
    distribute_period(deal, 3, amount=0, tax_refund=0)
    assert pool.arrears_streak() == 3
    pool.trigger_default(DefaultTrigger.INTEREST_ARREARS, sender=stranger)
    pool.waive_default("the labelled waiver", sender=roles.trustee)
    assert not pool.defaulted() and pool.arrears_streak() == 0
    reverts(lambda: pool.trigger_default(DefaultTrigger.INTEREST_ARREARS, sender=stranger), "TriggerConditionNotMet",
            trigger=1)


def test_the_replays_governance_table_lists_every_privileged_act(chain: Chain, tmp_path: Path) -> None:
    import csv

    from rwa.issuance.governance import forced_transfer_call
    from rwa.onchain.timelock import Call

    deal, manifest = run_lifecycle(chain, tmp_path, periods=4, distribute=0, reserve_at_close=0)
    roles, pool, senior = deal.manifest.roles, deal.pool, deal.tokens["senior"]
    timelock = timelock_of(deal)
    a, b, c = (acct.address for acct in chain.accounts[15:18])
    rogue = Account.create().address
    calls = [
        forced_transfer_call(deal, "senior", a, c, 1_000),
        recovery_call(deal, "senior", b, a),
        add_reporter_call(deal, rogue),
        Call.of(senior.contract.functions.grantRole(Role.COMPLIANCE_ROLE.id, rogue), "a second compliance agent"),
    ]
    cancelled = set_threshold_call(deal, 1)
    for call in (*calls, cancelled):
        timelock.schedule(call, sender=roles.issuer)
    timelock.cancel(cancelled, sender=roles.trustee)
    senior.set_wallet_frozen(b, True, sender=roles.agent)
    chain.time_travel(timelock.ready_at(calls[0]))
    for call in calls:
        timelock.execute(call, sender=roles.servicer)
    senior.pause(sender=roles.agent)
    senior.unpause(sender=roles.agent)
    for period in (1, 2, 3, 4):  # the timelock's delay took the clock past period 4's grace: not late
        distribute_period(deal, period, amount=0, tax_refund=0)
    pool.trigger_default(DefaultTrigger.INTEREST_ARREARS, sender=chain.accounts[9].address)
    pool.waive_default("payment arranged", sender=roles.trustee)
    pool.declare_default("the lessee filed for insolvency", sender=roles.trustee)
    result = replay(chain, manifest, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    with (tmp_path / "audit" / "governance.csv").open(encoding="utf-8") as fh:
        acts = list(csv.DictReader(fh))
    kinds = {row["act"] for row in acts}
    assert {"RoleGranted", "RoleRevoked", "CallScheduled", "CallExecuted", "Cancelled", "ReporterAdded",
            "ThresholdChanged", "Paused", "Unpaused", "ForcedTransfer", "WalletRecovered", "WalletFrozen",
            "DefaultDeclared", "DefaultCured"} <= kinds
    scheduled = [r for r in acts if r["act"] == "CallScheduled"]
    assert len(scheduled) == len(calls) + 1 and all(r["sender"] == roles.issuer for r in scheduled)
    assert [r["sender"] for r in acts if r["act"] == "Cancelled"] == [roles.trustee]
    assert "Privileged acts" in (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    assert {d.kind for d in result.disclosures} >= {"forced-transfer", "wallet-recovery", "reporter-change",
                                                     "role-change", "pause", "default-declared", "default-cured"}


def test_a_lessee_past_due_beyond_the_deals_limit_lets_anyone_trigger_default(chain: Chain, tmp_path: Path) -> None:
    """The tape's days past due are an objective event: a report whose tape shows a lessee past due more days than
    the deal allows makes the pool's trigger 4 hold, so anyone can call it; at the limit itself it does not."""
    from dataclasses import replace

    from rwa.model.deal_file import load_deal
    from tests.support.oracle import with_tape

    deal, _ = run_lifecycle(chain, tmp_path, periods=1)
    oracle, pool, register = deal.oracle, deal.pool, deal.register
    assert register is not None
    limit = pool.default_rules().past_due_days
    assert limit == load_deal(Path(deal.manifest.deal_file)).events_of_default.lessee_past_due_days > 0
    stranger = chain.accounts[9].address
    sender = deal.manifest.roles.servicer
    for period, days in ((2, limit), (3, limit + 1)):
        chain.time_travel(oracle.period_end(period))
        _, rent = register_tape(register, oracle, period, 0)
        tape, _ = register_tape(register, oracle, period, rent)
        late = [replace(row, collected=0, days_past_due=days) if row.billed else row for row in tape]
        report = with_tape(Report(period, rent, 9_000, sum(r.servers for r in tape), rent, b"\x05" * 32,
                                  source_revenue=rent, fx_rate=FX_RATE_SCALE), late)
        oracle.submit(report, _signed(chain, deal, report), sender=sender)
        lease = next(r.lease for r in late if r.days_past_due)
        assert oracle.past_due_of(period) == (lease, days)
        if days == limit:
            assert not pool.trigger_holds(DefaultTrigger.LESSEE_PAST_DUE)
            reverts(lambda: pool.trigger_default(DefaultTrigger.LESSEE_PAST_DUE, sender=stranger),
                    "TriggerConditionNotMet", trigger=4)
    assert pool.trigger_holds(DefaultTrigger.LESSEE_PAST_DUE)
    pool.trigger_default(DefaultTrigger.LESSEE_PAST_DUE, sender=stranger)
    assert pool.defaulted() and pool.default_trigger() == DefaultTrigger.LESSEE_PAST_DUE


def _signed(chain: Chain, deal: DeployedDeal, report: Report) -> list[bytes]:
    from rwa.oracle.keys import dev_reporters, select_signers
    from rwa.oracle.report import sign_report

    signers = select_signers(dev_reporters(chain), deal.oracle.reporters(), deal.oracle.threshold())
    return sign_report(report, signers, chain.chain_id, deal.oracle.address)


def test_a_superseded_report_cannot_come_back_and_a_distributed_period_cannot_be_amended(
    any_chain: Chain, tmp_path: Path
) -> None:

    chain = any_chain
    deal, _ = run_lifecycle(chain, tmp_path, periods=2, distribute=1)
    oracle, sender = deal.oracle, deal.manifest.roles.servicer
    first = onchain_report(oracle, 2)
    assert first.version == 0
    first_signatures = _signed(chain, deal, first)  # public once submitted: anyone can copy them from the chain
    second = restated(first, first.revenue - 1, version=1)
    oracle.amend(2, second, _signed(chain, deal, second), sender=sender)
    reverts(lambda: oracle.amend(2, first, first_signatures, sender=sender), "WrongVersion", period=2, expected=2,
            got=0)
    assert oracle.report_of(2) == second
    paid = onchain_report(oracle, 1)
    late = restated(paid, paid.revenue - 1, version=1)
    reverts(lambda: oracle.amend(1, late, _signed(chain, deal, late), sender=sender), "AmendAfterDistribution",
            period=1, lastDistributed=1)


def test_a_report_above_the_bound_is_refused_even_with_an_inflated_contracted_rent(
    any_chain: Chain, tmp_path: Path
) -> None:
    chain = any_chain
    deal, _ = run_lifecycle(chain, tmp_path, periods=1)
    oracle, register = deal.oracle, deal.register
    assert register is not None
    period = oracle.latest_period() + 1
    chain.time_travel(oracle.period_end(period))
    # the rent the register counts: the leases' rent for the servers delivered by the period's end
    _, rent = register_tape(register, oracle, period, 0)
    revenue = rent * 3
    tape, _ = register_tape(register, oracle, period, revenue)
    servers = sum(r.servers for r in tape)
    inflated = Report(period, revenue, 9_000, servers, rent * 4, b"\x07" * 32, source_revenue=revenue,
                      fx_rate=FX_RATE_SCALE, tape=tape)
    reverts(lambda: oracle.submit(inflated, _signed(chain, deal, inflated), sender=deal.manifest.roles.servicer),
            "ContractedRentMismatch", period=period, scheduled=rent, reported=rent * 4)
    honest_field = Report(period, revenue, 9_000, servers, rent, b"\x07" * 32, source_revenue=revenue,
                          fx_rate=FX_RATE_SCALE, tape=tape)
    reverts(lambda: oracle.submit(honest_field, _signed(chain, deal, honest_field),
                                  sender=deal.manifest.roles.servicer), "RevenueOutOfBounds")


def test_pulling_the_next_periods_cash_forward_does_not_avoid_the_cash_trap(chain: Chain, tmp_path: Path) -> None:

    from rwa.model import waterfall

    # no reserve at close: the pulled-forward cash fills the reserve first, as it would after a drawdown
    deal, manifest = run_lifecycle(chain, tmp_path, periods=1, distribute=0, reserve_at_close=0)
    pool, oracle = deal.pool, deal.oracle
    terms = pool.terms()
    honest = onchain_report(oracle, 1)
    service = (waterfall.monthly_interest_down(terms.face, terms.senior_coupon_bps)
               + terms.scheduled_principal(1))
    fee, refund_due = terms.servicing_fee_per_period, terms.scheduled_refund(1)
    # A weak month: the reporters attest revenue that covers the senior's debt service only 1.0x.
    weak = restated(honest, max(service + fee - refund_due, 0), version=1)
    oracle.amend(1, weak, _signed(chain, deal, weak), sender=deal.manifest.roles.servicer)
    # The servicer pulls later collections forward, enough to fill the reserve and leave a month's revenue over:
    # half as rent, half labelled a tax refund.
    opening = terms.face - terms.scheduled_principal(1)
    target = waterfall.reserve_target(terms, 1, opening)
    pulled = target + honest.revenue
    rent, refund = weak.revenue + pulled // 2, refund_due + pulled - pulled // 2
    cash = rent + refund
    assert waterfall.dscr_bps_down(cash - fee, service) >= terms.cash_trap_dscr_bps  # a test on cash would pass
    result = distribute_period(deal, 1, amount=rent, tax_refund=refund)
    legs = result.legs
    assert legs is not None and legs.collected == cash
    assert legs.dscr_bps == waterfall.dscr_bps_down(service, service) < terms.cash_trap_dscr_bps
    paid = legs.fee + legs.senior_interest + legs.senior_principal + legs.reserve_in
    assert legs.reserve_in == target and legs.junior == 0
    assert legs.trapped == cash - paid >= honest.revenue  # what the pulled cash would have paid junior prepays senior
    _, expected = waterfall.run_period(terms, waterfall.PoolState.opening(terms), 1, cash, weak.revenue, rent=rent,
                                       refund=refund)
    assert expected.with_dust(legs.senior_dust, legs.junior_dust) == legs
    audit = replay(chain, manifest, tmp_path)
    assert audit.exit_code == 0, [f.detail for f in audit.findings]


def _rwa(args: list[str], key: bytes) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "RWA_PRIVATE_KEYS": "0x" + key.hex(), "COLUMNS": "250"}
    return subprocess.run([sys.executable, "-c", "from rwa.cli.main import main; main()", *args], cwd=root, env=env,
                          capture_output=True, text=True, timeout=120, check=False)


def test_the_governance_commands_announce_list_run_and_cancel_a_recovery(
    anvil: AnvilNode, anvil_chain: Chain, tmp_path: Path
) -> None:
    chain = anvil_chain
    deal, manifest = run_lifecycle(chain, tmp_path, periods=1)
    roles, senior = deal.manifest.roles, deal.tokens["senior"]
    keys = {a.address: bytes(a.key) for a in chain.accounts}
    lost, new = chain.accounts[16].address, chain.accounts[17].address
    _freeze(deal, lost)
    where = ["--deployment", str(manifest), "--rpc-url", anvil.url]
    announced = _rwa(["governance", "propose", "recover", "--tranche", "senior", "--lost", lost, "--to", new,
                      *where], keys[roles.issuer])
    assert announced.returncode == 0, announced.stderr
    op = announced.stdout.split(" id ", 1)[1].split()[0]
    early = _rwa(["governance", "execute", "--id", op, *where], keys[roles.servicer])
    assert early.returncode == 2 and "may run from" in early.stderr
    listed = _rwa(["governance", "pending", *where], keys[roles.servicer])
    assert listed.returncode == 0 and op in listed.stdout and "recoverWallet" in listed.stdout
    chain.time_travel(timelock_of(deal).min_delay() + chain.now())
    balance = senior.balance_of(lost)
    ran = _rwa(["governance", "execute", "--id", op, *where], keys[roles.servicer])
    assert ran.returncode == 0, ran.stderr
    assert senior.balance_of(lost) == 0 and senior.balance_of(new) >= balance
    second = _rwa(["governance", "propose", "set-threshold", "--threshold", "1", *where], keys[roles.issuer])
    op2 = second.stdout.split(" id ", 1)[1].split()[0]
    cancelled = _rwa(["governance", "cancel", "--id", op2, *where], keys[roles.trustee])
    assert cancelled.returncode == 0, cancelled.stderr
    assert timelock_of(deal).state(_call_by_id(deal, op2)) == State.UNSET
    table = _rwa(["governance", "roles", *where], keys[roles.servicer])
    assert table.returncode == 0, table.stdout + table.stderr


def _call_by_id(deal: DeployedDeal, op: str) -> Call:
    from rwa.issuance.governance import announced

    return next(call for oid, call, _ in announced(deal) if "0x" + oid.hex() == op)
