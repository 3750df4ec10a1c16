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

from rwa.errors import InputError
from rwa.issuance.show import deal_money
from rwa.model.offering_book import JUNIOR_ID, SENIOR_ID, OfferingConfig
from rwa.model.units import TRANCHES, Tranche, format_time
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.offering import DealOffering, Phase, Settled
from rwa.onchain.tranche import Restriction

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
    offering.subscribe(t, amount, investor, sender=investor)
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
    """What ``rwa offering close`` did: the phase after it and one line per fact, amounts shown by ``money``."""

    phase: Phase
    lines: list[str]


def close(deal: DeployedDeal, sender: str, money: Callable[[int], str]) -> CloseResult:
    """Close the offering once its window has ended (on a development chain the clock is moved to it)."""
    offering = offering_of(deal)
    phase = offering.phase()
    if phase != Phase.OPEN:
        return CloseResult(phase, [f"the offering is already {phase.name.lower()}; nothing to do"])
    close_time, now = offering.config().close_time, deal.chain.now()
    if now < close_time:
        if not deal.chain.is_dev:
            raise InputError(f"the offering's window ends at {format_time(close_time)}; the chain's time is "
                             f"{format_time(now)}")
        deal.chain.time_travel(close_time)  # a development chain: the rest of the window passes at once
    receipt = offering.close(sender=sender)
    outcome = offering.close_outcome_in(receipt)
    if outcome.cancelled:
        what = "the raise" if outcome.cancelled_by == 2 else f"the {TRANCHE_OF_ID[outcome.cancelled_by or 0]} tranche"
        lines = [f"cancelled: {what} needed {money(outcome.needed)}"]
        lines += [f"{TRANCHE_OF_ID[t]}: requested {money(outcome.requested[t])}, all of it to be refunded"
                  for t in (SENIOR_ID, JUNIOR_ID)]
        return CloseResult(Phase.CANCELLED, [*lines, "every request is refunded in full by `rwa offering claim`"])
    lines = ["closed"]
    for t in (SENIOR_ID, JUNIOR_ID):
        req, sold, up = outcome.requested[t], outcome.sold[t], outcome.taken_up[t]
        lines.append(f"{TRANCHE_OF_ID[t]}: requested {money(req)}, allocated {money(sold)}, "
                     f"refunded {money(req - sold)} (at the claims), taken up {money(up)} by the treasury")
    kinds = {0: "reserve", 1: "cost", 2: "proceeds", 3: "escrow (capex share, released against deliveries)"}
    for route in offering.routes_in(receipt):
        how = "paid to" if route.paid else "owed (the stablecoin refused the push) to"
        lines.append(f"raise: {kinds[route.kind]} {money(route.amount)} {how} {route.recipient}")
    lines.append(f"raise: {money(outcome.raised)} in all; tokens wait in the offering for `rwa offering claim`")
    return CloseResult(Phase.CLOSED, lines)


def abandon(deal: DeployedDeal, sender: str) -> int:
    """Abandon an offering no close ended within its grace; returns the stablecoin every request gets back."""
    offering = offering_of(deal)
    phase = offering.phase()
    if phase != Phase.OPEN:
        raise InputError(f"the offering is already {phase.name.lower()}: nothing to abandon")
    config, now = offering.config(), deal.chain.now()
    at = config.close_time + config.close_grace
    if now < at:
        raise InputError(f"the offering may be abandoned from {format_time(at)} (its window's end plus "
                         f"{config.close_grace} s without a close); the chain's time is {format_time(now)}: "
                         "run `rwa offering close`")
    offering.abandon(sender=sender)
    return sum(offering.book(t).requested for t in (SENIOR_ID, JUNIOR_ID))


def subscribers(deal: DeployedDeal) -> list[tuple[int, str]]:
    """Every (tranche, controller) that ever requested, from the offering's ``DepositRequest`` events."""
    offering = offering_of(deal)
    logs: list[Any] = offering.contract.events.DepositRequest().get_logs(
        from_block=deal.manifest.deployment_block)
    return list(dict.fromkeys((int(ev["args"]["requestId"]), str(ev["args"]["controller"])) for ev in logs))


@dataclass(frozen=True)
class Waiting:
    """Tokens held for an investor that cannot receive them now (frozen, KYC lapsed): its claim waits on it."""

    controller: str
    tranche: int
    shares: int
    reason: str


def claim(deal: DeployedDeal, sender: str, investor: str | None = None) -> tuple[list[Settled], list[Waiting]]:
    """Settle ``investor``'s requests (both tranches) and deliver the tokens held for it, or with ``None`` every
    request and holding still open; anyone may push a claim: tokens and refund go to the investor, never to
    ``sender``. A holding whose investor cannot receive now is reported as waiting (a request is still settled:
    its refund goes, its tokens wait)."""
    offering = offering_of(deal)
    phase = offering.phase()
    if phase == Phase.OPEN:
        raise InputError("the offering has not closed: run `rwa offering close` once its window has ended")
    if investor:
        wanted = [(t, _address(investor)) for t in (SENIOR_ID, JUNIOR_ID)]
    else:
        treasury = offering.config().treasury
        wanted = list(dict.fromkeys([*subscribers(deal), (SENIOR_ID, treasury), (JUNIOR_ID, treasury)]))
    todo: list[tuple[int, str]] = []
    waiting: list[Waiting] = []
    for t, who in wanted:
        held = offering.held_for(t, who)
        if offering.claimable(t, who):
            todo.append((t, who))
        elif held:
            token = deal.tokens[TRANCHE_OF_ID[t]]
            code = token.detect_mint_restriction(who)
            if code == Restriction.SUCCESS:
                todo.append((t, who))
            else:
                waiting.append(Waiting(who, t, held, token.message_for(int(code))))
    if investor and not todo and not waiting:
        raise InputError(f"{investor} has nothing to claim in the offering")
    if investor and not todo:
        raise InputError(f"{investor} cannot receive its tokens now ({waiting[0].reason}): they wait in the "
                         "offering until it can")
    return [offering.settled_in(offering.claim(t, who, sender=sender)) for t, who in todo], waiting


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
        waiting = f"; in the offering for its buyers {money(b.size - b.delivered)}" if phase == Phase.CLOSED else ""
        rows.append((TRANCHE_OF_ID[t], f"size {money(b.size)}; requested {money(b.requested)} ({share}); "
                                      f"claimed {money(b.claimed_assets)}; delivered {money(b.delivered)}; "
                                      f"taken up {money(b.taken_up)}{waiting}"))
    return rows
