"""Gas of the primary offering and of a settled trade.

A subscription (``subscribe``, paid by a payer its controller approved), the close with 10 and with 1,000 subscribers
(it must not loop over them: the target is at most 1.02 times the 10-subscriber figure; it mints both tranches to the
offering and closes their issuance), a claim of an over-subscribed allocation (delivery and refund),
and a trade settled against payment (``TradeSettlement.fill``). Each offering runs on a fresh embedded chain with the
same senior over-subscription (150%). Run: ``PYTHONPATH=. python benchmarks/bench_offering_gas.py``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from eth_account import Account
from eth_utils import keccak

from rwa.chain.connect import connect
from rwa.chain.interface import Chain
from rwa.chain.tx import send_value
from rwa.model.offering_book import JUNIOR_ID, SENIOR_ID
from rwa.onchain.base import ANYONE
from rwa.onchain.settlement import Order, TradeSettlement, sign_order
from tests.support.offering import JUNIOR_SIZE, deploy_offering_system

TARGET_RATIO = 1.02


def measure_offering_gas(chain: Chain, subscribers: int) -> dict[str, int]:
    book = deploy_offering_system(chain)
    s, o = book.pool, book.offering
    keys = [Account.from_key(keccak(b"rwa-bench-subscriber" + i.to_bytes(4, "big"))) for i in range(subscribers)]
    chain.add_accounts(keys)
    controllers = [k.address for k in keys]
    s.allow(controllers)
    payer = book.investors[0]  # a placement agent pays for its clients' requests, each of which approved it
    for who in controllers:
        send_value(chain, s.admin, who, 10**18)
        o.set_payer(payer, True, sender=who)
    size = s.terms.face
    ask = size * 3 // 2 // subscribers + 1
    s.usd.mint(payer, ask * subscribers + JUNIOR_SIZE, sender=s.admin)
    s.usd.approve(o.address, 2**256 - 1, sender=payer)
    gas: dict[str, int] = {}
    for i, who in enumerate(controllers):
        receipt = o.subscribe(SENIOR_ID, ask, who, sender=payer)
        if i == 1:
            gas["subscribe"] = int(receipt["gasUsed"])
    o.set_payer(payer, True, sender=book.investors[1])
    o.subscribe(JUNIOR_ID, JUNIOR_SIZE, book.investors[1], sender=payer)
    book.end_window()
    gas["close"] = int(o.close(sender=book.outsider)["gasUsed"])
    gas["claim"] = int(o.claim(SENIOR_ID, controllers[1], sender=book.outsider)["gasUsed"])
    return gas


def measure_trade_gas(chain: Chain) -> int:
    from tests.support.pool_system import deploy_pool_system

    s = deploy_pool_system(chain)
    settlement = TradeSettlement.deploy(chain, s.usd, s.senior, s.junior, sender=s.admin)
    s.allow([settlement.address])
    seller, buyer = chain.accounts[3], chain.accounts[4].address
    s.senior.approve(settlement.address, 2**256 - 1, sender=seller.address)
    s.usd.mint(buyer, 10**9, sender=s.admin)
    s.usd.approve(settlement.address, 2**256 - 1, sender=buyer)
    order = Order(seller.address, s.senior.address, 50_000, 49_000, ANYONE, chain.now() + 3_600, 1)
    receipt = settlement.fill(sign_order(order, seller, chain.chain_id, settlement.address), sender=buyer)
    return int(receipt["gasUsed"])


def main() -> int:
    results = {}
    for n in (10, 1_000):
        with tempfile.TemporaryDirectory() as tmp, connect(state=Path(tmp) / "chain.sqlite") as chain:
            results[n] = measure_offering_gas(chain, n)
    with tempfile.TemporaryDirectory() as tmp, connect(state=Path(tmp) / "chain.sqlite") as chain:
        trade = measure_trade_gas(chain)
    print(f"{'figure':<28}{'10 subscribers':>16}{'1,000 subscribers':>20}{'ratio':>8}")
    for name in ("subscribe", "close", "claim"):
        a, b = results[10][name], results[1_000][name]
        print(f"{name:<28}{a:>16,}{b:>20,}{b / a:>8.3f}")
    print(f"{'TradeSettlement.fill':<28}{trade:>16,}")
    ratio = results[1_000]["close"] / results[10]["close"]
    ok = ratio <= TARGET_RATIO
    print(f"close at 1,000 subscribers / at 10: {ratio:.3f} (target <= {TARGET_RATIO}): {'ok' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
