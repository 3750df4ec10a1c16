"""Billing exports, the cluster simulator and reporter keystores, off-chain."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from eth_account import Account

from rwa.errors import InputError
from rwa.oracle.keys import load_reporter_keystores, select_signers, write_keystore
from rwa.oracle.simulator import ClusterParams, load_params, simulate, simulate_from_deal
from rwa.oracle.sources import read_billing, write_csv, write_json
from tests.support.oracle import billing_rows, deal_path, write_export

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
    params = load_params(DEAL)
    a, b = simulate(params, 7), simulate(params, 7)
    assert a == b
    assert [r.to_report() for r in a] == [r.to_report() for r in b]
    assert [r.utilization_bps for r in simulate(params, 8)] != [r.utilization_bps for r in a]
    assert len(a) == params.periods


def test_simulator_figures_follow_the_deal() -> None:
    params = load_params(DEAL)
    rows = simulate(params, 1)
    for row in rows:
        assert 0 <= row.revenue <= row.contracted_rent  # utilization and prices never bill above the contracts
        assert row.active_servers <= params.servers
    lease_servers = sum(lease.servers for lease in params.leases if lease.start_period == 1)
    assert rows[0].active_servers == min(lease_servers, params.delivered_by(1))
    in_force = [lease for lease in params.leases if lease.start_period <= 1 <= lease.end_period]
    assert rows[0].contracted_rent == sum(lease.servers * lease.rent_per_server_month for lease in in_force)


def test_stress_cuts_rent_from_month_13_and_holds_utilization_near_half() -> None:
    params = load_params(DEAL)
    base, stress = simulate(params, 3, "base"), simulate(params, 3, "stress")
    assert [r.contracted_rent for r in base] == [r.contracted_rent for r in stress]
    assert int(stress[12].raw["price_index_bps"]) == int(base[12].raw["price_index_bps"]) * 8_000 // 10_000
    assert int(stress[11].raw["price_index_bps"]) == int(base[11].raw["price_index_bps"])
    assert [r.utilization_bps for r in stress[:12]] == [r.utilization_bps for r in base[:12]]
    late = stress[24:]  # the glide from period 13 reaches 50% at period 24
    mean = sum(r.utilization_bps for r in late) / len(late)
    assert 4_000 < mean < 6_000
    assert sum(r.revenue for r in stress) < sum(r.revenue for r in base)


def test_a_supplier_that_delivers_12_of_330_leaves_servers_idle() -> None:
    params = load_params(DEAL)
    supplier = params.deliveries[0].supplier
    short = params.with_supplier_trouble(shortfall={supplier: 12 / 330}, delay_periods={"OEM-B": 2})
    assert short.delivered_by(1) < params.delivered_by(1)
    rows = simulate(short, 1)
    assert rows[0].active_servers == short.delivered_by(1)
    assert sum(r.revenue for r in rows) < sum(r.revenue for r in simulate(params, 1))


def test_simulate_from_a_loaded_deal_matches_the_file_reader() -> None:
    try:
        from rwa.deal import load_deal  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        params = load_params(DEAL)
        assert ClusterParams.from_deal(params_as_deal(params)) == params
        return
    assert simulate_from_deal(load_deal(DEAL), 5) == simulate_from_deal(DEAL, 5)


def params_as_deal(params: ClusterParams) -> object:
    """A duck-typed deal with just the fields ``from_deal`` reads."""
    from types import SimpleNamespace as NS

    return NS(
        periods=NS(count=params.periods),
        cluster=NS(servers=params.servers, deliveries=[NS(period=d.period, servers=d.servers, supplier=d.supplier)
                                                       for d in params.deliveries]),
        leases=[NS(servers=lease.servers, rent_per_server_month=lease.rent_per_server_month,
                   start_period=lease.start_period, term_periods=lease.end_period - lease.start_period + 1)
                for lease in params.leases],
        utilization=NS(base=params.utilization_base),
        risk=NS(utilization_vol=params.utilization_vol, utilization_mean_reversion=params.mean_reversion,
                rent_drift_annual=params.rent_drift_annual),
    )


def test_simulated_rows_round_trip_through_csv_and_json(tmp_path: Path) -> None:
    rows = simulate(load_params(DEAL), 2)[:6]
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
