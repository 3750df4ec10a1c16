"""The contracts' own running totals at the head against the same totals added up from the ledger's events: state
that changed without an event is a finding."""

from __future__ import annotations

from rwa.replay.findings import FindingKind, Reconciliation


def reconcile_state(counters: dict[str, int], counted: dict[str, int], head: int, rec: Reconciliation) -> None:
    """Each of the contracts' totals (``counters``, read at ``head``) against the events' (``counted``); the
    stablecoin balances are left to :mod:`rwa.replay.checks.money`, which names the transfers that do not explain
    one."""
    for key in sorted(counters):
        if key.startswith("balance."):
            continue  # the money reconciliation names a balance that its transfers do not explain
        if counted.get(key) != counters[key]:
            rec.add(FindingKind.STATE_WITHOUT_EVENT, None, key, counted.get(key), counters[key],
                    f"{key} at block {head} is {counters[key]:,} on-chain, {counted.get(key)} by the events")
