"""The five-year life of the example deal on the embedded chain, end to end, with the auditor's replay at the end.

Issue, with the tranches offered for a week: every holder subscribes (the senior over-subscribed, one request
cancelled), the close allocates and routes the raise, every allocation and refund is claimed. Then each month the
cluster simulator's revenue is published by the oracle service, the servicer deposits, the pool distributes, some
holders sell to others through the settlement at what a buyer would pay (only when compliance predicts success) and
some claim; at maturity the residual value and the final distribution; then the replay, which must reconcile.
Everything lands under ``out``.
"""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from eth_account import Account
from eth_account.signers.local import LocalAccount
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from rwa.chain.interface import Chain
from rwa.chain.state_log import reset_state
from rwa.chain.tx import send_value
from rwa.cli.options import ChainOptions
from rwa.errors import InputError
from rwa.issuance.issue import issue, plan_issue
from rwa.issuance.operate import DistributeResult, claim_all, distribute_period, finalize_deal, fund_period
from rwa.model.calendar import next_month_start
from rwa.model.deal import Deal
from rwa.model.deal_file import load_deal
from rwa.model.units import BPS, TRANCHES, format_dscr, money_formatter
from rwa.onchain.deployed import DeployedDeal, open_deployment
from rwa.onchain.tranche import Restriction
from rwa.paths import example_deal, writable_folder

if TYPE_CHECKING:
    from rwa.oracle.attest import PlannedDelivery
    from rwa.oracle.publisher import Publisher, PublishResult
    from rwa.oracle.source import FigureSource

GAS_FUNDING = 10**18  # 1 ETH of the embedded chain's gas money per demo holder


@dataclass
class DemoSummary:
    scenario: str
    months: int
    holders: int
    currency: str = ""
    decimals: int = 0
    periods_distributed: int = 0
    trapped_periods: list[int] = field(default_factory=list)
    min_dscr_bps: int | None = None
    subscribers: int = 0
    requested: list[int] = field(default_factory=lambda: [0, 0])
    sold: list[int] = field(default_factory=lambda: [0, 0])
    cancellations: int = 0
    refunds: int = 0
    reserve_at_close: int = 0
    upfront_costs: int = 0
    proceeds: int = 0
    escrowed: int = 0
    equity_funded: int = 0
    servers_ordered: int = 0
    servers_delivered: int = 0
    released_from_raise: int = 0
    released_from_equity: int = 0
    prepaid: int = 0
    equity_returned: int = 0
    transfers: int = 0
    transfers_refused: int = 0
    trade_volume: int = 0
    claims: int = 0
    claimed_units: int = 0
    senior_paid: int = 0
    junior_paid: int = 0
    senior_outstanding: int = 0
    finalized: bool = False
    replay_exit_code: int | None = None
    replay_findings: int | None = None
    seconds: float = 0.0
    out: str = ""


def _holders(count: int) -> list[LocalAccount]:
    return [Account.create() for _ in range(count)]


