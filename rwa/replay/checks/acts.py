"""The acts a holder must know of, disclosed with their sender: the agent's forced transfers, recoveries and
freezes, a fee deferred, every pause, a default declared or cured (:func:`disclose_agent_acts`); the registry's acts
on investors after issuance and the tokens it binds (:func:`disclose_registry_acts`). An act that is already a
finding of its own (made by no timelock operation) is not disclosed again."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime

from rwa.replay.findings import DisclosureKind, Reconciliation
from rwa.replay.history import History


def disclose_agent_acts(history: History, rec: Reconciliation, untied: Collection[tuple[int, int]] = ()) -> None:
    """The agent's acts on holders' tokens (those in ``untied`` are findings of their own instead), a default
    declared, and every pause and unpause."""
    for name, tok in history.tokens.items():
        for ev in tok.forced:
            if (ev.block, ev.log_index) in untied:
                continue
            a = ev.args
            rec.disclose(DisclosureKind.FORCED_TRANSFER, ev, str(a["from"]), int(a["amount"]),
                         f"{int(a['amount']):,} {name} units moved from {a['from']} to {a['to']} by the agent",
                         sender=str(a["agent"]))
        for ev in tok.recoveries:
            if (ev.block, ev.log_index) in untied:
                continue
            a = ev.args
            rec.disclose(DisclosureKind.WALLET_RECOVERY, ev, str(a["lost"]), int(a["balance"]),
                         f"{name} wallet {a['lost']} recovered to {a['newWallet']}: {int(a['balance']):,} units and "
                         f"{int(a['entitlement']):,} unclaimed", sender=str(a["agent"]))
        for ev in tok.freezes:
            a = ev.args
            rec.disclose(DisclosureKind.WALLET_FREEZE, ev, str(a["wallet"]), None,
                         f"{name} wallet {a['wallet']} {'frozen' if a['frozen'] else 'unfrozen'}",
                         sender=str(a["agent"]))
    for ev in history.fee_events:
        if ev.event == "FeeDeferred":
            rec.disclose(DisclosureKind.FEE_DEFERRED, ev, str(ev.args["recipient"]), int(ev.args["amount"]),
                         f"the stablecoin refused the fee of {int(ev.args['amount']):,} to {ev.args['recipient']}: "
                         "owed, the distribution went on")
    for ev in history.pauses:
        rec.disclose(DisclosureKind.PAUSE, ev, ev.address, None,
                     f"the {ev.contract} {'paused' if ev.event == 'Paused' else 'unpaused'}",
                     sender=str(ev.args.get("account", "")) or None)
    for ev in history.default_events:
        a = ev.args
        if ev.event == "DefaultDeclared":
            how = (f"triggered by {a['by']} on condition {a['trigger']}" if int(a["trigger"])
                   else f"declared by {a['by']}")
            rec.disclose(DisclosureKind.DEFAULT_DECLARED, ev, ev.address, None,
                         f"default {how} from period {a['period']}: {a['reason']}", period=int(a["period"]),
                         sender=str(a["by"]))
        else:
            rec.disclose(DisclosureKind.DEFAULT_CURED, ev, ev.address, None,
                         f"default {'waived' if a['waived'] else 'cured'} by {a['by']} from period {a['period']}: "
                         f"{a['reason']}", period=int(a["period"]), sender=str(a["by"]))


def _date(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, tz=UTC).strftime("%Y-%m-%d")


def disclose_registry_acts(history: History, rec: Reconciliation, untied: Collection[tuple[int, int]] = ()) -> None:
    """The compliance agent's acts on the investor list after issuance: an investor (or spender) allowed, a KYC
    updated (shortened or extended against the record it replaced), an investor revoked, frozen or unfrozen; and a
    token bound to the registry (an admin's act: in ``untied`` when no timelock operation made it)."""
    expiry: dict[str, int] = {}
    for ev in history.registry_acts:
        a = ev.args
        if ev.event == "TokenBound":
            if history.after_issuance(ev) and (ev.block, ev.log_index) not in untied:
                rec.disclose(DisclosureKind.TOKEN_BOUND, ev, str(a["token"]), None,
                             f"the registry now also pushes its records to {a['token']}", sender=str(a["by"]))
            continue
        who, by = str(a["investor"]), str(a["by"])
        before = expiry.get(who.lower())
        if "kycExpiry" in a:
            expiry[who.lower()] = int(a["kycExpiry"])
        if not history.after_issuance(ev):
            continue
        if ev.event == "InvestorAllowed":
            rec.disclose(DisclosureKind.INVESTOR_ALLOWED, ev, who, None,
                         f"{who} allowed to hold and move the tokens (KYC to {_date(int(a['kycExpiry']))}, "
                         f"jurisdiction {a['jurisdiction']})", sender=by)
        elif ev.event == "KycUpdated":
            new = int(a["kycExpiry"])
            how = ("set" if before is None else "shortened" if new < before else "extended" if new > before
                   else "confirmed")
            was = "" if before is None else f" from {_date(before)}"
            rec.disclose(DisclosureKind.KYC_UPDATED, ev, who, None, f"{who}'s KYC {how}{was} to {_date(new)}",
                         sender=by)
        elif ev.event == "InvestorRevoked":
            rec.disclose(DisclosureKind.INVESTOR_REVOKED, ev, who, None,
                         f"{who} revoked from the investor list: it can no longer send or receive the tokens",
                         sender=by)
        else:
            rec.disclose(DisclosureKind.INVESTOR_FROZEN, ev, who, None,
                         f"{who} {'frozen' if a['frozen'] else 'unfrozen'} in the registry", sender=by)
