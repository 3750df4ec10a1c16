"""Recompute the history independently and compare it with the chain, to the unit.

The waterfall is recomputed from the deal file, the oracle reports and the deposits alone (the pure-integer model
in ``rwa.waterfall``); holders' entitlements from their balances over time and the distributions (the tokens'
per-share accumulator, replayed in points); money from the stablecoin's own transfers and balances. Every
difference is a :class:`Finding` with its period, account, expected and actual values.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from rwa.replay.history import ZERO, History, TokenHistory
from rwa.units import Tranche
from rwa.waterfall import PeriodLegs, PoolState, PoolTerms, declare_default, run_maturity, run_period

LEG_FIELDS = [f.name for f in fields(PeriodLegs) if f.name not in ("period", "senior_dust", "junior_dust")]


class FindingKind(enum.StrEnum):
    """What a finding is about; the value is what ``findings.json`` and the report show."""

    CLAIM = "claim"
    CLAIMABLE = "claimable"
    CONTRACTED_RENT = "contracted-rent"
    DEAL_FILE_CHANGED = "deal-file-changed"
    DISTRIBUTED_WITHOUT_REPORT = "distributed-without-report"
    DUST = "dust"
    OUTSIDE_WATERFALL = "outside-waterfall"
    PERIOD_ORDER = "period-order"
    POOL_BALANCE = "pool-balance"
    POOL_INFLOW = "pool-inflow"
    POOL_OUTFLOW = "pool-outflow"
    POOL_TERMS = "pool-terms"
    REPORT_AMENDED = "report-amended"
    TOKEN_ACCUMULATOR = "token-accumulator"
    TOKEN_BALANCE = "token-balance"
    TOKEN_OUTFLOW = "token-outflow"
    TOKEN_SUPPLY = "token-supply"
    WATERFALL_LEG = "waterfall-leg"


@dataclass(frozen=True)
class Finding:
    """One discrepancy between what should have happened and what the chain shows."""

    kind: FindingKind
    period: int | None
    account: str
    expected: Any
    actual: Any
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class HolderLine:
    tranche: str
    holder: str
    balance: int = 0
    correction: int = 0
    withdrawn: int = 0
    claimed_events: int = 0
    expected_claimable: int = 0
    onchain_claimable: int | None = None


@dataclass
class Reconciliation:
    findings: list[Finding] = field(default_factory=list)
    expected_legs: dict[int, PeriodLegs] = field(default_factory=dict)
    holders: dict[tuple[str, str], HolderLine] = field(default_factory=dict)
    token_dust: dict[str, int] = field(default_factory=dict)
    expected_balances: dict[str, int] = field(default_factory=dict)

    def add(self, kind: FindingKind, period: int | None, account: str, expected: Any, actual: Any, detail: str) -> None:
        self.findings.append(Finding(kind, period, account, expected, actual, detail))


# -- the waterfall ------------------------------------------------------------------------------------------------


def reconcile_waterfall(history: History, terms: PoolTerms, pool: str, rec: Reconciliation) -> None:
    state = PoolState.opening(terms)
    default_from = int(history.default_declared.args["period"]) if history.default_declared else None
    for period in sorted(history.legs):
        actual, event = history.legs[period]
        if default_from is not None and period >= default_from and not state.defaulted:
            state = declare_default(state)
        cash = sum(history.deposits.get(period, {}).values())
        if period == terms.maturity_period:
            state, expected = run_maturity(terms, state, cash)
        else:
            report = history.report_at(period, event.block)
            if report is None:
                rec.add(
                    FindingKind.DISTRIBUTED_WITHOUT_REPORT,
                    period,
                    pool,
                    "a report",
                    None,
                    f"period {period} was distributed with no oracle report in the history",
                )
                continue
            if period != state.last_distributed_period + 1:
                rec.add(
                    FindingKind.PERIOD_ORDER,
                    period,
                    pool,
                    state.last_distributed_period + 1,
                    period,
                    "periods must be distributed in order",
                )
                continue
            state, expected = run_period(terms, state, period, cash, report.revenue)
        rec.expected_legs[period] = expected
        for name in LEG_FIELDS:
            want, got = getattr(expected, name), getattr(actual, name)
            if want != got:
                rec.add(FindingKind.WATERFALL_LEG, period, pool, want, got,
                        f"{name}: recomputed {want:,}, on-chain {got:,}")


def reconcile_terms(onchain: PoolTerms, expected: PoolTerms, pool: str, rec: Reconciliation) -> None:
    for name in (
        "first_period_start",
        "period_length",
        "period_count",
        "senior_coupon_bps",
        "servicing_fee_per_period",
        "reserve_periods",
        "cash_trap_dscr_bps",
    ):
        want, got = getattr(expected, name), getattr(onchain, name)
        if want != got:
            rec.add(
                FindingKind.POOL_TERMS, None, pool, want, got,
                f"the pool was deployed with {name}={got}, the deal says {want}",
            )
    for i, (want, got) in enumerate(zip(expected.principal_schedule, onchain.principal_schedule, strict=False)):
        if want != got:
            rec.add(FindingKind.POOL_TERMS, i + 1, pool, want, got, f"scheduled principal for period {i + 1}")
    if len(expected.principal_schedule) != len(onchain.principal_schedule):
        rec.add(
            FindingKind.POOL_TERMS,
            None,
            pool,
            len(expected.principal_schedule),
            len(onchain.principal_schedule),
            "length of the principal schedule",
        )


def reconcile_reports(history: History, contracted: list[int], oracle: str, rec: Reconciliation) -> None:
    for period, records in sorted(history.reports.items()):
        for r in records:
            if r.amended_from is not None:
                rec.add(
                    FindingKind.REPORT_AMENDED,
                    period,
                    oracle,
                    r.amended_from,
                    r.revenue,
                    f"the revenue for period {period} was amended from {r.amended_from:,} to {r.revenue:,}",
                )
        last = records[-1]
        if 1 <= period <= len(contracted) and last.contracted_rent != contracted[period - 1]:
            rec.add(
                FindingKind.CONTRACTED_RENT,
                period,
                oracle,
                contracted[period - 1],
                last.contracted_rent,
                "the report's contracted rent differs from the lease contracts in the deal",
            )


# -- the holders -----------------------------------------------------------------------------------------------


def reconcile_token(tok: TokenHistory, magnitude: int, rec: Reconciliation) -> None:
    """Replay one token's accumulator over its events, in chain order, checking every distribution and claim."""
    pps = 0
    carried = 0
    supply = 0
    lines: dict[str, HolderLine] = {}

    def line(addr: str) -> HolderLine:
        if addr not in lines:
            lines[addr] = rec.holders.setdefault((tok.name, addr), HolderLine(tok.name, addr))
        return lines[addr]

    def claimable(h: HolderLine) -> int:
        return (pps * h.balance + h.correction) // magnitude - h.withdrawn

    for ev in tok.ordered:
        a = ev.args
        if ev.event == "Transfer":
            src, dst, value = a["from"], a["to"], int(a["value"])
            if src != ZERO:
                s = line(src)
                s.balance -= value
                s.correction += pps * value
            else:
                supply += value
            if dst != ZERO:
                d = line(dst)
                d.balance += value
                d.correction -= pps * value
            else:
                supply -= value
        elif ev.event == "FundsDistributed":
            amount = int(a["amount"])
            if int(a["totalSupply"]) != supply:
                rec.add(
                    FindingKind.TOKEN_SUPPLY,
                    None,
                    tok.address,
                    supply,
                    int(a["totalSupply"]),
                    f"{tok.name} supply at distribution in block {ev.block}",
                )
            points = amount * magnitude + carried
            if supply:
                pps += points // supply
                carried = points % supply
            else:
                carried = points
            if pps != int(a["pointsPerShare"]) or carried != int(a["carriedPoints"]):
                rec.add(
                    FindingKind.TOKEN_ACCUMULATOR,
                    None,
                    tok.address,
                    (pps, carried),
                    (int(a["pointsPerShare"]), int(a["carriedPoints"])),
                    f"{tok.name} per-share accumulator after the distribution in block {ev.block}",
                )
                pps, carried = int(a["pointsPerShare"]), int(a["carriedPoints"])
        elif ev.event == "WalletRecovered":
            moved = int(a["entitlement"]) * magnitude
            line(a["lost"]).correction -= moved
            line(a["newWallet"]).correction += moved
        elif ev.event == "FundsClaimed":
            h = line(a["holder"])
            due = claimable(h)
            paid = int(a["amount"])
            if paid != due:
                rec.add(
                    FindingKind.CLAIM,
                    None,
                    h.holder,
                    due,
                    paid,
                    f"{tok.name} claim in block {ev.block}: entitled to {due:,}, paid {paid:,}",
                )
            h.withdrawn += paid
            h.claimed_events += 1
    for h in lines.values():
        h.expected_claimable = claimable(h)
    rec.token_dust[tok.name] = carried // magnitude


