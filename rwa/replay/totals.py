"""The totals the ledger's events must add up to at the replay's head: the contracts' own running totals (the fleet
register's deliveries, leases, attestations and fleet among them) and the stablecoin balances of the pool, the
tokens and the register (:func:`contract_totals`, :func:`stablecoin_balances`), and every
holder's balance and every period's deposits (:func:`holder_state`), each read from the chain and added up from the
events alone (:func:`event_totals`, :func:`holder_state_by_events`). A difference is either a log the node left out
of its answers (no verdict) or state changed without an event (a finding)."""

from __future__ import annotations

from typing import Any

from rwa.chain.interface import Chain
from rwa.chain.tx import READ_BATCH_RESULT_BYTES, call_many
from rwa.model.units import TRANCHES, ZERO_ADDRESS
from rwa.replay.checks.links import Links
from rwa.replay.history import History


def stablecoin_balances(chain: Chain, links: Links, pool: str, block: int) -> dict[str, int]:
    from rwa.onchain.stablecoin import Stablecoin

    coin = Stablecoin.at(chain, links.stablecoin)
    accounts = {"pool": pool, "senior": links.senior, "junior": links.junior}
    if links.register:
        accounts["register"] = links.register
    return {k: coin.balance_of(a, block) for k, a in accounts.items()}


def contract_totals(chain: Chain, links: Links, pool: str, block: int) -> dict[str, int]:
    """The contracts' own running totals at ``block``: what the ledger's events must add up to."""
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken

    p = LeasePool.at(chain, pool).contract
    o = RevenueOracle.at(chain, links.oracle).contract
    reads: list[tuple[str, Any]] = [(name, getattr(p.functions, name)()) for name in (
        "lastDistributedPeriod", "totalSeniorPaid", "totalJuniorPaid", "totalFeesPaid")]
    reads += [("latestPeriod", o.functions.latestPeriod()), ("threshold", o.functions.threshold()),
              ("reporters", o.functions.reporters())]
    for tranche in TRANCHES:
        t = TrancheToken.at(chain, getattr(links, tranche)).contract
        reads += [(f"{tranche}.{name}", getattr(t.functions, name)())
                  for name in ("totalDistributed", "totalClaimed", "totalSupply")]
    if links.register:
        from rwa.onchain.register import FleetRegister

        r = FleetRegister.at(chain, links.register).contract
        reads += [(f"register.{name}", getattr(r.functions, name)())
                  for name in ("deliveryCount", "leaseCount", "sequence", "fleet")]
    got = dict(zip((name for name, _ in reads), call_many([fn for _, fn in reads], block=block), strict=True))
    return {name: len(value) if name == "reporters" else int(value) for name, value in got.items()}


def _last_distributed(history: History) -> int:
    """The pool's ``lastDistributedPeriod`` by the events: N once finalized (the maturity run, N+1, and the
    recoveries after it do not move it), else the last period distributed."""
    if history.finalized is not None:
        (maturity,) = [p for p, (_, ev) in history.legs.items() if ev.tx_hash == history.finalized.tx_hash]
        return maturity - 1
    return max(history.legs, default=0)


