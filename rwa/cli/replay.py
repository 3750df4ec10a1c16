"""``rwa replay``: the auditor's reconciliation of a deployment from chain history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rwa.cli.options import ChainOptions, chain_options, output_console

console: Console = output_console()


@chain_options()
def replay_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for summary.json, periods.csv, holders.csv, tapes.csv, fleet.csv, "
                     "findings.json and report.html."),
    ],
    *,
    opts: ChainOptions,
    db: Annotated[Path | None, typer.Option("--db", help="The SQLite ledger (default under .rwa/).")] = None,
    confirmations: Annotated[int, typer.Option("--confirmations", min=0, help="Blocks to stay behind the head.")] = 0,
) -> None:
    """Rebuild every payment from chain history and reconcile it to the unit: exit 0 reconciled (disclosures listed),
    1 findings, 2 bad input, 3 the replay could not finish (no verdict; re-run)."""
    from rwa.replay.run import run_replay

    manifest = opts.manifest_path
    with opts.chain() as chain:
        result = run_replay(chain, manifest, out, db=db, confirmations=confirmations)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    shown = f"; {len(result.disclosures)} disclosures in {out / 'disclosures.csv'}" if result.disclosures else ""
    if result.exit_code == 0:
        console.print(
            f"[green]reconciled[/]: {result.events} events, no finding{shown}; report in {out / 'report.html'}"
        )
    else:
        console.print(
            f"[red]{len(result.findings)} findings[/] ({result.events} events); see {out / 'findings.csv'}{shown}"
        )
        for f in result.findings[:20]:
            console.print(f"  {f.kind} period={f.period} {f.account}: expected {f.expected}, actual {f.actual}")
    asset = _asset_line(out)
    if asset:
        console.print(asset)
    raise typer.Exit(result.exit_code)


def _asset_line(out: Path) -> str:
    """One line of the summary's use of proceeds and fleet (empty for a deployment without a fleet register)."""
    import json

    from rwa.model.deal_file import load_deal
    from rwa.model.units import money_formatter

    summary = json.loads((out / "summary.json").read_text())
    use, fleet = summary.get("use_of_proceeds"), summary.get("fleet")
    if not use or not fleet:
        return ""
    deal = load_deal(Path(summary["deal_file"]))
    money = money_formatter(deal.decimals, deal.currency)
    return (f"use of proceeds: {money(use['escrowed'])} of the raise escrowed, {money(use['released_from_raise'])} "
            f"released against deliveries, {money(use['prepaid'])} prepaid; fleet: {fleet['delivered']:,} of "
            f"{fleet['ordered']:,} servers delivered")


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)
