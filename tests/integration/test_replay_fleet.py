"""The auditor follows the money to its use: the demo's deal, delivered in full and with the seed's shortfall (12 of
the 330-server order), replays from the chain and the deal file alone, its use of proceeds adding up to the unit."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from web3 import Web3

from rwa.chain.interface import Chain
from rwa.chain.pipeline import Batch
from rwa.chain.tx import send
from rwa.cli.demo import DemoSummary, run_demo
from rwa.cli.options import ChainOptions
from rwa.model.deal_file import load_deal
from rwa.model.fleet import Escrow, RegisterTerms, delivery_batches, register_terms
from rwa.model.terms import treasury_of
from rwa.onchain.base import create, to_address
from rwa.onchain.deployment import load_manifest
from rwa.onchain.register import FleetRegister
from rwa.replay.run import run_replay
from tests.support.report_sections import assert_asset_sections_render

SCENARIOS = {"base": 8, "delivery-shortfall": 12}


@pytest.fixture(scope="module", params=sorted(SCENARIOS))
def demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, DemoSummary]:
    scenario = str(request.param)
    out = tmp_path_factory.mktemp(scenario) / "demo"
    summary = run_demo(Console(file=io.StringIO()), months=SCENARIOS[scenario], holders=6, scenario=scenario, out=out)
    return scenario, out, summary


def _audit(out: Path) -> dict[str, Any]:
    return _audit_at(out)


def _audit_at(folder: Path) -> dict[str, Any]:
    return dict(json.loads((folder / "audit" / "summary.json").read_text()))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open() as fh:
        return list(csv.DictReader(fh))


def test_the_demo_replays_and_its_use_of_proceeds_adds_up_to_the_unit(demo: tuple[str, Path, DemoSummary]) -> None:
    scenario, out, summary = demo
    audit = _audit(out)
    assert summary.replay_exit_code == 0 and audit["verdict"] == "reconciled", json.loads(
        (out / "audit" / "findings.json").read_text())
    use = audit["use_of_proceeds"]
    # every unit of the raise: reserve, costs, the treasury's share, the escrow; the escrow: releases and prepayment
    assert use["raised"] - use["reserve"] - use["costs"] == use["escrowed"] + use["to_treasury"]
    assert use["escrowed"] == use["released_from_raise"] + use["prepaid"]
    assert use["equity_funded"] == use["released_from_equity"] + use["equity_returned"]
    assert use["settled"] and use["held"] == 0
    # the same figures from the deal file and the model's rules alone
    deal = load_deal(out / "deal.toml")
    terms = register_terms(deal, treasury_of(deal, load_manifest(out / "deployment.json").roles.issuer))
    escrow = Escrow(terms.capex_total).fund_raise(min(use["raised"] - use["reserve"] - use["costs"],
                                                      terms.capex_total))
    escrow = escrow.fund_equity(terms.capex_total - escrow.raise_amount)
    per_order = {i: [0, 0] for i in range(len(terms.orders))}
    batches = delivery_batches(deal, shortfall=scenario == "delivery-shortfall")
    for k, batch in enumerate(batches):
        order = terms.order_index(batch.supplier)
        escrow, release = escrow.release(k, order, batch.servers * terms.orders[order].unit_price)
        per_order[order][0] += release.from_raise
        per_order[order][1] += release.from_equity
    escrow = escrow.settle()
    assert (use["escrowed"], use["equity_funded"]) == (escrow.raise_amount, escrow.equity_funded)
    assert (use["released_from_raise"], use["released_from_equity"]) == (escrow.raise_released,
                                                                         escrow.equity_released)
    assert (use["prepaid"], use["equity_returned"]) == (escrow.prepaid, escrow.equity_returned)
    assert [[o["from_raise"], o["from_equity"]] for o in use["orders"]] == [per_order[i] for i in per_order]
    assert summary.prepaid == escrow.prepaid and (escrow.prepaid > 0) == (scenario == "delivery-shortfall")
    prepaid = [d for d in json.loads((out / "audit" / "disclosures.json").read_text())
               if d["kind"] == "long-stop-prepayment"]
    assert [d["amount"] for d in prepaid] == ([escrow.prepaid] if escrow.prepaid else [])


def test_the_fleet_and_every_tape_are_rebuilt_from_the_chain(demo: tuple[str, Path, DemoSummary]) -> None:
    scenario, out, summary = demo
    deal = load_deal(out / "deal.toml")
    batches = delivery_batches(deal, shortfall=scenario == "delivery-shortfall")
    fleet = _rows(out / "audit" / "fleet.csv")
    assert [int(r["period"]) for r in fleet] == list(range(1, SCENARIOS[scenario] + 1))
    for row in fleet:
        period = int(row["period"])
        assert int(row["ordered"]) == sum(o.servers for o in deal.cluster.supplier_orders())
        assert int(row["delivered"]) == sum(b.servers for b in batches if b.period <= period)
        leased = sum(int(v) for k, v in row.items() if k.startswith("leased:"))
        assert leased == int(row["active"]) <= int(row["delivered"])
    tapes = _rows(out / "audit" / "tapes.csv")
    assert len(tapes) == SCENARIOS[scenario] * len(deal.leases)
    periods = {int(r["period"]): r for r in _rows(out / "audit" / "periods.csv")}
    for period, row in periods.items():
        billed = sum(int(t["billed"]) for t in tapes if int(t["period"]) == period)
        assert billed == int(row["source_revenue"])
    audit = _audit(out)
    assert audit["fleet"]["delivered"] == summary.servers_delivered == sum(b.servers for b in batches)
    assert audit["fleet"]["tapes"] == SCENARIOS[scenario]


def test_the_reports_use_of_proceeds_and_fleet_sections_render_with_their_figures(
    demo: tuple[str, Path, DemoSummary]
) -> None:
    _, out, _ = demo
    assert_asset_sections_render(out / "audit" / "report.html", _audit(out))


class RogueFleetRegister(FleetRegister):
    """The test double's wrapper: the register's, with ``rogueRelease`` in its ABI."""

    CONTRACT = "RogueFleetRegister"


def _rogue_register(cls: type[FleetRegister], chain: Chain, terms: RegisterTerms, *, stablecoin: str, oracle: str,
                    sender: str, batch: Batch | None = None) -> FleetRegister:
    """``FleetRegister.deploy`` deploying the test double with a release outside the rules (``RogueFleetRegister``)."""
    orders = [(to_address(o.recipient), o.servers, 0, o.unit_price) for o in terms.orders]
    leases = [(lease.rent_per_server, lease.servers, lease.start_period, lease.end_period, int(lease.status))
              for lease in terms.leases]
    return cls(chain, create(chain, "RogueFleetRegister", to_address(stablecoin), to_address(oracle),
                             to_address(terms.treasury), terms.long_stop, terms.period_count, orders,
                             [o.supplier for o in terms.orders], leases, [lease.lessee for lease in terms.leases],
                             sender=sender, batch=batch))


def test_a_release_outside_the_escrows_rules_is_a_finding(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a deal whose escrow has one function outside the rules, as a rogue contract could
    monkeypatch.setattr(FleetRegister, "deploy", classmethod(_rogue_register))
    out = tmp_path / "demo"
    run_demo(Console(file=io.StringIO()), months=3, holders=4, scenario="delivery-shortfall", out=out)
    monkeypatch.undo()
    stranger = "0x" + "5a" * 20
    with ChainOptions(state=out / "chain.sqlite").chain() as chain:
        manifest = load_manifest(out / "deployment.json")
        register = RogueFleetRegister.at(chain, manifest.address("register"))
        escrow = register.escrow()
        taken = (escrow.raise_amount - escrow.raise_released) // 10
        # delivery 0 (OEM-A's 12 servers) was released at its attestation; it is "released" again, to a stranger
        send(register.contract.functions.rogueRelease(0, 0, Web3.to_checksum_address(stranger), taken, 0),
             sender=chain.accounts[0].address)
        result = run_replay(chain, out / "deployment.json", tmp_path / "audit", db=tmp_path / "ledger.sqlite")
    assert result.exit_code == 1
    assert {f.kind for f in result.findings} == {"release"}, [f.detail for f in result.findings]
    [finding] = result.findings
    assert (finding.account, finding.actual) == (register.address, 0)
    assert f"{taken:,} from the raise" in finding.detail and "already released" in finding.detail
    use = _audit_at(tmp_path)["use_of_proceeds"]
    assert use["released_from_raise"] == escrow.raise_released + taken  # the chain's figure, the rogue part in it
