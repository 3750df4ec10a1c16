"""Operating a deal's primary offering: subscribe, cancel, close, claim, and its status.

Every command validates what it can know before its first transaction (the phase, the window on the chain's clock,
the investor's eligibility, the ticket, the balance) and is safe to re-run: a claim already settled is skipped, a
close already made is reported, not repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from web3 import Web3

from rwa.allocation import JUNIOR_ID, SENIOR_ID, OfferingConfig
from rwa.errors import InputError
from rwa.issuance.show import deal_money
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.offering import DealOffering, Phase, Settled
from rwa.onchain.tranche import Restriction
from rwa.units import TRANCHES, Tranche, format_time

TRANCHE_OF_ID: dict[int, Tranche] = {SENIOR_ID: "senior", JUNIOR_ID: "junior"}
ID_OF_TRANCHE: dict[str, int] = {"senior": SENIOR_ID, "junior": JUNIOR_ID}


def offering_of(deal: DeployedDeal) -> DealOffering:
    if deal.offering is None:
        raise InputError("this deployment sold no offering: its deal has no [offering] (a private placement)")
    return deal.offering


def tranche_id(tranche: str) -> int:
    if tranche not in ID_OF_TRANCHE:
        raise InputError(f"--tranche {tranche!r}: one of {', '.join(TRANCHES)}")
    return ID_OF_TRANCHE[tranche]


def _address(value: str, option: str = "--investor") -> str:
    if not Web3.is_address(value):
        raise InputError(f"{option} {value!r} is not an address")
    digits = value[2:]
    if digits.lower() != digits != digits.upper() and not Web3.is_checksum_address(value):
        raise InputError(f"{option} {value}: mixed case that fails the EIP-55 checksum (a mistyped address?)")
    return Web3.to_checksum_address(value)


def subscribe(deal: DeployedDeal, tranche: str, investor: str, amount: int,
              say: Callable[[str], None] | None = None) -> int:
    """``investor`` pays ``amount`` for a request in ``tranche``; returns its whole request after it. On a
    development chain the stablecoin the investor lacks is minted to it; that, and the approval of the offering for
    the amount, are told to ``say``."""
    offering, t = offering_of(deal), tranche_id(tranche)
    investor = _address(investor)
    if amount <= 0:
        raise InputError(f"--amount {amount}: must be positive")
    config = _require_open(deal, offering)
    code = deal.tokens[TRANCHE_OF_ID[t]].detect_mint_restriction(investor)
    if code != Restriction.SUCCESS:
        raise InputError(f"{investor} cannot subscribe to {tranche}: "
                         f"{deal.tokens[TRANCHE_OF_ID[t]].message_for(int(code))}")
    total = offering.pending(t, investor) + amount
    if not config.min_ticket <= total <= config.max_ticket:
        money = deal_money(deal.manifest)
        raise InputError(f"--amount {money(amount)}: the request would add up to {money(total)}, the tickets are "
                         f"{money(config.min_ticket)}..{money(config.max_ticket)} per investor and tranche")
    deal.chain.account(investor)  # a clear error when this checkout has no key for the investor
    have, money = deal.stablecoin.balance_of(investor), deal_money(deal.manifest)
    if have < amount:
        if not deal.chain.is_dev:
            raise InputError(f"{investor} holds {money(have)}, the request needs {money(amount)}")
        deal.stablecoin.mint(investor, amount - have, sender=deal.manifest.roles.admin)
        if say is not None:
            say(f"development chain: minted {money(amount - have)} of test stablecoin to {investor}, which held "
                f"{money(have)} of the {money(amount)} it pays")
    if deal.stablecoin.allowance(investor, offering.address) < amount:
        deal.stablecoin.approve(offering.address, amount, sender=investor)
        if say is not None:
            say(f"approved the offering {offering.address} to take {money(amount)} from {investor}")
    offering.request_deposit(t, amount, investor, sender=investor)
    return total


def cancel(deal: DeployedDeal, tranche: str, investor: str) -> int:
    """Cancel ``investor``'s pending request in ``tranche``; returns what was refunded."""
    offering, t = offering_of(deal), tranche_id(tranche)
    investor = _address(investor)
    _require_open(deal, offering)
    pending = offering.pending(t, investor)
    if pending == 0:
        raise InputError(f"{investor} has no pending {tranche} request to cancel")
    deal.chain.account(investor)
    offering.cancel(t, sender=investor)
    return pending


