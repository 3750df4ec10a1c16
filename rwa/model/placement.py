"""The private placement's allocation: without an offering, each investor's tokens of a tranche are minted to it at
issuance, in integer amounts that add up exactly to the sized tranche."""

from __future__ import annotations

from rwa.errors import DealConfigError
from rwa.model.deal import Deal
from rwa.model.units import BPS


def allocate(deal: Deal, senior: int, junior: int) -> dict[str, dict[str, int]]:
    """Integer amounts per investor address for each tranche, summing exactly to ``senior`` and ``junior``.

    Largest-remainder method on each investor's weight (``share_bps`` out of 10000, or ``amount`` out of the
    tranche's amounts): each gets ``floor(size * weight / total)``, and the units left over go one each to the
    largest remainders, ties broken by the order of the investors in the file. Amounts that add up to the size are
    allocated exactly. One pass over the investors, whatever their number.
    """
    if senior < 0 or junior < 0:
        raise DealConfigError("allocate: tranche sizes must be >= 0")
    out: dict[str, dict[str, int]] = {}
    for tranche, size in (("senior", senior), ("junior", junior)):
        members = deal.investors_of(tranche)
        weights = [inv.amount if inv.amount is not None else inv.share_bps or 0 for inv in members]
        total = BPS if not any(inv.amount is not None for inv in members) else sum(weights)
        if total <= 0:
            out[tranche] = {inv.address: 0 for inv in members}
            continue
        floors = [size * w // total for w in weights]
        remainders = [size * w % total for w in weights]
        left = size - sum(floors)
        order = sorted(range(len(members)), key=lambda i: (-remainders[i], i))
        for i in order[:left]:
            floors[i] += 1
        out[tranche] = {inv.address: amount for inv, amount in zip(members, floors, strict=True)}
    return out
