"""Who can do what in a deployed deal, with what delay, and what the holders can do about it; and the timelocked
calls that carry every power over holders' money or the deal's facts.

:data:`PRIVILEGES` is the deal's trust model as a table: each power, the contract and role it lives in, who is meant
to hold it after issuance, and its delay. :func:`role_holders` reads who actually holds each role on-chain and
:func:`check_roles` compares the two, so the README's table (:func:`privileges_markdown`) is checked against a real
deployment by the test suite rather than written by hand.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from rwa.errors import InputError
from rwa.onchain.base import ContractWrapper, Role, account_input, to_address
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.timelock import ZERO, Call, DealTimelock, State
from rwa.units import Tranche


@dataclass(frozen=True)
class Privilege:
    contract: str
    role: Role
    holder: str
    """The party meant to hold it: one of the manifest's roles, ``timelock``, ``pool``, or ``nobody``."""
    powers: str
    delay: str
    recourse: str


DELAYED = "the timelock's delay (longer than one period); the trustee may cancel"
PRIVILEGES: tuple[Privilege, ...] = (
    Privilege("senior, junior", Role.DEFAULT_ADMIN_ROLE, "timelock", "grant and revoke every role on the token",
              DELAYED, "see the announcement (CallScheduled) a period ahead; the trustee cancels"),
    Privilege("senior, junior", Role.AGENT_ROLE, "timelock", "forced transfer; recovery of a frozen wallet",
              DELAYED, "the call is public before it runs; the trustee cancels; the auditor discloses it"),
    Privilege("senior, junior", Role.COMPLIANCE_ROLE, "agent", "freeze a wallet; pause transfers and claims",
              "immediate; a pause ends by itself after at most 14 days", "anyone lifts an expired pause"),
    Privilege("senior, junior", Role.DISTRIBUTOR_ROLE, "pool", "credit holders with stablecoin",
              "only as a leg of the pool's waterfall", "the auditor's finding for any other distribution"),
    Privilege("senior, junior", Role.ISSUER_ROLE, "offering", "mint (before issuance closed): an allocation as it "
              "is claimed, paid for at par; the last unit closes issuance", "the offering's fixed rules (it has no "
              "admin); in a private placement nobody: renounced at issuance",
              "issuance closes on-chain and the pool pays nothing before it has"),
    Privilege("pool", Role.DEFAULT_ADMIN_ROLE, "timelock", "grant and revoke the pool's roles", DELAYED,
              "the trustee cancels"),
    Privilege("pool", Role.TRUSTEE_ROLE, "trustee", "declare, cure and waive default; pause (at most 14 days)",
              "immediate, under the pool's rules", "default also triggers objectively: anyone may trigger it"),
    Privilege("pool", Role.SERVICER_ROLE, "servicer", "deposit; distribute first", "immediate",
              "after a period's grace anyone may distribute; a shortfall is disclosed and can trigger default"),
    Privilege("oracle", Role.DEFAULT_ADMIN_ROLE, "timelock", "change the reporters and the threshold", DELAYED,
              "the trustee cancels; the auditor checks every report against the quorum in force"),
    Privilege("registry", Role.DEFAULT_ADMIN_ROLE, "timelock", "grant and revoke the registry's roles", DELAYED,
              "the trustee cancels"),
    Privilege("registry", Role.COMPLIANCE_ROLE, "agent", "allow, update and revoke investors' KYC", "immediate",
              "moves no token and no unit; the auditor discloses it"),
    Privilege("registry", Role.AGENT_ROLE, "agent", "freeze an investor", "immediate",
              "moves no token and no unit; the auditor discloses it"),
    Privilege("timelock", Role.PROPOSER_ROLE, "issuer", "announce a privileged call", "the call waits the delay",
              "the trustee cancels"),
    Privilege("timelock", Role.CANCELLER_ROLE, "trustee", "cancel an announced call", "immediate", ""),
    Privilege("timelock", Role.DEFAULT_ADMIN_ROLE, "timelock", "change the timelock's own roles and delay",
              "only through its own delay: the deployer renounced it at issuance", "the trustee cancels"),
)


