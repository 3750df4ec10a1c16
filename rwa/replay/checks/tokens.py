"""The tranche tokens: each token's per-share accumulator replayed in points over its events (every distribution and
claim checked, each holder's claimable recomputed and compared with the chain's), the pool's dust legs against the
tokens' carried remainders, and each tranche's supply at its issuance's close against the deal's."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rwa.model.units import ZERO_ADDRESS
from rwa.replay.findings import FindingKind, HolderLine, Reconciliation
from rwa.replay.history import History, TokenHistory


def reconcile_token(tok: TokenHistory, magnitude: int, rec: Reconciliation) -> None:
    """Replay one token's accumulator over its events, in chain order, checking every distribution and claim."""
    pps = 0
    carried = 0
    supply = 0
    lines: dict[str, HolderLine] = {}

    def line(addr: str) -> HolderLine:
        if addr not in lines:
            lines[addr] = rec.holders.setdefault((tok.name, addr), HolderLine(tok.name, addr))
        return lines[addr]

    def claimable(h: HolderLine) -> int:
        return (pps * h.balance + h.correction) // magnitude - h.withdrawn

    for ev in tok.ordered:
        a = ev.args
        if ev.event == "Transfer":
            src, dst, value = a["from"], a["to"], int(a["value"])
            if src != ZERO_ADDRESS:
                s = line(src)
                s.balance -= value
                s.correction += pps * value
            else:
                supply += value
            if dst != ZERO_ADDRESS:
                d = line(dst)
                d.balance += value
                d.correction -= pps * value
            else:
                supply -= value
        elif ev.event == "FundsDistributed":
            amount = int(a["amount"])
            if int(a["totalSupply"]) != supply:
                rec.add(
                    FindingKind.TOKEN_SUPPLY,
                    None,
                    tok.address,
                    supply,
                    int(a["totalSupply"]),
                    f"{tok.name} supply at distribution in block {ev.block}",
                )
            points = amount * magnitude + carried
            if supply:
                pps += points // supply
                carried = points % supply
            else:
                carried = points
            if pps != int(a["pointsPerShare"]) or carried != int(a["carriedPoints"]):
                rec.add(
                    FindingKind.TOKEN_ACCUMULATOR,
                    None,
                    tok.address,
                    (pps, carried),
                    (int(a["pointsPerShare"]), int(a["carriedPoints"])),
                    f"{tok.name} per-share accumulator after the distribution in block {ev.block}",
                )
                pps, carried = int(a["pointsPerShare"]), int(a["carriedPoints"])
        elif ev.event == "WalletRecovered":
            moved = int(a["entitlement"]) * magnitude
            line(a["lost"]).correction -= moved
            line(a["newWallet"]).correction += moved
        elif ev.event == "HeldDelivered":
            # The points the held units accrued go with them, pro rata to the issuer's balance before the delivery
            # (TrancheToken.deliverHeld). Its Transfer came first and left the issuer's points unchanged.
            issuer, amount = line(a["issuer"]), int(a["amount"])
            before = issuer.balance + amount
            want = (pps * issuer.balance + issuer.correction) * amount // before if before else 0
            moved = int(a["points"])
            if moved != want:
                rec.add(FindingKind.TOKEN_ACCUMULATOR, None, tok.address, want, moved,
                        f"{tok.name} points delivered with held units to {a['to']} in block {ev.block}")
            issuer.correction -= moved
            line(a["to"]).correction += moved
        elif ev.event == "FundsClaimed":
            h = line(a["holder"])
            due = claimable(h)
            paid = int(a["amount"])
            if paid != due:
                rec.add(
                    FindingKind.CLAIM,
                    None,
                    h.holder,
                    due,
                    paid,
                    f"{tok.name} claim in block {ev.block}: entitled to {due:,}, paid {paid:,}",
                )
            h.withdrawn += paid
            h.claimed_events += 1
    for h in lines.values():
        h.expected_claimable = claimable(h)
    rec.token_dust[tok.name] = carried // magnitude


def reconcile_dust(history: History, magnitude: int, rec: Reconciliation) -> None:
    """The pool's per-period dust legs against the tokens' carried remainders as of each distribution (whose
    accumulator values :func:`reconcile_token` has recomputed)."""
    marks = sorted(
        (ev.block, ev.log_index, ev.contract, int(ev.args["carriedPoints"]) // magnitude)
        for tok in history.tokens.values()
        for ev in tok.distributions
    )
    last: dict[str, int] = {"senior": 0, "junior": 0}
    i = 0
    for period in sorted(history.legs):
        legs, ev = history.legs[period]
        while i < len(marks) and marks[i][0] <= ev.block:
            last[marks[i][2]] = marks[i][3]
            i += 1
        for tranche, got in (("senior", legs.senior_dust), ("junior", legs.junior_dust)):
            if last.get(tranche, 0) != got:
                rec.add(
                    FindingKind.DUST,
                    period,
                    tranche,
                    last.get(tranche, 0),
                    got,
                    f"{tranche} carried remainder reported by the pool",
                )


def reconcile_claimable(tranche: str, lines: Sequence[HolderLine], onchain: Sequence[int], rec: Reconciliation) -> None:
    """Each holder's claimable now as the chain computes it (``onchain``, in the order of ``lines``) against the
    recomputed one."""
    for line, amount in zip(lines, onchain, strict=True):
        line.onchain_claimable = amount
        if amount != line.expected_claimable:
            rec.add(FindingKind.CLAIMABLE, None, line.holder, line.expected_claimable, amount,
                    f"{tranche} claimable now: recomputed {line.expected_claimable:,}, on-chain {amount:,}")


def review_issued_supply(history: History, sizes: Mapping[str, int], rec: Reconciliation) -> None:
    """Each tranche's supply when its issuance closed (``IssuanceClosed`` carries it) against the units the deal
    issues: more is a dilution of the holders by a second minter, less units never delivered."""
    for tranche, ev in history.issuance_closed.items():
        supply, size = int(ev.args["totalSupply"]), sizes.get(tranche)
        if size is not None and supply != size:
            rec.add(FindingKind.TOKEN_SUPPLY, None, ev.address, size, supply,
                    f"the {tranche} issuance closed in block {ev.block} with {supply:,} units, the deal issues "
                    f"{size:,}", block=ev.block, sender=ev.sender)
