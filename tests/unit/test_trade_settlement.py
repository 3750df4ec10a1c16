"""Delivery against payment: a signed sell order is filled once, never after its expiry or cancellation, never to a
non-compliant buyer, and its two legs move in one transaction or not at all."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rwa.chain.interface import Chain
from rwa.errors import ContractRevertError
from rwa.onchain.base import ANYONE
from rwa.onchain.settlement import Order, TradeSettlement, order_digest, sign_order
from tests.support.pool_system import PoolSystem, deploy_pool_system
from tests.support.reverts import reverts

PRICE = 95_000


@pytest.fixture
def market(chain: Chain) -> tuple[PoolSystem, TradeSettlement]:
    s = deploy_pool_system(chain)
    settlement = TradeSettlement.deploy(chain, s.usd, s.senior, s.junior, sender=s.admin)
    s.allow([settlement.address, chain.accounts[8].address])  # the contract moves tokens as a spender
    seller = chain.accounts[3].address
    s.senior.approve(settlement.address, 2**256 - 1, sender=seller)
    for buyer in (chain.accounts[4].address, chain.accounts[7].address, chain.accounts[8].address):
        s.usd.mint(buyer, 10 * PRICE, sender=s.admin)
        s.usd.approve(settlement.address, 2**256 - 1, sender=buyer)
    return s, settlement


def _order(chain: Chain, s: PoolSystem, **changes: object) -> Order:
    base = Order(chain.accounts[3].address, s.senior.address, 100_000, PRICE, ANYONE, chain.now() + 3_600, 1)
    return replace(base, **changes)  # type: ignore[arg-type]


def test_an_order_is_filled_once_with_both_legs_in_one_transaction(chain: Chain, market: tuple) -> None:
    s, settlement = market
    seller, buyer = chain.accounts[3], chain.accounts[4].address
    order = _order(chain, s)
    assert settlement.digest(order) == order_digest(order, chain.chain_id, settlement.address)
    signed = sign_order(order, seller, chain.chain_id, settlement.address)
    before = (s.senior.balance_of(seller.address), s.senior.balance_of(buyer), s.usd.balance_of(seller.address),
              s.usd.balance_of(buyer))
    trade = settlement.trade_in(settlement.fill(signed, sender=buyer))
    assert (trade.seller, trade.buyer, trade.amount, trade.price) == (seller.address, buyer, 100_000, PRICE)
    after = (s.senior.balance_of(seller.address), s.senior.balance_of(buyer), s.usd.balance_of(seller.address),
             s.usd.balance_of(buyer))
    assert after == (before[0] - 100_000, before[1] + 100_000, before[2] + PRICE, before[3] - PRICE)
    assert s.usd.balance_of(settlement.address) == 0
    reverts(lambda: settlement.fill(signed, sender=buyer), "NonceSpent", nonce=1)  # never twice


def test_expired_cancelled_tampered_or_misdirected_orders_are_refused(chain: Chain, market: tuple) -> None:
    s, settlement = market
    seller, buyer = chain.accounts[3], chain.accounts[4].address
    expired = sign_order(_order(chain, s, expiry=chain.now() - 1), seller, chain.chain_id, settlement.address)
    reverts(lambda: settlement.fill(expired, sender=buyer), "OrderExpired")
    cancelled = sign_order(_order(chain, s, nonce=7), seller, chain.chain_id, settlement.address)
    settlement.cancel(7, sender=seller.address)
    reverts(lambda: settlement.fill(cancelled, sender=buyer), "NonceSpent", nonce=7)
    signed = sign_order(_order(chain, s, nonce=8), seller, chain.chain_id, settlement.address)
    cheaper = replace(signed, order=replace(signed.order, price=1))
    reverts(lambda: settlement.fill(cheaper, sender=buyer), "BadSignature")
    targeted = sign_order(_order(chain, s, nonce=9, buyer=buyer), seller, chain.chain_id, settlement.address)
    other = chain.accounts[8].address
    reverts(lambda: settlement.fill(targeted, sender=other), "NotTheBuyer", buyer=buyer, caller=other)
    settlement.fill(targeted, sender=buyer)


def test_a_non_compliant_buyer_gets_nothing_and_pays_nothing(chain: Chain, market: tuple) -> None:
    s, settlement = market
    seller, outsider = chain.accounts[3], chain.accounts[7].address  # account 7 never passed KYC
    signed = sign_order(_order(chain, s), seller, chain.chain_id, settlement.address)
    before = (s.senior.balance_of(seller.address), s.usd.balance_of(outsider))
    reverts(lambda: settlement.fill(signed, sender=outsider), "TradeRestricted", code=2)
    assert (s.senior.balance_of(seller.address), s.usd.balance_of(outsider)) == before
    s.senior.set_wallet_frozen(seller.address, True, sender=s.admin)  # a frozen seller cannot sell either
    reverts(lambda: settlement.fill(signed, sender=chain.accounts[4].address), "TradeRestricted", code=5)


def test_a_buyer_short_of_stablecoin_moves_nothing(chain: Chain, market: tuple) -> None:
    s, settlement = market
    seller, buyer = chain.accounts[3], chain.accounts[8].address
    signed = sign_order(_order(chain, s, price=11 * PRICE), seller, chain.chain_id, settlement.address)
    before = s.senior.balance_of(seller.address)
    with pytest.raises(ContractRevertError):
        settlement.fill(signed, sender=buyer)
    assert s.senior.balance_of(seller.address) == before and s.usd.balance_of(buyer) == 10 * PRICE
    assert not settlement.nonce_spent(seller.address, 1)