def privileges_markdown() -> str:
    """The README's table "who can do what, with what delay, and what the holders can do about it"."""
    lines = ["| contract | role | held by | can | delay | what the holders can do |",
             "| --- | --- | --- | --- | --- | --- |"]
    for p in PRIVILEGES:
        lines.append(f"| {p.contract} | `{p.role.value}` | {p.holder} | {p.powers} | {p.delay} | {p.recourse} |")
    return "\n".join(lines) + "\n"


def _contracts(deal: DeployedDeal) -> dict[str, ContractWrapper]:
    timelock = DealTimelock.at(deal.chain, deal.manifest.address("timelock"))
    return {"senior": deal.tokens["senior"], "junior": deal.tokens["junior"], "pool": deal.pool,
            "oracle": deal.oracle, "registry": deal.registry, "timelock": timelock}


def parties(deal: DeployedDeal) -> dict[str, str]:
    """Every named party of the deployment, by the name the table uses."""
    roles = deal.manifest.roles
    return {"deployer": roles.admin, "issuer": roles.issuer, "servicer": roles.servicer, "agent": roles.agent,
            "trustee": roles.trustee, "fee_recipient": roles.fee_recipient,
            "timelock": deal.manifest.address("timelock"), "pool": deal.pool.address,
            **({"offering": deal.offering.address} if deal.offering is not None else {})}


def role_holders(deal: DeployedDeal) -> dict[tuple[str, Role], set[str]]:
    """Which named parties hold each role of :data:`PRIVILEGES` on-chain now."""
    contracts = _contracts(deal)
    named = parties(deal)
    out: dict[tuple[str, Role], set[str]] = {}
    for p in PRIVILEGES:
        for name in p.contract.split(", "):
            contract = contracts[name]
            out[(name, p.role)] = {who for who, address in named.items() if contract.has_role(p.role, address)}
    return out


def check_roles(deal: DeployedDeal) -> list[str]:
    """Where the chain's roles differ from :data:`PRIVILEGES` (empty: the deployment is the table). Parties are
    compared by address, so one key named twice (the issuer is the deployer on a dev chain) counts once."""
    problems = []
    named = parties(deal)
    for (contract, role), holders in role_holders(deal).items():
        (meant,) = {p.holder for p in PRIVILEGES if p.role == role and contract in p.contract.split(", ")}
        want = set() if meant == "nobody" or meant not in named else {named[meant].lower()}
        have = {named[n].lower() for n in holders}
        if have != want:
            problems.append(f"{contract} {role.value}: held by {sorted(holders) or 'nobody'}, meant {meant}")
    return problems


# -- timelocked calls ---------------------------------------------------------------------------------------------


def timelock_of(deal: DeployedDeal) -> DealTimelock:
    return DealTimelock.at(deal.chain, deal.manifest.address("timelock"))


def recovery_call(deal: DeployedDeal, tranche: Tranche, lost: str, new_wallet: str) -> Call:
    lost, new_wallet = account_input(lost, "--lost"), account_input(new_wallet, "--to")
    if lost == new_wallet:
        raise InputError(f"--to {new_wallet}: the same wallet as --lost; a recovery moves a lost wallet to another")
    token = deal.tokens[tranche]
    fn = token.contract.functions.recoverWallet(lost, new_wallet)
    return Call.of(fn, f"recover {tranche} wallet {lost} to {new_wallet}")


def forced_transfer_call(deal: DeployedDeal, tranche: Tranche, src: str, dst: str, amount: int) -> Call:
    if amount <= 0:
        raise InputError(f"--amount {amount}: must be positive")
    src, dst = account_input(src, "--from"), account_input(dst, "--to")
    if src == dst:
        raise InputError(f"--to {dst}: the same wallet as --from; a forced transfer moves units to another")
    fn = deal.tokens[tranche].contract.functions.forcedTransfer(src, dst, amount)
    return Call.of(fn, f"force {amount} {tranche} units from {src} to {dst}")


def add_reporter_call(deal: DeployedDeal, reporter: str) -> Call:
    reporter = account_input(reporter, "--address")
    if reporter.lower() in {r.lower() for r in deal.oracle.reporters()}:
        raise InputError(f"--address {reporter}: already one of the oracle's reporters")
    return Call.of(deal.oracle.contract.functions.addReporter(reporter), f"add reporter {reporter}")


