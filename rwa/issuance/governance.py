"""Who can do what in a deployed deal, with what delay, and what the holders can do about it; and the timelocked
calls that carry every power over holders' money or the deal's facts.

:data:`PRIVILEGES` (``rwa.onchain.privileges``, which the auditor shares) is the deal's trust model as a table: each
power, the contract and role it lives in, who is meant to hold it after issuance, and its delay. :func:`role_holders`
reads every member of each role from the chain's grants and revocations since the deployment, and :func:`check_roles`
compares them with the table, so the README's table (``privileges_markdown``) is checked against a real
deployment by the test suite rather than written by hand, and a key nobody named cannot hide in a role.
"""

from __future__ import annotations

import enum

from eth_utils.crypto import keccak

from rwa.errors import InputError
from rwa.model.units import Tranche
from rwa.onchain.base import ANYONE, ContractWrapper, Role, account_input, to_address
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.privileges import (
    PRIVILEGES,
    RoleChange,
    deal_mark,
    meant_holder,
    outside_table,
    party_addresses,
    role_members,
)
from rwa.onchain.timelock import Call, DealTimelock, State


def _contracts(deal: DeployedDeal) -> dict[str, ContractWrapper]:
    timelock = DealTimelock.at(deal.chain, deal.manifest.address("timelock"))
    return {"senior": deal.tokens["senior"], "junior": deal.tokens["junior"], "pool": deal.pool,
            "oracle": deal.oracle, "registry": deal.registry, "timelock": timelock}


def parties(deal: DeployedDeal) -> dict[str, str]:
    """Every named party of the deployment, by the name the table uses."""
    return party_addresses(deal.manifest)


_ROLE_TOPICS = ["0x" + keccak(text=f"{name}(bytes32,address,address)").hex() for name in ("RoleGranted", "RoleRevoked")]


def role_changes(deal: DeployedDeal) -> list[RoleChange]:
    """Every ``RoleGranted`` and ``RoleRevoked`` of the deal's contracts since its deployment, in chain order (the
    role, the account and the sender are all indexed: the topics say everything)."""
    addresses = [c.address for c in _contracts(deal).values()]
    logs = deal.chain.w3.eth.get_logs({
        "fromBlock": deal.manifest.deployment_block, "toBlock": "latest",
        "address": addresses, "topics": [_ROLE_TOPICS],  # type: ignore[typeddict-item]
    })
    ordered = sorted(logs, key=lambda log: (int(log["blockNumber"]), int(log["logIndex"])))
    return [RoleChange(str(log["address"]), "0x" + bytes(log["topics"][1]).hex(),
                       to_address("0x" + bytes(log["topics"][2])[12:].hex()),
                       "0x" + bytes(log["topics"][0]).hex() == _ROLE_TOPICS[0]) for log in ordered]


def _label(address: str, named: dict[str, str]) -> str:
    """A member as the table would name it: its party names, else its address."""
    names = [n for n, a in named.items() if a.lower() == address.lower()]
    return "/".join(names) if names else to_address(address)


def role_holders(deal: DeployedDeal) -> dict[tuple[str, Role], set[str]]:
    """Every member of each role of :data:`PRIVILEGES` on-chain now, read from the role events since the deployment
    (named parties by name, any other account by its address)."""
    members = role_members(role_changes(deal))
    named = parties(deal)
    return {(name, p.role): {_label(a, named) for a in members.get((contract.address.lower(),
                                                                     "0x" + p.role.id.hex()), set())}
            for p in PRIVILEGES for name, contract in _contracts(deal).items() if name in p.contract.split(", ")}


def check_roles(deal: DeployedDeal) -> list[str]:
    """Where the chain's roles differ from :data:`PRIVILEGES` (empty: the deployment is the table): a role the
    table's party lacks, and every member the table does not name, whatever role or key. Parties are compared by
    address, so one key named twice (the issuer is the deployer on a dev chain) counts once."""
    members = role_members(role_changes(deal))
    named = parties(deal)
    contracts = {name: c.address for name, c in _contracts(deal).items()}
    problems = []
    for (contract, role), holders in role_holders(deal).items():
        meant = meant_holder(contract, role)
        if meant in named and named[meant].lower() not in {
                a for a in members.get((contracts[contract].lower(), "0x" + role.id.hex()), set())}:
            problems.append(f"{contract} {role.value}: not held by the {meant} {named[meant]} "
                            f"(held by {sorted(holders) or 'nobody'})")
    for stray in outside_table(members, contracts, named, deal_mark(deal.manifest)):
        problems.append(f"{stray.contract} {stray.role}: held by {_label(stray.account, named)}, which the deal's "
                        f"table does not give it (meant {stray.meant})")
    return problems + check_bindings(deal)


def check_bindings(deal: DeployedDeal) -> list[str]:
    """The links the rules rest on (``RULES``): the oracle's and the pool's register is the manifest's, and the
    register is bound to the manifest's pool and offering (a deployment without a register has none to check)."""
    register = deal.register
    if register is None:
        return []
    want = register.address.lower()
    problems = []
    if deal.oracle.register().lower() != want:
        problems.append(f"oracle bindRegister: bound to {deal.oracle.register()}, not the register {register.address}")
    pool_register = deal.pool.addresses()["register"]
    if pool_register.lower() != want:
        problems.append(f"pool prepay: the register it takes from is {pool_register}, not {register.address}")
    if register.pool().lower() != deal.pool.address.lower():
        problems.append(f"register bindDeal: bound to the pool {register.pool()}, not {deal.pool.address}")
    offering = deal.manifest.contracts.get("offering", "0x" + "0" * 40)
    if register.offering().lower() != offering.lower():
        problems.append(f"register bindDeal: bound to the offering {register.offering()}, not {offering}")
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
    if not (timelock.has_role(role, sender) or (action is TimelockAction.EXECUTE and timelock.has_role(role, ANYONE))):
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
