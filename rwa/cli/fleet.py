"""``rwa fleet fund-equity | release | settle | withdraw``: the issuer's equity and the escrow's rules, sent by
whoever may (the reporters' attestations are ``rwa oracle``'s)."""

from __future__ import annotations

from typing import Annotated

import typer

from rwa.cli.options import ChainOptions, chain_options, command_group, output_console

console = output_console()
fleet_app = command_group("The fleet register's escrow: the issuer's equity, deferred releases, the long-stop.")

Raw = Annotated[bool, typer.Option("--raw", help="Amounts in the stablecoin's smallest units, shown and given "
                                    "(--amount), instead of whole units.")]


@fleet_app.command("fund-equity")
@chain_options()
def fund_equity_cmd(
    amount: Annotated[str | None, typer.Option("--amount", help="Equity to pay in, in whole units (default what "
                                               "is still due for the whole fleet).")] = None,
    payer: Annotated[str | None, typer.Option("--from", help="Who pays (default the issuer's treasury).")] = None,
    raw: Raw = False,
    *,
    opts: ChainOptions,
) -> None:
    """Pay the issuer's equity into the escrow: each release takes its share beside the raise's."""
    from rwa.issuance.fleet import equity_due, fund_equity
    from rwa.issuance.show import deal_amount, deal_money

    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    paid = None if amount is None else deal_amount(manifest, amount, raw=raw)
    with opts.deal(manifest) as deal:
        done, escrow = fund_equity(deal, paid, payer, say=console.print, money=money)
    console.print(f"paid {money(done)} of equity into the escrow; still due for the whole fleet: "
                  f"{money(equity_due(escrow))}", markup=False)


@fleet_app.command("release")
@chain_options()
def release_cmd(
    delivery: Annotated[int | None, typer.Option("--delivery", help="One delivery (default every deferred one, "
                                                 "in order, while the equity lasts).")] = None,
    raw: Raw = False,
    *,
    opts: ChainOptions,
) -> None:
    """Release a delivery recorded while the issuer's equity was short (anyone may)."""
    from rwa.issuance.fleet import release
    from rwa.issuance.show import deal_money

    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    with opts.deal(manifest) as deal:
        done = release(deal, delivery, manifest.roles.issuer, money)
    if not done:
        console.print("nothing to release")
    for r in done:
        console.print(f"delivery {r.delivery}: released {money(r.from_raise + r.from_equity)} "
                      f"({money(r.from_raise)} from the raise, {money(r.from_equity)} from the equity)", markup=False)


@fleet_app.command("settle")
@chain_options()
def settle_cmd(raw: Raw = False, *, opts: ChainOptions) -> None:
    """After the long-stop: prepay the senior with the raise not released, return the equity left (anyone may)."""
    from rwa.issuance.fleet import settle
    from rwa.issuance.show import deal_money

    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    with opts.deal(manifest) as deal:
        escrow = settle(deal, manifest.roles.issuer)
    console.print(f"long-stop settled: {money(escrow.prepaid)} prepaid the senior, {money(escrow.equity_returned)} "
                  "of equity returned to the treasury", markup=False)


@fleet_app.command("withdraw")
@chain_options()
def withdraw_cmd(
    account: Annotated[str, typer.Option("--account", help="The account the register owes (a key of this "
                                         "checkout).")],
    raw: Raw = False,
    *,
    opts: ChainOptions,
) -> None:
    """Take what the register owes an account whose push the stablecoin refused."""
    from rwa.issuance.fleet import withdraw_owed
    from rwa.issuance.show import deal_money

    manifest = opts.manifest()
    money = deal_money(manifest, raw=raw)
    with opts.deal(manifest) as deal:
        amount = withdraw_owed(deal, account)
    console.print(f"{account}: withdrew {money(amount)}", markup=False)


def register(app: typer.Typer) -> None:
    app.add_typer(fleet_app, name="fleet")
