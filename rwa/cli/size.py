"""`rwa size --deal FILE [--json] [--plots DIR]`: the leverage calculator's command."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from rwa.cli.options import output_console, seed_option
from rwa.errors import InputError, RwaError


def register(app: typer.Typer) -> None:
    """Add the ``size`` command to ``app``."""

    @app.command("size")
    def size(
        deal: Annotated[Path, typer.Option("--deal", help="deal file (TOML)")],
        as_json: Annotated[bool, typer.Option("--json", help="print every figure as JSON")] = False,
        plots: Annotated[Path | None, typer.Option("--plots", help="write PNG charts into this directory")] = None,
        paths: Annotated[int | None, typer.Option("--paths", help="Monte Carlo paths (default: the deal's)")] = None,
        seed: Annotated[int | None, seed_option("Monte Carlo seed (default: the deal's)")] = None,
        target_loss: Annotated[float | None, typer.Option(
            "--target-loss-probability",
            help="also size the senior to this Monte Carlo probability of a loss (e.g. 0.01), with its 95% interval",
        )] = None,
    ) -> None:
        """Size the senior and junior tranches of a deal, with returns, breakevens, stress and Monte Carlo."""
        try:
            run_size(deal, as_json, plots, paths, seed, target_loss)
        except RwaError as exc:
            print(f"error: {exc}", file=sys.stderr)
            # SystemExit, not typer.Exit: in click's non-standalone mode typer.Exit becomes a return value that a
            # caller may drop, and the exit code with it
            raise SystemExit(exc.exit_code) from None


def run_size(
    deal: Path, as_json: bool, plots: Path | None, paths: int | None, seed: int | None,
    target_loss: float | None = None,
) -> None:
    """The command's body, without the error handling."""
    from rwa.leverage.report import analyse, render, to_json  # heavy imports only when the command runs

    if paths is not None and paths <= 0:
        raise InputError("--paths: must be > 0")
    if target_loss is not None and not 0 < target_loss < 1:
        raise InputError(f"--target-loss-probability: {target_loss} must be between 0 and 1 (e.g. 0.01 for 1%)")
    analysis = analyse(deal, paths, seed, target_loss)
    written: list[Path] = []
    if plots is not None:
        from rwa.leverage.plots import write_plots

        written = write_plots(analysis, plots)
    if as_json:
        payload = to_json(analysis)
        if written:
            payload["plots"] = [str(p) for p in written]
        print(json.dumps(payload, indent=2, allow_nan=False))
    else:
        console = output_console()
        render(analysis, console)
        for p in written:
            console.print(f"wrote {p}")
