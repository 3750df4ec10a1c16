"""Options every chain-facing command shares, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
