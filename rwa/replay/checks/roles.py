"""Who holds which role. Every member of every role is rebuilt from the grants and revocations since the
deployment's first block: when issuance ends each must be the party the deal's table (:mod:`rwa.onchain.privileges`)
names, else a finding (:func:`review_role_members`). Role changes after issuance are disclosed with their sender; a
distributor role given to anyone but the pool is a finding (:func:`review_roles`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from rwa.onchain.base import Role
from rwa.onchain.privileges import ROLE_BY_ID, RoleChange, outside_table, role_members, role_name
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History


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
        if granted and ROLE_BY_ID.get(role.lower()) is Role.DISTRIBUTOR_ROLE and account.lower() != pool.lower():
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
