"""The fleet register's rules in the model (``rwa.model.fleet``) and the deal file's orders and long-stop."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwa.errors import DealConfigError, InputError
from rwa.leverage.cashflows import lease_servers
from rwa.model.deal import Deal, parse_deal
from rwa.model.fleet import (
    Escrow,
    LeaseRow,
    LeaseStatus,
    LeaseTerms,
    allocate,
    contracted_rent,
    delivery_batches,
    register_terms,
    release_split,
    tape_totals,
)
from tests.support.deals import EXAMPLE_DEAL


def raw() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE_DEAL.read_text(), parse_float=Decimal)


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(DealConfigError) as info:
        parse_deal(data)
    return str(info.value)


@pytest.mark.parametrize("shortfall", [False, True])
def test_the_schedule_and_the_allocation_are_the_deal_files(deal: Deal, shortfall: bool) -> None:
    """The batches and the servers each lease gets, against the deal file's own schedule and leases counted here
    directly (the 330-server order delivering 12 in the shortfall)."""
    def scheduled(d: Any) -> int:
        return d.servers * 12 // 330 if shortfall and d.supplier == "OEM-A" else d.servers

    count = deal.periods.count
    fleet = [sum(scheduled(d) for d in deal.cluster.deliveries if d.period <= p) for p in range(1, count + 1)]
    batches = delivery_batches(deal, shortfall)
    assert [sum(b.servers for b in batches if b.period <= p) for p in range(1, count + 1)] == fleet
    assert fleet[0] == (12 if shortfall else 330) + 320 and fleet[-1] == fleet[0] + 150
    by_lease = lease_servers(deal, shortfall)
    for p in range(1, count + 1):
        free, expected = fleet[p - 1], []
        for lease in deal.leases:
            take = min(lease.servers, free) if lease.start_period <= p <= lease.end_period else 0
            free -= take
            expected.append(take)
        assert [row[p - 1] for row in by_lease] == expected


def test_the_shortfall_cuts_the_330_server_order_to_12(deal: Deal) -> None:
    cut = {b.supplier: b.servers for b in delivery_batches(deal, shortfall=True)}
    whole = {b.supplier: b.servers for b in delivery_batches(deal)}
    assert whole["OEM-A"] == 330 and cut["OEM-A"] == 12
    assert {k: v for k, v in cut.items() if k != "OEM-A"} == {k: v for k, v in whole.items() if k != "OEM-A"}


def test_the_register_terms_are_the_deals_orders_and_leases(deal: Deal) -> None:
    treasury = "0x0000000000000000000000000000000000000001"
    terms = register_terms(deal, treasury)
    assert [o.supplier for o in terms.orders] == ["OEM-A", "OEM-B", "OEM-C"]
    assert terms.capex_total == deal.cluster.servers * deal.cluster.capex_per_server
    assert terms.orders[0].recipient == deal.cluster.orders[0].recipient
    assert terms.orders[1].recipient == treasury  # no recipient named: the treasury, against the invoice
    assert terms.long_stop == int(deal.periods.end_of(deal.long_stop_period).timestamp())
    assert [lease.servers for lease in terms.leases] == [lease.servers for lease in deal.leases]


def test_leases_not_in_force_get_no_servers_and_the_next_ones_take_them() -> None:
    leases = [LeaseTerms("A", 10, 5, 1, 12), LeaseTerms("B", 10, 7, 1, 12, LeaseStatus.DEFAULTED),
              LeaseTerms("C", 10, 9, 3, 12, LeaseStatus.RELET)]
    assert allocate(leases, 25, 2) == [10, 0, 0]  # C starts in period 3
    assert allocate(leases, 25, 3) == [10, 0, 10]
    assert contracted_rent(leases, 15, 3) == 10 * 5 + 5 * 9


def test_a_tape_is_checked_as_the_register_checks_it() -> None:
    leases = [LeaseTerms("A", 10, 5, 1, 12), LeaseTerms("B", 10, 7, 1, 12)]
    rows = [LeaseRow(1, 10, 50, 50), LeaseRow(2, 5, 30, 20, 45)]
    totals = tape_totals(rows, leases, 15, 1)
    assert (totals.billed, totals.collected, totals.servers) == (80, 70, 15)
    assert (totals.contracted_rent, totals.worst_lease, totals.worst_days_past_due) == (10 * 5 + 5 * 7, 2, 45)
    with pytest.raises(InputError, match="lease 2 \\(B\\) bills 6 servers, the register gives it 5"):
        tape_totals([rows[0], LeaseRow(2, 6, 30, 30)], leases, 15, 1)
    with pytest.raises(InputError, match="the tape has 1 rows, the register 2 leases"):
        tape_totals(rows[:1], leases, 15, 1)
    with pytest.raises(InputError, match="tape row 1 is for lease 2"):
        tape_totals(list(reversed(rows)), leases, 15, 1)


@settings(max_examples=200, deadline=None)
@given(raise_amount=st.integers(1, 10**15), prices=st.lists(st.integers(1, 10**12), min_size=1, max_size=20))
def test_the_raise_pays_its_share_of_each_release_and_the_whole_fleet_spends_it_to_the_unit(
    raise_amount: int, prices: list[int]
) -> None:
    capex = sum(prices)
    raise_amount = min(raise_amount, capex)
    released = from_raise_total = 0
    for price in prices:
        from_raise, from_equity = release_split(released, price, raise_amount, capex)
        assert from_raise + from_equity == price and from_raise >= 0 and from_equity >= 0
        assert from_raise <= price * raise_amount // capex + 1  # never more than its share, but for one unit
        released += price
        from_raise_total += from_raise
    assert from_raise_total == raise_amount


def test_the_escrow_model_settles_the_rest_as_a_prepayment() -> None:
    escrow = Escrow(capex_total=1_000).fund_raise(600).fund_equity(300)
    assert escrow.can_release(500, now=1, long_stop=10)
    escrow, release = escrow.release(0, 0, 500)
    assert (release.from_raise, release.from_equity) == (300, 200)
    assert not escrow.can_release(500, now=1, long_stop=10)  # the equity left (100) is short of 200
    assert not escrow.can_release(100, now=10, long_stop=10)  # the long-stop has come
    escrow = escrow.record(1, 0, 500).settle()
    assert (escrow.prepaid, escrow.equity_returned, escrow.pending) == (300, 100, ())
    assert escrow.raise_released + escrow.prepaid == escrow.raise_amount


def test_orders_that_do_not_match_the_schedule_are_refused_naming_the_field() -> None:
    data = raw()
    data["cluster"]["orders"][1]["servers"] = 300
    assert "cluster.orders" in error_of(data)
    data = raw()
    data["cluster"]["deliveries"][0]["supplier"] = "OEM-Z"
    assert error_of(data).startswith("deal.cluster.deliveries[0].supplier")
    data = raw()
    data["proceeds"]["long_stop_period"] = 1
    assert "deal.proceeds.long_stop_period: must be at or after the last scheduled delivery (period 2)" in \
        error_of(data)
    data = raw()
    data["oracle"]["reporter_names"] = ["only one"]
    assert "reporter_names" in error_of(data)
