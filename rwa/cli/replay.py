"""``rwa replay``: the auditor's reconciliation of a deployment from chain history."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from rwa.cli.options import Deployment, RpcUrl, StateFile, output_console

console: Console = output_console()


def replay_command(
    out: Annotated[
        Path,
        typer.Option("--out", help="Folder for summary.json, periods.csv, holders.csv, findings.json and report.html."),
    ],
    deployment: Deployment = None,
    db: Annotated[Path | None, typer.Option("--db", help="The SQLite ledger (default under .rwa/).")] = None,
    confirmations: Annotated[int, typer.Option("--confirmations", min=0, help="Blocks to stay behind the head.")] = 0,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """Rebuild every payment from chain history and reconcile it to the unit: exit 0 reconciled (disclosures listed),
    1 findings, 2 bad input, 3 the replay could not finish (no verdict; re-run)."""
    from rwa.chain.interface import connect
    from rwa.onchain.deployment import default_manifest_path
    from rwa.replay.run import run_replay

    manifest = deployment or default_manifest_path()
    with connect(rpc_url=rpc_url, state=state) as chain:
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
