"""A short issued-and-running deal for the replay tests, on whichever chain is given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from rwa.chain.interface import Chain
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import claim_for, distribute_period
from rwa.model.fleet import LeaseRow
from rwa.model.units import FX_RATE_SCALE, fx_convert_down
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.deployment import Manifest
from rwa.onchain.oracle import Report, tape_hash
from rwa.onchain.timelock import Call
from rwa.oracle.publisher import publish
from rwa.replay.findings import Disclosure
from rwa.replay.run import ReplayResult, run_replay
from tests.support.issuance import deal_for


def run_lifecycle(
    chain: Chain, folder: Path, periods: int = 3, distribute: int | None = None, reserve_at_close: int | None = None
) -> tuple[DeployedDeal, Path]:
    """Issue the example deal to the chain's accounts 15..19, publish ``periods`` and distribute ``distribute``
    of them (default all), with a transfer and two claims on the way (``reserve_at_close``: see ``deal_for``)."""
    investors = chain.accounts[15:20]
    deal_path = deal_for(investors, folder, chain.now(), periods_ended=periods, reserve_at_close=reserve_at_close)
    out = folder / "deployment.json"
    manifest: Manifest = issue(chain, plan_issue(deal_path), out, lambda _m: None)
    deal = open_deployment(chain, manifest)
    attest_fleet(deal, periods)
    publish(chain, manifest, simulate=True, outbox=folder / "outbox.sqlite")
    for period in range(1, (periods if distribute is None else distribute) + 1):
        distribute_period(deal, period)
        if period == 1:
            senior = deal.tokens["senior"]
            senior.transfer(investors[1].address, senior.balance_of(investors[0].address) // 4,
                            sender=investors[0].address)
            claim_for(deal, investors[0].address)
    claim_for(deal, investors[1].address)
    return deal, out


def attest_fleet(deal: DeployedDeal, through: int) -> None:
    """The deal's scheduled deliveries of periods up to ``through`` that the register does not hold yet, attested by
    a quorum of the development reporters (a report's tape may bill only servers the register holds)."""
    from rwa.model.deal_file import load_deal
    from rwa.model.fleet import register_terms
    from rwa.model.terms import treasury_of
    from rwa.oracle.attest import attest_deliveries, due_deliveries, scheduled_deliveries
    from rwa.oracle.keys import reporter_keys

    register = deal.register
    assert register is not None
    model = load_deal(Path(deal.manifest.deal_file))
    planned = scheduled_deliveries(model, register_terms(model, treasury_of(model, deal.manifest.roles.issuer)))
    attest_deliveries(register, deal.oracle, due_deliveries(register, planned, through), reporter_keys(deal.chain),
                      deal.manifest.roles.servicer)


def replay(chain: Chain, manifest: Path, folder: Path, **kw: object) -> ReplayResult:
    """The auditor's replay of ``manifest`` into ``folder``/audit with its ledger in ``folder``."""
    return run_replay(chain, manifest, folder / "audit", db=folder / "ledger.sqlite", **kw)  # type: ignore[arg-type]


def kinds(result: ReplayResult) -> set[str]:
    return {f.kind for f in result.findings}


def disclosed(result: ReplayResult, kind: str) -> list[Disclosure]:
    return [d for d in result.disclosures if d.kind == kind]


def through_timelock(deal: DeployedDeal, *calls: Call) -> str:
    """Announce ``calls`` through the deal's timelock (the issuer proposes), wait out the delay on the development
    chain and run them; returns the account that ran them."""
    from rwa.issuance.governance import timelock_of

    timelock = timelock_of(deal)
    for call in calls:
        timelock.schedule(call, sender=deal.manifest.roles.issuer)
    deal.chain.time_travel(max(timelock.ready_at(call) for call in calls))
    executor = deal.manifest.roles.servicer
    for call in calls:
        timelock.execute(call, sender=executor)
    return executor


def restated_with_tape(report: Report, rows: Sequence[LeaseRow], revenue: int, **changes: Any) -> Report:
    """``report`` with ``revenue`` and ``rows`` as its tape: its source revenue the least that converts to it at its
    own rate, the difference billed (or taken off) the rows in lease order, so the tape still adds up to it."""
    source = -(-revenue * FX_RATE_SCALE // report.fx_rate)
    delta = source - sum(r.billed for r in rows)
    tape = []
    for row in rows:
        billed = max(row.billed + delta, 0)
        delta -= billed - row.billed
        tape.append(replace(row, billed=billed, collected=min(row.collected, billed)))
    assert delta == 0 and fx_convert_down(source, report.fx_rate) == revenue
    return replace(report, revenue=revenue, source_revenue=source, tape=tuple(tape), tape_hash=tape_hash(tape),
                   **changes)


def tape_of(deal: DeployedDeal, period: int) -> tuple[LeaseRow, ...]:
    """The rows of ``period``'s tape in force (its latest ``LeaseTape``)."""
    return [rows for p, _, rows in deal.oracle.tape_events() if p == period][-1]
