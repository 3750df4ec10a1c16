"""An issued deal sells its tranches through its offering: investors pay stablecoin for their tokens, the close
allocates an over-subscribed senior pro rata and routes the raise, and the pool runs on what was raised."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rwa.chain.interface import Chain
from rwa.chain.tx import send
from rwa.cli.demo import write_offering_deal
from rwa.issuance.governance import check_roles
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import claim_for, distribute_period
from rwa.model.offering_book import JUNIOR_ID, SENIOR_ID, allocation
from rwa.model.terms import reserve_at_close
from rwa.model.units import money_formatter
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.deployment import Manifest, load_manifest
from rwa.onchain.offering import Phase
from rwa.oracle.publisher import publish
from tests.support.deals import EXAMPLE_DEAL
from tests.support.lifecycle import replay
from tests.support.reverts import reverts

WEEK = 7 * 86_400
UNIT = 10**6


def _issue_offering(chain: Chain, folder: Path) -> tuple[DeployedDeal, Path]:
    now = chain.now()
    investors = chain.accounts[15:20]  # four senior subscribers, one junior
    recipients = [chain.accounts[12].address, chain.accounts[13].address]
    path = write_offering_deal(EXAMPLE_DEAL, folder, investors, datetime.fromtimestamp(now - 60, tz=UTC),
                               datetime.fromtimestamp(now + WEEK, tz=UTC), recipients, max_ticket=10**9)
    out = folder / "deployment.json"
    manifest: Manifest = issue(chain, plan_issue(path), out, lambda _m: None)
    return open_deployment(chain, manifest), out


@pytest.fixture(scope="module")
def offered(session_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[object, Path]]:
    """The example deal issued with its offering open, and a snapshot of the chain then."""
    with session_chain.snapshot():
        _, manifest = _issue_offering(session_chain, tmp_path_factory.mktemp("offered"))
        yield session_chain.take_snapshot(), manifest


def _reopen(chain: Chain, offered: tuple[object, Path], folder: Path) -> tuple[DeployedDeal, Path]:
    snapshot, manifest = offered
    chain.revert_to(snapshot)
    copy = folder / "deployment.json"
    shutil.copyfile(manifest, copy)
    return open_deployment(chain, load_manifest(copy)), copy


def test_an_over_subscribed_senior_is_allocated_pro_rata_and_the_raise_funds_the_deal(
    any_chain: Chain, tmp_path: Path
) -> None:
    chain = any_chain
    deal, manifest_path = _issue_offering(chain, tmp_path)
    offering, usd, admin = deal.offering, deal.stablecoin, deal.manifest.roles.admin
    assert offering is not None and check_roles(deal) == []
    senior_size, junior_size = deal.manifest.senior_size, deal.manifest.junior_size
    seniors, junior = [a.address for a in chain.accounts[15:19]], chain.accounts[19].address
    asks = {who: senior_size * (40 + i) // 100 + i for i, who in enumerate(seniors)}  # 166% of the tranche
    for who, assets in [*asks.items(), (junior, junior_size)]:
        usd.mint(who, assets, sender=admin)
        usd.approve(offering.address, assets, sender=who)
        offering.subscribe(JUNIOR_ID if who == junior else SENIOR_ID, assets, who, sender=who)
    cancelled = seniors[3]
    offering.cancel(SENIOR_ID, sender=cancelled)  # changes its mind in the window: refunded in full at once
    assert usd.balance_of(cancelled) == asks.pop(cancelled)
    chain.time_travel(offering.config().close_time)
    outcome = offering.close_outcome_in(offering.close(sender=chain.accounts[9].address))
    requested = sum(asks.values())
    reserve = reserve_at_close(_deal_file(deal), deal.pool.terms())
    costs = sum(c.amount for c in offering.costs())
    assert outcome.sold == (senior_size, junior_size) and outcome.reserve == reserve > 0
    assert outcome.proceeds == senior_size + junior_size - reserve - costs
    # the proceeds are below the fleet's price: all of them wait in the fleet register's escrow, none to the treasury
    assert deal.register is not None and outcome.proceeds < deal.register.capex_total()
    assert usd.balance_of(deal.register.address) == deal.register.escrow().raise_amount == outcome.proceeds
    assert deal.pool.reserve_balance() == reserve and offering.phase() == Phase.CLOSED
    reverts(lambda: offering.subscribe(SENIOR_ID, UNIT, seniors[0], sender=seniors[0]), "WrongPhase")

    claimed, delivered = 0, 0
    for who in reversed(list(asks)):
        settled = offering.settled_in(offering.claim(SENIOR_ID, who, sender=who))
        assert settled.shares == allocation(senior_size, requested, claimed, asks[who])
        assert usd.balance_of(who) == settled.refund == asks[who] - settled.shares
        claimed, delivered = claimed + asks[who], delivered + settled.shares
    assert delivered == senior_size == deal.tokens["senior"].total_supply()
    offering.claim(JUNIOR_ID, junior, sender=junior)
    assert deal.tokens["junior"].issuance_closed() and usd.balance_of(offering.address) == 0

    chain.time_travel(deal.pool.period_end(1))
    publish(chain, deal.manifest, simulate=True, outbox=tmp_path / "outbox.sqlite")
    legs = distribute_period(deal, 1).legs
    assert legs is not None and legs.reserve_out == 0
    for who in seniors[:3]:
        claim_for(deal, who)
    result = replay(chain, manifest_path, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    summary = json.loads((tmp_path / "audit" / "summary.json").read_text())
    book = summary["offering"]
    assert (book["phase"], book["subscribers"], book["sold"]) == ("closed", 5, [senior_size, junior_size])
    assert (book["reserve"], book["proceeds"], book["balance"]) == (reserve, outcome.proceeds, 0)
    with (tmp_path / "audit" / "holders.csv").open() as f:
        rows = {(r["tranche"], r["holder"].lower()): r for r in csv.DictReader(f)}
    first = rows[("senior", seniors[0].lower())]
    assert int(first["paid"]) == int(first["balance"]) > 0  # net of its refund it paid par for the tokens it holds
    claimed = sum(int(r["claimed"]) for k, r in rows.items() if k[1] == seniors[0].lower())
    assert int(first["received"]) == claimed > 0 and "xirr" in first
    assert rows[("senior", cancelled.lower())]["paid"] == "0"  # cancelled in full: paid nothing in the end
    report = (tmp_path / "audit" / "report.html").read_text(encoding="utf-8")
    assert 'id="investors"' in report and seniors[0].lower() in report


def test_a_buyer_frozen_after_the_close_delays_only_itself_and_the_replay_follows(
    any_chain: Chain, tmp_path: Path
) -> None:
    """The deal distributes while one buyer is frozen with its tokens held in the offering; unfrozen, it gets them
    with what they earned meanwhile, and the auditor reconciles the book, the money and that buyer's entitlement."""
    chain = any_chain
    deal, manifest_path = _issue_offering(chain, tmp_path)
    offering, usd, admin = deal.offering, deal.stablecoin, deal.manifest.roles.admin
    assert offering is not None
    senior = deal.tokens["senior"]
    seniors, junior = [a.address for a in chain.accounts[15:17]], chain.accounts[19].address
    asks = {seniors[0]: deal.manifest.senior_size // 2, seniors[1]: deal.manifest.senior_size}
    for who, assets, tranche in [*((w, a, SENIOR_ID) for w, a in asks.items()),
                                 (junior, deal.manifest.junior_size, JUNIOR_ID)]:
        usd.mint(who, assets, sender=admin)
        usd.approve(offering.address, assets, sender=who)
        offering.subscribe(tranche, assets, who, sender=who)
    chain.time_travel(offering.config().close_time)
    offering.close(sender=chain.accounts[9].address)
    frozen = seniors[0]
    senior.set_wallet_frozen(frozen, True, sender=deal.manifest.roles.agent)
    first = offering.settled_in(offering.claim(SENIOR_ID, frozen, sender=frozen))
    assert first.held and usd.balance_of(frozen) == first.refund > 0
    from rwa.errors import InputError
    from rwa.issuance import offering as ops

    block = chain.w3.eth.block_number
    with pytest.raises(InputError, match=r"cannot receive its tokens now .*frozen"):
        ops.claim(deal, chain.accounts[9].address, frozen)
    assert chain.w3.eth.block_number == block  # refused before sending: it would revert ControllerRestricted

    chain.time_travel(deal.pool.period_end(1))
    publish(chain, deal.manifest, simulate=True, outbox=tmp_path / "outbox.sqlite")
    assert distribute_period(deal, 1).legs is not None  # before anyone's tokens were delivered
    offering.claim(SENIOR_ID, seniors[1], sender=seniors[1])
    offering.claim(JUNIOR_ID, junior, sender=junior)
    senior.set_wallet_frozen(frozen, False, sender=deal.manifest.roles.agent)
    late = offering.settled_in(offering.claim(SENIOR_ID, frozen, sender=chain.accounts[9].address))
    assert late.delivered == first.shares and senior.balance_of(frozen) == first.shares
    earned = senior.claimable(frozen)
    assert earned == senior.points_per_share() * first.shares // 2**64 > 0
    claim_for(deal, frozen)

    result = replay(chain, manifest_path, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    book = json.loads((tmp_path / "audit" / "summary.json").read_text())["offering"]
    assert (book["phase"], book["balance"]) == ("closed", 0)
    with (tmp_path / "audit" / "holders.csv").open() as f:
        rows = {(r["tranche"], r["holder"].lower()): r for r in csv.DictReader(f)}
    assert int(rows[("senior", frozen.lower())]["claimed"]) == earned


def _deal_file(deal: DeployedDeal):  # type: ignore[no-untyped-def]
    from rwa.model.deal_file import load_deal

    return load_deal(Path(deal.manifest.deal_file))


def test_the_offering_commands_subscribe_cancel_close_claim_and_refuse_bad_input(tmp_path: Path) -> None:
    import subprocess
    import sys

    from rwa.chain.connect import connect
    from tests.support.issuance import rwa

    state = ["--state", str(tmp_path / "chain.sqlite")]
    with connect(state=tmp_path / "chain.sqlite") as chain:
        now = chain.now()
        investors = chain.accounts[15:20]
        recipients = [chain.accounts[12].address, chain.accounts[13].address]
        stranger = chain.accounts[9].address
    path = write_offering_deal(EXAMPLE_DEAL, tmp_path, investors, datetime.fromtimestamp(now - 60, tz=UTC),
                               datetime.fromtimestamp(now + WEEK, tz=UTC), recipients, max_ticket=10**9)
    dep = ["--deployment", str(tmp_path / "deployment.json")]
    subprocess.run([sys.executable, "scripts/issue.py", "--deal", str(path), "--out", str(tmp_path / "deployment.json"),
                    *state], check=True, capture_output=True)
    manifest = json.loads((tmp_path / "deployment.json").read_text())
    senior, junior = manifest["senior_size"], manifest["junior_size"]
    seniors, junior_investor = [a.address for a in investors[:4]], investors[4].address
    half = senior // 2 + 1
    for who in seniors[:3]:
        rwa("offering", "subscribe", "--tranche", "senior", "--investor", who, "--amount", str(half), "--raw", *dep,
            *state, check=True)
    rwa("offering", "subscribe", "--tranche", "junior", "--investor", junior_investor, "--amount", str(junior),
        "--raw", *dep, *state, check=True)
    bad = rwa("offering", "subscribe", "--tranche", "senior", "--investor", stranger, "--amount", "5,000", *dep,
              *state)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "cannot subscribe" in bad.stderr
    out = rwa("offering", "cancel", "--tranche", "senior", "--investor", seniors[2], *dep, *state, check=True)
    assert "cancelled" in out.stdout and "USDC" in out.stdout
    closed = rwa("offering", "close", *dep, *state, check=True).stdout.splitlines()
    money = money_formatter(6, "USDC")
    requested = 2 * half  # the third senior request was cancelled
    assert closed[:3] == [
        "closed",
        f"senior: requested {money(requested)}, allocated {money(senior)}, refunded {money(requested - senior)} "
        f"(at the claims), taken up {money(0)} by the treasury",
        f"junior: requested {money(junior)}, allocated {money(junior)}, refunded {money(0)} (at the claims), "
        f"taken up {money(0)} by the treasury",
    ]
    routed = [line for line in closed if line.startswith("raise: ")]
    assert routed[0].startswith("raise: reserve ") and " paid to " in routed[0]
    assert sum(line.startswith("raise: cost ") for line in routed) == 2
    # the proceeds are less than the fleet's price: all of them wait in the fleet register's escrow
    assert routed[-2].startswith("raise: escrow ") and manifest["contracts"]["register"] in routed[-2]
    assert routed[-1] == f"raise: {money(senior + junior)} in all; tokens wait in the offering for `rwa offering claim`"
    claims = rwa("offering", "claim", "--all", "--raw", *dep, *state, check=True).stdout.splitlines()
    assert len(claims) == 3
    delivered = [int(line.split("senior ")[1].split()[0]) for line in claims if "senior" in line]
    assert sum(delivered) == senior  # two requests of half + 1 each share the tranche exactly
    status = rwa("offering", "status", "--raw", *dep, *state, check=True).stdout
    assert "closed" in status and "delivered" in status and "in the offering for its buyers 0 " in status


def test_stablecoin_taken_out_of_the_offering_is_a_finding_with_its_account_and_amount(
    chain: Chain, offered: tuple[object, Path], tmp_path: Path
) -> None:
    deal, manifest_path = _reopen(chain, offered, tmp_path)
    offering, usd, admin = deal.offering, deal.stablecoin, deal.manifest.roles.admin
    assert offering is not None
    who = chain.accounts[15].address
    usd.mint(who, 5_000 * UNIT, sender=admin)
    usd.approve(offering.address, 5_000 * UNIT, sender=who)
    offering.subscribe(SENIOR_ID, 5_000 * UNIT, who, sender=who)
    thief = chain.accounts[9].address
    send(usd.contract.functions.seize(offering.address, thief, 1_234), admin)  # the coin's owner takes it
    result = replay(chain, manifest_path, tmp_path)
    outflow = [f for f in result.findings if f.kind == "offering-outflow"]
    assert result.exit_code == 1 and len(outflow) == 1
    assert (outflow[0].account, outflow[0].expected, outflow[0].actual) == (offering.address, 0, 1_234)
    balance = [f for f in result.findings if f.kind == "offering-balance"]
    assert [(f.expected, f.actual) for f in balance] == [(5_000 * UNIT, 5_000 * UNIT - 1_234)]


def test_claims_that_break_the_allocation_rule_are_findings_naming_the_account(
    chain: Chain, offered: tuple[object, Path], tmp_path: Path
) -> None:
    from rwa.chain.tx import deploy

    deal, manifest_path = _reopen(chain, offered, tmp_path)
    assert deal.offering is not None
    forged = deploy(chain, "ForgedOffering", deal.offering.address, sender=chain.accounts[9].address)
    manifest = json.loads(manifest_path.read_text())
    manifest["contracts"]["offering"] = forged.address  # the manifest names a rogue offering
    manifest_path.write_text(json.dumps(manifest))
    senior, junior = manifest["senior_size"], manifest["junior_size"]
    a, b, c = (x.address for x in chain.accounts[15:18])
    fn, sender = forged.functions, chain.accounts[9].address
    for who, tranche, assets in ((a, SENIOR_ID, senior * 6 // 10), (b, SENIOR_ID, senior * 6 // 10),
                                 (c, JUNIOR_ID, junior)):
        send(fn.forgeRequest(who, tranche, assets), sender)
    requested = [senior * 6 // 10 * 2, junior]
    cfg = deal.offering.config()
    costs = sum(x.amount for x in deal.offering.costs())
    send(fn.forgeClose(requested, [senior, junior], cfg.reserve_at_close, costs,
                       senior + junior - cfg.reserve_at_close - costs), sender)
    send(fn.forgeClaim(a, SENIOR_ID, senior * 6 // 10, senior * 6 // 10), sender)  # all of it: the rule gives half
    result = replay(chain, manifest_path, tmp_path)
    skewed = [f for f in result.findings if f.kind == "offering-allocation"]
    want = allocation(senior, requested[0], 0, senior * 6 // 10)
    assert result.exit_code == 1 and len(skewed) == 1
    assert skewed[0].account == a.lower()
    assert (tuple(skewed[0].expected), tuple(skewed[0].actual)) == ((want, senior * 6 // 10 - want),
                                                                     (senior * 6 // 10, 0))


def test_a_trade_settles_against_payment_and_the_replay_follows_both_legs(chain: Chain, tmp_path: Path) -> None:
    import pytest

    from rwa.errors import InputError
    from rwa.issuance.trade import fair_price, fill_order, make_order
    from tests.support.lifecycle import run_lifecycle

    deal, manifest_path = run_lifecycle(chain, tmp_path, periods=2)
    seller, buyer = chain.accounts[15].address, chain.accounts[16].address
    senior = deal.tokens["senior"]
    amount = senior.balance_of(seller) // 3
    model = _deal_file(deal)
    price = fair_price(model, deal, "senior", amount)
    assert 0 < price < amount * 11 // 10  # near par: the senior pays its coupon on a falling balance
    signed = make_order(deal, "senior", seller, amount, price, None, chain.now() + 3_600)
    outsider = chain.accounts[9].address  # never passed KYC
    with pytest.raises(InputError, match="refused"):
        fill_order(deal, signed, outsider)
    before = (senior.balance_of(buyer), deal.stablecoin.balance_of(seller))
    trade = fill_order(deal, signed, buyer)
    assert (senior.balance_of(buyer), deal.stablecoin.balance_of(seller)) == (before[0] + amount,
                                                                                before[1] + price)
    with pytest.raises(InputError, match="spent"):
        fill_order(deal, signed, buyer)  # filled once
    result = replay(chain, manifest_path, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    assert json.loads((tmp_path / "audit" / "summary.json").read_text())["trades"] == 1
    with (tmp_path / "audit" / "holders.csv").open() as f:
        rows = {(r["tranche"], r["holder"].lower()): r for r in csv.DictReader(f)}
    assert int(rows[("senior", buyer.lower())]["paid"]) >= trade.price
    sold = rows[("senior", seller.lower())]
    assert int(sold["received"]) == trade.price + int(sold["claimed"])


def test_the_offering_operations_refuse_what_the_contract_would_before_sending(
    chain: Chain, offered: tuple[object, Path], tmp_path: Path
) -> None:
    from rwa.errors import InputError
    from rwa.issuance import offering as ops

    deal, _ = _reopen(chain, offered, tmp_path)
    who = chain.accounts[15].address
    block = chain.w3.eth.block_number
    for call, message in ((lambda: ops.subscribe(deal, "senior", who, 5), "tickets"),
                          (lambda: ops.subscribe(deal, "mezzanine", who, 10**9), "--tranche"),
                          (lambda: ops.cancel(deal, "senior", who), "no pending"),
                          (lambda: ops.claim(deal, who), "has not closed")):
        with pytest.raises(InputError, match=message):
            call()
    assert chain.w3.eth.block_number == block  # nothing was sent
    ops.subscribe(deal, "senior", who, deal.manifest.senior_size)
    ops.subscribe(deal, "junior", chain.accounts[19].address, deal.manifest.junior_size)
    assert ops.close(deal, who, str).lines[0] == "closed"
    with pytest.raises(InputError, match="closed"):
        ops.subscribe(deal, "senior", who, 10**9)
    assert ops.close(deal, who, str).lines[0].startswith("the offering is already closed")
    assert len(ops.claim(deal, who)[0]) == 2 and ops.claim(deal, who) == ([], [])


def test_the_example_offering_deal_plans_issues_sells_and_closes(tmp_path: Path) -> None:
    from tests.support.issuance import rwa

    deal = str(EXAMPLE_DEAL.parent / "deal-h800-offering.toml")
    state, dep = ["--state", str(tmp_path / "chain.sqlite")], ["--deployment", str(tmp_path / "deployment.json")]
    plan = rwa("issue", "--deal", deal, "--dry-run", check=True).stdout
    for row in ("sold by", "offering window", "abandonable after", "tickets", "reserve at close", "upfront costs",
                "arranger", "take-up"):
        assert row in plan, row
    assert "investors" not in plan and not (tmp_path / "deployment.json").exists()
    rwa("issue", "--deal", deal, "--out", str(tmp_path / "deployment.json"), *state, check=True)
    manifest = json.loads((tmp_path / "deployment.json").read_text())
    senior, junior = manifest["senior_size"], manifest["junior_size"]
    buyers = {"0xfaE394561e33e242c551d15D4625309EA4c0B97f": ("senior", senior),
              "0x811da72aCA31e56F770Fc33DF0e45fD08720E157": ("junior", junior - 10_000_000 * UNIT)}
    for who, (tranche, amount) in buyers.items():
        rwa("offering", "subscribe", "--tranche", tranche, "--investor", who, "--amount", str(amount), "--raw",
            *dep, *state, check=True)
    closed = rwa("offering", "close", *dep, *state, check=True).stdout
    assert closed.startswith("closed") and "taken up 10,000,000.00 USDC by the treasury" in closed
    claims = rwa("offering", "claim", "--all", *dep, *state, check=True).stdout
    assert claims.count("in tokens delivered") == 2 and "wait" not in claims
    from rwa.chain.connect import connect

    with connect(state=tmp_path / "chain.sqlite") as chain:
        deployed = open_deployment(chain, load_manifest(tmp_path / "deployment.json"))
        treasury = "0x4bd1280852Cadb002734647305AFC1db7ddD6Acb"  # its take-up was delivered at the close
        assert deployed.tokens["junior"].balance_of(treasury) == 10_000_000 * UNIT
        assert deployed.tokens["junior"].total_supply() == junior and deployed.tokens["junior"].issuance_closed()


def test_an_offering_whose_window_is_over_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    from rwa.chain.connect import connect
    from rwa.errors import InputError
    from tests.support.issuance import rwa

    with connect(state=tmp_path / "chain.sqlite") as chain:
        now = chain.now()
        investors, recipients = chain.accounts[15:20], [chain.accounts[12].address, chain.accounts[13].address]
    past = write_offering_deal(EXAMPLE_DEAL, tmp_path, investors, datetime.fromtimestamp(now - 2 * WEEK, tz=UTC),
                               datetime.fromtimestamp(now - WEEK, tz=UTC), recipients, max_ticket=10**9)
    before = (tmp_path / "chain.sqlite").read_bytes()
    send_args = ("--out", str(tmp_path / "deployment.json"), "--state", str(tmp_path / "chain.sqlite"))
    for args in (("--dry-run",), send_args):
        done = rwa("issue", "--deal", str(past), *args)
        assert done.returncode == 2 and done.stderr.startswith("error: deal.offering.closes:"), done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    assert (tmp_path / "chain.sqlite").read_bytes() == before and not (tmp_path / "deployment.json").exists()

    # the wall clock passes it, but the chain's clock is already past the window: refused on the chain's time
    later = write_offering_deal(EXAMPLE_DEAL, tmp_path, investors, datetime.fromtimestamp(now - 60, tz=UTC),
                                datetime.fromtimestamp(now + WEEK, tz=UTC), recipients, max_ticket=10**9)
    with connect(state=tmp_path / "chain.sqlite") as chain:
        plan = plan_issue(later)
        chain.time_travel(now + 2 * WEEK)
        block = chain.w3.eth.block_number
        with pytest.raises(InputError, match=r"deal\.offering\.closes: .* on chain"):
            issue(chain, plan, tmp_path / "deployment.json", lambda _m: None)
        assert chain.w3.eth.block_number == block and not (tmp_path / "deployment.json").exists()


def test_the_demo_runs_with_the_fewest_holders_it_accepts(tmp_path: Path) -> None:
    from tests.support.issuance import rwa

    done = rwa("demo", "--holders", "2", "--months", "1", "--out", str(tmp_path / "demo"))
    assert done.returncode == 0, done.stderr
    assert "to 2 subscribers" in done.stdout


def test_an_offering_no_one_closed_is_abandoned_after_its_grace_and_the_replay_follows(
    chain: Chain, offered: tuple[object, Path], tmp_path: Path
) -> None:
    from rwa.errors import InputError
    from rwa.issuance import offering as ops

    deal, manifest_path = _reopen(chain, offered, tmp_path)
    offering = deal.offering
    assert offering is not None
    paid = {chain.accounts[15].address: 7_000 * UNIT, chain.accounts[19].address: 3_000 * UNIT}
    for (who, amount), tranche in zip(paid.items(), ("senior", "junior"), strict=True):
        ops.subscribe(deal, tranche, who, amount)
    config = offering.config()
    chain.time_travel(config.close_time + config.close_grace - 60)
    block = chain.w3.eth.block_number
    with pytest.raises(InputError, match="may be abandoned from"):
        ops.abandon(deal, chain.accounts[9].address)
    assert chain.w3.eth.block_number == block  # refused before sending
    chain.time_travel(config.close_time + config.close_grace)
    assert ops.abandon(deal, chain.accounts[9].address) == sum(paid.values())
    assert offering.phase() == Phase.CANCELLED
    settled, waiting = ops.claim(deal, chain.accounts[9].address)
    assert waiting == [] and {s.controller: s.refund for s in settled} == paid
    assert all(deal.stablecoin.balance_of(who) >= amount for who, amount in paid.items())
    result = replay(chain, manifest_path, tmp_path)
    assert result.exit_code == 0, [f.detail for f in result.findings]
    book = json.loads((tmp_path / "audit" / "summary.json").read_text())["offering"]
    assert (book["phase"], book["balance"]) == ("cancelled", 0)
