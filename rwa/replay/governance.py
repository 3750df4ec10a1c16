"""Who could act on the deal, and what they did: the chain's own links, the oracle's reporter set and quorum over time,
roles, and the agent's acts on holders' tokens.

The manifest only says where to start. The pool names its oracle, tokens, stablecoin and fee recipient itself, and
the tokens their stablecoin; every address the manifest gives must agree (:func:`reconcile_links`). The oracle's
reporter set and threshold are rebuilt from its events, its constructor's included, and every accepted report must
carry at least the threshold in force of signers in the set in force, and at least the deal's own M of N
(:func:`reconcile_oracle`). Role changes after issuance, and the agent's forced transfers, recoveries, freezes and
pauses, are disclosed with their sender; a distributor role given to anyone but the pool is a finding
(:func:`review_roles`, :func:`disclose_agent_acts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from eth_utils.crypto import keccak

from rwa.replay.history import History
from rwa.replay.ledger import Event
from rwa.replay.reconcile import DisclosureKind, FindingKind, Reconciliation

ROLE_NAMES = {
    "0x" + keccak(text=name).hex(): name
    for name in ("DISTRIBUTOR_ROLE", "AGENT_ROLE", "ISSUER_ROLE", "SERVICER_ROLE", "COMPLIANCE_ROLE", "TRUSTEE_ROLE",
                 "PROPOSER_ROLE", "EXECUTOR_ROLE", "CANCELLER_ROLE")
}
ROLE_NAMES["0x" + "00" * 32] = "DEFAULT_ADMIN_ROLE"
DISTRIBUTOR_ROLE = "0x" + keccak(text="DISTRIBUTOR_ROLE").hex()


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role.lower(), role)


@dataclass(frozen=True)
class Links:
    """What the chain says the deal's contracts are, read at the replay's head."""

    oracle: str
    senior: str
    junior: str
    stablecoin: str
    fee_recipient: str
    registry: str
    token_stablecoins: Mapping[str, str]
    token_registries: Mapping[str, str]
    oracle_pool: str
    timelock_is_admin: bool = True
    """Whether the timelock the manifest names holds the pool's admin role."""

    def contracts(self) -> dict[str, str]:
        return {"oracle": self.oracle, "senior": self.senior, "junior": self.junior, "stablecoin": self.stablecoin,
                "registry": self.registry}


def reconcile_links(
    links: Links, manifest_contracts: Mapping[str, str], fee_recipient: str, pool: str, rec: Reconciliation
) -> None:
    """Every address the manifest names against the one the chain links to."""
    for key, onchain in links.contracts().items():
        named = manifest_contracts.get(key)
        if named is not None and named.lower() != onchain.lower():
            rec.add(FindingKind.MANIFEST_LINK, None, pool, onchain, named,
                    f"the manifest names {named} as the {key}, the pool is linked to {onchain}")
    if fee_recipient.lower() != links.fee_recipient.lower():
        rec.add(FindingKind.MANIFEST_LINK, None, pool, links.fee_recipient, fee_recipient,
                "the manifest's fee recipient is not the one the pool pays")
    for tranche, coin in links.token_stablecoins.items():
        if coin.lower() != links.stablecoin.lower():
            rec.add(FindingKind.MANIFEST_LINK, None, tranche, links.stablecoin, coin,
                    f"the {tranche} token pays claims in {coin}, the pool distributes {links.stablecoin}")
    for tranche, registry in links.token_registries.items():
        if registry.lower() != links.registry.lower():
            rec.add(FindingKind.MANIFEST_LINK, None, tranche, links.registry, registry,
                    f"the {tranche} token checks compliance in {registry}, the senior token in {links.registry}")
    if not links.timelock_is_admin:
        rec.add(FindingKind.MANIFEST_LINK, None, pool, "the timelock", manifest_contracts.get("timelock"),
                "the timelock the manifest names is not the pool's admin: privileged calls may bypass its delay")
    if links.oracle_pool.lower() != pool.lower():
        rec.add(FindingKind.MANIFEST_LINK, None, links.oracle, pool, links.oracle_pool,
                "the oracle is not bound to this pool: a distributed period's report can still be amended")


