"""The demo's fleet: the base run delivers the whole schedule and spends the raise on it; the seed's shortfall (the
330-server order delivers 12) releases only what came, prepays the senior with the rest at the long-stop, and the
senior is still paid in full. Both reconcile."""

from __future__ import annotations

import io
import json
from pathlib import Path

from rich.console import Console

from rwa.cli.demo import run_demo
from rwa.model.deal_file import load_deal
from rwa.model.fleet import delivery_batches, release_split


def _run(tmp_path: Path, scenario: str, months: int) -> tuple[dict[str, int], Path]:
    out = tmp_path / scenario
    summary = run_demo(Console(file=io.StringIO()), months=months, holders=4, scenario=scenario, out=out)
    assert summary.replay_exit_code == 0, summary.replay_findings
    return json.loads((out / "summary.json").read_text()), out


def _released_from_raise(deal_path: Path, shortfall: bool, raise_amount: int) -> tuple[int, int]:
    """What the schedule's batches release from the raise, by the register's rule, and the servers they bring."""
    deal = load_deal(deal_path)
    capex = deal.cluster.servers * deal.cluster.capex_per_server
    released = from_raise = servers = 0
    for batch in delivery_batches(deal, shortfall):
        price = batch.servers * deal.cluster.capex_per_server
        from_raise += release_split(released, price, raise_amount, capex)[0]
        released += price
        servers += batch.servers
    return from_raise, servers


def test_the_base_demo_spends_the_raise_on_the_whole_fleet(tmp_path: Path) -> None:
    s, _ = _run(tmp_path, "base", 3)
    assert s["escrowed"] == s["proceeds"] > 0  # the proceeds are below the fleet's price: all of them in escrow
    assert s["servers_delivered"] == s["servers_ordered"] == 800
    assert s["released_from_raise"] == s["escrowed"]  # the whole fleet released: the raise spent to the unit
    assert s["released_from_equity"] == s["equity_funded"]
    assert s["prepaid"] == 0 and s["equity_returned"] == 0


def test_the_shortfall_demo_prepays_the_senior_and_still_pays_it_in_full(tmp_path: Path) -> None:
    s, out = _run(tmp_path, "delivery-shortfall", 60)
    from_raise, servers = _released_from_raise(out / "deal.toml", True, s["escrowed"])
    assert servers == s["servers_delivered"] == 800 - 330 + 12
    assert s["released_from_raise"] == from_raise
    assert s["prepaid"] == s["escrowed"] - from_raise > 0  # every unit of the raise: released or prepaid
    assert s["equity_returned"] == s["equity_funded"] - s["released_from_equity"] > 0
    assert s["finalized"] and s["senior_outstanding"] == 0
