"""Secondary trades of tranche tokens, settled against payment by the deal's ``TradeSettlement``.

A seller makes (signs) an order and gives the buyer the order file; the buyer fills it, and tokens and stablecoin
move in one transaction. :func:`fair_price` quotes what a buyer would pay: the amount's share of the tranche's fair
value (:mod:`rwa.leverage.valuation`: the remaining expected payments discounted at the tranche's market rate).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

from rwa.chain.tx import call_many
from rwa.errors import InputError
from rwa.issuance.show import deal_money, deal_tokens
from rwa.issuance.value import value_deployment
from rwa.leverage.valuation import share_value
from rwa.model.deal import Deal
from rwa.model.units import TRANCHES, Tranche, format_time
from rwa.onchain.base import ANYONE
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.deployment import Manifest
from rwa.onchain.settlement import (
    Order,
    SignedOrder,
    Trade,
    TradeSettlement,
    check_order_field,
    order_signer,
    sign_order,
)
from rwa.onchain.tranche import Restriction
from rwa.paths import state_dir


def settlement_of(deal: DeployedDeal) -> TradeSettlement:
    if "settlement" not in deal.manifest.contracts:
        raise InputError("this deployment has no settlement contract: re-issue with this version to trade")
    return TradeSettlement.at(deal.chain, deal.manifest.address("settlement"))


def fair_price(deal: Deal, deployed: DeployedDeal, tranche: Tranche, amount: int) -> int:
    """What a buyer would pay for ``amount`` token units: their share of the tranche's fair value at the chain's
    latest block time, at the tranche's market rate (:mod:`rwa.leverage.valuation`), rounded down."""
    if tranche not in TRANCHES:
        raise InputError(f"--tranche {tranche!r}: one of {', '.join(TRANCHES)}")
    valued = value_deployment(deal, deployed).tranches[tranche]
    if valued.supply <= 0:
        raise InputError(f"the {tranche} tranche has no units to price")
    if not 0 < amount <= valued.supply:
        raise InputError(f"--amount {amount}: a price is for 1 to {valued.supply} units, the {tranche} tranche's "
                         "supply")
    return share_value(valued.payments, valued.at, valued.rate, amount, valued.supply)


class MadeOrders:
    """The nonces this checkout's sellers signed orders with, by seller: a JSON file per deployment on its chain
    (``.rwa/trade-nonces-<chain id>-<settlement>[-<anchor block>].json``). The chain knows a nonce only once its
    order is filled or cancelled; an order signed and not filled yet is known here, so a second order never takes
    its nonce (only one of the two could ever be filled)."""

    def __init__(self, manifest: Manifest) -> None:
        anchor = manifest.deployment_block_hash.removeprefix("0x")[:8]
        name = f"trade-nonces-{manifest.chain_id}-{manifest.address('settlement')[2:12].lower()}"
        self.path = state_dir() / (f"{name}-{anchor}.json" if anchor else f"{name}.json")

    def _read(self) -> dict[str, dict[str, str]]:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{self.path}: not the record of the orders made here ({exc}); move it away") from None
        if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
            raise InputError(f"{self.path}: not the record of the orders made here; move it away")
        return data

    def of(self, seller: str) -> dict[int, str]:
        """The nonces ``seller`` signed orders with, and each order's file."""
        return {int(n): str(f) for n, f in self._read().get(seller.lower(), {}).items()}

    def add(self, signed: SignedOrder, out: Path) -> None:
        """Record ``signed``'s nonce (written to ``out``), atomically."""
        data = self._read()
        data.setdefault(signed.order.seller.lower(), {})[str(signed.order.nonce)] = str(out.resolve())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=self.path.name, suffix=".tmp", dir=self.path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
        os.replace(tmp, self.path)


