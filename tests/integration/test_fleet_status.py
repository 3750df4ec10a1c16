"""``rwa status`` shows the fleet and the escrow from the chain: the delivery-shortfall demo (OEM-A delivers 12 of
330), read back with ``--json`` (integers) and as the table (whole units with the currency), against the register
read directly and against what the calculator says the shortfall prepays."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rwa.chain.connect import connect
from rwa.leverage.analysis import stress_scenarios
from rwa.leverage.report import SHORTFALL_ROW
from rwa.leverage.sizing import size_deal
from rwa.leverage.use_of_proceeds import use_of_proceeds
from rwa.model.deal_file import load_deal
from rwa.model.units import format_money, format_time
from rwa.onchain.deployment import load_manifest
from rwa.onchain.register import FleetRegister
from tests.support.issuance import rwa


@dataclass
class Run:
    out: Path
    figures: dict[str, Any]
    table: str


@pytest.fixture(scope="module")
def shortfall(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("shortfall") / "demo"
    # the demo's exit code is the replay's verdict, which is not this test's: the run itself must have happened
    done = rwa("demo", "--months", "8", "--holders", "4", "--scenario", "delivery-shortfall", "--out", str(out))
    assert (out / "deployment.json").is_file() and "written to" in done.stdout, done.stderr
    chain = ["--deployment", str(out / "deployment.json"), "--state", str(out / "chain.sqlite")]
    figures = json.loads(rwa("status", "--json", *chain, check=True).stdout)
    table = rwa("status", *chain, check=True).stdout
    return Run(out, figures, table)


def _row(table: str, label: str) -> str:
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip("│┃ ").split("│")]
        if len(cells) == 2 and cells[0] == label:
            return cells[1]
    raise AssertionError(f"no row {label!r} in:\n{table}")


def test_status_json_is_the_register_read_directly(shortfall: Run) -> None:
    manifest = load_manifest(shortfall.out / "deployment.json")
    fleet = shortfall.figures["fleet"]
    with connect(state=shortfall.out / "chain.sqlite") as chain:
        register = FleetRegister.at(chain, manifest.address("register"))
        escrow = register.escrow()
        orders = register.orders()
        assert [(o["supplier"], o["servers"], o["unit_price"], o["delivered"]) for o in fleet["orders"]] == \
            [(o.supplier, o.servers, o.unit_price, register.delivered(i)) for i, o in enumerate(orders)]
        assert fleet["delivered"] == register.fleet()
        assert [(lease["lessee"], lease["status"], lease["servers"]) for lease in fleet["leases"]] == \
            [(lease.lessee, lease.status.label, lease.servers) for lease in register.leases()]
        e = fleet["escrow"]
        assert (e["raise"], e["raise_released"], e["equity_funded"], e["equity_released"], e["prepaid"],
                e["equity_returned"], e["settled"], e["long_stop"]) == \
            (escrow.raise_amount, escrow.raise_released, escrow.equity_funded, escrow.equity_released,
             escrow.prepaid, escrow.equity_returned, escrow.settled, register.long_stop())
    # every unit of the escrowed raise is released or prepaid; the equity released or returned
    assert e["raise"] == e["raise_released"] + e["prepaid"]
    assert e["equity_funded"] == e["equity_released"] + e["equity_returned"]
    assert e["pending"] == [] and e["settled"]
    assert all(isinstance(v, int) for v in e.values() if not isinstance(v, bool | list))


def test_the_chain_prepaid_what_the_calculator_says_the_shortfall_prepays(shortfall: Run) -> None:
    manifest = load_manifest(shortfall.out / "deployment.json")
    deal = load_deal(Path(manifest.deal_file))
    sizing = size_deal(deal)
    row = next(s for key, _, s in stress_scenarios(deal, sizing) if key == SHORTFALL_ROW)
    short = use_of_proceeds(deal, sizing, row).shortfall
    e = shortfall.figures["fleet"]["escrow"]
    assert (e["raise_released"], e["prepaid"]) == (short.escrow.raise_released, short.escrow.prepaid)
    delivered = {o["supplier"]: o["delivered"] for o in shortfall.figures["fleet"]["orders"]}
    assert delivered == {o.supplier: o.servers_delivered for o in short.escrow.orders}
    assert delivered[short.supplier] == short.servers_delivered < short.servers_ordered


def test_status_shows_the_fleet_and_the_escrow_in_whole_units(shortfall: Run) -> None:
    deal = load_deal(Path(load_manifest(shortfall.out / "deployment.json").deal_file))

    def money(units: int) -> str:
        return format_money(units, deal.decimals, deal.currency)

    f, e = shortfall.figures["fleet"], shortfall.figures["fleet"]["escrow"]
    table = shortfall.table
    assert _row(table, "fleet: servers ordered / delivered / in service").startswith(
        f"{f['ordered']} / {f['delivered']} / {f['in_service']}")
    assert _row(table, "escrow: released from the raise / from equity") == \
        f"{money(e['raise_released'])} / {money(e['equity_released'])}"
    assert _row(table, "escrow: prepaid to the pool / equity returned") == \
        f"{money(e['prepaid'])} / {money(e['equity_returned'])}"
    assert _row(table, "escrow: long-stop") == f"{format_time(e['long_stop'])} (settled)"
    for o in f["orders"]:
        assert _row(table, f"order {o['order']}: {o['supplier']}").startswith(f"{o['delivered']} of {o['servers']}")