def set_threshold_call(deal: DeployedDeal, threshold: int) -> Call:
    return Call.of(deal.oracle.contract.functions.setThreshold(threshold), f"set the threshold to {threshold}")


class TimelockAction(enum.StrEnum):
    """What a command asks the timelock to do with a call."""

    PROPOSE = "propose"
    EXECUTE = "execute"
    CANCEL = "cancel"


_ACTION_RULES: dict[TimelockAction, tuple[Role, frozenset[State]]] = {
    TimelockAction.PROPOSE: (Role.PROPOSER_ROLE, frozenset({State.UNSET})),
    TimelockAction.EXECUTE: (Role.EXECUTOR_ROLE, frozenset({State.READY})),
    TimelockAction.CANCEL: (Role.CANCELLER_ROLE, frozenset({State.WAITING, State.READY})),
}
"""TimelockController's own rules: the role each action needs, and the operation states it accepts."""


def check_timelock_action(timelock: DealTimelock, call: Call, action: TimelockAction, sender: str,
                          when: str = "") -> None:
    """Refuse, before anything is sent, what the timelock would revert: ``sender`` without the action's role (the
    executor's role may be open to anyone) or the operation in a state the action does not accept (announced twice,
    run twice or after a cancel, cancelled twice). Read from the timelock itself, so every backend refuses alike.
    ``when`` is how the caller shows the time a waiting call may run from."""
    role, accepted = _ACTION_RULES[action]
    op = "0x" + timelock.operation_id(call).hex()
    state = timelock.state(call)
    if state not in accepted:
        why = {
            (TimelockAction.PROPOSE, State.WAITING): "is already announced and waiting",
            (TimelockAction.PROPOSE, State.READY): "is already announced and ready to run",
            (TimelockAction.PROPOSE, State.DONE): "was already announced and has run",
            (TimelockAction.EXECUTE, State.WAITING): f"is still waiting its delay (may run from {when or 'later'})",
            (TimelockAction.EXECUTE, State.DONE): "has already run",
            (TimelockAction.EXECUTE, State.UNSET): "is not pending (it was cancelled, or never announced)",
            (TimelockAction.CANCEL, State.DONE): "has already run: nothing to cancel",
            (TimelockAction.CANCEL, State.UNSET): "is not pending (it was cancelled, or never announced)",
        }[(action, state)]
        raise InputError(f"{call.description or 'the call'} (id {op}) {why}: see `rwa governance pending`")
    if not (timelock.has_role(role, sender) or (action is TimelockAction.EXECUTE and timelock.has_role(role, ZERO))):
        raise InputError(f"cannot {action} {call.description or 'the call'}: {sender} does not hold the timelock's "
                         f"{role.value} (see `rwa governance roles`)")


def announced(deal: DeployedDeal) -> list[tuple[bytes, Call, str]]:
    """Every call announced through the deal's timelock, oldest first: its operation id, the :class:`Call` that
    executes or cancels it (target, calldata and salt from the ``CallScheduled`` and ``CallSalt`` events), and
    what it does, decoded with the deal's ABIs."""
    timelock = timelock_of(deal)
    events = timelock.contract.events
    salts = {bytes(e["args"]["id"]): bytes(e["args"]["salt"]) for e in events.CallSalt().get_logs(from_block=0)}
    contracts = {c.address.lower(): (name, c) for name, c in _contracts(deal).items()}
    out = []
    for e in events.CallScheduled().get_logs(from_block=0):
        op = bytes(e["args"]["id"])
        target, data = str(e["args"]["target"]), bytes(e["args"]["data"])
        what = f"call {target}"
        if target.lower() in contracts:
            name, wrapper = contracts[target.lower()]
            try:
                fn, args = wrapper.contract.decode_function_input(data)
                shown = ", ".join(f"{k}={'0x' + v.hex() if isinstance(v, bytes) else v}" for k, v in args.items())
                what = f"{name}.{fn.fn_name}({shown})"
            except ValueError:
                what = f"{name}: undecodable calldata"
        out.append((op, Call(to_address(target), data, salts.get(op, bytes(32)), what), what))
    return out
