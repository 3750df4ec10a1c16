"""Every settled trade moved the seller's tokens to the buyer and the buyer's price to the seller in its own
transaction, and nothing rests in the settlement contract. Each holder's realised cash flows (paid for its
subscription, refunded, received from the tranches' claims, bought and sold) give its realised XIRR, computed with
pyxirr on the blocks' timestamps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from rwa.replay.findings import DisclosureKind, FindingKind, HolderFlows, Reconciliation, flow_time
from rwa.replay.history import History


def holder_flows_from_claims(history: History, flows: dict[tuple[str, str], HolderFlows]) -> None:
    """Add every tranche claim (stablecoin the holder received) to its flows."""
    for tok in history.tokens.values():
        for ev in tok.claims:
            who, amount = str(ev.args["holder"]).lower(), int(ev.args["amount"])
            f = flows.setdefault((str(tok.name), who), HolderFlows())
            f.received += amount
            f.flows.append((flow_time(ev), amount))


def reconcile_trades(history: History, settlement: str, tokens: Mapping[str, str], rec: Reconciliation) -> int:
    """Every settled trade moved the seller's tokens to the buyer and the buyer's price to the seller (through the
    settlement) in its own transaction; each leg is in the holders' flows. Returns the number of trades."""
    me = settlement.lower()
    by_tx: dict[str, list[tuple[str, str, int]]] = defaultdict(list)
    for ev in history.stablecoin_transfers:
        by_tx[ev.tx_hash].append((str(ev.args["from"]).lower(), str(ev.args["to"]).lower(), int(ev.args["value"])))
    moved: dict[str, list[tuple[str, str, str, int]]] = defaultdict(list)
    names = {a.lower(): n for n, a in tokens.items()}
    for name, tok in history.tokens.items():
        for ev in tok.transfers:
            moved[ev.tx_hash].append((name, str(ev.args["from"]).lower(), str(ev.args["to"]).lower(),
                                      int(ev.args["value"])))
    count = 0
    for ev in history.trades:
        if ev.event != "TradeSettled":
            continue
        count += 1
        a = ev.args
        seller, buyer = str(a["seller"]).lower(), str(a["buyer"]).lower()
        amount, price, token = int(a["amount"]), int(a["price"]), str(a["token"]).lower()
        tranche = names.get(token)
        legs = by_tx.get(ev.tx_hash, [])
        paid = price == 0 or ((buyer, me, price) in legs and (me, seller, price) in legs)
        delivered = tranche is not None and (tranche, seller, buyer, amount) in moved.get(ev.tx_hash, [])
        if not (paid and delivered):
            rec.add(FindingKind.TRADE, None, seller, (amount, price), (delivered, paid),
                    f"trade in block {ev.block}: {amount:,} of {tranche or token} from {seller} to {buyer} for "
                    f"{price:,}; tokens delivered {delivered}, stablecoin paid {paid}", block=ev.block)
        if tranche is None:
            continue
        when = flow_time(ev)
        sold = flows_entry(rec, tranche, seller)
        sold.received += price
        sold.flows.append((when, price))
        bought = flows_entry(rec, tranche, buyer)
        bought.paid += price
        bought.flows.append((when, -price))
    # A trade's payment passes through the settlement in its own transaction: nothing may rest there. Stablecoin
    # sent to it in a transaction that settled no trade is anyone's gift (a stranger can always send one), not a
    # broken trade: disclosed as a donation and left out of what the trades must balance.
    trade_txs = {ev.tx_hash for ev in history.trades if ev.event == "TradeSettled"}
    donated = 0
    for ev in history.stablecoin_transfers:
        if str(ev.args["to"]).lower() == me and ev.tx_hash not in trade_txs:
            value = int(ev.args["value"])
            donated += value
            rec.donations["settlement"] = rec.donations.get("settlement", 0) + value
            rec.disclose(DisclosureKind.DONATION, ev, settlement, value,
                         f"{value:,} sent to the settlement contract by {ev.args['from']} outside a trade: it rests "
                         "there, no holder's money", sender=str(ev.args["from"]))
    held = sum(v for legs in by_tx.values() for s, d, v in legs if d == me) - sum(
        v for legs in by_tx.values() for s, d, v in legs if s == me) - donated
    if held:
        rec.add(FindingKind.TRADE, None, settlement, 0, held, "stablecoin left in the settlement contract")
    return count


def flows_entry(rec: Reconciliation, tranche: str, holder: str) -> HolderFlows:
    return rec.flows.setdefault((tranche, holder), HolderFlows())
