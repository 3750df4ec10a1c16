"""``rwa trade quote | make | fill | cancel``: tranche tokens sold against payment through the deal's settlement."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rwa.cli.options import ChainOptions, chain_options, command_group, output_console

console = output_console()
trade_app = command_group("Sell tranche tokens against payment: signed orders, filled once, both legs at once.")

TrancheOpt = Annotated[str, typer.Option("--tranche", help="senior or junior.")]
Amount = Annotated[str, typer.Option("--amount", help="Tokens to sell in whole tokens, e.g. 1,000 or 0.5 (token "
                                     "units with --raw).")]
Raw = Annotated[bool, typer.Option("--raw", help="Amounts in smallest units (token units and the stablecoin's), "
                                   "given and shown, instead of whole units.")]


@trade_app.command("quote")
@chain_options()
def quote_cmd(tranche: TrancheOpt, amount: Amount, raw: Raw = False, *, opts: ChainOptions) -> None:
    """What a buyer would pay: the amount's share of the tranche's fair value now (as `rwa value` computes it)."""
    from rwa.errors import InputError
    from rwa.issuance.show import deal_amount, deal_money, deal_tokens
    from rwa.issuance.trade import fair_price
    from rwa.leverage.valuation import market_rate_bps
    from rwa.model.deal_file import load_deal
    from rwa.model.units import TRANCHES

    if tranche not in TRANCHES:
        raise InputError(f"--tranche {tranche!r}: one of {', '.join(TRANCHES)}")
    manifest = opts.manifest()
    money, tokens = deal_money(manifest, raw=raw), deal_tokens(manifest, tranche, raw=raw)
    units = deal_amount(manifest, amount, raw=raw, unit=f"{tranche} tokens")
    deal_file = load_deal(Path(manifest.deal_file))
    with opts.deal(manifest) as deal:
        price = fair_price(deal_file, deal, tranche, units)  # type: ignore[arg-type]
    rate = market_rate_bps(deal_file, tranche)  # type: ignore[arg-type]
    console.print(f"{tokens(units)}: {money(price)} at {rate / 100:.2f}% a year ({price} smallest units)")


@trade_app.command("make")
@chain_options()
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
    *,
    opts: ChainOptions,
) -> None:
    """Sign a sell order; the buyer fills the order file with `rwa trade fill`."""
    from rwa.errors import InputError
    from rwa.issuance.show import deal_amount, deal_money, deal_tokens
    from rwa.issuance.trade import MadeOrders, make_order
    from rwa.model.units import format_time
    from rwa.paths import writable_file

    if valid_for <= 0:
        raise InputError(f"--valid-for {valid_for}: must be positive")
    writable_file(out, "--out")
    manifest = opts.manifest()
    units = deal_amount(manifest, amount, raw=raw, unit=f"{tranche} tokens")
    asked = deal_amount(manifest, price, raw=raw, option="--price")
    made = MadeOrders(manifest)
    with opts.deal(manifest) as deal:
        taken = made.of(deal.chain.account(seller).address)
        signed = make_order(deal, tranche, seller, units, asked, buyer, deal.chain.now() + valid_for, nonce, taken,
                            say=console.print)
    signed.write(out)
    made.add(signed, out)
    money, tokens = deal_money(manifest, raw=raw), deal_tokens(manifest, tranche, raw=raw)
    console.print(f"order {out}: {tokens(units)} for {money(asked)}, nonce {signed.order.nonce}, "
                  f"expires {format_time(signed.order.expiry)}")


@trade_app.command("fill")
@chain_options()
def fill_cmd(
    order: Annotated[Path, typer.Option("--order", help="The seller's signed order file.")],
    buyer: Annotated[str, typer.Option("--buyer", help="The buyer (a key of this checkout).")],
    raw: Raw = False,
    *,
    opts: ChainOptions,
) -> None:
    """Fill a signed order: the tokens and the payment move in one transaction."""
    from rwa.issuance.show import deal_money, deal_tokens
    from rwa.issuance.trade import fill_order, read_order

    signed = read_order(order)
    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    with opts.deal(manifest) as deal:
        trade = fill_order(deal, signed, buyer, say=console.print)
    tranche = next(t for t, token in deal.tokens.items() if token.address.lower() == signed.order.token.lower())
    tokens = deal_tokens(manifest, tranche, raw=raw)
    console.print(f"settled: {tokens(trade.amount)} from {trade.seller} to {trade.buyer} for {money(trade.price)}")


@trade_app.command("cancel")
@chain_options()
def cancel_cmd(
    seller: Annotated[str, typer.Option("--seller", help="The seller (a key of this checkout).")],
    nonce: Annotated[int, typer.Option("--nonce", help="The nonce of the order to cancel.")],
    *,
    opts: ChainOptions,
) -> None:
    """Spend an order's nonce so that it can never be filled."""
    from rwa.errors import InputError
    from rwa.issuance.trade import settlement_of
    from rwa.onchain.settlement import check_order_field

    check_order_field("nonce", nonce, "--nonce")
    manifest = opts.manifest()
    with opts.deal(manifest) as deal:
        settlement = settlement_of(deal)
        key = deal.chain.account(seller)
        if settlement.nonce_spent(key.address, nonce):
            raise InputError(f"--nonce {nonce}: already spent by {key.address} (filled or cancelled)")
        settlement.cancel(nonce, sender=key.address)
    console.print(f"order nonce {nonce} of {seller} cancelled")


def register(app: typer.Typer) -> None:
    app.add_typer(trade_app, name="trade")
