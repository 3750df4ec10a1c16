"""The ``rwa`` command: one sub-command per job. Every user mistake ends as one line on stderr and a non-zero exit."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup
from typer.main import get_command

from rwa.cli.options import (
    ChainOptions,
    HelpOnNoArgs,
    QuickHelpGroup,
    StatePathOption,
    chain_options,
    output_console,
    seed_option,
)
from rwa.errors import RwaError

if TYPE_CHECKING:
    from rwa.chain.interface import Chain

app = typer.Typer(
    name="rwa",
    help="Tokenized GPU-lease receivables: size, issue, publish revenue, distribute, claim, audit.",
    cls=HelpOnNoArgs,
    add_completion=False,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(
    help="The chain the commands talk to: the embedded one by default, or --rpc-url.", cls=QuickHelpGroup
)
app.add_typer(chain_app, name="chain")

console: Console = output_console()


@app.command("compile")
def compile_cmd(
    contracts: Annotated[Path | None, typer.Option(help="Folder of .sol files (default contracts/).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Recompile even when the cache is current.")] = False,
    update_shipped: Annotated[bool, typer.Option(
        "--update-shipped", help="Write this build into rwa/build/artifacts/, the build the package ships.")] = False,
) -> None:
    """Compile every contract (cached by a hash of sources, settings and compiler version), and check that the build
    the package ships is this one."""
    from rwa.build.compile import compile_contracts, ship_build, shipped_mismatch
    from rwa.errors import InputError, ToolchainError

    if contracts is not None and update_shipped:
        raise InputError("--update-shipped writes the build of the project's contracts/: drop --contracts")
    build = compile_contracts(contracts.resolve() if contracts else None, force=force)
    state = "cached" if build.from_cache else "compiled"
    console.print(f"{state} {len(build.artifacts)} contracts with solc {build.compiler_version} -> build/{build.key}")
    for name in sorted(build.artifacts):
        art = build.artifacts[name]
        console.print(f"  {name:<28} {len(art.deployed_bytecode) // 2:>6} bytes  {art.source}")
    if contracts is not None:
        return
    if update_shipped:
        console.print(f"shipped: wrote this build to {ship_build(build)}")
        return
    mismatch = shipped_mismatch(build)
    if mismatch is not None:
        raise ToolchainError(mismatch)
    console.print("shipped: rwa/build/artifacts/ is this build")


@chain_app.command("info")
@chain_options(deployment=False)
def chain_info(opts: ChainOptions) -> None:
    """Chain id, head block and the accounts this checkout can sign for."""
    from rwa.model.units import format_time

    with opts.chain() as chain:
        head = chain.w3.eth.get_block("latest")
        table = Table(title=f"{chain.kind} chain at {chain.location}", show_header=False)
        table.add_row("chain id", str(chain.chain_id))
        table.add_row("head block", str(head["number"]))
        table.add_row("head hash", head["hash"].to_0x_hex())
        table.add_row("head time", format_time(int(head["timestamp"])))
        table.add_row("development chain", "yes" if chain.is_dev else "no")
        for i, acct in enumerate(chain.accounts):
            balance = chain.w3.eth.get_balance(acct.address)
            table.add_row(f"account {i}", f"{acct.address}  {balance / 10**18:,.4f} ETH")
        console.print(table)


@chain_app.command("code")
@chain_options(deployment=False)
def chain_code(address: str, opts: ChainOptions) -> None:
    """Size of the code deployed at ADDRESS (0 when there is none)."""
    from web3 import Web3

    from rwa.errors import InputError

    if not Web3.is_address(address):
        raise InputError(f"address {address!r} is not a 20-byte hex address")
    with opts.chain() as chain:
        code = chain.w3.eth.get_code(Web3.to_checksum_address(address))
        shown = Web3.to_checksum_address(address)
        console.print(f"{shown}: {len(code)} bytes of code at block {chain.w3.eth.block_number}")


@chain_app.command("advance")
@chain_options()
def chain_advance(
    to: Annotated[str | None, typer.Option("--to", help="Move the clock to this time: YYYY-MM-DD or ISO 8601 "
                                           "(UTC unless it carries an offset).")] = None,
    by: Annotated[str | None, typer.Option("--by", help="Move the clock on by this much: 30d, 1d12h, 90m.")] = None,
    period_end: Annotated[int | None, typer.Option("--period-end", help="Move the clock to the end of the deployed "
                                                   "deal's period N (N+1: maturity).")] = None,
    *,
    opts: ChainOptions,
) -> None:
    """DEVELOPMENT CHAINS ONLY: move the chain's clock forward. One empty block is mined at the new time; no
    transaction is sent and no contract changes."""
    from rwa.errors import InputError
    from rwa.model.units import format_time, parse_duration, parse_time

    if [to, by, period_end].count(None) != 2:
        raise InputError("give exactly one of --to TIME, --by DURATION or --period-end N")
    target = None if to is None else int(parse_time(to, "--to").timestamp())
    step = None if by is None else parse_duration(by, "--by")
    with opts.chain() as chain:
        if not chain.is_dev:
            raise InputError(f"rwa chain advance moves a development chain's clock only; chain {chain.chain_id} at "
                             f"{chain.location} is not one")
        now = chain.now()
        if period_end is not None:
            target = _period_end(chain, opts, period_end)
        elif step is not None:
            target = now + step
        assert target is not None
        if target <= now:
            raise InputError(f"the chain's time is already {format_time(now)}, at or past {format_time(target)}: "
                             "a clock only moves forward")
        chain.time_travel(target)
        block, _ = chain.head()
    console.print(f"clock moved to {format_time(target)} (block {block}; no transaction sent)")


def _period_end(chain: Chain, opts: ChainOptions, period: int) -> int:
    """The end of the deployed deal's ``period`` by its deal file's calendar, the pool's (N+1: the maturity
    settlement)."""
    from rwa.errors import InputError
    from rwa.model.deal_file import load_deal
    from rwa.model.terms import period_ends
    from rwa.onchain.deployment import check_same_chain

    manifest = opts.manifest()
    check_same_chain(chain, manifest)  # only the calendar is read: the chain must be the deal's, no contract called
    ends = period_ends(load_deal(Path(manifest.deal_file)))
    if not 1 <= period <= len(ends):
        raise InputError(f"--period-end {period}: the deal's periods are 1..{len(ends) - 1}, and {len(ends)} its "
                         "maturity")
    return ends[period - 1]


@chain_app.command("reset")
def chain_reset(
    state: StatePathOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Confirm: the embedded chain's whole history is deleted.")] = False,
) -> None:
    """Delete the embedded chain's state file and start over (asks for --yes)."""
    from rwa.chain.state_log import default_state_path, reset_state
    from rwa.errors import InputError

    path = state or default_state_path()
    if not yes:
        raise InputError(f"this deletes the chain in {path}; run again with --yes to confirm")
    existed = reset_state(path)
    console.print(f"{'deleted' if existed else 'no chain at'} {path}")


