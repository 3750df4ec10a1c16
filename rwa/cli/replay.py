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
    raise typer.Exit(result.exit_code)


def register(app: typer.Typer) -> None:
    app.command("replay")(replay_command)
