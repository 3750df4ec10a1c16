"""``rwa governance`` refuses, before sending anything, what the timelock or the call would refuse: a sender without
the action's role, an operation in the wrong state, an account mistyped or meaningless. One ``error:`` line, exit 2,
and the head block unchanged (each command runs as its own process on a state file)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from rwa.chain.connect import connect
from rwa.issuance.governance import timelock_of
from rwa.issuance.issue import issue, plan_issue
from rwa.onchain.base import Role
from rwa.onchain.deployed import open_deployment
from rwa.onchain.deployment import load_manifest
from rwa.onchain.timelock import Call
from tests.support.issuance import deal_for, rwa


@dataclass(frozen=True)
class Issued:
    state: Path
    manifest: Path
    holders: tuple[str, str]


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Issued]:
    folder = tmp_path_factory.mktemp("governance-bad-input")
    state = folder / "chain.sqlite"
    with connect(state=state) as chain:
        investors = chain.accounts[15:20]
        deal_path = deal_for(investors, folder, chain.now(), periods_ended=1)
        issue(chain, plan_issue(deal_path), folder / "deployment.json", lambda _m: None)
    yield Issued(state, folder / "deployment.json", (investors[0].address, investors[1].address))


@pytest.fixture
def copy(issued: Issued, tmp_path: Path) -> Issued:
    """A private copy of the issued chain, for a test that changes it."""
    state = tmp_path / "chain.sqlite"
    shutil.copyfile(issued.state, state)
    return Issued(state, issued.manifest, issued.holders)


def _head(state: Path) -> tuple[int, str]:
    with connect(state=state) as chain:
        block = chain.w3.eth.get_block("latest")
        return int(block["number"]), block["hash"].to_0x_hex()


def _gov(issued: Issued, *args: str) -> list[str]:
    return ["governance", *args, "--state", str(issued.state), "--deployment", str(issued.manifest)]


def _refused(issued: Issued, *args: str, match: str) -> None:
    before = _head(issued.state)
    done = rwa(*_gov(issued, *args))
    assert done.returncode == 2, (done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert match in lines[0], lines[0]
    assert _head(issued.state) == before


def _done(issued: Issued, *args: str) -> str:
    done = rwa(*_gov(issued, *args), check=True)
    return done.stdout


def _op_id(announced: str) -> str:
    return next(line.split()[1] for line in announced.splitlines() if line.strip().startswith("id "))


def _wait_out(issued: Issued) -> None:
    with connect(state=issued.state) as chain:
        deal = open_deployment(chain, load_manifest(issued.manifest))
        timelock = timelock_of(deal)
        chain.time_travel(chain.now() + timelock.min_delay() + 1)


@pytest.mark.parametrize(("address", "match"), [
    ("0x5B38Da6a701c568545dCfcB03FcB875f56beddCc", "checksum is wrong"),
    ("0x" + "00" * 20, "the zero address"),
    ("0x5B38Da6a701c568545dCfcB03FcB875f56bedd", "not an Ethereum address"),
])
def test_propose_add_reporter_refuses_a_mistyped_or_zero_address(issued: Issued, address: str, match: str) -> None:
    _refused(issued, "propose", "add-reporter", "--address", address, match=match)


def test_propose_add_reporter_refuses_a_reporter_already_in_the_set(issued: Issued) -> None:
    reporter = load_manifest(issued.manifest).roles.reporters[0]
    _refused(issued, "propose", "add-reporter", "--address", reporter, match="already one of the oracle's reporters")


def test_propose_recover_and_forced_transfer_refuse_the_same_wallet_on_both_sides(issued: Issued) -> None:
    holder = issued.holders[0]
    _refused(issued, "propose", "recover", "--tranche", "senior", "--lost", holder, "--to", holder.lower(),
             match="the same wallet as --lost")
    _refused(issued, "propose", "forced-transfer", "--tranche", "senior", "--from", holder, "--to", holder,
             "--amount", "1", match="the same wallet as --from")


def test_the_same_call_announced_twice_cancelled_twice_or_run_after_a_cancel_is_refused(copy: Issued) -> None:
    op = _op_id(_done(copy, "propose", "set-threshold", "--threshold", "2"))
    _refused(copy, "propose", "set-threshold", "--threshold", "2", match="is already announced and waiting")
    _refused(copy, "execute", "--id", op, match="is still waiting its delay")
    _done(copy, "cancel", "--id", op)
    _refused(copy, "cancel", "--id", op, match="is not pending")
    _wait_out(copy)
    _refused(copy, "execute", "--id", op, match="is not pending")


def test_a_call_run_once_is_not_run_again_nor_cancelled(copy: Issued) -> None:
    op = _op_id(_done(copy, "propose", "set-threshold", "--threshold", "2"))
    _wait_out(copy)
    _done(copy, "execute", "--id", op)
    _refused(copy, "execute", "--id", op, match="has already run")
    _refused(copy, "cancel", "--id", op, match="has already run: nothing to cancel")
    _refused(copy, "propose", "set-threshold", "--threshold", "2", match="was already announced and has run")


def test_a_trustee_or_issuer_whose_timelock_role_was_revoked_is_refused_before_sending(copy: Issued) -> None:
    pending = _op_id(_done(copy, "propose", "set-threshold", "--threshold", "2"))
    with connect(state=copy.state) as chain:
        deal = open_deployment(chain, load_manifest(copy.manifest))
        roles, timelock = deal.manifest.roles, timelock_of(deal)
        revokes = [Call.of(timelock.contract.functions.revokeRole(Role.CANCELLER_ROLE.id, roles.trustee), "no cancel"),
                   Call.of(timelock.contract.functions.revokeRole(Role.PROPOSER_ROLE.id, roles.issuer), "no propose")]
        for call in revokes:
            timelock.schedule(call, sender=roles.issuer)
        chain.time_travel(max(timelock.ready_at(call) for call in revokes))
        for call in revokes:
            timelock.execute(call, sender=roles.servicer)
    _refused(copy, "cancel", "--id", pending, match="does not hold the timelock's CANCELLER_ROLE")
    _refused(copy, "propose", "set-threshold", "--threshold", "3", match="does not hold the timelock's PROPOSER_ROLE")
