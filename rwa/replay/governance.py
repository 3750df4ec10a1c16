"""Who could act on the deal, and what they did: the chain's own links, the oracle's reporter set and quorum over time,
roles, and the agent's acts on holders' tokens.

The manifest only says where to start. The pool names its oracle, tokens, stablecoin and fee recipient itself, and
the tokens their stablecoin; every address the manifest gives must agree (:func:`reconcile_links`). The oracle's
reporter set and threshold are rebuilt from its events, its constructor's included, and every accepted report must
carry at least the threshold in force of signers in the set in force, and at least the deal's own M of N
(:func:`reconcile_oracle`). Role changes after issuance, and the agent's forced transfers, recoveries, freezes and
pauses, are disclosed with their sender; a distributor role given to anyone but the pool is a finding
(:func:`review_roles`, :func:`disclose_agent_acts`).

Every member of every role is rebuilt from the grants and revocations since the deployment's first block: when
issuance ends each must be the party the deal's table (``rwa.onchain.privileges``) names, else a finding. After
issuance every privileged change (a role, the reporters or the threshold, the timelock's delay, a token bound to the
registry, a forced transfer or a recovery) must be the work of a timelock operation: a ``CallExecuted`` in the same
transaction whose target and calldata are that change's, announced before by a ``CallScheduled`` of the same target
and calldata (:func:`untimelocked`). One without it is a finding, never a disclosure, and a reporter it added
counts for no quorum. The registry's acts on investors, and the timelock's delay changes, are disclosed; a delay cut
under the deal's is a finding (:func:`disclose_registry_acts`, :func:`review_delay`). A pause in force at the head
that its events do not explain is a finding (:func:`review_pause_state`), as is a tranche's supply at its close
other than the deal's (:func:`review_issued_supply`).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from rwa.onchain.privileges import RoleChange, outside_table, role_members
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
    history: History, deal_threshold: int, manifest_reporters: list[str], oracle: str, rec: Reconciliation,
    untied: Collection[tuple[int, int]] = (),
) -> list[tuple[int, int, int]]:
    """Replay the oracle's reporter set and threshold in chain order and check every accepted report against what
    was in force when it was accepted. A change in ``untied`` (made by no timelock operation: a finding of its own)
    is neither disclosed nor counted: a reporter it added signs for no quorum. Returns the threshold's history as
    (block, reporters, threshold)."""
    reporters: set[str] = set()
    threshold = 0
    timeline: list[tuple[int, int, int]] = []
    changes = sorted(history.governance, key=lambda e: (e.block, e.log_index))
    created = changes[0].tx_hash if changes else None

    def apply(ev: Event, setup: bool) -> None:
        nonlocal threshold
        if (ev.block, ev.log_index) in untied:
            return
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


def review_roles(history: History, pool: str, addresses: Mapping[str, str], rec: Reconciliation,
                 untied: Collection[tuple[int, int]] = ()) -> None:
    """Role changes after issuance are disclosed (those in ``untied`` are findings of their own instead); a
    distributor role for anyone but the pool is a finding."""
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
        if end is not None and (ev.block, ev.log_index) > end and (ev.block, ev.log_index) not in untied:
            verb = "granted" if granted else "revoked"
            rec.disclose(DisclosureKind.ROLE_CHANGE, ev, account, None,
                         f"{role_name(role)} on the {where} {verb} {'to' if granted else 'from'} {account}",
                         sender=str(ev.args["sender"]))


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


# -- privileged acts and the timelock -----------------------------------------------------------------------------

_CALLS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "RoleGranted": ("grantRole", ("bytes32", "address"), ("role", "account")),
    "RoleRevoked": ("revokeRole", ("bytes32", "address"), ("role", "account")),
    "ReporterAdded": ("addReporter", ("address",), ("reporter",)),
    "ReporterRemoved": ("removeReporter", ("address",), ("reporter",)),
    "ThresholdChanged": ("setThreshold", ("uint256",), ("newThreshold",)),
    "MinDelayChange": ("updateDelay", ("uint256",), ("newDuration",)),
    "ForcedTransfer": ("forcedTransfer", ("address", "address", "uint256"), ("from", "to", "amount")),
    "WalletRecovered": ("recoverWallet", ("address", "address"), ("lost", "newWallet")),
    "TokenBound": ("bindToken", ("address",), ("token",)),
}
"""Each privileged change's event and the call that makes it: the calldata a timelock operation must carry."""


def _word(kind: str, value: object) -> object:
    return bytes.fromhex(str(value)[2:]) if kind == "bytes32" else value


def call_data(ev: Event) -> bytes:
    """The calldata of the call that emits ``ev`` (one of :data:`_CALLS`)."""
    name, types, keys = _CALLS[ev.event]
    selector = keccak(text=f"{name}({','.join(types)})")[:4]
    return selector + encode(list(types), [_word(t, ev.args[k]) for t, k in zip(types, keys, strict=True)])


def _hex_bytes(value: object) -> bytes:
    return bytes.fromhex(str(value).removeprefix("0x"))


