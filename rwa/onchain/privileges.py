"""The deal's trust model as a table, and who holds each role by the chain's own record of grants and revocations.

:data:`PRIVILEGES` is each power of a deployed deal: the contract and role it lives in, the party meant to hold it
after issuance, its delay and the holders' recourse. AccessControl emits ``RoleGranted`` and ``RoleRevoked`` exactly
when a membership changes, so folding those events from the deployment's first block gives every member of every
role (:func:`role_members`), not only the parties one thinks to ask about; :func:`outside_table` names each member
the table does not. The issuer's ``rwa governance roles`` and the auditor's replay both judge a deployment by these.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rwa.chain.interface import checksummed
from rwa.onchain.base import ANYONE, Role
from rwa.onchain.deployment import Manifest


@dataclass(frozen=True)
class Privilege:
    """One power of a deployed deal: on which contracts, in which role, held by whom, with what delay and recourse."""

    contract: str
    role: Role
    holder: str
    """The party meant to hold it: one of the manifest's roles, ``timelock``, ``pool``, ``offering``, ``anyone``
    (the role is open: held by the zero address) or ``nobody``."""
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
    Privilege("senior, junior", Role.ISSUER_ROLE, "offering", "mint (before issuance closed): each tranche's whole "
              "size to itself at the close, which closes issuance; deliver each buyer's units as it claims",
              "the offering's fixed rules (it has no admin); in a private placement nobody: renounced at issuance",
              "issuance closes on-chain and the pool pays nothing before it has, nor on a supply other than "
              "the deal's"),
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
    Privilege("timelock", Role.EXECUTOR_ROLE, "anyone", "run an announced call once its delay has passed",
              "after the delay", "anyone may run it: no key can hold a call back"),
    Privilege("timelock", Role.DEFAULT_ADMIN_ROLE, "timelock", "change the timelock's own roles and delay",
              "only through its own delay: the deployer renounced it at issuance", "the trustee cancels"),
)


@dataclass(frozen=True)
class Rule:
    """A power that lives in a contract's fixed rules, not in a role: who may call it and what it can do."""

    contract: str
    action: str
    who: str
    powers: str
    bound: str


RULES: tuple[Rule, ...] = (
    Rule("register", "move the escrow", "nobody", "the escrow has no admin and no withdrawal: its stablecoin leaves "
         "only as a release, the long-stop's prepayment and return of equity, or a push the stablecoin refused, "
         "withdrawn by its own recipient", "the auditor reconciles every unit to a release, a prepayment or a return"),
    Rule("register", "`attestDelivery`", "anyone carrying a quorum of the reporters' signatures",
         "record a batch of servers (order, count, serial-list hash, site, acceptance date); release its price to "
         "the order's recipient, the raise's share with the issuer's equity pro rata",
         "never beyond the order, never after the long-stop, each signature good for one sequence number"),
    Rule("register", "`attestLeaseUpdate`", "anyone carrying a quorum of the reporters' signatures",
         "change a lease's status, servers, rent or end; add a re-let or new lease",
         "the auditor discloses every change"),
    Rule("register", "`release`, `settleLongStop`", "anyone",
         "release a delivery whose equity has come in; at the long-stop, prepay the senior with the raise not "
         "released and return the equity left to the treasury", "once, by the deal's dates and prices"),
    Rule("register", "`bindDeal`", "deployer, once, at issuance",
         "name the pool that takes the long-stop prepayment and the offering that escrows the raise",
         "refused unless the pool names this register and the offering this pool; the auditor checks both"),
    Rule("pool", "`prepay`", "the register only", "repay senior principal, the rest to the junior",
         "only the register's long-stop settlement calls it"),
    Rule("oracle", "`bindRegister`", "admin (the deployer at issuance), once",
         "name the register whose leases and fleet bound every report", "the auditor checks it is the manifest's"),
)


def rules_markdown() -> str:
    """The README's table of the powers that live in rules, not roles."""
    lines = ["| contract | call | who | can | bounded by |", "| --- | --- | --- | --- | --- |"]
    for r in RULES:
        lines.append(f"| {r.contract} | {r.action} | {r.who} | {r.powers} | {r.bound} |")
    return "\n".join(lines) + "\n"


