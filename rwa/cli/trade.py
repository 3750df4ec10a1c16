"""``rwa trade quote | make | fill | cancel``: tranche tokens sold against payment through the deal's settlement."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rwa.cli.options import Deployment, RpcUrl, StateFile, output_console
from rwa.onchain.deployment import default_manifest_path, load_manifest

console = output_console()
trade_app = typer.Typer(help="Sell tranche tokens against payment: signed orders, filled once, both legs at once.",
                        no_args_is_help=True)

TrancheOpt = Annotated[str, typer.Option("--tranche", help="senior or junior.")]
Amount = Annotated[str, typer.Option("--amount", help="Tokens to sell in whole tokens, e.g. 1,000 or 0.5 (token "
                                     "units with --raw).")]
Raw = Annotated[bool, typer.Option("--raw", help="Amounts in smallest units (token units and the stablecoin's), "
                                   "given and shown, instead of whole units.")]


@trade_app.command("quote")
def quote_cmd(tranche: TrancheOpt, amount: Amount, raw: Raw = False, deployment: Deployment = None,
              rpc_url: RpcUrl = None, state: StateFile = None) -> None:
    """What a buyer would pay: the amount's share of the tranche's fair value now (as `rwa value` computes it)."""
    from rwa.chain.interface import connect
    from rwa.errors import InputError
    from rwa.issuance.show import deal_amount, deal_money, deal_tokens
    from rwa.issuance.trade import fair_price
    from rwa.leverage.valuation import market_rate_bps
    from rwa.model.deal import load_deal
    from rwa.model.units import TRANCHES
    from rwa.onchain.deployed import open_deployment

    if tranche not in TRANCHES:
        raise InputError(f"--tranche {tranche!r}: one of {', '.join(TRANCHES)}")
    manifest = load_manifest(deployment or default_manifest_path())
    money, tokens = deal_money(manifest, raw=raw), deal_tokens(manifest, tranche, raw=raw)
    units = deal_amount(manifest, amount, raw=raw, unit=f"{tranche} tokens")
    deal_file = load_deal(Path(manifest.deal_file))
    with connect(rpc_url=rpc_url, state=state) as chain:
        price = fair_price(deal_file, open_deployment(chain, manifest), tranche, units)  # type: ignore[arg-type]
    rate = market_rate_bps(deal_file, tranche)  # type: ignore[arg-type]
    console.print(f"{tokens(units)}: {money(price)} at {rate / 100:.2f}% a year ({price} smallest units)")


@trade_app.command("make")
def make_cmd(
    tranche: TrancheOpt,
    amount: Amount,
    price: Annotated[str, typer.Option("--price", help="Stablecoin asked for the whole amount, in whole units "
                                       "(smallest units with --raw).")],
    seller: Annotated[str, typer.Option("--seller", help="The seller (a key of this checkout).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the signed order (JSON).")],
    buyer: Annotated[str | None, typer.Option("--buyer", help="Only this buyer may fill it (default anyone).")] = None,
    valid_for: Annotated[int, typer.Option("--valid-for", help="Seconds until the order expires.")] = 86_400,
    nonce: Annotated[int | None, typer.Option("--nonce", help="The order's nonce (default from the clock).")] = None,
    raw: Raw = False,
    deployment: Deployment = None,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """Sign a sell order; the buyer fills the order file with `rwa trade fill`."""
    from rwa.chain.interface import connect
    from rwa.errors import InputError
    from rwa.issuance.show import deal_amount, deal_money, deal_tokens
    from rwa.issuance.trade import MadeOrders, make_order
    from rwa.model.units import format_time
    from rwa.onchain.deployed import open_deployment
    from rwa.paths import writable_file

    if valid_for <= 0:
        raise InputError(f"--valid-for {valid_for}: must be positive")
    writable_file(out, "--out")
    manifest = load_manifest(deployment or default_manifest_path())
    units = deal_amount(manifest, amount, raw=raw, unit=f"{tranche} tokens")
    asked = deal_amount(manifest, price, raw=raw, option="--price")
    made = MadeOrders(manifest)
    with connect(rpc_url=rpc_url, state=state) as chain:
        taken = made.of(chain.account(seller).address)
        signed = make_order(open_deployment(chain, manifest), tranche, seller, units, asked, buyer,
                            chain.now() + valid_for, nonce, taken, say=console.print)
    signed.write(out)
    made.add(signed, out)
    money, tokens = deal_money(manifest, raw=raw), deal_tokens(manifest, tranche, raw=raw)
    console.print(f"order {out}: {tokens(units)} for {money(asked)}, nonce {signed.order.nonce}, "
                  f"expires {format_time(signed.order.expiry)}")


@trade_app.command("fill")
def fill_cmd(
    order: Annotated[Path, typer.Option("--order", help="The seller's signed order file.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer (a key of this checkout).")],
    raw: Raw = False,
    deployment: Deployment = None,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """Fill a signed order: the tokens and the payment move in one transaction."""
    from rwa.chain.interface import connect
    from rwa.issuance.show import deal_money, deal_tokens
    from rwa.issuance.trade import fill_order, read_order
    from rwa.onchain.deployed import open_deployment

    signed = read_order(order)
    manifest = load_manifest(deployment or default_manifest_path())
    money = deal_money(manifest, raw=raw)
    with connect(rpc_url=rpc_url, state=state) as chain:
        deal = open_deployment(chain, manifest)
        trade = fill_order(deal, signed, buyer, say=console.print)
    tranche = next(t for t, token in deal.tokens.items() if token.address.lower() == signed.order.token.lower())
    tokens = deal_tokens(manifest, tranche, raw=raw)
    console.print(f"settled: {tokens(trade.amount)} from {trade.seller} to {trade.buyer} for {money(trade.price)}")


@trade_app.command("cancel")
def cancel_cmd(
    seller: Annotated[str, typer.Option("--seller", help="The seller (a key of this checkout).")],
    nonce: Annotated[int, typer.Option("--nonce", help="The nonce of the order to cancel.")],
    deployment: Deployment = None,
    rpc_url: RpcUrl = None,
    state: StateFile = None,
) -> None:
    """Spend an order's nonce so that it can never be filled."""
    from rwa.chain.interface import connect
    from rwa.errors import InputError
    from rwa.issuance.trade import settlement_of
    from rwa.onchain.deployed import open_deployment
    from rwa.onchain.settlement import check_order_field

    check_order_field("nonce", nonce, "--nonce")
    manifest = load_manifest(deployment or default_manifest_path())
    with connect(rpc_url=rpc_url, state=state) as chain:
        deal = open_deployment(chain, manifest)
        settlement = settlement_of(deal)
        key = chain.account(seller)
        if settlement.nonce_spent(key.address, nonce):
            raise InputError(f"--nonce {nonce}: already spent by {key.address} (filled or cancelled)")
        settlement.cancel(nonce, sender=key.address)
    console.print(f"order nonce {nonce} of {seller} cancelled")


def register(app: typer.Typer) -> None:
    app.add_typer(trade_app, name="trade")
