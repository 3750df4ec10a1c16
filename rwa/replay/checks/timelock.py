"""Every privileged change after issuance (a role, the reporters or the threshold, the timelock's delay, a token
bound to the registry, a forced transfer or a recovery) must be the work of a timelock operation: a ``CallExecuted``
in the same transaction whose target and calldata are that change's, announced before by a ``CallScheduled`` of the
same target and calldata (:func:`untimelocked`). One without it is a finding, never a disclosure. The timelock's
delay changes are disclosed; a delay cut under the deal's is a finding (:func:`review_delay`)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from eth_abi.abi import encode
from eth_utils.crypto import keccak

from rwa.onchain.privileges import role_name
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History
from rwa.replay.ledger import Event

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
        if not history.after_issuance(ev):
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
        if history.after_issuance(ev) and (ev.block, ev.log_index) not in untied:
            rec.disclose(DisclosureKind.TIMELOCK_DELAY, ev, timelock, new,
                         f"the timelock's delay changed: {old:,} s -> {new:,} s")
