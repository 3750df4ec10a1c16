"""``rwa issue``, ``rwa distribute``, ``rwa claim``, ``rwa status`` and ``rwa demo``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rwa.cli.options import ChainOptions, chain_options, output_console

console: Console = output_console()

Raw = Annotated[
    bool, typer.Option("--raw", help="Amounts in the stablecoin's smallest units instead of whole units: those shown "
                       "and those given (--amount, --tax-refund).")
]


@chain_options(deployment=False)
def issue_command(
    deal: Annotated[Path, typer.Option("--deal", help="The deal file (TOML).")],
    out: Annotated[Path | None, typer.Option("--out", help="Where to write the deployment manifest.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate, size and print the plan; send nothing.")
    ] = False,
    *,
    opts: ChainOptions,
) -> None:
    """Validate and size the deal, then deploy and mint it (resumes an interrupted run; never issues twice)."""
    from rwa.issuance.issue import issue, plan_issue
    from rwa.issuance.show import show_plan
    from rwa.onchain.deployment import default_manifest_path
    from rwa.paths import writable_file

    plan = plan_issue(deal)
    show_plan(console, plan)
    if dry_run:
        console.print("[yellow]dry run: nothing was sent[/]")
        return
    target = writable_file(out or default_manifest_path(), "--out")
    with opts.chain() as chain:
        manifest = issue(chain, plan, target, console.print)
    console.print(f"[green]issued[/] on chain {manifest.chain_id}; manifest written to {target}")
    for name, address in manifest.contracts.items():
        console.print(f"  {name:<11} {address}")


@chain_options()
def distribute_command(
    period: Annotated[int | None, typer.Option("--period", help="The period to pay (1..N).")] = None,
    amount: Annotated[
        str | None, typer.Option("--amount", help="Cash to deposit in whole units of the deal's currency, e.g. "
                                 "5,000.50 (smallest units with --raw); default: the reported revenue.")
    ] = None,
    tax_refund: Annotated[
        str | None,
        typer.Option("--tax-refund", help="Tax refund to deposit in whole units (smallest units with --raw); default: "
                     "the deal's schedule."),
    ] = None,
    final: Annotated[
        bool, typer.Option("--final", help="Maturity: deposit --amount as residual value and finalize.")
    ] = False,
    recovery: Annotated[
        bool, typer.Option("--recovery", help="After maturity: deposit --amount recovered and distribute it.")
    ] = False,
    raw: Raw = False,
    *,
    opts: ChainOptions,
) -> None:
    """The servicer deposits the period's cash and the pool runs its waterfall."""
    from rwa.errors import InputError
    from rwa.issuance.operate import distribute_period, distribute_recovery, finalize_deal
    from rwa.issuance.show import deal_amount, deal_money, show_legs

    if [final, recovery, period is not None].count(True) != 1:
        raise InputError("give exactly one of --period P, --final or --recovery")
    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    cash = None if amount is None else deal_amount(manifest, amount, raw=raw)
    refund = None if tax_refund is None else deal_amount(manifest, tax_refund, raw=raw, option="--tax-refund")
    with opts.deal(manifest) as deal:
        if recovery:
            result = distribute_recovery(deal, cash or 0)
        elif final:
            result = finalize_deal(deal, cash or 0)
        else:
            result = distribute_period(deal, int(period or 0), cash, refund)
    console.print(result.note + (f"; deposited {money(result.deposited)}" if result.deposited else ""))
    if result.legs is not None:
        show_legs(console, result.legs, money)


@chain_options()
def claim_command(
    holder: Annotated[str | None, typer.Option("--holder", help="The holder's address.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every holder this checkout can sign for.")] = False,
    raw: Raw = False,
    *,
    opts: ChainOptions,
) -> None:
    """Pay a holder's claimable stablecoin from both tranches."""
    from rwa.errors import InputError
    from rwa.issuance.operate import claim_all, claim_for
    from rwa.issuance.show import deal_money
    from rwa.model.deal_file import load_deal

    if all_ == (holder is not None):
        raise InputError("give exactly one of --holder ADDRESS or --all")
    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    with opts.deal(manifest) as deal:
        if holder is not None:
            results = [claim_for(deal, holder)]
        else:
            investors = [inv.address for inv in load_deal(Path(manifest.deal_file)).investors]
            results = claim_all(deal, investors + [a.address for a in deal.chain.accounts])
    if not results:
        console.print("nothing to claim")
    for r in results:
        console.print(f"{r.holder}: senior {money(r.paid.get('senior', 0))}  junior {money(r.paid.get('junior', 0))}")


@chain_options()
def status_command(
    raw: Raw = False,
    as_json: Annotated[bool, typer.Option("--json", help="print every figure as JSON (money in smallest units)")]
    = False,
    *,
    opts: ChainOptions,
) -> None:
    """The pool at a glance: periods done, reserve, arrears, trapped cash, covenant, paid and outstanding; the fleet
    (servers ordered, delivered, in service, the leases) and the escrow of the raise."""
    from rwa.issuance.show import deal_money

    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    with opts.deal(manifest) as deal:
        from rwa.issuance.operate import status_figures, status_rows  # once the chain answered: it goes out sooner

        figures = status_figures(deal)
        rows = status_rows(deal, money, figures)
    if as_json:
        import json

        print(json.dumps(figures, indent=2))
        return
    table = Table(title=f"pool {manifest.contracts.get('pool')} on chain {manifest.chain_id}", show_header=False)
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("issue")(issue_command)
    app.command("distribute")(distribute_command)
    app.command("claim")(claim_command)
    app.command("status")(status_command)
