"""The primary offering's book as a pure-integer reference model: what ``DealOffering`` allocates, refunds and routes.

Independent of web3, like :mod:`rwa.model.waterfall`: tests predict the contract's every event with it and the auditor
re-derives each claim from the book's events alone. Amounts are ``int`` in the stablecoin's smallest unit; a tranche
token unit is sold at par for one stablecoin unit.

The allocation rule (``IDealOffering``): with ``size`` tokens for sale and ``requested`` stablecoin asked for them at
the close, a controller whose request is ``assets`` and who claims after requests of ``claimed_before`` in total
receives ``floor((claimed_before + assets) * size / requested) - floor(claimed_before * size / requested)`` tokens
when the tranche is over-subscribed, else ``assets``; the rest of its request is refunded. Each allocation is the
pro-rata share rounded down or up by at most one unit, and once every request is claimed they sum to exactly ``size``
in any order of claims (the sum telescopes to ``floor(requested * size / requested)``).

The close (:func:`close_book`): a tranche short of its size is taken up by the treasury when the shortfall is within
the deal's take-up for it, else the offering is cancelled; so is it when the raise (the stablecoin that bought
tokens) cannot pay the reserve and the upfront costs. Otherwise the raise is routed: the reserve into the pool, the
costs to their recipients, and the rest (the proceeds) to the treasury.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rwa.errors import InputError

SENIOR_ID, JUNIOR_ID = 0, 1
"""The offering's tranche ids: a request is aggregated per controller and tranche."""


class AllocationError(InputError):
    """The model was asked for what the contract would refuse."""


def allocation(size: int, requested: int, claimed_before: int, assets: int) -> int:
    """Tokens a claim of ``assets`` receives after ``claimed_before`` of requests were claimed (see the module)."""
    if min(size, requested, claimed_before, assets) < 0 or claimed_before + assets > requested:
        raise AllocationError(
            f"allocation: size {size}, requested {requested}, claimed before {claimed_before}, assets {assets}"
        )
    if requested <= size:
        return assets
    return (claimed_before + assets) * size // requested - claimed_before * size // requested


@dataclass(frozen=True)
class OfferingConfig:
    """``IDealOffering.Config``: the window, tickets, reserve, treasury and take-up the deal fixed."""

    open_time: int
    close_time: int
    close_grace: int
    min_ticket: int
    max_ticket: int
    reserve_at_close: int
    treasury: str
    take_up_senior: int
    take_up_junior: int
    escrow: str = ""
    """The fleet register whose escrow receives the capex share of the raise at the close."""

    def take_up(self) -> tuple[int, int]:
        return (self.take_up_senior, self.take_up_junior)


@dataclass(frozen=True)
class Cost:
    recipient: str
    amount: int


@dataclass(frozen=True)
class CloseOutcome:
    """What a close decided. ``cancelled_by``: the tranche (0, 1) short beyond its take-up, 2 for a raise short of
    the reserve and the costs, 3 (``ABANDONED``) when no close succeeded in time; ``None`` when it allocated."""

    requested: tuple[int, int]
    sold: tuple[int, int]
    taken_up: tuple[int, int]
    reserve: int
    costs: int
    proceeds: int
    cancelled_by: int | None = None
    needed: int = 0

    @property
    def cancelled(self) -> bool:
        return self.cancelled_by is not None

    @property
    def raised(self) -> int:
        """The stablecoin that bought tokens: exactly the reserve plus the costs plus the proceeds."""
        return sum(self.sold)


def close_book(
    sizes: Sequence[int],
    requested: Sequence[int],
    take_up: Sequence[int],
    reserve: int,
    costs: Sequence[int],
) -> CloseOutcome:
    """The close of a book with ``requested`` stablecoin per tranche (``DealOffering.close``)."""
    if len(sizes) != 2 or len(requested) != 2 or len(take_up) != 2:
        raise AllocationError("a book has two tranches: senior and junior")
    sold = tuple(min(r, s) for r, s in zip(requested, sizes, strict=True))
    short = tuple(s - x for s, x in zip(sizes, sold, strict=True))
    cost_total = sum(costs)
    req = (requested[0], requested[1])
    for t in (SENIOR_ID, JUNIOR_ID):
        if short[t] > take_up[t]:
            return CloseOutcome(req, (0, 0), (0, 0), 0, 0, 0, cancelled_by=t, needed=sizes[t] - take_up[t])
    raised = sold[0] + sold[1]
    if raised < reserve + cost_total:
        return CloseOutcome(req, (0, 0), (0, 0), 0, 0, 0, cancelled_by=2, needed=reserve + cost_total)
    return CloseOutcome(req, (sold[0], sold[1]), (short[0], short[1]), reserve, cost_total,
                        raised - reserve - cost_total)


ABANDONED = 3
"""``CloseOutcome.cancelled_by`` of an offering abandoned after no close succeeded within its grace."""


def abandoned(requested: Sequence[int]) -> CloseOutcome:
    """An offering abandoned with ``requested`` in its book (``DealOffering.abandon``): every request is refunded."""
    return CloseOutcome((requested[0], requested[1]), (0, 0), (0, 0), 0, 0, 0, cancelled_by=ABANDONED)


@dataclass(frozen=True)
class Claim:
    """One settled request: the tokens delivered and the stablecoin refunded."""

    tranche: int
    controller: str
    assets: int
    shares: int
    refund: int


def settle(outcome: CloseOutcome, sizes: Sequence[int], requests: Sequence[tuple[int, str, int]]) -> list[Claim]:
    """Every request (tranche, controller, assets) settled in the given order of claims."""
    claimed = [0, 0]
    out: list[Claim] = []
    for tranche, controller, assets in requests:
        if outcome.cancelled:
            out.append(Claim(tranche, controller, assets, 0, assets))
            continue
        shares = allocation(sizes[tranche], outcome.requested[tranche], claimed[tranche], assets)
        claimed[tranche] += assets
        out.append(Claim(tranche, controller, assets, shares, assets - shares))
    return out
