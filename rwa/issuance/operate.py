"""Monthly operation of an issued deal: deposit and distribute a period, claim, and the pool's status.

Each command checks everything it can before it sends anything, so bad input changes nothing; and each one can be
re-run after a crash: a deposit already made for the period is not made again, a distributed period is not
distributed twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from web3 import Web3

from rwa.chain import tx
from rwa.chain.interface import checksummed
from rwa.errors import InputError
from rwa.model.calendar import format_periods
from rwa.model.units import MAX_POINTS_PER_SHARE, MAX_TOTAL_DISTRIBUTED, Tranche, format_dscr, format_time
from rwa.model.waterfall import PeriodLegs
from rwa.onchain.deployed import DeployedDeal
from rwa.onchain.pool import DEPOSIT_GAS, DISTRIBUTE_GAS, DepositKind
from rwa.onchain.tranche import Restriction

if TYPE_CHECKING:
    from rwa.chain.pipeline import Batch


def _refuse_edited_deal_file(deal: DeployedDeal) -> None:
    """The deal file the manifest names must be the very file issued (its sha256 is in the manifest)."""
    from rwa.model.deal_file import deal_hash

    path = Path(deal.manifest.deal_file)
    try:
        digest = deal_hash(path)
    except OSError as exc:
        raise InputError(f"deal file {path} (named by the deployment manifest): cannot read it ({exc.strerror})"
                         ) from None
    if digest != deal.manifest.deal_hash:
        raise InputError(
            f"deal file {path} was edited after issuance (sha256 {digest[:12]}..., the manifest records "
            f"{deal.manifest.deal_hash[:12]}...): restore the issued file"
        )


@dataclass(frozen=True)
class _DepositView:
    """What a deposit checks before it sends anything, read in one batch at one block."""

    deposited: int
    reserve: int
    servicer_balance: int
    allowance: int
    tokens: dict[Tranche, tuple[int, int, int, int]]
    """per tranche: total distributed, total supply, points per share, points remainder"""


def _deposit_view(deal: DeployedDeal, period: int, servicer: str) -> _DepositView:
    pool, coin = deal.pool.contract.functions, deal.stablecoin.contract.functions
    reads = [pool.deposited(period), pool.reserveBalance(), coin.balanceOf(servicer),
             coin.allowance(servicer, deal.pool.address)]
    reads += [token.contract.functions.distributionTotals() for token in deal.tokens.values()]
    values = tx.call_many(reads)
    totals = values[4:]
    per_token = {t: (int(d), int(s), int(p), int(r)) for t, (d, s, p, r) in zip(deal.tokens, totals, strict=True)}
    return _DepositView(int(values[0]), int(values[1]), int(values[2]), int(values[3]), per_token)


def _refuse_beyond_capacity(view: _DepositView, period: int, total: int) -> None:
    """Refuse deposits the pool could take but never pay out, before any is sent.

    ``distribute`` pays out the period's deposits plus at most the whole reserve; every unit of it may reach either
    tranche token, whose ``distributeFunds`` reverts past ``MAX_TOTAL_DISTRIBUTED`` or ``MAX_POINTS_PER_SHARE``
    (``TrancheToken.sol``'s accounting note). A deposit made then could never be distributed, so the whole amount
    is checked against both tokens' room first (conservatively: as if all of it went to one token)."""
    from rwa.model.units import POINTS_MAGNITUDE

    payable = total + view.reserve
    for tranche, (distributed, supply, points_per_share, points_remainder) in view.tokens.items():
        room = MAX_TOTAL_DISTRIBUTED - distributed
        if supply:
            pps_room = MAX_POINTS_PER_SHARE - points_per_share
            # pps may grow by (amount * 2**64 + remainder) // supply; keep that <= pps_room
            room = min(room, ((pps_room + 1) * supply - 1 - points_remainder) // POINTS_MAGNITUDE)
        if payable > room:
            raise InputError(
                f"period {period}: deposits of {total:,} (plus the reserve) exceed what the {tranche} tranche can "
                f"still distribute ({max(room, 0):,}); nothing was sent"
            )


@dataclass(frozen=True)
class DistributeResult:
    period: int
    deposited: int
    legs: PeriodLegs | None
    note: str


def _fund_servicer(deal: DeployedDeal, servicer: str, have: int, amount: int, batch: Batch) -> None:
    """The servicer, holding ``have``, needs ``amount`` of stablecoin: on a development chain the test stablecoin
    mints what the lessees would have paid; elsewhere the servicer must already hold it."""
    if have >= amount:
        return
    if not deal.chain.is_dev:
        raise InputError(
            f"servicer {servicer} holds {have} stablecoin units, the deposit needs {amount}: fund it first"
        )
    batch.call(deal.stablecoin.contract.functions.mint(servicer, amount - have), deal.manifest.roles.admin)


def _fund_deposit(deal: DeployedDeal, period: int, total: int, batch: Batch) -> int:
    """What ``period``'s deposits lack to reach ``total`` (what an interrupted run deposited counts), checked; the
    transactions the deposits need first added to ``batch``: the stablecoin a development chain mints to the
    servicer, and the servicer's approval of the pool. They come from two senders, whose transactions a block may
    hold in any order, so the deposits go in a later batch (:func:`_add_deposits`)."""
    servicer = deal.manifest.roles.servicer
    view = _deposit_view(deal, period, servicer)
    if view.deposited > total:
        raise InputError(f"period {period} already holds deposits of {view.deposited}, more than the {total} asked for")
    missing = total - view.deposited
    if missing == 0:
        return 0
    _refuse_beyond_capacity(view, period, total)
    with batch.step(f"fund period {period}"):
        _fund_servicer(deal, servicer, view.servicer_balance, missing, batch)
        if view.allowance < missing:
            batch.call(deal.stablecoin.contract.functions.approve(deal.pool.address, missing), servicer)
    return missing


def _add_deposits(deal: DeployedDeal, period: int, missing: int, kind: DepositKind, refund: int, batch: Batch
                  ) -> None:
    """Add the deposits of ``missing``: the ``refund`` part as a tax-refund deposit, the rest as ``kind``."""
    pool, servicer = deal.pool.contract.functions, deal.manifest.roles.servicer
    refund_part = min(refund, missing)
    with batch.step(f"deposit period {period}"):
        if refund_part:
            batch.call(pool.deposit(period, refund_part, int(DepositKind.TAX_REFUND)), servicer, gas=DEPOSIT_GAS)
        if missing - refund_part:
            batch.call(pool.deposit(period, missing - refund_part, int(kind)), servicer, gas=DEPOSIT_GAS)


def _deposit(deal: DeployedDeal, period: int, total: int, kind: DepositKind, refund: int = 0,
             then: Callable[[Batch], None] | None = None, funded: int | None = None) -> tuple[int, list[Any]]:
    """Bring ``period``'s deposits up to ``total`` in two batches (:class:`rwa.chain.pipeline.Batch`): the funding
    and approval (skipped when a batch already sent did it for ``funded``, what the deposits lacked), then the
    deposits with what ``then`` adds after them (the servicer's distribution: one sender's transactions are mined
    in order). Returns what was deposited now and the second batch's receipts."""
    from rwa.chain.pipeline import Batch

    missing = funded
    if missing is None:
        funding = Batch(deal.chain)
        missing = _fund_deposit(deal, period, total, funding)
        funding.send()
    batch = Batch(deal.chain)
    if missing:
        _add_deposits(deal, period, missing, kind, refund, batch)
    if then is not None:
        then(batch)
    return missing, batch.send()


def scheduled_tax_refund(deal: DeployedDeal, period: int) -> int:
    """The tax refund the deal schedules into the pool for ``period`` (0 in most periods), as the pool was deployed
    with it: the most of the period's refunds its covenant counts."""
    return deal.pool.terms().scheduled_refund(period)


@dataclass(frozen=True)
class Funded:
    """A period's deposits checked and funded by :func:`fund_period` in a batch its caller sent."""

    period: int
    cash: int
    refund: int
    missing: int


def distribute_period(
    deal: DeployedDeal, period: int, amount: int | None = None, tax_refund: int | None = None,
    funded: Funded | None = None,
) -> DistributeResult:
    """Deposit the period's cash and run the pool's waterfall for it.

    ``amount`` (rent) defaults to the oracle's reported revenue; ``tax_refund`` defaults to the refund the pool
    schedules for the period, deposited as a tax-refund deposit. The deposits go in one batch, the distribution in
    the next (it needs them mined). With ``funded`` (:func:`fund_period`'s, its batch mined) the period was checked
    and funded already: the deposits and the distribution are sent at once.
    """
    if funded is not None and funded.period == period:
        cash, refund = funded.cash, funded.refund
    else:
        due = _period_due(deal, period, amount, tax_refund, None)
        if isinstance(due, DistributeResult):
            return due
        cash, refund, funded = due[0], due[1], None
    servicer = deal.manifest.roles.servicer

    def distribute(batch: Batch) -> None:
        batch.call(deal.pool.contract.functions.distribute(period), servicer, step=f"distribute period {period}",
                   gas=DISTRIBUTE_GAS)

    sent, receipts = _deposit(deal, period, cash + refund, DepositKind.RENT, refund, then=distribute,
                              funded=None if funded is None else funded.missing)
    legs = deal.pool.legs_in(receipts[-1])
    return DistributeResult(period, sent, legs, f"period {period} distributed")


def fund_period(deal: DeployedDeal, period: int, batch: Batch, reported: int, amount: int | None = None,
                tax_refund: int | None = None) -> Funded | None:
    """Add what ``period``'s deposits need first (a development chain's stablecoin, the servicer's approval) to
    ``batch``, which also publishes the period's report of ``reported`` revenue: the checks of
    :func:`distribute_period`, with that revenue instead of a report already on-chain. The caller sends the batch,
    then :func:`distribute_period` (given what this returns) deposits and distributes in one more. None when the
    period is distributed already."""
    due = _period_due(deal, period, amount, tax_refund, reported)
    if isinstance(due, DistributeResult):
        return None
    cash, refund = due
    return Funded(period, cash, refund, _fund_deposit(deal, period, cash + refund, batch))


def _period_due(deal: DeployedDeal, period: int, amount: int | None, tax_refund: int | None, reported: int | None
                ) -> tuple[int, int] | DistributeResult:
    """What ``period``'s deposits must come to, rent and refund, checked before anything is sent (a period already
    distributed: the result that says so). The rent defaults to ``reported``, else the oracle's report."""
    _refuse_edited_deal_file(deal)
    count = deal.pool.terms().period_count
    if not 1 <= period <= count:
        raise InputError(f"--period {period}: the deal has periods 1..{count}")
    pool = deal.pool.contract.functions
    last, end = (int(v) for v in tx.call_many([pool.lastDistributedPeriod(), pool.periodEnd(period)]))
    if period <= last:
        return DistributeResult(period, 0, None, f"period {period} is already distributed; nothing to do")
    if period != last + 1:
        raise InputError(f"--period {period}: periods are distributed in order; the next one is {last + 1}")
    if reported is None:
        report = deal.oracle.report_of(period)
        if report is None:
            raise InputError(f"period {period} has no oracle report yet: run `rwa oracle publish --period {period}` "
                             "before depositing")
        reported = report.revenue
    now = deal.chain.now()
    if now < end:
        raise InputError(f"period {period} ends at {format_time(end)}; the chain's time is {format_time(now)}")
    if amount is not None and amount < 0:
        raise InputError(f"--amount {amount}: must be >= 0")
    if tax_refund is not None and tax_refund < 0:
        raise InputError(f"--tax-refund {tax_refund}: must be >= 0")
    cash = reported if amount is None else amount
    refund = scheduled_tax_refund(deal, period) if tax_refund is None else tax_refund
    return cash, refund


def finalize_deal(deal: DeployedDeal, residual: int) -> DistributeResult:
    """Deposit the residual value into the maturity settlement (period N+1) and close the pool."""
    terms = deal.pool.terms()
    if deal.pool.finalized():
        return DistributeResult(terms.period_count + 1, 0, None, "the pool is already finalized; nothing to do")
    last = deal.pool.last_distributed_period()
    if last != terms.period_count:
        raise InputError(f"maturity comes after period {terms.period_count}; the last distributed is {last}")
    opens = deal.pool.period_end(terms.period_count + 1) + deal.pool.default_rules().distribution_grace
    if deal.chain.now() < opens:
        if not deal.chain.is_dev:
            raise InputError(f"the maturity settlement runs once period {terms.period_count + 1} has ended and its "
                             f"grace has passed, at {format_time(opens)}; the chain's time is "
                             f"{format_time(deal.chain.now())}")
        deal.chain.time_travel(opens)  # a development chain: the maturity period and its grace pass at once
    sent, _ = _deposit(deal, terms.period_count + 1, residual, DepositKind.RESIDUAL_VALUE)
    receipt = deal.pool.finalize(sender=deal.manifest.roles.servicer)
    return DistributeResult(terms.period_count + 1, sent, deal.pool.legs_in(receipt), "pool finalized")


def distribute_recovery(deal: DeployedDeal, amount: int) -> DistributeResult:
    """After maturity: deposit ``amount`` recovered (a sale of the servers, a late payment) as the next recovery
    round and pay it through the rest of the waterfall: senior arrears and balance, then junior."""
    if amount <= 0:
        raise InputError(f"--amount {amount}: a recovery must be positive")
    terms = deal.pool.terms()
    if not deal.pool.finalized():
        raise InputError("recoveries are distributed after maturity: finalize the pool first (`--final`)")
    period = terms.maturity_period + 1 + deal.pool.recoveries()
    sent, _ = _deposit(deal, period, amount, DepositKind.RESIDUAL_VALUE)
    receipt = deal.pool.distribute_recovery(sender=deal.manifest.roles.servicer)
    return DistributeResult(period, sent, deal.pool.legs_in(receipt), f"recovery round {period} distributed")


@dataclass(frozen=True)
class ClaimResult:
    holder: str
    paid: dict[Tranche, int]


def claim_for(deal: DeployedDeal, holder: str) -> ClaimResult:
    """Claim everything ``holder`` has in both tranches; they must be a signer of this checkout."""
    if not Web3.is_address(holder):
        raise InputError(f"--holder {holder!r} is not an address")
    digits = holder[2:]
    if digits.lower() != digits != digits.upper() and not Web3.is_checksum_address(holder):
        raise InputError(f"--holder {holder}: mixed case that fails the EIP-55 checksum (a mistyped address?)")
    holder = Web3.to_checksum_address(holder)
    positions = deal.positions(holder)
    if not any(p.known or p.claimable for p in positions.values()):
        raise InputError(f"--holder {holder} holds no tranche tokens and has nothing to claim")
    return _claim(deal, holder, {t: (p.claimable, p.claim_restriction) for t, p in positions.items()})


def _claim(deal: DeployedDeal, holder: str, due: dict[Tranche, tuple[int, Restriction]]) -> ClaimResult:
    """Claim what ``due`` (read just before: per tranche, what ``holder`` can claim and the restriction its claim
    meets) shows as claimable, refusing a restricted claim first."""
    for tranche, (claimable, restriction) in due.items():
        if claimable and restriction != Restriction.SUCCESS:
            token = deal.tokens[tranche]
            raise InputError(f"{holder} cannot claim {tranche}: {token.message_for(int(restriction))}")
    deal.chain.account(holder)  # a clear error when this checkout has no key for the holder
    paid = {t: (deal.tokens[t].claim(sender=holder) if claimable else 0) for t, (claimable, _) in due.items()}
    return ClaimResult(holder, paid)


def claim_all(deal: DeployedDeal, candidates: list[str]) -> list[ClaimResult]:
    """Claim for every candidate this checkout can sign for and who has something to claim.

    What each can claim, and whether its claim is restricted, is read for all of them at once: one call per
    tranche (``claimsDue``, a thousand holders a call), not one per holder."""
    signers = {a.address for a in deal.chain.accounts}
    holders = [h for h in dict.fromkeys(checksummed(c) for c in candidates) if h in signers]
    if not holders:
        return []
    claims = {t: token.claims_of(holders) for t, token in deal.tokens.items()}
    results = []
    for i, holder in enumerate(holders):
        due = {t: claims[t][i] for t in deal.tokens}
        if any(claimable for claimable, _ in due.values()):
            results.append(_claim(deal, holder, due))
    return results


def status_figures(deal: DeployedDeal) -> dict[str, Any]:
    """The pool's figures, and the fleet's and the escrow's when the deal has a register (:func:`fleet_figures`),
    as ``rwa status --json`` prints them: money in integer smallest units."""
    pool = deal.pool
    terms = pool.terms()
    last = pool.last_distributed_period()
    dscr_bps: int | None = None
    if last and deal.oracle.report_of(last) is not None:
        events = pool.period_events(deal.manifest.deployment_block)
        if events:
            dscr_bps = events[-1].legs.dscr_bps
    trapped = dscr_bps is not None and dscr_bps < terms.cash_trap_dscr_bps
    late = pool.late_periods(deal.chain.now(), last)
    if pool.defaulted():
        covenant = "defaulted"
    elif late:
        covenant = "late"
    else:
        covenant = "trapped last period" if trapped else "in compliance"
    return {
        "periods_distributed": last,
        "period_count": terms.period_count,
        "finalized": pool.finalized(),
        "late_periods": list(late),
        "oracle_latest_period": deal.oracle.latest_period(),
        "senior_outstanding": pool.senior_outstanding(),
        "senior_size": deal.manifest.senior_size,
        "senior_paid": pool.total_senior_paid(),
        "junior_paid": pool.total_junior_paid(),
        "reserve": pool.reserve_balance(),
        "interest_arrears": pool.interest_arrears(),
        "principal_arrears": pool.principal_arrears(),
        "trapped": pool.total_trapped(),
        "fees_paid": pool.total_fees_paid(),
        "last_dscr_bps": dscr_bps,
        "covenant": covenant,
        "cash_trap_dscr_bps": terms.cash_trap_dscr_bps,
        "tokens": {str(t): {"claimed": tok.total_claimed(), "distributed": tok.total_distributed()}
                   for t, tok in deal.tokens.items()},
        **({} if deal.register is None else {"fleet": fleet_figures(deal)}),
    }


def fleet_figures(deal: DeployedDeal) -> dict[str, Any]:
    """The fleet and the escrow as the register holds them: per supplier order the servers ordered and delivered,
    the servers in service (the leases in force get them in the clock's period, by the register's allocation
    rule), each lease with its status and servers, and the escrow's money."""
    from bisect import bisect_right

    from rwa.model.fleet import allocate

    register = deal.register
    if register is None:
        raise InputError("the deal has no fleet register (issued before version 5 of the terms)")
    ends = deal.pool.terms().period_ends
    count = len(ends) - 1
    period = min(bisect_right(ends[:count], deal.chain.now()) + 1, count)
    orders = register.orders()
    delivered = [register.delivered(i) for i in range(len(orders))]
    deliveries = register.deliveries()
    fleet = deliveries[-1].fleet_after if deliveries else 0
    leases = register.leases()
    servers = allocate(leases, fleet, period)
    escrow = register.escrow()
    has_escrow = register.offering().lower() != "0x" + "00" * 20
    pending = [(i, d) for i, d in enumerate(deliveries) if not d.released] if has_escrow and not escrow.settled else []
    return {
        "orders": [{"order": i, "supplier": o.supplier, "recipient": o.recipient, "servers": o.servers,
                    "unit_price": o.unit_price, "delivered": delivered[i]} for i, o in enumerate(orders)],
        "ordered": sum(o.servers for o in orders),
        "delivered": fleet,
        "period": period,
        "in_service": sum(servers),
        "leases": [{"lease": i + 1, "lessee": lease.lessee, "status": lease.status.label, "servers": lease.servers,
                    "in_service": n, "rent_per_server": lease.rent_per_server, "start_period": lease.start_period,
                    "end_period": lease.end_period} for i, (lease, n) in enumerate(zip(leases, servers, strict=True))],
        "escrow": {
            "escrow": has_escrow,
            "capex_total": escrow.capex_total,
            "raise": escrow.raise_amount,
            "raise_released": escrow.raise_released,
            "equity_funded": escrow.equity_funded,
            "equity_released": escrow.equity_released,
            "released_price": escrow.released_price,
            "pending": [{"delivery": i, "order": d.order, "servers": d.servers, "price": d.price}
                        for i, d in pending],
            "long_stop": register.long_stop(),
            "settled": escrow.settled,
            "prepaid": escrow.prepaid,
            "equity_returned": escrow.equity_returned,
        },
    }


def status_rows(deal: DeployedDeal, money: Callable[[int], str],
                figures: dict[str, Any] | None = None) -> list[tuple[str, str]]:
    """The pool's figures (and the fleet's and the escrow's) as (label, shown value) pairs; ``money`` shows an
    amount (see ``deal_money``); ``figures`` are :func:`status_figures`' when the caller has them."""
    f = status_figures(deal) if figures is None else figures
    late = tuple(f["late_periods"])
    covenant = "late: periods not distributed past their grace" if f["covenant"] == "late" else f["covenant"]
    rows = [
        ("periods distributed", f"{f['periods_distributed']} of {f['period_count']}"
         + (" (finalized)" if f["finalized"] else "")),
        ("late periods", _late_row(late)),
        ("oracle latest period", str(f["oracle_latest_period"])),
        ("senior outstanding", f"{money(f['senior_outstanding'])} of {money(f['senior_size'])}"),
        ("senior paid (interest + principal)", money(f["senior_paid"])),
        ("junior paid", money(f["junior_paid"])),
        ("reserve (DSRA)", money(f["reserve"])),
        ("interest arrears", money(f["interest_arrears"])),
        ("principal arrears", money(f["principal_arrears"])),
        ("trapped (prepaid senior)", money(f["trapped"])),
        ("servicing fees paid", money(f["fees_paid"])),
        ("last period DSCR", format_dscr(f["last_dscr_bps"])),
        ("covenant", f"{covenant} (cash trap under {format_dscr(f['cash_trap_dscr_bps'])})"),
    ]
    for t, tok in f["tokens"].items():
        rows.append((f"{t} claimed / distributed", f"{money(tok['claimed'])} / {money(tok['distributed'])}"))
    if "fleet" in f:
        rows.extend(fleet_rows(f["fleet"], money))
    return rows


def fleet_rows(fleet: dict[str, Any], money: Callable[[int], str]) -> list[tuple[str, str]]:
    """:func:`fleet_figures` as (label, shown value) pairs."""
    rows = [("fleet: servers ordered / delivered / in service",
             f"{fleet['ordered']} / {fleet['delivered']} / {fleet['in_service']} (period {fleet['period']})")]
    for o in fleet["orders"]:
        rows.append((f"order {o['order']}: {o['supplier']}",
                     f"{o['delivered']} of {o['servers']} delivered at {money(o['unit_price'])} each"))
    for lease in fleet["leases"]:
        rows.append((f"lease {lease['lease']}: {lease['lessee']}",
                     f"{lease['status']}, {lease['in_service']} of {lease['servers']} servers in service "
                     f"(periods {lease['start_period']}-{lease['end_period']})"))
    e = fleet["escrow"]
    if not e["escrow"]:
        rows.append(("escrow", "none (no offering: the raise was not escrowed)"))
        return rows
    pending = e["pending"]
    rows += [
        ("escrow: raise escrowed", f"{money(e['raise'])} (for a fleet of {money(e['capex_total'])})"),
        ("escrow: released from the raise / from equity",
         f"{money(e['raise_released'])} / {money(e['equity_released'])}"),
        ("escrow: equity funded", money(e["equity_funded"])),
        ("escrow: pending releases", "none" if not pending else
         f"{len(pending)} ({money(sum(p['price'] for p in pending))}; deliveries "
         f"{', '.join(str(p['delivery']) for p in pending)})"),
        ("escrow: long-stop", format_time(e["long_stop"]) + (" (settled)" if e["settled"] else "")),
        ("escrow: prepaid to the pool / equity returned",
         f"{money(e['prepaid'])} / {money(e['equity_returned'])}"),
    ]
    return rows


def _late_row(late: tuple[int, ...]) -> str:
    if not late:
        return "none"
    return (f"{len(late)}: {format_periods(late)} (ended, the servicer's grace passed, not distributed; anyone may "
            "distribute them)")