def make_order(deployed: DeployedDeal, tranche: str, seller: str, amount: int, price: int, buyer: str | None,
               expiry: int, nonce: int | None = None, taken: Mapping[int, str] | None = None,
               say: Callable[[str], None] | None = None) -> SignedOrder:
    """The seller signs a sell order (and approves the settlement for its tokens if it has not, telling ``say``).
    ``taken``: the nonces of the seller's orders made before (:class:`MadeOrders`), each with its order file."""
    taken = taken or {}
    if tranche not in TRANCHES:
        raise InputError(f"--tranche {tranche!r}: one of {', '.join(TRANCHES)}")
    if amount <= 0 or price < 0:
        raise InputError(f"--amount must be positive and --price not negative, got {amount} token units for {price}")
    token = deployed.tokens[tranche]  # type: ignore[index]
    settlement = settlement_of(deployed)
    key = deployed.chain.account(seller)
    now = deployed.chain.now()
    if expiry <= now:
        raise InputError(f"--valid-for: the order would expire at {format_time(expiry)}, not after the chain's time "
                         f"{format_time(now)}")
    if nonce is None:
        nonce = now * 1_000 + amount % 1_000
        while nonce in taken:
            nonce += 1
    elif nonce in taken:
        raise InputError(f"--nonce {nonce}: {key.address} already signed the order {taken[nonce]} with it; give "
                         "another nonce (of two orders with one nonce only one can ever be filled)")
    for name, value, where in (("amount", amount, "--amount"), ("price", price, "--price"),
                               ("expiry", expiry, "--valid-for (the order's expiry)"), ("nonce", nonce, "--nonce")):
        check_order_field(name, value, where)
    t, st = token.contract.functions, settlement.contract.functions
    balance, spent, allowance = call_many([t.balanceOf(key.address), st.nonceSpent(key.address, nonce),
                                           t.allowance(key.address, settlement.address)])
    if balance < amount:
        tokens = deal_tokens(deployed.manifest, tranche)
        raise InputError(f"--amount: {key.address} holds {tokens(balance)}, not {tokens(amount)}")
    if spent:
        raise InputError(f"--nonce {nonce}: already used by {key.address}")
    if allowance < amount:
        token.approve(settlement.address, 2**256 - 1, sender=key.address)
        _say(say, f"approved the settlement {settlement.address} to move {key.address}'s {tranche} tokens without "
                  "limit (this order and later ones; `rwa trade cancel` spends an order's nonce)")
    order = Order(key.address, token.address, amount, price, buyer or ANYONE, expiry, nonce)
    return sign_order(order, key, deployed.chain.chain_id, settlement.address)


def fill_order(deployed: DeployedDeal, signed: SignedOrder, buyer: str, say: Callable[[str], None] | None = None
               ) -> Trade:
    """The buyer fills ``signed``: validated first (expiry, nonce, compliance, balance), then one transaction. On a
    development chain the stablecoin the buyer lacks is minted to it; that, and the approval of the settlement for
    the price, are told to ``say``."""
    settlement = settlement_of(deployed)
    order = signed.order
    chain_id = deployed.chain.chain_id
    signer = order_signer(signed, chain_id, settlement.address)
    if signer is None or signer.lower() != order.seller.lower():
        raise InputError(f"the order's signature is not its seller's ({order.seller}) for the settlement "
                         f"{settlement.address} on chain {chain_id}: the order was altered, or signed for another "
                         "chain or settlement")
    tokens = {t.address.lower(): t for t in deployed.tokens.values()}
    token = tokens.get(order.token.lower())
    if token is None:
        raise InputError(f"the order sells {order.token}, not a tranche of this deal")
    key = deployed.chain.account(buyer)
    now = deployed.chain.now()
    if order.expiry <= now:
        raise InputError(f"the order expired at {format_time(order.expiry)}; the chain's time is {format_time(now)}")
    if order.buyer.lower() not in (ANYONE, key.address.lower()):
        raise InputError(f"the order is for {order.buyer}, not {key.address}")
    coin, sold = deployed.stablecoin.contract.functions, token.contract.functions
    spent, code, have, allowance, held, approved = call_many([
        settlement.contract.functions.nonceSpent(order.seller, order.nonce),
        sold.detectTransferFromRestriction(settlement.address, order.seller, key.address, order.amount),
        coin.balanceOf(key.address), coin.allowance(key.address, settlement.address),
        sold.balanceOf(order.seller), sold.allowance(order.seller, settlement.address),
    ])
    if spent:
        raise InputError(f"the order's nonce {order.nonce} is spent: it was filled or cancelled")
    if code != Restriction.SUCCESS:
        raise InputError(f"the trade would be refused: {token.message_for(int(code))}")
    if held < order.amount or approved < order.amount:
        raise InputError(f"the seller {order.seller} holds {held} and lets the settlement move {approved} of the "
                         f"{order.amount} units the order sells on this chain: was it made on another chain?")
    money = deal_money(deployed.manifest)
    if have < order.price:
        if not deployed.chain.is_dev:
            raise InputError(f"{key.address} holds {money(have)}, the order costs {money(order.price)}")
        deployed.stablecoin.mint(key.address, order.price - have, sender=deployed.manifest.roles.admin)
        _say(say, f"development chain: minted {money(order.price - have)} of test stablecoin to {key.address}, "
                  f"which held {money(have)} of the {money(order.price)} the order costs")
    if allowance < order.price:
        deployed.stablecoin.approve(settlement.address, order.price, sender=key.address)
        _say(say, f"approved the settlement {settlement.address} to take {money(order.price)} from {key.address}")
    return settlement.trade_in(settlement.fill(signed, sender=key.address))


def _say(say: Callable[[str], None] | None, line: str) -> None:
    if say is not None:
        say(line)


def read_order(path: Path) -> SignedOrder:
    return SignedOrder.read(path)
