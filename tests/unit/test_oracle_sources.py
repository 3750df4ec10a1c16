"""Billing exports, the cluster simulator and reporter keystores, off-chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from rwa.errors import InputError
from rwa.leverage.cashflows import contracted_rent, delivered_servers, lease_rent, lease_servers
from rwa.model.deal_file import load_deal
from rwa.model.fleet import contracted_rent as fleet_rent
from rwa.model.fleet import register_terms
from rwa.model.units import FX_RATE_SCALE, fx_convert_down
from rwa.oracle.billing import read_billing, write_csv, write_json
from rwa.oracle.keys import load_reporter_keystores, select_signers, write_keystore
from rwa.oracle.simulator import SimulatorScenario, simulate
from tests.support.oracle import RMB_RATE, billing_rows, converted_rows, deal_path, write_export

DEAL = deal_path()


def test_raw_fields_enter_the_data_hash(tmp_path: Path) -> None:
    rows = billing_rows(range(1, 3))
    base = read_billing(write_export(rows, tmp_path / "a.csv")).row(1)
    rows[0]["invoice"] = "INV-999"
    changed = read_billing(write_export(rows, tmp_path / "b.csv")).row(1)
    assert base.to_report().revenue == changed.to_report().revenue
    assert base.data_hash() != changed.data_hash()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("period,revenue\n1,5\n", "header lacks column(s) utilization_bps, active_servers, contracted_rent"),
        ("period,revenue,utilization_bps,active_servers,contracted_rent\n1,5,10001,1,9\n",
         "line 2: utilization_bps: 10001 is above the maximum 10000"),
        ("period,revenue,utilization_bps,active_servers,contracted_rent\n1,,1,1,9\n", "line 2: revenue: missing"),
        ("period,revenue,utilization_bps,active_servers,contracted_rent\n0,5,1,1,9\n", "line 2: period: must be >= 1"),
    ],
)
def test_csv_problems_name_the_line_and_field(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(InputError) as info:
        read_billing(path)
    assert expected in str(info.value) and "\n" not in str(info.value)


def test_json_problems_name_the_row(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"rows": [{"period": 1, "revenue": 1.5, "utilization_bps": 1, "active_servers": 1,
                                          "contracted_rent": 2}]}))
    with pytest.raises(InputError, match=r"rows\[0\]: revenue: 1.5 is not an integer"):
        read_billing(path)
    path.write_text("[1]")
    with pytest.raises(InputError, match=r"rows\[0\]: not an object"):
        read_billing(path)
    (tmp_path / "x.xlsx").write_text("period")
    with pytest.raises(InputError, match="unknown format"):
        read_billing(tmp_path / "x.xlsx")


def test_simulator_is_deterministic_and_seeded() -> None:
    deal = load_deal(DEAL)
    a, b = simulate(deal, 7), simulate(deal, 7)
    assert a == b
    assert [r.to_report() for r in a] == [r.to_report() for r in b]
    assert [r.utilization_bps for r in simulate(deal, 8)] != [r.utilization_bps for r in a]
    assert len(a) == deal.periods.count


def test_simulator_servers_and_rents_are_the_calculators() -> None:
    deal = load_deal(DEAL)
    rows = simulate(deal, 1)
    servers, rents = lease_servers(deal), lease_rent(deal)
    for index, row in enumerate(rows):
        assert row.active_servers == sum(lease[index] for lease in servers)
        assert row.contracted_rent == contracted_rent(deal)[index]
        assert int(row.raw["delivered_servers"]) == delivered_servers(deal)[index]
        billable = sum(lease[index] for lease in rents)
        price = int(row.raw["price_index_bps"])
        in_stablecoin = billable * price * row.utilization_bps // 10**8
        # each lease billed in RMB (its rent taken back at the deal's rate), the tape's total converted at the rate
        billed = [lease[index] * FX_RATE_SCALE // RMB_RATE * price * row.utilization_bps // 10**8 for lease in rents]
        assert [(r.lease, r.servers, r.billed, r.collected, r.days_past_due) for r in row.tape] == [
            (i + 1, servers[i][index], billed[i], billed[i], 0) for i in range(len(rents))]
        assert row.source_revenue == sum(billed)
        assert row.fx_rate == RMB_RATE and row.raw["source_currency"] == "RMB"
        assert row.revenue == fx_convert_down(row.source_revenue, row.fx_rate)
        # there and back, lease by lease, loses at most one smallest unit a lease
        assert in_stablecoin - len(rents) <= row.revenue <= in_stablecoin
        assert 0 <= row.revenue <= row.contracted_rent  # utilization and prices never bill above the contracts


def test_a_deal_without_a_source_currency_simulates_its_revenue_at_the_rate_one() -> None:
    deal = load_deal(DEAL)
    plain = deal.model_copy(update={"source_currency": None, "rmb_per_unit": None})
    for converted, row in zip(simulate(deal, 4), simulate(plain, 4), strict=True):
        assert (row.source_revenue, row.fx_rate) == (row.revenue, FX_RATE_SCALE)
        assert row.raw["source_currency"] == "USDC" and row.utilization_bps == converted.utilization_bps
        # each lease rounds on its own, in the finer source unit or in the stablecoin's: one smallest unit a lease
        assert abs(converted.revenue - row.revenue) <= len(row.tape)


def test_an_export_with_the_conversion_reports_it_and_one_without_reports_the_stablecoins_revenue(
    tmp_path: Path,
) -> None:
    rows = converted_rows(range(1, 3))
    for suffix in ("csv", "json"):
        report = read_billing(write_export(rows, tmp_path / f"fx.{suffix}")).row(2).to_report()
        assert (report.source_revenue, report.fx_rate) == (rows[1]["source_revenue"], RMB_RATE)
        assert report.revenue == rows[1]["revenue"] == fx_convert_down(report.source_revenue, RMB_RATE)
    old = read_billing(write_export(billing_rows(range(1, 3)), tmp_path / "old.csv")).row(1)
    assert not old.converted
    report = old.to_report()
    assert (report.source_revenue, report.fx_rate) == (report.revenue, FX_RATE_SCALE)
    assert set(old.raw) == set(billing_rows(range(1, 2))[0])  # the hash covers the export's own columns, as before


@pytest.mark.parametrize("suffix", ["csv", "json"])
def test_a_row_whose_revenue_is_not_its_conversion_is_refused_naming_the_figures(tmp_path: Path, suffix: str) -> None:
    rows = converted_rows(range(1, 3))
    rows[1]["revenue"] = int(str(rows[1]["revenue"])) + 1
    source, want = rows[1]["source_revenue"], int(str(rows[1]["revenue"])) - 1
    with pytest.raises(InputError) as info:
        read_billing(write_export(rows, tmp_path / f"x.{suffix}"))
    where = "line 3" if suffix == "csv" else "rows[1]"
    assert f"{where}: revenue: {want + 1} is not source_revenue {source} at fx_rate {RMB_RATE}, which is {want}" in str(
        info.value)
    assert "\n" not in str(info.value)


def test_an_export_with_half_the_conversion_is_refused_naming_the_missing_column(tmp_path: Path) -> None:
    rows = converted_rows(range(1, 2))
    del rows[0]["fx_rate"]
    with pytest.raises(InputError, match=r"line 1: header has source_revenue but lacks column fx_rate"):
        read_billing(write_export(rows, tmp_path / "x.csv"))
    with pytest.raises(InputError, match=r"rows\[0\]: fx_rate: missing \(a row gives both"):
        read_billing(write_export(rows, tmp_path / "x.json"))
    rows = converted_rows(range(1, 2))
    rows[0]["fx_rate"] = "0.1388"
    with pytest.raises(InputError, match=r"rows\[0\]: fx_rate: '0.1388' is not an integer"):
        read_billing(write_export(rows, tmp_path / "y.json"))
    rows[0]["fx_rate"] = 2**96
    with pytest.raises(InputError, match=r"rows\[0\]: fx_rate: .* is above the maximum"):
        read_billing(write_export(rows, tmp_path / "z.json"))


def test_simulator_leaves_servers_idle_until_they_are_delivered() -> None:
    deal = load_deal(DEAL)
    first = deal.cluster.deliveries[0]
    late = deal.model_copy(update={"cluster": deal.cluster.model_copy(update={"deliveries": [
        first.model_copy(update={"period": 3}), *deal.cluster.deliveries[1:]]})})
    on_time, delayed = simulate(deal, 1), simulate(late, 1)
    assert delayed[0].active_servers < on_time[0].active_servers
    # the contracted rent follows the leases of the servers delivered (the register's rule), not the contracts alone
    assert delayed[0].contracted_rent < on_time[0].contracted_rent
    leases = register_terms(late, "0x" + "11" * 20).leases
    for period in (1, 2, 3):
        fleet = delivered_servers(late)[period - 1]
        assert delayed[period - 1].contracted_rent == fleet_rent(leases, fleet, period)
    assert delayed[2].active_servers == on_time[2].active_servers
    assert delayed[2].contracted_rent == on_time[2].contracted_rent


def test_stress_cuts_rent_from_month_13_and_holds_utilization_near_half() -> None:
    deal = load_deal(DEAL)
    base, stress = simulate(deal, 3, SimulatorScenario.BASE), simulate(deal, 3, SimulatorScenario.STRESS)
    assert [r.contracted_rent for r in base] == [r.contracted_rent for r in stress]
    assert int(stress[12].raw["price_index_bps"]) == int(base[12].raw["price_index_bps"]) * 8_000 // 10_000
    assert int(stress[11].raw["price_index_bps"]) == int(base[11].raw["price_index_bps"])
    assert [r.utilization_bps for r in stress[:12]] == [r.utilization_bps for r in base[:12]]
    late = stress[24:]  # the glide from period 13 reaches 50% at period 24
    mean = sum(r.utilization_bps for r in late) / len(late)
    assert 4_000 < mean < 6_000
    assert sum(r.revenue for r in stress) < sum(r.revenue for r in base)


@pytest.mark.parametrize("scenario", ["strss", "Stress", ""])
def test_an_unknown_scenario_is_refused_naming_the_allowed_ones(scenario: str) -> None:
    with pytest.raises(InputError, match=r"use one of base, stress") as info:
        SimulatorScenario.parse(scenario)
    assert repr(scenario) in str(info.value)


def test_simulated_rows_round_trip_through_csv_and_json(tmp_path: Path) -> None:
    rows = simulate(load_deal(DEAL), 2)[:6]
    for path in (write_csv(rows, tmp_path / "s.csv"), write_json(rows, tmp_path / "s.json")):
        export = read_billing(path)
        assert [export.row(r.period).to_report() for r in rows] == [r.to_report() for r in rows]


def test_reporter_keystores_decrypt_and_refuse_a_wrong_password(tmp_path: Path) -> None:
    accounts = [Account.create() for _ in range(3)]
    paths = [write_keystore(a, tmp_path / f"r{i}.json", "pw", iterations=2) for i, a in enumerate(accounts)]
    loaded = load_reporter_keystores(paths, "pw")
    assert [a.address for a in loaded] == [a.address for a in accounts]
    with pytest.raises(InputError, match="wrong password"):
        load_reporter_keystores(paths[:1], "nope")
    chosen = select_signers(loaded, [a.address for a in accounts[:2]], 2)
    assert sorted(a.address.lower() for a in chosen) == sorted(a.address.lower() for a in accounts[:2])
    with pytest.raises(InputError, match="threshold is 3"):
        select_signers(loaded, [a.address for a in accounts[:2]], 3)


def _tape_csv(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(["period,lease,servers,billed,collected,days_past_due", *lines]) + "\n",
                    encoding="utf-8")
    return path


def test_a_csv_export_takes_its_tapes_from_a_companion_and_hashes_them_as_if_it_carried_them(tmp_path: Path) -> None:
    rows = billing_rows(range(1, 3))
    carried = read_billing(write_export(rows, tmp_path / "with.csv"))
    bare = [{k: v for k, v in row.items() if k != "tape"} for row in rows]
    lines = [f"{row['period']},1,{row['active_servers']},{row['revenue']},{row['revenue']}," for row in rows]
    companion = read_billing(write_export(bare, tmp_path / "bare.csv"), _tape_csv(tmp_path / "tape.csv", lines))
    for period in (1, 2):
        assert companion.row(period).to_report() == carried.row(period).to_report()
        assert companion.row(period).data_hash() == carried.row(period).data_hash()


def test_a_tape_companion_that_does_not_fit_its_export_is_refused_in_one_line(tmp_path: Path) -> None:
    rows = billing_rows(range(1, 2))
    bare = write_export([{k: v for k, v in rows[0].items() if k != "tape"}], tmp_path / "bare.csv")
    revenue = rows[0]["revenue"]
    cases = [
        ([f"1,1,800,{revenue},{revenue},", f"2,1,800,{revenue},{revenue},"], bare,
         "period 2: the export"),
        ([f"1,2,800,{revenue},{revenue},"], bare, "tape[0]: lease: 2, must be 1"),
        ([f"1,1,800,{int(str(revenue)) - 1},0,30"], bare, "tape: the rows bill"),
        ([f"1,1,800,{revenue},{revenue},"], write_export(rows, tmp_path / "with.csv"), "given both"),
    ]
    for i, (lines, export, expected) in enumerate(cases):
        with pytest.raises(InputError) as info:
            read_billing(export, _tape_csv(tmp_path / f"t{i}.csv", lines))
        assert expected in str(info.value) and "\n" not in str(info.value), str(info.value)
    (tmp_path / "h.csv").write_text("period,lease,servers\n1,1,800\n", encoding="utf-8")
    with pytest.raises(InputError, match="header lacks column"):
        read_billing(bare, tmp_path / "h.csv")