@app.command("demo")
def demo_command(
    months: Annotated[int, typer.Option("--months", min=1, help="Months of the five-year life to run.")] = 60,
    holders: Annotated[int, typer.Option("--holders", min=2, help="Investors, split 70/30 senior/junior.")] = 50,
    scenario: Annotated[str, typer.Option("--scenario", help="base; stress (rent -20% from month 13, "
                                          "utilization 50%); or delivery-shortfall (the 330-server order "
                                          "delivers 12: the rest prepays the senior at the long-stop).")] = "base",
    out: Annotated[Path, typer.Option("--out", help="Where everything is written.")] = Path("out/demo"),
    seed: Annotated[int, seed_option("Seed of the holders' trades and claims.")] = 7,
) -> None:
    """The deal's whole life on a fresh embedded chain, ending with the auditor's replay."""
    from rwa.cli.demo import run_demo
    from rwa.errors import InputError

    if scenario not in ("base", "stress", "delivery-shortfall"):
        raise InputError(f"--scenario {scenario!r}: use base, stress or delivery-shortfall")
    summary = run_demo(console, months=months, holders=holders, scenario=scenario, out=out, seed=seed)
    if summary.replay_exit_code:
        raise typer.Exit(summary.replay_exit_code)


def _register() -> None:
    """Sub-commands of the layers below: calculator, oracle, issuance and operation, audit."""
    from rwa.cli import fleet as fleet_cli
    from rwa.cli import governance as governance_cli
    from rwa.cli import issuer as issuance_cli
    from rwa.cli import offering as offering_cli
    from rwa.cli import oracle as oracle_cli
    from rwa.cli import replay as replay_cli
    from rwa.cli import size as leverage_cli
    from rwa.cli import trade as trade_cli
    from rwa.cli import value as value_cli

    for module in (leverage_cli, oracle_cli, issuance_cli, governance_cli, offering_cli, fleet_cli, trade_cli,
                   value_cli, replay_cli):
        module.register(app)


_register()


def main(command: str | None = None, prog_name: str | None = None) -> None:
    """Run ``rwa`` with the process's arguments, or only its sub-command ``command`` (the scripts' entry point,
    whose usage line then reads ``prog_name [OPTIONS]``). Every mistake is one ``error:`` line on stderr."""
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    try:
        if command is None:
            code = group.main(prog_name=prog_name or "rwa", standalone_mode=False)
        else:
            code = group.commands[command].main(prog_name=prog_name or command, standalone_mode=False)
    except RwaError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors, which typer vendors, are typer's public exception
        print(f"error: {_usage_message(exc)}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except Exception as exc:
        failure = _node_failure(exc)
        if failure is None:
            raise
        print(f"error: {failure}", file=sys.stderr)
        sys.exit(1)
    if isinstance(code, int) and code:
        sys.exit(code)


def _node_failure(exc: Exception) -> str | None:
    """One line for a node that stopped answering in the middle of a command (it answered when the command
    connected, so no retry was due): the job failed; what it sent before is on the chain, and every command picks
    up from the chain's state when run again. None for any other exception (a bug: its traceback is shown)."""
    from rwa.oracle.retry import short_error, transient_errors

    if not isinstance(exc, transient_errors()):
        return None
    return (f"the node stopped answering ({short_error(exc)}); what was sent before is on the chain: run the "
            "command again once the node answers")


def _usage_message(exc: typer.TyperException) -> str:
    """A usage error on one line, naming the command and where its help is."""
    message = " ".join(exc.format_message().split())
    ctx: typer.Context | None = getattr(exc, "ctx", None)  # a usage error's context, when it has one
    if ctx is None:
        return message
    return f"{ctx.command_path}: {message} (see {ctx.command_path} --help)"


if __name__ == "__main__":
    main()