def event_totals(history: History, accounts: dict[str, str]) -> dict[str, int]:
    """The same totals as :func:`contract_totals` and the stablecoin balances of ``accounts``, added up from the
    ledger's events alone."""
    legs = [legs for legs, _ in history.legs.values()]
    out = {
        "lastDistributedPeriod": _last_distributed(history),
        "totalSeniorPaid": sum(leg.senior_paid for leg in legs)
        + sum(int(ev.args["seniorPaid"]) for ev in history.prepaid),
        "totalJuniorPaid": sum(leg.junior for leg in legs) + sum(int(ev.args["juniorPaid"]) for ev in history.prepaid),
        "totalFeesPaid": sum(leg.fee for leg in legs),
        "latestPeriod": max(history.reports, default=0),
    }
    reporters: set[str] = set()
    threshold = 0
    for ev in history.governance:
        if ev.event == "ReporterAdded":
            reporters.add(str(ev.args["reporter"]).lower())
        elif ev.event == "ReporterRemoved":
            reporters.discard(str(ev.args["reporter"]).lower())
        elif ev.event == "ThresholdChanged":
            threshold = int(ev.args["newThreshold"])
    out["threshold"], out["reporters"] = threshold, len(reporters)
    for tranche in TRANCHES:
        tok = history.tokens.get(tranche)
        out[f"{tranche}.totalDistributed"] = sum(int(e.args["amount"]) for e in tok.distributions) if tok else 0
        out[f"{tranche}.totalClaimed"] = sum(int(e.args["amount"]) for e in tok.claims) if tok else 0
        supply = 0
        for ev in tok.transfers if tok else []:
            value = int(ev.args["value"])
            supply += value if ev.args["from"] == ZERO_ADDRESS else 0
            supply -= value if ev.args["to"] == ZERO_ADDRESS else 0
        out[f"{tranche}.totalSupply"] = supply
    if "register" in accounts:
        attested = [ev for ev in history.register if ev.event in ("DeliveryAttested", "LeaseUpdated")]
        deliveries = [ev for ev in history.register if ev.event == "DeliveryAttested"]
        out["register.deliveryCount"] = len(deliveries)
        out["register.leaseCount"] = sum(1 for ev in history.register if ev.event == "LeaseRegistered")
        out["register.sequence"] = len(attested)
        out["register.fleet"] = int(deliveries[-1].args["fleetAfter"]) if deliveries else 0
    for name, address in accounts.items():
        a = address.lower()
        out[f"balance.{name}"] = sum(
            int(ev.args["value"]) * ((str(ev.args["to"]).lower() == a) - (str(ev.args["from"]).lower() == a))
            for ev in history.stablecoin_transfers
        )
    return out


HOLDER_READS = READ_BATCH_RESULT_BYTES // 160
"""Views per :func:`call_many` when every holder's balance is read: a word each, 160 bytes as ``ReadBatch`` encodes
its results, so a batch stays under ``READ_BATCH_RESULT_BYTES``."""


def holder_state(chain: Chain, links: Links, pool: str, history: History, head: int) -> dict[str, int]:
    """The state the ledger's events must add up to holder by holder at ``head``: every balance of every account
    a tranche's transfers name, and the pool's deposits of every period the events deposit to or distribute (one
    key each; batched reads). A log the node left out shows here even when every total agrees."""
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken

    reads: list[tuple[str, Any]] = []
    for tranche, holders in _holders(history).items():
        token = TrancheToken.at(chain, getattr(links, tranche)).contract
        reads += [(f"{tranche}.balanceOf({h})", token.functions.balanceOf(h)) for h in holders]
    deposits = LeasePool.at(chain, pool).contract
    reads += [(f"deposited({p})", deposits.functions.deposited(p)) for p in _deposit_periods(history)]
    values = [v for start in range(0, len(reads), HOLDER_READS)
              for v in call_many([fn for _, fn in reads[start:start + HOLDER_READS]], block=head)]
    return {name: int(value) for (name, _), value in zip(reads, values, strict=True)}


def _holders(history: History) -> dict[str, list[str]]:
    """Every account a tranche's transfers name (the zero address aside), in a fixed order."""
    named: dict[str, list[str]] = {}
    for tranche in TRANCHES:
        tok = history.tokens.get(tranche)
        seen = {str(ev.args[side]) for ev in (tok.transfers if tok else []) for side in ("from", "to")}
        named[tranche] = sorted(seen - {ZERO_ADDRESS})
    return named


def _deposit_periods(history: History) -> list[int]:
    return sorted(set(history.deposits) | set(history.legs))


def holder_state_by_events(history: History) -> dict[str, int]:
    """The keys of :func:`holder_state` added up from the ledger's events alone."""
    out: dict[str, int] = {}
    for tranche, holders in _holders(history).items():
        balance = dict.fromkeys(holders, 0)
        tok = history.tokens.get(tranche)
        for ev in tok.transfers if tok else []:
            value = int(ev.args["value"])
            if str(ev.args["from"]) in balance:
                balance[str(ev.args["from"])] -= value
            if str(ev.args["to"]) in balance:
                balance[str(ev.args["to"])] += value
        out |= {f"{tranche}.balanceOf({h})": v for h, v in balance.items()}
    out |= {f"deposited({p})": sum(history.deposits.get(p, {}).values()) for p in _deposit_periods(history)}
    return out