def privileges_markdown() -> str:
    """The README's table "who can do what, with what delay, and what the holders can do about it"."""
    lines = ["| contract | role | held by | can | delay | what the holders can do |",
             "| --- | --- | --- | --- | --- | --- |"]
    for p in PRIVILEGES:
        lines.append(f"| {p.contract} | `{p.role.value}` | {p.holder} | {p.powers} | {p.delay} | {p.recourse} |")
    return "\n".join(lines) + "\n"


def party_addresses(manifest: Manifest) -> dict[str, str]:
    """Every party the table names, by that name, from the manifest (one key may be named twice: the issuer is the
    deployer on a development chain)."""
    roles = manifest.roles
    out = {"deployer": roles.admin, "issuer": roles.issuer, "servicer": roles.servicer, "agent": roles.agent,
           "trustee": roles.trustee, "fee_recipient": roles.fee_recipient, "anyone": ANYONE}
    out.update({k: manifest.contracts[k] for k in ("timelock", "pool", "offering") if k in manifest.contracts})
    return out


@dataclass(frozen=True)
class RoleChange:
    """One ``RoleGranted`` or ``RoleRevoked``: on ``contract`` (its address), ``role`` (its 32-byte id as 0x-hex)."""

    contract: str
    role: str
    account: str
    granted: bool


def role_members(changes: Iterable[RoleChange]) -> dict[tuple[str, str], set[str]]:
    """Every member of every role, (contract, role id) to accounts, all lower case: ``changes`` folded in chain
    order."""
    members: dict[tuple[str, str], set[str]] = {}
    for change in changes:
        held = members.setdefault((change.contract.lower(), change.role.lower()), set())
        (held.add if change.granted else held.discard)(change.account.lower())
    return members


ROLE_BY_ID = {"0x" + role.id.hex(): role for role in Role}


def role_name(role_hex: str) -> str:
    """The Solidity name of a role id (``0x``-prefixed hex), or the id itself when it is none of these contracts'."""
    role = ROLE_BY_ID.get(role_hex.lower())
    return role.value if role is not None else role_hex


@dataclass(frozen=True)
class Stray:
    """A member of a role the table does not give it: ``meant`` is the party the table names (``nobody`` when the
    table gives this contract no such role)."""

    contract: str
    role: str
    account: str
    meant: str


def meant_holder(contract: str, role: Role | None) -> str:
    """The party :data:`PRIVILEGES` gives ``role`` on ``contract`` (a table name), or ``nobody``."""
    for p in PRIVILEGES:
        if p.role is role and contract in p.contract.split(", "):
            return p.holder
    return "nobody"


def deal_mark(manifest: Manifest) -> str:
    """The role id the deployer keeps on the registry as the deal's on-chain mark (the deal file's sha256: it
    guards nothing, and finds an issuance of the deal by one log query)."""
    return "0x" + manifest.deal_hash.lower().removeprefix("0x")


def outside_table(
    members: Mapping[tuple[str, str], set[str]], contracts: Mapping[str, str], parties: Mapping[str, str],
    mark: str | None = None,
) -> list[Stray]:
    """Each member of a role on one of ``contracts`` (table name to address) that the table does not give it to;
    the deployer's deal ``mark`` on the registry (:func:`deal_mark`) is the one role outside the table."""
    tabled = {name for p in PRIVILEGES for name in p.contract.split(", ")}
    names = {address.lower(): name for name, address in contracts.items() if name in tabled and address}
    strays = []
    for (contract, role_hex), accounts in sorted(members.items()):
        if contract not in names:
            continue
        role = ROLE_BY_ID.get(role_hex)
        meant = meant_holder(names[contract], role)
        if mark is not None and role_hex == mark.lower() and names[contract] == "registry":
            meant = "deployer"
        allowed = {parties[meant].lower()} if meant in parties else set()
        for account in sorted(accounts - allowed):
            strays.append(Stray(names[contract], role.value if role else role_hex, checksummed(account), meant))
    return strays
