"""``rwa governance ...``: who holds which role, and the timelocked calls (propose, pending, execute, cancel)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from rwa.cli.options import ChainOptions, chain_options, command_group, output_console
from rwa.errors import InputError
from rwa.model.units import TRANCHES, Tranche, format_time

console: Console = output_console()

TrancheOpt = Annotated[str, typer.Option("--tranche", help="senior or junior")]
OperationId = Annotated[str, typer.Option("--id", help="the operation id `rwa governance pending` shows")]


def _tranche(value: str) -> Tranche:
    if value not in TRANCHES:
        raise InputError(f"--tranche {value!r}: use senior or junior")
    return value  # type: ignore[return-value]


def _when(timestamp: int) -> str:
    return format_time(timestamp)


def register(app: typer.Typer) -> None:
    sub = command_group("The trust model: roles, and privileged calls announced through the timelock.")
    propose = command_group("Announce a privileged call (the issuer); it runs after the timelock's delay.")

    @sub.command("roles")
    @chain_options()
    def roles_cmd(opts: ChainOptions) -> None:
        """Who holds each role on-chain, against the deal's trust model (exit 1 when they differ)."""
        from rwa.issuance.governance import check_roles, role_holders
        from rwa.onchain.privileges import PRIVILEGES

        with opts.deal() as deal:
            holders, problems = role_holders(deal), check_roles(deal)
        table = Table(title="roles on-chain")
        for col in ("contract", "role", "held by", "meant", "delay"):
            table.add_column(col)
        for p in PRIVILEGES:
            for name in p.contract.split(", "):
                table.add_row(name, p.role.value, ", ".join(sorted(holders[(name, p.role)])) or "nobody", p.holder,
                              p.delay)
        console.print(table)
        for problem in problems:
            console.print(f"[red]differs[/]: {problem}")
        if problems:
            raise typer.Exit(1)

    def _propose(call_of: str, opts: ChainOptions, **args: object) -> None:
        from rwa.issuance import governance

        with opts.deal() as deal:
            manifest = deal.manifest
            call = getattr(governance, call_of)(deal, **args)
            timelock = governance.timelock_of(deal)
            governance.check_timelock_action(timelock, call, governance.TimelockAction.PROPOSE, manifest.roles.issuer)
            timelock.schedule(call, sender=manifest.roles.issuer)
            op, ready = timelock.operation_id(call), timelock.ready_at(call)
        console.print(f"announced: {call.description}\n  id {'0x' + op.hex()}\n  runs from {_when(ready)} "
                      "(anyone may execute it then; the trustee may cancel it before)")

    @propose.command("recover")
    @chain_options()
    def recover_cmd(tranche: TrancheOpt, lost: Annotated[str, typer.Option("--lost")],
                    to: Annotated[str, typer.Option("--to")], opts: ChainOptions) -> None:
        """Move a frozen lost wallet's tokens and unclaimed entitlement to a new wallet."""
        _propose("recovery_call", opts, tranche=_tranche(tranche), lost=lost, new_wallet=to)

    @propose.command("forced-transfer")
    @chain_options()
    def forced_cmd(tranche: TrancheOpt, from_: Annotated[str, typer.Option("--from")],
                   to: Annotated[str, typer.Option("--to")],
                   amount: Annotated[str, typer.Option("--amount", help="whole tokens (token units with --raw)")],
                   raw: Annotated[bool, typer.Option("--raw", help="--amount in token units")] = False,
                   *, opts: ChainOptions) -> None:
        """Move a holder's tokens by a court order or a regulator's."""
        from rwa.issuance.show import deal_amount

        units = deal_amount(opts.manifest(), amount, raw=raw, unit=f"{tranche} tokens")
        _propose("forced_transfer_call", opts, tranche=_tranche(tranche), src=from_, dst=to,
                 amount=units)

    @propose.command("add-reporter")
    @chain_options()
    def add_reporter_cmd(address: Annotated[str, typer.Option("--address")], opts: ChainOptions) -> None:
        """Add a reporter to the oracle."""
        _propose("add_reporter_call", opts, reporter=address)

    @propose.command("set-threshold")
    @chain_options()
    def threshold_cmd(threshold: Annotated[int, typer.Option("--threshold", min=1)], opts: ChainOptions) -> None:
        """Change the oracle's signature threshold."""
        _propose("set_threshold_call", opts, threshold=threshold)

    @sub.command("pending")
    @chain_options()
    def pending_cmd(opts: ChainOptions) -> None:
        """Every call announced through the timelock, with its state and when it may run."""
        from rwa.issuance.governance import announced, timelock_of

        with opts.deal() as deal:
            rows = announced(deal)
            timelock = timelock_of(deal)
            states = [(timelock.state(call).name.lower(), timelock.ready_at(call)) for _, call, _ in rows]
        table = Table(title="timelocked calls")
        for col in ("id", "call", "state", "runs from"):
            table.add_column(col)
        for (op, _call, what), (st, ready) in zip(rows, states, strict=True):
            table.add_row("0x" + op.hex(), what, st, _when(ready) if ready > 1 else "")
        console.print(table)

    def _act(op_id: str, opts: ChainOptions, cancel: bool) -> None:
        from rwa.issuance.governance import TimelockAction, announced, check_timelock_action, timelock_of

        with opts.deal() as deal:
            manifest, chain = deal.manifest, deal.chain
            found = [(call, what) for op, call, what in announced(deal) if "0x" + op.hex() == op_id.lower()]
            if not found:
                raise InputError(f"--id {op_id}: no such announced call (see `rwa governance pending`)")
            call, what = found[0]
            timelock = timelock_of(deal)
            action = TimelockAction.CANCEL if cancel else TimelockAction.EXECUTE
            sender = manifest.roles.trustee if cancel else (
                chain.accounts[0].address if chain.accounts else manifest.roles.issuer)
            check_timelock_action(timelock, call, action, sender, when=_when(timelock.ready_at(call)))
            if cancel:
                timelock.cancel(call, sender=sender)
            else:
                timelock.execute(call, sender=sender)
        console.print(f"{'cancelled' if cancel else 'executed'}: {what}")

    @sub.command("execute")
    @chain_options()
    def execute_cmd(op_id: OperationId, opts: ChainOptions) -> None:
        """Run an announced call once its delay has passed (anyone may)."""
        _act(op_id, opts, cancel=False)

    @sub.command("cancel")
    @chain_options()
    def cancel_cmd(op_id: OperationId, opts: ChainOptions) -> None:
        """The trustee cancels an announced call before it runs."""
        _act(op_id, opts, cancel=True)

    sub.add_typer(propose, name="propose")
    app.add_typer(sub, name="governance")