def timelock_executions(history: History) -> dict[str, list[tuple[str, bytes]]]:
    """Per transaction, the (target, calldata) of each timelock operation it executed that a ``CallScheduled`` of
    the same id, index, target and calldata announced before."""
    scheduled: dict[tuple[str, int], tuple[str, bytes]] = {}
    out: dict[str, list[tuple[str, bytes]]] = {}
    for ev in history.timelock_calls:
        key = (str(ev.args.get("id", "")).lower(), int(ev.args.get("index", 0)))
        if ev.event not in ("CallScheduled", "CallExecuted"):
            continue
        call = (str(ev.args["target"]).lower(), _hex_bytes(ev.args["data"]))
        if ev.event == "CallScheduled":
            scheduled[key] = call
        elif scheduled.get(key) == call:
            out.setdefault(ev.tx_hash, []).append(call)
    return out


def _after_issuance(history: History, ev: Event) -> bool:
    end = history.issuance_end
    return end is not None and (ev.block, ev.log_index) > end


def _privileged_changes(history: History) -> Iterable[Event]:
    """Every change only an admin or the timelock's agent role can make: roles (not a holder's own renounce), the
    oracle's reporters and threshold, the timelock's delay, forced transfers and recoveries."""
    for ev in history.roles:
        renounced = ev.event == "RoleRevoked" and str(ev.args["account"]).lower() == str(ev.args["sender"]).lower()
        if not renounced:
            yield ev
    yield from (ev for ev in history.governance if ev.event in _CALLS)
    yield from history.delay_changes
    yield from (ev for ev in history.registry_acts if ev.event == "TokenBound")
    for tok in history.tokens.values():
        yield from tok.forced
        yield from tok.recoveries


def untimelocked(history: History) -> dict[tuple[int, int], Event]:
    """The privileged changes after issuance that no executed timelock operation made, by (block, log index)."""
    executed = timelock_executions(history)
    out = {}
    for ev in _privileged_changes(history):
        if not _after_issuance(history, ev):
            continue
        if (ev.address.lower(), call_data(ev)) not in executed.get(ev.tx_hash, []):
            out[(ev.block, ev.log_index)] = ev
    return out


def review_untimelocked(history: History, untied: Mapping[tuple[int, int], Event], rec: Reconciliation) -> None:
    """Each privileged change without its timelock operation is a finding naming the change and its sender."""
    for ev in sorted(untied.values(), key=lambda e: (e.block, e.log_index)):
        args = ", ".join(f"{k}={role_name(str(v)) if k == 'role' else v}" for k, v in ev.args.items())
        sender = ev.sender or next((str(ev.args[k]) for k in ("sender", "agent") if k in ev.args), None)
        rec.add(FindingKind.UNTIMELOCKED_ACT, None, ev.address, "a scheduled and executed timelock operation", None,
                f"{ev.event}({args}) on the {ev.contract} in block {ev.block} was made by {sender}, not by a "
                "timelock operation announced beforehand: it skipped the delay and the trustee's veto",
                block=ev.block, sender=sender)


def review_role_members(
    history: History, contracts: Mapping[str, str], parties: Mapping[str, str], mark: str | None,
    rec: Reconciliation,
) -> None:
    """Every member of every role when issuance ended (read from the first block), against the deal's table."""
    end = history.issuance_end
    changes = [RoleChange(ev.address, str(ev.args["role"]), str(ev.args["account"]), ev.event == "RoleGranted")
               for ev in history.roles if end is None or (ev.block, ev.log_index) <= end]
    block = None if end is None else end[0]
    for stray in outside_table(role_members(changes), contracts, parties, mark):
        rec.add(FindingKind.ROLE_OUTSIDE_TABLE, None, stray.account, stray.meant, stray.account,
                f"{stray.role} on the {stray.contract} is held by {stray.account} at the end of issuance; the deal's "
                f"table gives it to {stray.meant}: a key outside the trust model kept a power", block=block)


def review_delay(history: History, stated_delay: int, timelock: str, untied: Collection[tuple[int, int]],
                 rec: Reconciliation) -> None:
    """The timelock's delay over time: each change after issuance is disclosed (unless it is already a finding of
    its own); any delay under the deal's is a finding, the constructor's included."""
    for ev in history.delay_changes:
        old, new = int(ev.args["oldDuration"]), int(ev.args["newDuration"])
        if new < stated_delay:
            rec.add(FindingKind.TIMELOCK_DELAY, None, timelock, stated_delay, new,
                    f"the timelock's delay set to {new:,} s in block {ev.block}, under the deal's {stated_delay:,} s: "
                    "holders no longer see a privileged call a whole period before it runs", block=ev.block,
                    sender=ev.sender)
        if _after_issuance(history, ev) and (ev.block, ev.log_index) not in untied:
            rec.disclose(DisclosureKind.TIMELOCK_DELAY, ev, timelock, new,
                         f"the timelock's delay changed: {old:,} s -> {new:,} s")


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
            if _after_issuance(history, ev) and (ev.block, ev.log_index) not in untied:
                rec.disclose(DisclosureKind.TOKEN_BOUND, ev, str(a["token"]), None,
                             f"the registry now also pushes its records to {a['token']}", sender=str(a["by"]))
            continue
        who, by = str(a["investor"]), str(a["by"])
        before = expiry.get(who.lower())
        if "kycExpiry" in a:
            expiry[who.lower()] = int(a["kycExpiry"])
        if not _after_issuance(history, ev):
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


