"""``rwa offering status | subscribe | cancel | close | claim``: the primary offering of an issued deal."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from rwa.cli.options import Deployment, RpcUrl, StateFile, output_console
from rwa.onchain.deployment import default_manifest_path, load_manifest

console = output_console()
offering_app = typer.Typer(help="The primary offering: subscribe at par, cancel, close, claim tokens and refunds.",
                           no_args_is_help=True)

Tranche = Annotated[str, typer.Option("--tranche", help="senior or junior.")]
Investor = Annotated[str, typer.Option("--investor", help="The investor's address (a key of this checkout).")]
Raw = Annotated[bool, typer.Option("--raw", help="Amounts in the stablecoin's smallest units, shown and given "
                                    "(--amount), instead of whole units.")]


@offering_app.command("status")
def status_cmd(raw: Raw = False, deployment: Deployment = None, rpc_url: RpcUrl = None,
               state: StateFile = None) -> None:
    """The offering's phase, window, tickets, routing and each tranche's book."""
    from rwa.chain.interface import connect
    from rwa.issuance.offering import status_rows
    from rwa.issuance.show import deal_money
    from rwa.onchain.deployed import open_deployment

    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        rows = status_rows(open_deployment(chain, manifest), money)
    table = Table(title=f"offering {manifest.contracts.get('offering')} on chain {manifest.chain_id}",
                  show_header=False)
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


@offering_app.command("subscribe")
def subscribe_cmd(
    tranche: Tranche,
    investor: Investor,
    amount: Annotated[str, typer.Option("--amount", help="Stablecoin to pay in whole units, e.g. 5,000 (smallest "
                                        "units with --raw); at par, one token for each.")],
    raw: Raw = False,
    deployment: Deployment = None,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """Request a subscription: pay --amount for --tranche tokens, allocated at the close."""
    from rwa.chain.interface import connect
    from rwa.issuance.offering import subscribe
    from rwa.issuance.show import deal_amount, deal_money
    from rwa.onchain.deployed import open_deployment

    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    paid = deal_amount(manifest, amount, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        total = subscribe(open_deployment(chain, manifest), tranche, investor, paid, say=console.print)
    console.print(f"{investor}: {tranche} request {money(total)} (paid {money(paid)} now)")


@offering_app.command("cancel")
def cancel_cmd(tranche: Tranche, investor: Investor, raw: Raw = False, deployment: Deployment = None,
               rpc_url: RpcUrl = None, state: StateFile = None) -> None:
    """Cancel a pending request while the window is open; it is refunded in full at once."""
    from rwa.chain.interface import connect
    from rwa.issuance.offering import cancel
    from rwa.issuance.show import deal_money
    from rwa.onchain.deployed import open_deployment

    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        refunded = cancel(open_deployment(chain, manifest), tranche, investor)
    console.print(f"{investor}: {tranche} request cancelled, {money(refunded)} refunded")


@offering_app.command("close")
def close_cmd(raw: Raw = False, deployment: Deployment = None, rpc_url: RpcUrl = None,
              state: StateFile = None) -> None:
    """After the window: allocate and route the raise, or cancel under the deal's rule (anyone may)."""
    from rwa.chain.interface import connect
    from rwa.issuance.offering import close
    from rwa.issuance.show import deal_money
    from rwa.onchain.deployed import open_deployment

    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        result = close(open_deployment(chain, manifest), manifest.roles.issuer, money)
    for line in result.lines:
        console.print(line, markup=False)


@offering_app.command("abandon")
def abandon_cmd(raw: Raw = False, deployment: Deployment = None, rpc_url: RpcUrl = None,
                state: StateFile = None) -> None:
    """When no close succeeded within the grace after the window: cancel the offering (anyone may); every request
    is then refunded in full by `rwa offering claim`."""
    from rwa.chain.interface import connect
    from rwa.issuance.offering import abandon
    from rwa.issuance.show import deal_money
    from rwa.onchain.deployed import open_deployment

    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        refundable = abandon(open_deployment(chain, manifest), manifest.roles.issuer)
    console.print(f"abandoned: {money(refundable)} of requests to refund in full by `rwa offering claim --all`",
                  markup=False)


@offering_app.command("claim")
def claim_cmd(
    investor: Annotated[str | None, typer.Option("--investor", help="One investor's requests.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every request still to settle.")] = False,
    raw: Raw = False,
    deployment: Deployment = None,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """After the close: deliver each request's tokens and refund (or the whole refund when cancelled)."""
    from rwa.chain.interface import connect
    from rwa.errors import InputError
    from rwa.issuance.offering import TRANCHE_OF_ID, claim
    from rwa.issuance.show import deal_money
    from rwa.onchain.deployed import open_deployment

    if all_ == (investor is not None):
        raise InputError("give exactly one of --investor ADDRESS or --all")
    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        settled, waiting = claim(open_deployment(chain, manifest), manifest.roles.issuer, investor)
    if not settled and not waiting:
        console.print("nothing to claim")
    for s in settled:
        owed = "" if s.refund_paid else " (refused by the stablecoin: owed, withdraw it later)"
        held = (f"; {money(s.shares - s.delivered)} in tokens wait in the offering (the investor cannot receive "
                "them now)") if s.held else ""
        console.print(f"{s.controller}: {TRANCHE_OF_ID[s.tranche]} {money(s.delivered)} in tokens delivered, "
                      f"{money(s.refund)} refunded{owed}{held}", markup=False)
    for w in waiting:
        console.print(f"{w.controller}: {TRANCHE_OF_ID[w.tranche]} {money(w.shares)} in tokens wait in the offering "
                      f"({w.reason})", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(offering_app, name="offering")
