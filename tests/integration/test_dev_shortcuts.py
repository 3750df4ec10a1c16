"""A development chain's shortcuts are said, not silent: the stablecoin minted to a buyer or a subscriber that lacks
it, and every approval a command grants on someone's behalf, each a printed line naming what and how much."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from rwa.chain.interface import Chain
from rwa.cli.demo import write_offering_deal
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.offering import subscribe
from rwa.issuance.show import deal_money
from rwa.issuance.trade import fill_order, make_order, settlement_of
from rwa.onchain.deployed import open_deployment
from rwa.onchain.deployment import Manifest
from tests.support.deals import EXAMPLE_DEAL
from tests.support.lifecycle import run_lifecycle


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))


def test_a_fill_says_what_it_minted_to_the_buyer_and_approves_only_the_price(chain: Chain, tmp_path: Path) -> None:
    deal, _ = run_lifecycle(chain, tmp_path, periods=1)
    seller, buyer = chain.accounts[15].address, chain.accounts[17].address  # investors the registry allows
    money, coin = deal_money(deal.manifest), deal.stablecoin
    settlement = settlement_of(deal)
    amount = deal.tokens["senior"].balance_of(seller) // 3
    have = coin.balance_of(buyer)
    price = have + 5 * 10**6  # more than the buyer holds
    said: list[str] = []
    signed = make_order(deal, "senior", seller, amount, price, None, chain.now() + 3_600, say=said.append)
    assert said == [f"approved the settlement {settlement.address} to move {seller}'s senior tokens without limit "
                    "(this order and later ones; `rwa trade cancel` spends an order's nonce)"]
    said.clear()
    fill_order(deal, signed, buyer, say=said.append)
    assert said == [
        f"development chain: minted {money(price - have)} of test stablecoin to {buyer}, which held {money(have)} "
        f"of the {money(price)} the order costs",
        f"approved the settlement {settlement.address} to take {money(price)} from {buyer}",
    ]
    assert coin.balance_of(buyer) == 0 and coin.allowance(buyer, settlement.address) == 0  # no approval left over


def test_a_subscription_says_what_it_minted_and_approved(chain: Chain, tmp_path: Path) -> None:
    now = chain.now()
    investors = chain.accounts[15:20]
    path = write_offering_deal(EXAMPLE_DEAL, tmp_path, investors, datetime.fromtimestamp(now - 60, tz=UTC),
                               datetime.fromtimestamp(now + 7 * 86_400, tz=UTC),
                               [chain.accounts[12].address, chain.accounts[13].address], max_ticket=10**9)
    manifest: Manifest = issue(chain, plan_issue(path), tmp_path / "deployment.json", lambda _m: None)
    deal = open_deployment(chain, manifest)
    investor, money = investors[0].address, deal_money(manifest)
    have = deal.stablecoin.balance_of(investor)
    amount = have + 5_000 * 10**6
    said: list[str] = []
    subscribe(deal, "senior", investor, amount, say=said.append)
    assert said == [
        f"development chain: minted {money(amount - have)} of test stablecoin to {investor}, which held "
        f"{money(have)} of the {money(amount)} it pays",
        f"approved the offering {deal.offering.address if deal.offering else ''} to take {money(amount)} from "
        f"{investor}",
    ]