def review_issued_supply(history: History, sizes: Mapping[str, int], rec: Reconciliation) -> None:
    """Each tranche's supply when its issuance closed (``IssuanceClosed`` carries it) against the units the deal
    issues: more is a dilution of the holders by a second minter, less units never delivered."""
    for tranche, ev in history.issuance_closed.items():
        supply, size = int(ev.args["totalSupply"]), sizes.get(tranche)
        if size is not None and supply != size:
            rec.add(FindingKind.TOKEN_SUPPLY, None, ev.address, size, supply,
                    f"the {tranche} issuance closed in block {ev.block} with {supply:,} units, the deal issues "
                    f"{size:,}", block=ev.block, sender=ev.sender)


def pause_by_events(history: History, contract: str, at: int) -> tuple[bool, int]:
    """Whether ``contract`` (an address) is paused at time ``at`` by its events, and when its last pause ends: the
    last ``Paused`` not lifted by an ``Unpaused``, until the expiry its ``PauseExpires`` announced."""
    me = contract.lower()
    changes = sorted((ev for ev in [*history.pauses, *history.pause_expiries] if ev.address.lower() == me),
                     key=lambda e: (e.block, e.log_index))
    flagged, expiry = False, 0
    for ev in changes:
        if ev.event == "PauseExpires":
            expiry = int(ev.args["expiresAt"])
        else:
            flagged = ev.event == "Paused"
    return flagged and at < expiry, expiry


def review_pause_state(
    history: History, onchain: Mapping[str, tuple[str, bool, int]], head: int, head_time: int, rec: Reconciliation
) -> None:
    """Each pausable contract's pause at the head (``onchain``: name to address, ``paused()``, ``pauseExpiresAt()``)
    against its events: a pause in force, or an expiry, that no event explains (a pause held past its bound by a
    write no event records) is a finding."""
    for name, (address, paused, expiry) in sorted(onchain.items()):
        want_paused, want_expiry = pause_by_events(history, address, head_time)
        if (paused, expiry) != (want_paused, want_expiry):
            rec.add(FindingKind.PAUSE_BOUND, None, address, (want_paused, want_expiry), (paused, expiry),
                    f"the {name} is {'paused' if paused else 'not paused'} at block {head} with its pause ending at "
                    f"{expiry:,}; its events say {'paused' if want_paused else 'not paused'}, ending at "
                    f"{want_expiry:,}: a pause no event explains (a pause lasts at most 14 days)", block=head)


def review_governance(
    history: History,
    rec: Reconciliation,
    *,
    pool: str,
    contracts: Mapping[str, str],
    parties: Mapping[str, str],
    mark: str | None,
    stated_delay: int,
    deal_threshold: int,
    manifest_reporters: list[str],
    sizes: Mapping[str, int],
) -> list[tuple[int, int, int]]:
    """The whole governance review, in one step: the oracle's quorum, who holds which role, every privileged act
    tied to its timelock operation, the agent's and the registry's acts, the timelock's delay. ``contracts`` names
    the deal's contracts (``oracle``, ``senior``, ``junior``, ``registry``, ``pool``, ``timelock``), ``parties`` the
    accounts the table names (``rwa.onchain.privileges.party_addresses``). Returns the threshold's history."""
    untied = untimelocked(history)
    thresholds = reconcile_oracle(history, deal_threshold, manifest_reporters, contracts["oracle"], rec, untied)
    review_role_members(history, contracts, parties, mark, rec)
    review_roles(history, pool, contracts, rec, untied)
    review_untimelocked(history, untied, rec)
    disclose_agent_acts(history, rec, untied)
    disclose_registry_acts(history, rec, untied)
    review_delay(history, stated_delay, contracts["timelock"], untied, rec)
    review_issued_supply(history, sizes, rec)
    return thresholds


GOVERNANCE_COLUMNS = ["block", "log_index", "tx_hash", "contract", "act", "sender", "arguments"]


def privileged_acts(history: History) -> list[dict[str, object]]:
    """Every privileged act in chain order, issuance included: role grants and revocations, timelocked calls
    announced, run and cancelled, the timelock's delay, reporter and threshold changes, pauses, forced transfers,
    recoveries, freezes, defaults declared, triggered, cured and waived, and the registry's acts on investors after
    issuance (``governance.csv``)."""
    import json

    events = [*history.roles, *history.timelock_calls, *history.delay_changes, *history.governance, *history.pauses,
              *history.default_events, *(ev for ev in history.registry_acts if _after_issuance(history, ev))]
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
