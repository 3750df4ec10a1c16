"""What every command shares, declared once: the chain options and the one way from them to a chain or a deployment
(:class:`ChainOptions`, given to a command by :func:`chain_options`), the console every command prints to, and the
sub-command groups' help on no arguments.

Importing this module imports no chain library: ``rwa --help`` and every command's ``--help`` load only typer, rich
and the command modules; a command imports what it needs when it runs (``tests/unit/test_cli_startup.py``).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from typer.core import TyperGroup

if TYPE_CHECKING:
    from rwa.chain.interface import Chain
    from rwa.onchain.deployed import DeployedDeal
    from rwa.onchain.deployment import Manifest
    from rwa.oracle.retry import RetryPolicy

RpcUrlOption = Annotated[
    str | None,
    typer.Option("--rpc-url", envvar="RWA_RPC_URL", help="A JSON-RPC node; default is the embedded chain."),
]
StatePathOption = Annotated[
    Path | None,
    typer.Option("--state", envvar="RWA_STATE", help="The embedded chain's state file (default .rwa/chain.sqlite)."),
]
DeploymentOption = Annotated[
    Path | None,
    typer.Option("--deployment", help="The deployment manifest (default .rwa/deployment.json)."),
]


@dataclass(frozen=True)
class ChainOptions:
    """The chain a command acts on, as its options name it: a JSON-RPC node (``--rpc-url``) or the embedded chain's
    state file (``--state``), and the deployment manifest (``--deployment``). Every command reaches a chain, a
    manifest or a deployment through these methods and nothing else."""

    rpc_url: str | None = None
    state: Path | None = None
    deployment: Path | None = None

    @property
    def manifest_path(self) -> Path:
        """``--deployment``, or the default manifest (``RWA_DEPLOYMENT``, else ``.rwa/deployment.json``)."""
        from rwa.onchain.deployment import default_manifest_path

        return self.deployment or default_manifest_path()

    def manifest(self) -> Manifest:
        """The deployment manifest, read and checked without touching any chain."""
        from rwa.onchain.deployment import load_manifest

        return load_manifest(self.manifest_path)

    def chain(self) -> Chain:
        """The chain connected (close it, or use it in a ``with``)."""
        from rwa.chain.connect import connect

        return connect(rpc_url=self.rpc_url, state=self.state)

    @contextlib.contextmanager
    def deal(self, manifest: Manifest | None = None) -> Iterator[DeployedDeal]:
        """The whole deployment bound to the chain, refused when the chain is not the manifest's
        (:func:`rwa.onchain.deployed.open_deployment`); the chain closed afterwards. ``manifest`` is the one the
        command already read (reading it first, a command refuses a bad manifest or amount before connecting)."""
        manifest = manifest if manifest is not None else self.manifest()
        with self.chain() as chain:
            from rwa.onchain.deployed import open_deployment  # after connecting: the first request goes out sooner

            yield open_deployment(chain, manifest)

    @contextlib.contextmanager
    def oracle_session(self, retry: RetryPolicy) -> Iterator[tuple[Manifest, Chain]]:
        """The manifest and the chain, connected with the oracle's retries while the node is down and checked at the
        oracle (:func:`rwa.oracle.retry.open_oracle_session`)."""
        from rwa.oracle.retry import open_oracle_session

        with open_oracle_session(self.deployment, self.rpc_url, self.state, retry) as session:
            yield session


_Command = TypeVar("_Command", bound=Callable[..., Any])
_OPTIONS_PARAMETER = "opts"


def chain_options(*, deployment: bool = True) -> Callable[[_Command], _Command]:
    """Give a command the chain options: its parameter ``opts: ChainOptions`` becomes ``--deployment`` (unless
    ``deployment=False``), ``--rpc-url`` and ``--state``, declared once here, listed by ``--help`` at the parameter's
    place, and handed to the command as one :class:`ChainOptions`."""
    declared = [
        *([("deployment", DeploymentOption)] if deployment else []),
        ("rpc_url", RpcUrlOption),
        ("state", StatePathOption),
    ]

    def decorate(command: _Command) -> _Command:
        signature = inspect.signature(command, eval_str=True)
        parameters: list[inspect.Parameter] = []
        for parameter in signature.parameters.values():
            if parameter.name == _OPTIONS_PARAMETER:
                parameters += [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=kind)
                               for name, kind in declared]
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        if len(parameters) != len(signature.parameters) + len(declared) - 1:
            raise TypeError(f"{command.__qualname__}: a command with chain options takes `opts: ChainOptions`")

        @functools.wraps(command)
        def run(**given: Any) -> Any:
            chosen = {name: given.pop(name) for name, _ in declared}
            return command(**given, opts=ChainOptions(**chosen))

        run.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        run.__annotations__ = {p.name: p.annotation for p in parameters} | {"return": signature.return_annotation}
        return run  # type: ignore[return-value]

    return decorate


def seed_option(help_text: str) -> Any:
    """``--seed``: a random generator's seed, which numpy (and so every seeded figure here) takes only as an
    integer of 0 or more; a negative one is a usage error."""
    return typer.Option("--seed", min=0, help=help_text)


class QuickHelpGroup(TyperGroup):
    """A group whose ``--help`` flag reads False, not None, when it is not given: typer converts a flag's value
    through pydantic unless it is already a bool, and importing pydantic for that costs a sub-command's ``--help``
    (which passes through every group above it) about a third of its start-up."""

    def get_help_option(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        option = super().get_help_option(ctx)
        if option is not None and option.default is None:
            option.default = False
        return option


class HelpOnNoArgs(QuickHelpGroup):
    """A group that, run with no sub-command, prints its help on stderr and exits 2, as click's ``no_args_is_help``
    does, but through typer's public ``Exit``: the ``rwa`` entry point then catches only public exceptions."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if not args and not ctx.resilient_parsing:
            typer.echo(ctx.get_help(), err=True, color=ctx.color)
            raise typer.Exit(2)
        return super().parse_args(ctx, args)


def command_group(help_text: str, **kwargs: Any) -> typer.Typer:
    """A group of sub-commands (``rwa oracle``, ``rwa governance`` ...) that shows its help when run bare."""
    return typer.Typer(help=help_text, cls=HelpOnNoArgs, **kwargs)


PIPE_WIDTH = 400
"""Columns of a command's output when it is not a terminal: wide enough for every table the commands print."""


def output_console() -> Console:
    """The console a command prints to: the terminal's width on a terminal; in a pipe or a file, a width no table
    of the commands reaches and no wrapping, so nothing is dropped, cropped or split across lines."""
    if Console().is_terminal:
        return Console()
    return Console(width=PIPE_WIDTH, soft_wrap=True)
