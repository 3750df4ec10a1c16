"""The issuer's and anyone's acts on the fleet register's escrow (``contracts/FleetRegister.sol``): the issuer's
equity paid in, a deferred release sent, the long-stop settled, a refused push withdrawn. Each checks what the
register would refuse before it sends anything; the attestations themselves are the reporters' (``rwa oracle``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from web3 import Web3

from rwa.errors import InputError
from rwa.issuance.show import deal_money
from rwa.model.fleet import Escrow, release_split
from rwa.model.units import format_time
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.register import FleetRegister


def register_of(deal: DeployedDeal) -> FleetRegister:
    if deal.register is None:
        raise InputError("the deployment has no fleet register: it was issued before registers existed")
    return deal.register


def equity_due(escrow: Escrow) -> int:
    """The issuer's equity still to pay in for the whole fleet: its share of every server, less what is in."""
    return max(0, escrow.capex_total - escrow.raise_amount - escrow.equity_funded)


def fund_equity(deal: DeployedDeal, amount: int | None, payer: str | None,
                say: Callable[[str], None] | None = None, money: Callable[[int], str] | None = None
                ) -> tuple[int, Escrow]:
    """``payer`` (default the register's treasury) pays ``amount`` (default what is still due) of the issuer's
    equity into the escrow; on a development chain the stablecoin it lacks is minted to it first (told to ``say``,
    in ``money``'s units)."""
    register = register_of(deal)
    escrow = register.escrow()
    money = money or deal_money(deal.manifest)
    if int(register.offering(), 16) == 0:
        raise InputError("the deal has no offering: its raise is not on chain, so no equity goes in beside it")
    if escrow.settled:
        raise InputError("the long-stop is settled: the escrow takes no more equity")
    amount = equity_due(escrow) if amount is None else amount
    if amount <= 0:
        raise InputError("--amount: nothing is due (the escrow holds the issuer's whole share of the fleet); give "
                         "a positive amount to pay in more")
    payer = Web3.to_checksum_address(payer or register.treasury())
    deal.chain.account(payer)  # a clear error when this checkout has no key for the payer
    have = deal.stablecoin.balance_of(payer)
    if have < amount:
        if not deal.chain.is_dev:
            raise InputError(f"{payer} holds {money(have)}, the equity to pay in is {money(amount)}")
        deal.stablecoin.mint(payer, amount - have, sender=deal.manifest.roles.admin)
        if say is not None:
            say(f"development chain: minted {money(amount - have)} of test stablecoin to {payer}")
    if deal.stablecoin.allowance(payer, register.address) < amount:
        deal.stablecoin.approve(register.address, amount, sender=payer)
    register.fund_equity(amount, sender=payer)
    return amount, register.escrow()


@dataclass(frozen=True)
class Released:
    delivery: int
    from_raise: int
    from_equity: int


def release(deal: DeployedDeal, delivery: int | None, sender: str,
            money: Callable[[int], str] | None = None) -> list[Released]:
    """Send the deferred release of ``delivery`` (default every deferred one, in order), each once the equity it
    needs is in the escrow."""
    register = register_of(deal)
    escrow = register.escrow()
    records = register.deliveries()
    if int(register.offering(), 16) == 0:
        raise InputError("the deal has no offering: the register holds no escrow to release")
    now, stop = deal.chain.now(), register.long_stop()
    if escrow.settled or now >= stop:
        raise InputError(f"the long-stop ({format_time(stop)}) has passed: nothing is released after it; run "
                         "`rwa fleet settle`")
    if escrow.raise_amount == 0:
        raise InputError("the raise is not in escrow yet: the offering has not closed")
    if delivery is not None and not 0 <= delivery < len(records):
        raise InputError(f"--delivery {delivery}: the register holds deliveries 0..{len(records) - 1}"
                         if records else f"--delivery {delivery}: the register holds no delivery yet")
    todo = [i for i, r in enumerate(records) if not r.released and (delivery is None or i == delivery)]
    if delivery is not None and not todo:
        raise InputError(f"--delivery {delivery}: already released")
    done: list[Released] = []
    money = money or deal_money(deal.manifest)
    for i in todo:  # the register's rules, as the model states them: each release takes its equity share first
        record = records[i]
        if not escrow.can_release(record.price, now, stop):
            if delivery is not None or not done:
                _, need = release_split(escrow.released_price, record.price, escrow.raise_amount, escrow.capex_total)
                raise InputError(f"delivery {i} needs {money(need)} of the issuer's equity, the escrow holds "
                                 f"{money(escrow.equity_funded - escrow.equity_released)}: pay it in with "
                                 "`rwa fleet fund-equity`")
            break
        register.release(i, sender=sender)
        escrow, paid = escrow.release(i, record.order, record.price)
        done.append(Released(i, paid.from_raise, paid.from_equity))
    return done


def settle(deal: DeployedDeal, sender: str) -> Escrow:
    """Settle the long-stop (anyone, once, after it): the raise not released prepays the senior, the equity left
    returns to the treasury."""
    register = register_of(deal)
    stop = register.long_stop()
    now = deal.chain.now()
    if register.escrow().settled:
        raise InputError("the long-stop is settled already")
    if now < stop:
        raise InputError(f"the long-stop is {format_time(stop)}; the chain's time is {format_time(now)}")
    register.settle_long_stop(sender=sender)
    return register.escrow()


def withdraw_owed(deal: DeployedDeal, account: str) -> int:
    """``account`` takes what the register owes it (a push the stablecoin refused)."""
    register = register_of(deal)
    account = Web3.to_checksum_address(account)
    owed = register.owed(account)
    if owed == 0:
        raise InputError(f"the register owes {account} nothing")
    deal.chain.account(account)
    register.withdraw_owed(sender=account)
    return owed