def write_demo_deal(template: Path, out: Path, holders: list[LocalAccount], start: datetime) -> Path:
    """The example deal with the demo's holders as investors and its first period starting at ``start``."""
    head = deal_head(template, start)
    n_senior = max(1, round(len(holders) * 0.7))
    groups = {"senior": holders[:n_senior], "junior": holders[n_senior:] or holders[-1:]}
    kyc = (start + timedelta(days=365 * 7)).date().isoformat()
    parts = [head, "\n# Demo investors: fresh keys made for this run.\n"]
    for tranche, members in groups.items():
        shares = [BPS // len(members)] * len(members)
        shares[0] += BPS - sum(shares)
        for i, (acct, share) in enumerate(zip(members, shares, strict=True)):
            parts.append(investor_entry(f"demo {tranche} investor {i + 1}", acct.address, tranche, kyc, share))
    return _write_deal(out, parts)


def deal_head(template: Path, first_start: datetime) -> str:
    """The template deal without its investors, its first period starting at ``first_start``."""
    text = template.read_text(encoding="utf-8")
    head = text.split("\n[[investors]]", 1)[0].rstrip() + "\n"
    return re.sub(r"(?m)^first_start = \S+", f"first_start = {_iso(first_start)}", head)


def investor_entry(name: str, address: str, tranche: str, kyc: str, share: int | None = None,
                   amount: int | None = None) -> str:
    """One ``[[investors]]`` entry: allocated by ``share`` (basis points) or ``amount`` (whole units), or neither
    (an offering's subscriber)."""
    allocation = "" if share is None else f"share_bps = {share}\n"
    allocation += "" if amount is None else f"amount = {amount}\n"
    return (f'\n[[investors]]\nname = "{name}"\naddress = "{address}"\ntranche = "{tranche}"\n{allocation}'
            f'kyc_expiry = {kyc}\njurisdiction = "SG"\n')


def _write_deal(out: Path, parts: list[str]) -> Path:
    path = out / "deal.toml"
    path.write_text("".join(parts), encoding="utf-8")
    return path


def write_offering_deal(
    template: Path,
    out: Path,
    investors: list[LocalAccount],
    opens: datetime,
    closes: datetime,
    cost_recipients: Sequence[str],
    *,
    max_ticket: int,
    first_start: datetime | None = None,
) -> Path:
    """The example deal sold through an offering: ``investors`` are KYC'd (and subscribe), the window is
    [``opens``, ``closes``), the first period starts at ``first_start`` (default: at the close), and two upfront
    costs go to ``cost_recipients``. ``max_ticket`` is in whole units."""
    head = deal_head(template, first_start or closes)
    kyc = (closes + timedelta(days=365 * 7)).date().isoformat()
    parts = [head, f"""
# The primary offering: both tranches at par for a week; the excess of an over-subscribed tranche is refunded.
[offering]
opens = {_iso(opens)}
closes = {_iso(closes)}
min_ticket = 1000                 # whole USDC per investor and tranche
max_ticket = {max_ticket}
under_subscribed = "cancel"       # a tranche short of its size cancels the offering and refunds every request

[[offering.costs]]
label = "arranger"
recipient = "{cost_recipients[0]}"
amount = 1500000                  # assumption: ~0.5% of the raise

[[offering.costs]]
label = "legal and rating"
recipient = "{cost_recipients[1]}"
amount = 400000                   # assumption
"""]
    for i, acct in enumerate(investors):
        tranche = "senior" if i < max(1, round(len(investors) * 0.7)) else "junior"
        parts.append(investor_entry(f"subscriber {i + 1}", acct.address, tranche, kyc))
    return _write_deal(out, parts)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _trade(deal: DeployedDeal, deal_model: Deal, rng: random.Random, holders: list[LocalAccount],
           summary: DemoSummary) -> None:
    """A holder sells part of a tranche to another through the settlement, at what a buyer would pay."""
    from rwa.issuance.trade import fair_price, fill_order, make_order

    tranche = rng.choice(TRANCHES)
    token = deal.tokens[tranche]
    seller = rng.choice(holders)
    buyer = rng.choice([h for h in holders if h.address != seller.address])
    balance = token.balance_of(seller.address)
    if balance == 0:
        return
    amount = max(1, balance * rng.randint(5, 40) // 100)
    if token.detect_transfer_restriction(seller.address, buyer.address, amount) != Restriction.SUCCESS:
        summary.transfers_refused += 1  # predicted to fail: not sent
        return
    price = fair_price(deal_model, deal, tranche, amount)
    signed = make_order(deal, tranche, seller.address, amount, price, buyer.address, deal.chain.now() + 86_400)
    try:
        fill_order(deal, signed, buyer.address)
    except InputError:
        summary.transfers_refused += 1
        return
    summary.transfers += 1
    summary.trade_volume += price


def _offer(deal: DeployedDeal, rng: random.Random, holders: list[LocalAccount], summary: DemoSummary) -> None:
    """A realistic book: every holder subscribes, the senior about 1.4 times over, one request is cancelled and
    made again smaller when the others still cover the senior (with one senior subscriber they would not); the
    close allocates, and every allocation and refund is claimed."""
    from rwa.issuance import offering as ops

    sizes = (deal.manifest.senior_size, deal.manifest.junior_size)
    n_senior = max(1, round(len(holders) * 0.7))
    groups = {"senior": holders[:n_senior], "junior": holders[n_senior:] or holders[-1:]}
    for tranche, members in groups.items():
        size = sizes[0] if tranche == "senior" else sizes[1]
        target = size * 14 // 10 if tranche == "senior" else size
        weights = [1] + [rng.randint(2, 9) for _ in members[1:]]
        asks = [target * w // sum(weights) for w in weights]
        asks[-1] += target - sum(asks)
        for who, assets in zip(members, asks, strict=True):
            ops.subscribe(deal, tranche, who.address, assets)
        if tranche == "senior" and sum(asks[1:]) + asks[0] // 2 >= size:
            first = members[0].address
            ops.cancel(deal, tranche, first)  # changes its mind in the window ...
            summary.cancellations += 1
            ops.subscribe(deal, tranche, first, asks[0] // 2)  # ... and asks for half
    ops.close(deal, deal.manifest.roles.issuer, str)
    settled, _ = ops.claim(deal, deal.manifest.roles.issuer)
    offering = ops.offering_of(deal)
    books = [offering.book(0), offering.book(1)]
    summary.subscribers = len({s.controller for s in settled})
    summary.requested = [b.requested for b in books]
    summary.sold = [min(b.requested, b.size) for b in books]
    summary.refunds = sum(s.refund for s in settled)
    config = offering.config()
    summary.reserve_at_close = config.reserve_at_close
    summary.upfront_costs = sum(c.amount for c in offering.costs())
    summary.proceeds = sum(summary.sold) - summary.reserve_at_close - summary.upfront_costs


def _claim_some(
    deal: DeployedDeal, rng: random.Random, holders: list[LocalAccount], share: float, summary: DemoSummary
) -> None:
    for result in claim_all(deal, [h.address for h in holders if rng.random() < share]):
        summary.claims += 1
        summary.claimed_units += sum(result.paid.values())


DEMO_MARK = ".rwa-demo"
"""The file that marks a folder as the demo's own: its records are deleted and written again on the next run."""
_DEMO_RECORDS = ("deployment.json", "oracle-outbox.sqlite", "ledger.sqlite")
"""Records of the last run that a new one deletes (besides its chain)."""


def _refuse_foreign_out(out: Path) -> None:
    """Refuse an ``--out`` the demo would wreck: a file, a path under a file, or a folder holding a chain or records
    the demo did not write (a user's ``.rwa`` with the default chain, a deal file): the demo deletes its last run's
    chain and records and overwrites its files. A folder a demo wrote carries :data:`DEMO_MARK`, or (written by an
    older version) its ``summary.json``."""
    writable_folder(out, "--out")
    if not out.is_dir() or (out / DEMO_MARK).exists() or _is_demo_summary(out / "summary.json"):
        return
    held = [name for name in ("chain.sqlite", *_DEMO_RECORDS, "deal.toml", "summary.json") if (out / name).exists()]
    if held:
        raise InputError(f"--out {out}: holds {', '.join(held)}, not written by a demo; the demo would delete or "
                         "overwrite them, so nothing was done: pass a new or empty folder")


def _is_demo_summary(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and {"scenario", "replay_exit_code"} <= set(data)


def run_demo(
    console: Console,
    months: int = 60,
    holders: int = 50,
    scenario: str = "base",
    out: Path = Path("out/demo"),
    seed: int = 7,
) -> DemoSummary:
    from rwa.leverage import collateral_value
    from rwa.oracle.publisher import Publisher
    from rwa.oracle.source import open_source

    started = time.monotonic()
    _refuse_foreign_out(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / DEMO_MARK).touch()
    state = out / "chain.sqlite"
    reset_state(state)
    for stale in _DEMO_RECORDS:
        (out / stale).unlink(missing_ok=True)
    summary = DemoSummary(scenario=scenario, months=months, holders=holders, out=str(out))
    rng = random.Random(seed)
    with ChainOptions(state=state).chain() as chain:
        accounts = _holders(holders)
        chain.add_accounts(accounts)
        _fund(chain, accounts)
        now = datetime.fromtimestamp(chain.now(), tz=UTC).replace(microsecond=0)
        recipients = [str(Account.create().address) for _ in range(2)]  # the arranger and the lawyers
        closes = now + timedelta(days=7)
        # the deal's calendar months from the 1st after the close, as a real deal's (the clock moves to each end)
        deal_path = write_offering_deal(example_deal(), out, accounts, now - timedelta(minutes=1),
                                        closes, recipients, max_ticket=10**9, first_start=next_month_start(closes))
        deal_model = load_deal(deal_path)
        months = min(months, deal_model.periods.count)
        summary.months = months
        summary.currency, summary.decimals = deal_model.currency, deal_model.decimals
        money = money_formatter(deal_model.decimals, deal_model.currency)
        plan = plan_issue(deal_path)
        manifest_path = out / "deployment.json"
        manifest = issue(chain, plan, manifest_path, lambda _msg: None)
        deal = open_deployment(chain, manifest)
        _offer(deal, rng, accounts, summary)
        console.print(
            f"sold {money(plan.sizing.senior_size)} senior and {money(plan.sizing.junior_size)} junior to "
            f"{summary.subscribers} subscribers ({plan.sizing.binding_constraint} binds); senior requested "
            f"{money(summary.requested[0])}, refunded {money(summary.refunds)}"
        )
        figures = open_source(manifest, None, simulate=True, scenario=scenario)
        fleet = Fleet.of(deal, deal_model, shortfall=scenario == "delivery-shortfall")
        fleet.fund_equity(summary)
        with Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        ) as progress, Publisher(chain, manifest, outbox=out / "oracle-outbox.sqlite") as publisher:
            task = progress.add_task(f"{scenario}: month", total=months)
            for period in range(1, months + 1):
                _, result = run_month(deal, publisher, figures, period, fleet)
                legs = result.legs
                if legs is not None:
                    summary.periods_distributed += 1
                    if legs.trapped:
                        summary.trapped_periods.append(period)
                    if legs.dscr_bps and (summary.min_dscr_bps is None or legs.dscr_bps < summary.min_dscr_bps):
                        summary.min_dscr_bps = legs.dscr_bps
                for _ in range(2):
                    _trade(deal, deal_model, rng, accounts, summary)
                _claim_some(deal, rng, accounts, 0.1, summary)
                progress.update(task, advance=1, description=f"{scenario}: month {period}")
        if months == deal_model.periods.count:
            residual = collateral_value(deal_model)[-1]
            finalize_deal(deal, residual)
            summary.finalized = True
            _claim_some(deal, rng, accounts, 0.9, summary)
        fleet.summarize(summary)
        summary.senior_paid = deal.pool.total_senior_paid()
        summary.junior_paid = deal.pool.total_junior_paid()
        summary.senior_outstanding = deal.pool.senior_outstanding()
        summary.replay_exit_code, summary.replay_findings = _replay(chain, manifest_path, out, console)
    summary.seconds = round(time.monotonic() - started, 1)
    (out / "summary.json").write_text(json.dumps(asdict(summary), indent=2), encoding="utf-8")
    _show(console, summary)
    return summary


@dataclass
class Fleet:
    """The demo's fleet: the deal's delivery schedule attested batch by batch as its periods end, the issuer's
    equity paid into the escrow after the close, and the long-stop settled once it has passed."""

    deal: DeployedDeal
    planned: list[PlannedDelivery]
    long_stop_period: int
    settled: bool = False

    @classmethod
    def of(cls, deal: DeployedDeal, model: Deal, shortfall: bool) -> Fleet:
        from rwa.model.fleet import register_terms
        from rwa.model.terms import treasury_of
        from rwa.oracle.attest import scheduled_deliveries

        terms = register_terms(model, treasury_of(model, deal.manifest.roles.issuer))
        return cls(deal, scheduled_deliveries(model, terms, shortfall), model.long_stop_period)

    def fund_equity(self, summary: DemoSummary) -> None:
        """The issuer pays its share of the fleet into the escrow (on the development chain, minted for it)."""
        register = self.deal.register
        assert register is not None
        escrow = register.escrow()
        need = escrow.capex_total - escrow.raise_amount - escrow.equity_funded
        if need <= 0 or escrow.raise_amount == 0:
            return
        treasury = register.treasury()
        self.deal.stablecoin.mint(treasury, need, sender=self.deal.manifest.roles.admin)
        self.deal.stablecoin.approve(register.address, need, sender=treasury)
        register.fund_equity(need, sender=treasury)
        summary.equity_funded = need

    def attest(self, publisher: Publisher, period: int) -> int:
        """The batches due by ``period`` that the register does not hold, signed by the reporters and sent through
        the publisher's outbox (:meth:`rwa.oracle.publisher.Publisher.attest_due`); returns how many."""
        return len(publisher.attest_due(self.planned, period))

    def settle(self, period: int) -> None:
        """Once the long-stop period is distributed, the escrow's long-stop is settled (anyone may), once."""
        register = self.deal.register
        assert register is not None
        if self.settled or period < self.long_stop_period or self.deal.chain.now() < register.long_stop():
            return
        if not register.escrow().settled:
            register.settle_long_stop(sender=self.deal.manifest.roles.servicer)
        self.settled = True

    def summarize(self, summary: DemoSummary) -> None:
        register = self.deal.register
        assert register is not None
        escrow = register.escrow()
        summary.escrowed = escrow.raise_amount
        summary.released_from_raise = escrow.raise_released
        summary.released_from_equity = escrow.equity_released
        summary.prepaid = escrow.prepaid
        summary.equity_returned = escrow.equity_returned
        summary.servers_ordered = sum(o.servers for o in register.orders())
        summary.servers_delivered = register.fleet()


def run_month(deal: DeployedDeal, publisher: Publisher, figures: FigureSource, period: int,
              fleet: Fleet | None = None) -> tuple[PublishResult, DistributeResult]:
    """One month of a deal in two batches (:class:`rwa.chain.pipeline.Batch`), so on a node in about two blocks:
    the oracle's report of ``period`` (on a development chain the clock moves to the period's end first) is sent
    with what the servicer's deposit needs first (its approval; on a development chain the stablecoin it is paid),
    then the deposits and the pool's distribution. What the two jobs check before
    they send anything is checked first (the report's quorum and a dry run of it, the deposit against the period
    and the pool's room). With ``fleet``, the batches of servers due by the period are attested first (a month with
    a delivery takes one more block), and after the long-stop period the escrow is settled."""
    from rwa.chain.pipeline import Batch

    latest = publisher.reconcile()
    publisher.plan(period, figures, move_clock=publisher.chain.is_dev, latest=latest)
    if fleet is not None:
        fleet.attest(publisher, period)
    report = figures.report(period)
    batch = Batch(deal.chain)
    published = publisher.publish_in(batch, report)
    funded = fund_period(deal, period, batch, reported=report.revenue)
    batch.send()
    distributed = distribute_period(deal, period, funded=funded)
    if fleet is not None:
        fleet.settle(period)
    return published(), distributed


def _fund(chain: Chain, accounts: list[LocalAccount]) -> None:
    funder = chain.accounts[0].address
    for acct in accounts:
        send_value(chain, funder, acct.address, GAS_FUNDING)


def _replay(chain: Chain, manifest_path: Path, out: Path, console: Console) -> tuple[int, int]:
    from rwa.replay.run import run_replay

    result = run_replay(chain, manifest_path, out / "audit", db=out / "ledger.sqlite")
    verdict = "[green]reconciled[/]" if result.exit_code == 0 else f"[red]{len(result.findings)} findings[/]"
    console.print(f"auditor's replay: {verdict} ({result.events} events; report {out / 'audit' / 'report.html'})")
    return result.exit_code, len(result.findings)


def _show(console: Console, s: DemoSummary) -> None:
    money = money_formatter(s.decimals, s.currency)
    table = Table(title=f"demo ({s.scenario}) summary", show_header=False)
    table.add_row(
        "months distributed", f"{s.periods_distributed} of {s.months}" + (" + maturity" if s.finalized else "")
    )
    table.add_row("senior paid", money(s.senior_paid))
    table.add_row("senior outstanding", money(s.senior_outstanding))
    table.add_row("junior paid", money(s.junior_paid))
    table.add_row("lowest DSCR", format_dscr(s.min_dscr_bps))
    table.add_row("cash-trapped periods", ", ".join(map(str, s.trapped_periods)) or "none")
    table.add_row("subscribers (cancellations)", f"{s.subscribers} ({s.cancellations})")
    table.add_row("senior requested / sold", f"{money(s.requested[0])} / {money(s.sold[0])}")
    table.add_row("junior requested / sold", f"{money(s.requested[1])} / {money(s.sold[1])}")
    table.add_row("refunded at the close", money(s.refunds))
    table.add_row("raise: reserve / costs / proceeds",
                  f"{money(s.reserve_at_close)} / {money(s.upfront_costs)} / {money(s.proceeds)}")
    table.add_row("proceeds: escrowed / to the treasury", f"{money(s.escrowed)} / {money(s.proceeds - s.escrowed)}")
    table.add_row("servers delivered of ordered", f"{s.servers_delivered:,} of {s.servers_ordered:,}")
    table.add_row("released to suppliers: raise / issuer's equity",
                  f"{money(s.released_from_raise)} / {money(s.released_from_equity)}")
    table.add_row("long-stop: prepaid the senior / equity returned",
                  f"{money(s.prepaid)} / {money(s.equity_returned)}")
    table.add_row("trades settled against payment (refused)", f"{s.transfers} ({s.transfers_refused})")
    table.add_row("trade volume", money(s.trade_volume))
    table.add_row("claims (paid)", f"{s.claims} ({money(s.claimed_units)})")
    table.add_row("replay", "reconciled" if s.replay_exit_code == 0 else f"{s.replay_findings} findings")
    table.add_row("time", f"{s.seconds:.1f} s")
    table.add_row("written to", s.out)
    console.print(table)
