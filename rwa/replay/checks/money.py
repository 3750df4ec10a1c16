"""Every stablecoin unit into and out of the pool and the tokens, transfer by transfer, from the stablecoin's own
transfers and balances; and every distribution to a token as a leg of the pool's waterfall or of the register's
long-stop prepayment (``Prepaid``)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from rwa.model.units import Tranche
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History, TokenHistory
from rwa.replay.ledger import Event


def reconcile_money(
    history: History,
    pool: str,
    tokens: Mapping[Tranche, str],
    fee_recipient: str,
    onchain_balances: dict[str, int],
    rec: Reconciliation,
) -> None:
    """Every stablecoin unit into and out of the pool and the tokens, transfer by transfer.

    Into the pool: a ``Deposited`` of the same amount from the same sender in the same transaction, or else a
    donation (disclosed, counted as surplus). Out of the pool: the waterfall's legs of the distribution run in that
    transaction (fee recipient, senior token, junior token), or else a finding. Into a token: its leg, or a donation.
    Out of a token: a claim of the same holder and amount in the same transaction, or else a finding. And the balance
    the chain holds at the head is what the transfers brought in less what they took out (a balance written without
    a transfer is a finding)."""
    pool_l = pool.lower()
    by_name: dict[str, str] = {str(name): addr for name, addr in tokens.items()}
    token_names = {addr.lower(): name for name, addr in by_name.items()}
    fee_l = fee_recipient.lower()
    runs = history.distribution_txs()
    prepays = {ev.tx_hash: ev for ev in history.prepaid}
    deposits: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for ev in history.prepaid:  # the register's long-stop prepayment comes in like a deposit and leaves as legs
        deposits[ev.tx_hash].append((str(ev.args["from"]).lower(), int(ev.args["amount"])))
    for ev in history.deposit_events:
        deposits[ev.tx_hash].append((str(ev.args["from"]).lower(), int(ev.args["amount"])))
    for ev in history.reserve_funded:
        deposits[ev.tx_hash].append((str(ev.args["from"]).lower(), int(ev.args["amount"])))
    claims: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for name, tok in history.tokens.items():
        for ev in tok.claims:
            claims[ev.tx_hash].append((f"{name}:{str(ev.args['holder']).lower()}", int(ev.args["amount"])))
    legs_paid: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))  # tx -> recipient -> paid
    deferred = {ev.tx_hash: int(ev.args["amount"]) for ev in history.fee_events if ev.event == "FeeDeferred"}
    fee_payments: dict[str, list[int]] = defaultdict(list)
    for ev in history.fee_events:
        if ev.event == "FeesPaid":
            fee_payments[ev.tx_hash].append(int(ev.args["amount"]))
    net: dict[str, int] = defaultdict(int)  # account -> in less out, by transfers
    for ev in history.stablecoin_transfers:
        src, dst, value = str(ev.args["from"]).lower(), str(ev.args["to"]).lower(), int(ev.args["value"])
        if dst == pool_l:
            net["pool"] += value
            if (src, value) in deposits.get(ev.tx_hash, []):
                deposits[ev.tx_hash].remove((src, value))
            else:
                _donation(rec, ev, "pool", pool, value)
        if src == pool_l:
            net["pool"] -= value
            if (ev.tx_hash in runs or ev.tx_hash in prepays) and (dst == fee_l or dst in token_names):
                legs_paid[ev.tx_hash][dst] += value
            elif dst == fee_l and value in fee_payments.get(ev.tx_hash, []):
                fee_payments[ev.tx_hash].remove(value)  # a deferred fee, paid later
            else:
                rec.add(
                    FindingKind.OUTSIDE_WATERFALL,
                    _period_at(history, ev.block),
                    pool,
                    0,
                    value,
                    f"{value:,} left the pool to {ev.args['to']} in block {ev.block}, outside the waterfall",
                    block=ev.block,
                    sender=ev.sender,
                )
        if dst in token_names:
            name = token_names[dst]
            net[name] += value
            if not (src == pool_l and (ev.tx_hash in runs or ev.tx_hash in prepays)):
                _donation(rec, ev, name, by_name[name], value)
        if src in token_names:
            name = token_names[src]
            net[name] -= value
            key = (f"{name}:{dst}", value)
            if key in claims.get(ev.tx_hash, []):
                claims[ev.tx_hash].remove(key)
            else:
                rec.add(
                    FindingKind.TOKEN_OUTFLOW,
                    _period_at(history, ev.block),
                    by_name[name],
                    0,
                    value,
                    f"{value:,} left the {name} token to {ev.args['to']} in block {ev.block} with no claim of it",
                    block=ev.block,
                )
    for tx, unmatched in deposits.items():
        for sender, amount in unmatched:
            rec.add(FindingKind.POOL_INFLOW, None, pool, amount, 0,
                    f"a deposit of {amount:,} by {sender} in {tx} with no stablecoin received")
    for tx, unmatched_claims in claims.items():
        for who, amount in unmatched_claims:
            rec.add(FindingKind.TOKEN_OUTFLOW, None, who.split(":", 1)[1], amount, 0,
                    f"a {who.split(':', 1)[0]} claim of {amount:,} in {tx} with no stablecoin paid")
    for tx, period in runs.items():
        legs = history.legs[period][0]
        want = {fee_l: legs.fee - deferred.get(tx, 0), tokens["senior"].lower(): legs.senior_paid,
                tokens["junior"].lower(): legs.junior}
        for dst, amount in want.items():
            got = legs_paid.get(tx, {}).get(dst, 0)
            if got != amount:
                rec.add(FindingKind.POOL_OUTFLOW, period, dst, amount, got,
                        f"period {period}: stablecoin the waterfall paid to {dst}")
    for tx, prepaid in prepays.items():
        for dst, amount in ((tokens["senior"].lower(), int(prepaid.args["seniorPaid"])),
                            (tokens["junior"].lower(), int(prepaid.args["juniorPaid"]))):
            got = legs_paid.get(tx, {}).get(dst, 0)
            if got != amount:
                rec.add(FindingKind.POOL_OUTFLOW, None, dst, amount, got,
                        f"the long-stop prepayment in block {prepaid.block}: stablecoin the pool paid to {dst}",
                        block=prepaid.block)
    deposited = sum(sum(k.values()) for k in history.deposits.values())
    deposited += sum(int(ev.args["amount"]) for ev in history.reserve_funded)
    deposited += sum(int(ev.args["amount"]) for ev in history.prepaid)
    paid = sum(legs.fee + legs.senior_paid + legs.junior for legs, _ in history.legs.values())
    paid += sum(int(ev.args["seniorPaid"]) + int(ev.args["juniorPaid"]) for ev in history.prepaid)
    rec.expected_balances["pool"] = deposited - paid + rec.donations.get("pool", 0)
    for name in tokens:
        distributed = sum(int(e.args["amount"]) for e in history.tokens.get(name, TokenHistory(name, "")).distributions)
        claimed = sum(int(e.args["amount"]) for e in history.tokens.get(name, TokenHistory(name, "")).claims)
        rec.expected_balances[str(name)] = distributed - claimed
    for account, address in (("pool", pool), *by_name.items()):
        if onchain_balances.get(account) != net[account]:
            rec.add(
                FindingKind.POOL_BALANCE if account == "pool" else FindingKind.TOKEN_BALANCE,
                None,
                address,
                net[account],
                onchain_balances.get(account),
                f"stablecoin the {account} holds against the transfers in and out of it",
            )


def _donation(rec: Reconciliation, ev: Event, account: str, address: str, value: int) -> None:
    rec.donations[account] = rec.donations.get(account, 0) + value
    rec.disclose(
        DisclosureKind.DONATION,
        ev,
        address,
        value,
        f"{value:,} sent to the {account} by {ev.args['from']} outside a deposit or a waterfall leg: surplus, "
        "not distributed",
        sender=str(ev.args["from"]),
    )


def reconcile_distributions(history: History, pool: str, rec: Reconciliation) -> None:
    """Every ``FundsDistributed`` on a token is the pool's waterfall leg for that token, in the distribution's own
    transaction, for the leg's amount; anything else credited holders with money the waterfall did not pay."""
    runs = history.distribution_txs()
    prepays = {ev.tx_hash: ev for ev in history.prepaid}
    for name, tok in history.tokens.items():
        for ev in tok.distributions:
            amount = int(ev.args["amount"])
            period = runs.get(ev.tx_hash)
            leg = None
            if period is not None:
                legs = history.legs[period][0]
                leg = legs.senior_paid if name == "senior" else legs.junior
            elif ev.tx_hash in prepays:
                leg = int(prepays[ev.tx_hash].args["seniorPaid" if name == "senior" else "juniorPaid"])
            by_pool = str(ev.args["distributor"]).lower() == pool.lower()
            if (period is None and ev.tx_hash not in prepays) or not by_pool or leg != amount:
                rec.add(
                    FindingKind.DISTRIBUTION_OUTSIDE_WATERFALL,
                    period if period is not None else _period_at(history, ev.block),
                    tok.address,
                    leg or 0,
                    amount,
                    f"{amount:,} distributed to {name} holders by {ev.args['distributor']} in block {ev.block}, "
                    "not as a leg of the pool's waterfall",
                    block=ev.block,
                    sender=str(ev.args["distributor"]),
                )


def _period_at(history: History, block: int | None) -> int:
    """The period open at ``block``: one after the last distributed by then."""
    done = [p for p, (_, ev) in history.legs.items() if block is None or ev.block <= block]
    return (max(done) if done else 0) + (0 if block is None else 1)
