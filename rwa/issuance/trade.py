"""Secondary trades of tranche tokens, settled against payment by the deal's ``TradeSettlement``.

A seller makes (signs) an order and gives the buyer the order file; the buyer fills it, and tokens and stablecoin
move in one transaction. :func:`fair_price` quotes what a buyer would pay: the tranche's remaining expected payments
(the pool's waterfall run forward from its on-chain state on the deal's base-case cash) discounted at a market rate.
"""

from __future__ import annotations

from pathlib import Path

from rwa.deal import Deal
from rwa.errors import InputError
from rwa.leverage import base_deposits, base_revenue, collateral_value
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.settlement import ANYONE, Order, SignedOrder, Trade, TradeSettlement, sign_order
from rwa.onchain.tranche import Restriction
from rwa.terms import refund_schedule
from rwa.units import BPS, TRANCHES, Tranche
from rwa.waterfall import PoolState, run_maturity, run_period


def settlement_of(deal: DeployedDeal) -> TradeSettlement:
    if "settlement" not in deal.manifest.contracts:
        raise InputError("this deployment has no settlement contract: re-issue with this version to trade")
    return TradeSettlement.at(deal.chain, deal.manifest.address("settlement"))


def expected_payments(deal: Deal, deployed: DeployedDeal) -> dict[Tranche, list[int]]:
    """Each tranche's expected payments in the periods still to come, maturity included, on the base case."""
    pool = deployed.pool
    terms = pool.terms()
    last = pool.last_distributed_period()
    state = PoolState(balance=pool.senior_outstanding(), reserve=pool.reserve_balance(),
                      interest_arrears=pool.interest_arrears(), principal_arrears=pool.principal_arrears(),
                      last_distributed_period=last, defaulted=pool.defaulted(), finalized=pool.finalized())
    out: dict[Tranche, list[int]] = {"senior": [], "junior": []}
    if state.finalized:
        return out
    cash, revenue, refunds = base_deposits(deal), base_revenue(deal), refund_schedule(deal)
    for p in range(last + 1, terms.period_count + 1):
        state, legs = run_period(terms, state, p, cash[p - 1], revenue[p - 1], refund=refunds[p - 1])
        out["senior"].append(legs.senior_paid)
        out["junior"].append(legs.junior)
    _, legs = run_maturity(terms, state, collateral_value(deal)[-1])
    out["senior"].append(legs.senior_paid)
    out["junior"].append(legs.junior)
    return out


def market_rate_bps(deal: Deal, tranche: Tranche) -> int:
    """The rate a buyer discounts at: the senior coupon plus 100 bp; the junior's hurdle from the deal."""
    if tranche == "senior":
        return deal.financing.senior_coupon_bps + 100
    return deal.financing.junior_discount_rate_bps


def fair_price(payments: list[int], supply: int, amount: int, annual_rate_bps: int) -> int:
    """``amount`` tokens' share of ``payments`` (one per coming month), discounted monthly, rounded down."""
    if supply <= 0 or amount <= 0:
        raise InputError("a price needs a positive supply and amount")
    monthly = annual_rate_bps / BPS / 12
    value = sum(p / (1 + monthly) ** (k + 1) for k, p in enumerate(payments))
    return int(value * amount // supply)


def make_order(deployed: DeployedDeal, tranche: str, seller: str, amount: int, price: int, buyer: str | None,
               expiry: int, nonce: int | None = None) -> SignedOrder:
    """The seller signs a sell order (and approves the settlement for its tokens if it has not)."""
    if tranche not in TRANCHES:
        raise InputError(f"--tranche {tranche!r}: one of {', '.join(TRANCHES)}")
    if amount <= 0 or price < 0:
        raise InputError(f"--amount {amount} must be positive and --price {price} not negative")
    token = deployed.tokens[tranche]  # type: ignore[index]
    settlement = settlement_of(deployed)
    key = deployed.chain.account(seller)
    if token.balance_of(key.address) < amount:
        raise InputError(f"{key.address} holds {token.balance_of(key.address)} {tranche} units, not {amount}")
    if expiry <= deployed.chain.now():
        raise InputError(f"--expiry {expiry}: must be after the chain's time {deployed.chain.now()}")
    if nonce is None:
        nonce = deployed.chain.now() * 1_000 + amount % 1_000
    if settlement.nonce_spent(key.address, nonce):
        raise InputError(f"--nonce {nonce}: already used by {key.address}")
    if token.allowance(key.address, settlement.address) < amount:
        token.approve(settlement.address, 2**256 - 1, sender=key.address)
    order = Order(key.address, token.address, amount, price, buyer or ANYONE, expiry, nonce)
    return sign_order(order, key, deployed.chain.chain_id, settlement.address)


def fill_order(deployed: DeployedDeal, signed: SignedOrder, buyer: str) -> Trade:
    """The buyer fills ``signed``: validated first (expiry, nonce, compliance, balance), then one transaction."""
    settlement = settlement_of(deployed)
    order = signed.order
    tokens = {t.address.lower(): t for t in deployed.tokens.values()}
    token = tokens.get(order.token.lower())
    if token is None:
        raise InputError(f"the order sells {order.token}, not a tranche of this deal")
    key = deployed.chain.account(buyer)
    now = deployed.chain.now()
    if order.expiry <= now:
        raise InputError(f"the order expired at {order.expiry}; the chain's time is {now}")
    if order.buyer.lower() not in (ANYONE, key.address.lower()):
        raise InputError(f"the order is for {order.buyer}, not {key.address}")
    if settlement.nonce_spent(order.seller, order.nonce):
        raise InputError(f"the order's nonce {order.nonce} is spent: it was filled or cancelled")
    code = token.detect_transfer_from_restriction(settlement.address, order.seller, key.address, order.amount)
    if code != Restriction.SUCCESS:
        raise InputError(f"the trade would be refused: {token.message_for(int(code))}")
    have = deployed.stablecoin.balance_of(key.address)
    if have < order.price:
        if not deployed.chain.is_dev:
            raise InputError(f"{key.address} holds {have} stablecoin units, the order costs {order.price}")
        deployed.stablecoin.mint(key.address, order.price - have, sender=deployed.manifest.roles.admin)
    if deployed.stablecoin.allowance(key.address, settlement.address) < order.price:
        deployed.stablecoin.approve(settlement.address, 2**256 - 1, sender=key.address)
    return settlement.trade_in(settlement.fill(signed, sender=key.address))


def read_order(path: Path) -> SignedOrder:
    return SignedOrder.read(path)