def _require_open(deal: DeployedDeal, offering: DealOffering) -> OfferingConfig:
    """Refuse unless the offering takes requests now; its configuration, read for the check."""
    phase, config, now = offering.phase(), offering.config(), deal.chain.now()
    if phase != Phase.OPEN:
        raise InputError(f"the offering is {phase.name.lower()}: requests and cancellations are over")
    if now < config.open_time:
        raise InputError(f"the offering opens at {format_time(config.open_time)}; the chain's time is "
                         f"{format_time(now)}")
    if now >= config.close_time:
        raise InputError(f"the offering's window closed at {format_time(config.close_time)}; the chain's time is "
                         f"{format_time(now)}: "
                         "run `rwa offering close`")
    return config


@dataclass(frozen=True)
class CloseResult:
    phase: Phase
    message: str


def close(deal: DeployedDeal, sender: str) -> CloseResult:
    """Close the offering once its window has ended (on a development chain the clock is moved to it)."""
    offering = offering_of(deal)
    phase = offering.phase()
    if phase != Phase.OPEN:
        return CloseResult(phase, f"the offering is already {phase.name.lower()}; nothing to do")
    close_time, now = offering.config().close_time, deal.chain.now()
    if now < close_time:
        if not deal.chain.is_dev:
            raise InputError(f"the offering's window ends at {format_time(close_time)}; the chain's time is "
                             f"{format_time(now)}")
        deal.chain.time_travel(close_time)  # a development chain: the rest of the window passes at once
    outcome = offering.close_outcome_in(offering.close(sender=sender))
    if outcome.cancelled:
        what = "the raise" if outcome.cancelled_by == 2 else f"the {TRANCHE_OF_ID[outcome.cancelled_by or 0]} tranche"
        return CloseResult(Phase.CANCELLED, f"cancelled: {what} needed {outcome.needed}; every request is refunded "
                                            "by `rwa offering claim`")
    return CloseResult(Phase.CLOSED, "closed")


def subscribers(deal: DeployedDeal) -> list[tuple[int, str]]:
    """Every (tranche, controller) that ever requested, from the offering's ``DepositRequest`` events."""
    offering = offering_of(deal)
    logs: list[Any] = offering.contract.events.DepositRequest().get_logs(
        from_block=deal.manifest.deployment_block)
    return list(dict.fromkeys((int(ev["args"]["requestId"]), str(ev["args"]["controller"])) for ev in logs))


def claim(deal: DeployedDeal, sender: str, investor: str | None = None) -> list[Settled]:
    """Settle ``investor``'s requests (both tranches), or with ``None`` every request still claimable; anyone may
    push a claim: tokens and refund go to the investor, never to ``sender``."""
    offering = offering_of(deal)
    phase = offering.phase()
    if phase == Phase.OPEN:
        raise InputError("the offering has not closed: run `rwa offering close` once its window has ended")
    wanted = [(t, _address(investor)) for t in (SENIOR_ID, JUNIOR_ID)] if investor else subscribers(deal)
    todo = [(t, who) for t, who in wanted if offering.claimable(t, who)]
    if investor and not todo:
        raise InputError(f"{investor} has nothing to claim in the offering")
    return [offering.settled_in(offering.claim(t, who, sender=sender)) for t, who in todo]


def status_rows(deal: DeployedDeal, money: Any) -> list[tuple[str, str]]:
    """The offering at a glance."""
    offering = offering_of(deal)
    config, phase = offering.config(), offering.phase()
    window = f"{format_time(config.open_time)} .. {format_time(config.close_time)}"
    rows = [("phase", phase.name.lower()), ("window", f"{window} (chain time {format_time(deal.chain.now())})"),
            ("tickets", f"{money(config.min_ticket)} .. {money(config.max_ticket)} per investor and tranche"),
            ("reserve at close", money(config.reserve_at_close)),
            ("upfront costs", ", ".join(f"{money(c.amount)} to {c.recipient}" for c in offering.costs()) or "none"),
            ("treasury", config.treasury)]
    for t in (SENIOR_ID, JUNIOR_ID):
        b = offering.book(t)
        share = f"{b.requested * 100 / b.size:.1f}%" if b.size else "-"
        rows.append((TRANCHE_OF_ID[t], f"size {money(b.size)}; requested {money(b.requested)} ({share}); "
                                      f"claimed {money(b.claimed_assets)}; delivered {money(b.delivered)}; "
                                      f"taken up {money(b.taken_up)}"))
    return rows
