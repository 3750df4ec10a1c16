"""Options every chain-facing command shares, and the console every command prints to, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

RpcUrl = Annotated[
    str | None,
    typer.Option("--rpc-url", envvar="RWA_RPC_URL", help="A JSON-RPC node; default is the embedded chain."),
]
StateFile = Annotated[
    Path | None,
    typer.Option("--state", envvar="RWA_STATE", help="The embedded chain's state file (default .rwa/chain.sqlite)."),
]
Deployment = Annotated[
    Path | None,
    typer.Option("--deployment", help="The deployment manifest (default .rwa/deployment.json)."),
]

def seed_option(help_text: str) -> Any:
    """``--seed``: a random generator's seed, which numpy (and so every seeded figure here) takes only as an
    integer of 0 or more; a negative one is a usage error."""
    return typer.Option("--seed", min=0, help=help_text)


PIPE_WIDTH = 400
"""Columns of a command's output when it is not a terminal: wide enough for every table the commands print."""


def output_console() -> Console:
    """The console a command prints to: the terminal's width on a terminal; in a pipe or a file, a width no table
    of the commands reaches and no wrapping, so nothing is dropped, cropped or split across lines."""
    if Console().is_terminal:
        return Console()
    return Console(width=PIPE_WIDTH, soft_wrap=True)