def reconcile_oracle(
    history: History, deal_threshold: int, manifest_reporters: list[str], oracle: str, rec: Reconciliation
) -> list[tuple[int, int, int]]:
    """Replay the oracle's reporter set and threshold in chain order and check every accepted report against what
    was in force when it was accepted. Returns the threshold's history as (block, reporters, threshold)."""
    reporters: set[str] = set()
    threshold = 0
    timeline: list[tuple[int, int, int]] = []
    changes = sorted(history.governance, key=lambda e: (e.block, e.log_index))
    created = changes[0].tx_hash if changes else None

    def apply(ev: Event, setup: bool) -> None:
        nonlocal threshold
        if ev.event == "ReporterAdded":
            reporters.add(str(ev.args["reporter"]).lower())
            if not setup:
                rec.disclose(DisclosureKind.REPORTER_CHANGE, ev, str(ev.args["reporter"]), None,
                             f"reporter {ev.args['reporter']} added ({len(reporters)} reporters)")
        elif ev.event == "ReporterRemoved":
            reporters.discard(str(ev.args["reporter"]).lower())
            rec.disclose(DisclosureKind.REPORTER_CHANGE, ev, str(ev.args["reporter"]), None,
                         f"reporter {ev.args['reporter']} removed ({len(reporters)} reporters)")
        elif ev.event == "ThresholdChanged":
            threshold = int(ev.args["newThreshold"])
            if not setup:
                rec.disclose(DisclosureKind.THRESHOLD_CHANGE, ev, oracle, threshold,
                             f"signatures needed on a report: {ev.args['oldThreshold']} -> {threshold}")
        timeline.append((ev.block, len(reporters), threshold))

    ci = 0
    while ci < len(changes) and changes[ci].tx_hash == created:
        apply(changes[ci], setup=True)
        ci += 1
    if changes and sorted(reporters) != sorted(r.lower() for r in manifest_reporters):
        rec.add(FindingKind.REPORTERS, None, oracle, sorted(r.lower() for r in manifest_reporters), sorted(reporters),
                "the oracle was deployed with other reporters than the manifest names", block=changes[0].block)
    reports = sorted(
        (r for records in history.reports.values() for r in records if r.event is not None),
        key=lambda r: (r.block, r.event.log_index if r.event else 0),
    )
    for report in [*reports, None]:
        at = (2**63, 0) if report is None or report.event is None else (report.block, report.event.log_index)
        while ci < len(changes) and (changes[ci].block, changes[ci].log_index) < at:
            apply(changes[ci], setup=False)
            ci += 1
        if report is None:
            break
        signers = [s.lower() for s in report.signers]
        strangers = [s for s in report.signers if s.lower() not in reporters]
        needed = max(threshold, deal_threshold)
        if strangers or len(set(signers)) != len(signers) or len(signers) < needed:
            rec.add(
                FindingKind.REPORT_QUORUM,
                report.period,
                oracle,
                needed,
                len(set(signers) & reporters),
                f"period {report.period}'s report was accepted with {len(set(signers) & reporters)} valid signers "
                f"({', '.join(report.signers) or 'none'}) where {needed} are needed (the oracle's threshold "
                f"{threshold}, the deal's {deal_threshold} of N)"
                + (f"; not reporters: {', '.join(strangers)}" if strangers else ""),
                block=report.block,
            )
    return timeline


def review_roles(history: History, pool: str, addresses: Mapping[str, str], rec: Reconciliation) -> None:
    """Role changes after issuance are disclosed; a distributor role for anyone but the pool is a finding."""
    end = history.issuance_end
    names = {a.lower(): k for k, a in addresses.items()}
    for ev in history.roles:
        role = str(ev.args["role"])
        account = str(ev.args["account"])
        where = names.get(ev.address.lower(), ev.address)
        granted = ev.event == "RoleGranted"
        if granted and role.lower() == DISTRIBUTOR_ROLE and account.lower() != pool.lower():
            rec.add(
                FindingKind.DISTRIBUTOR_GRANTED,
                None,
                account,
                pool,
                account,
                f"{ev.args['sender']} gave {account} the distributor role on the {where} token in block {ev.block}: "
                "it can credit holders with money the waterfall did not pay",
                block=ev.block,
                sender=str(ev.args["sender"]),
            )
        if end is not None and (ev.block, ev.log_index) > end:
            verb = "granted" if granted else "revoked"
            rec.disclose(DisclosureKind.ROLE_CHANGE, ev, account, None,
                         f"{role_name(role)} on the {where} {verb} {'to' if granted else 'from'} {account}",
                         sender=str(ev.args["sender"]))


def disclose_agent_acts(history: History, rec: Reconciliation) -> None:
    """The agent's acts on holders' tokens, a default declared, and every pause and unpause."""
    for name, tok in history.tokens.items():
        for ev in tok.forced:
            a = ev.args
            rec.disclose(DisclosureKind.FORCED_TRANSFER, ev, str(a["from"]), int(a["amount"]),
                         f"{int(a['amount']):,} {name} units moved from {a['from']} to {a['to']} by the agent",
                         sender=str(a["agent"]))
        for ev in tok.recoveries:
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


GOVERNANCE_COLUMNS = ["block", "log_index", "tx_hash", "contract", "act", "sender", "arguments"]


def privileged_acts(history: History) -> list[dict[str, object]]:
    """Every privileged act in chain order, issuance included: role grants and revocations, timelocked calls
    announced, run and cancelled, reporter and threshold changes, pauses, forced transfers, recoveries, freezes,
    defaults declared, triggered, cured and waived (``governance.csv``)."""
    import json

    events = [*history.roles, *history.timelock_calls, *history.governance, *history.pauses,
              *history.default_events]
    for tok in history.tokens.values():
        events.extend([*tok.forced, *tok.recoveries, *tok.freezes])
    rows: list[dict[str, object]] = []
    for ev in sorted(events, key=lambda e: (e.block, e.log_index)):
        args = dict(ev.args)
        if "role" in args:
            args["role"] = role_name(str(args["role"]))
        sender = ev.sender or next((str(args[k]) for k in ("sender", "agent", "account", "by") if k in args), "")
        rows.append({"block": ev.block, "log_index": ev.log_index, "tx_hash": ev.tx_hash, "contract": ev.contract,
                     "act": ev.event, "sender": sender, "arguments": json.dumps(args, sort_keys=True)})
    return rows