def reconcile_dust(history: History, magnitude: int, rec: Reconciliation) -> None:
    """The pool's per-period dust legs against the tokens' carried remainders as of each distribution (whose
    accumulator values :func:`reconcile_token` has recomputed)."""
    marks = sorted(
        (ev.block, ev.log_index, ev.contract, int(ev.args["carriedPoints"]) // magnitude)
        for tok in history.tokens.values()
        for ev in tok.distributions
    )
    last: dict[str, int] = {"senior": 0, "junior": 0}
    i = 0
    for period in sorted(history.legs):
        legs, ev = history.legs[period]
        while i < len(marks) and marks[i][0] <= ev.block:
            last[marks[i][2]] = marks[i][3]
            i += 1
        for tranche, got in (("senior", legs.senior_dust), ("junior", legs.junior_dust)):
            if last.get(tranche, 0) != got:
                rec.add(
                    FindingKind.DUST,
                    period,
                    tranche,
                    last.get(tranche, 0),
                    got,
                    f"{tranche} carried remainder reported by the pool",
                )


# -- the money -------------------------------------------------------------------------------------------------


def reconcile_money(
    history: History,
    pool: str,
    tokens: Mapping[Tranche, str],
    fee_recipient: str,
    onchain_balances: dict[str, int],
    rec: Reconciliation,
) -> None:
    """Every stablecoin unit into and out of the pool and the tokens is explained by a deposit, a waterfall leg
    or a claim; and the balances the chain holds are what entered less what left."""
    pool_l = pool.lower()
    by_name: dict[str, str] = {str(name): addr for name, addr in tokens.items()}
    token_names = {addr.lower(): name for name, addr in by_name.items()}
    deposits_total = sum(sum(k.values()) for k in history.deposits.values())
    legs = [legs for legs, _ in history.legs.values()]
    paid_to = {
        fee_recipient.lower(): sum(leg.fee for leg in legs),
        tokens["senior"].lower(): sum(leg.senior_paid for leg in legs),
        tokens["junior"].lower(): sum(leg.junior for leg in legs),
    }
    flows_out: dict[str, int] = defaultdict(int)
    into_pool = 0
    claims_paid = {name: sum(int(e.args["amount"]) for e in tok.claims) for name, tok in history.tokens.items()}
    token_out: dict[str, int] = defaultdict(int)
    for ev in history.stablecoin_transfers:
        src, dst, value = ev.args["from"].lower(), ev.args["to"].lower(), int(ev.args["value"])
        if dst == pool_l:
            into_pool += value
        if src == pool_l:
            flows_out[dst] += value
            if dst not in paid_to:
                rec.add(
                    FindingKind.OUTSIDE_WATERFALL,
                    _period_at(history, ev.block),
                    pool,
                    0,
                    value,
                    f"{value:,} left the pool to {ev.args['to']} in block {ev.block}, outside the waterfall",
                )
        if src in token_names:
            token_out[token_names[src]] += value
    if into_pool != deposits_total:
        rec.add(FindingKind.POOL_INFLOW, None, pool, deposits_total, into_pool,
                "stablecoin received against deposits made")
    for dst, want in paid_to.items():
        if flows_out.get(dst, 0) != want:
            rec.add(FindingKind.POOL_OUTFLOW, None, dst, want, flows_out.get(dst, 0),
                    "stablecoin paid by the pool's waterfall")
    for name, paid in claims_paid.items():
        if token_out.get(name, 0) != paid:
            rec.add(
                FindingKind.TOKEN_OUTFLOW,
                None,
                by_name[name],
                paid,
                token_out.get(name, 0),
                f"stablecoin that left the {name} token against claims",
            )
    expected_pool = deposits_total - sum(paid_to.values())
    rec.expected_balances["pool"] = expected_pool
    if onchain_balances.get("pool") != expected_pool:
        rec.add(
            FindingKind.POOL_BALANCE,
            _period_at(history, None),
            pool,
            expected_pool,
            onchain_balances.get("pool"),
            "stablecoin the pool holds against deposits less waterfall payments",
        )
    for name, address in tokens.items():
        distributed = sum(
            int(e.args["amount"]) for e in history.tokens.get(name, TokenHistory(name, address)).distributions
        )
        want = distributed - claims_paid.get(name, 0)
        rec.expected_balances[name] = want
        if onchain_balances.get(name) != want:
            rec.add(
                FindingKind.TOKEN_BALANCE,
                None,
                address,
                want,
                onchain_balances.get(name),
                f"stablecoin the {name} token holds against distributions less claims",
            )


def _period_at(history: History, block: int | None) -> int:
    """The period open at ``block``: one after the last distributed by then."""
    done = [p for p, (_, ev) in history.legs.items() if block is None or ev.block <= block]
    return (max(done) if done else 0) + (0 if block is None else 1)
