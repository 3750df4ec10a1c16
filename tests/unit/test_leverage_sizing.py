from __future__ import annotations

import itertools
import math
import tomllib
from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from rwa.errors import DealConfigError
from rwa.leverage import (
    base_revenue,
    contracted_rent,
    junior_for,
    operating_costs,
    refunds,
    scenario_cashflows,
    servicing_fee_per_period,
    size_deal,
)
from rwa.leverage.cashflows import (
    BASE,
    billable_rent,
    collateral_value,
    delivered_servers,
    largest_lessee,
    largest_supplier,
    lease_servers,
    lessee_default,
)
from rwa.leverage.path_engine import run_paths
from rwa.leverage.sculpt import size_by_dscr
from rwa.leverage.sizing import CONSTRAINTS
from rwa.model.deal import Deal, parse_deal
from rwa.model.fleet import delivery_batches
from tests.support.deals import EXAMPLE_DEAL as EXAMPLE


def example_data() -> dict[str, Any]:
    """The example deal's parsed TOML, to change before ``parse_deal``."""
    return tomllib.loads(EXAMPLE.read_text(), parse_float=Decimal)


def variant(**changes: Any) -> Deal:
    """The example deal with ``section__field=value`` changes."""
    data = tomllib.loads(EXAMPLE.read_text(), parse_float=Decimal)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        data[section][field] = value
    return parse_deal(data)


def test_schedule_principal_sums_exactly_to_the_senior(deal: Deal) -> None:
    sizing = size_deal(deal)
    assert sum(r.principal for r in sizing.schedule) == sizing.senior_size
    assert sizing.schedule[-1].balance == 0
    assert [r.period for r in sizing.schedule] == list(range(1, deal.periods.count + 1))


def test_every_base_case_dscr_meets_the_target(deal: Deal) -> None:
    sizing = size_deal(deal)
    for row in sizing.schedule:
        service = row.interest + row.principal
        if service:
            assert row.cfads >= deal.financing.dscr_target * service
            assert row.dscr >= deal.financing.dscr_target


def test_every_p90_dscr_meets_the_downside_target(deal: Deal) -> None:
    sizing = size_deal(deal)
    for row, p90 in zip(sizing.schedule, sizing.cfads_p90, strict=True):
        service = row.interest + row.principal
        if service:
            assert p90 >= deal.financing.p90_dscr_target * service
            assert row.dscr_p90 == pytest.approx(p90 / service)


def test_schedule_follows_the_contract_conventions(deal: Deal) -> None:
    sizing = size_deal(deal)
    balance = sizing.senior_size
    for row in sizing.schedule:
        assert row.interest == balance * deal.financing.senior_coupon_bps // 120_000
        assert row.principal >= 0
        balance -= row.principal
        assert row.balance == balance >= 0
    assert all(r.principal == 0 for r in sizing.schedule[sizing.tenor_periods :])


def test_cfads_is_revenue_plus_refunds_less_the_fixed_fee(deal: Deal) -> None:
    sizing = size_deal(deal)
    fee = servicing_fee_per_period(deal)
    assert sizing.servicing_fee_per_period == fee == max(operating_costs(deal))
    expected = [r + t - fee for r, t in zip(base_revenue(deal), refunds(deal), strict=True)]
    assert [r.cfads for r in sizing.schedule] == expected


def test_example_sizes_and_names_the_binding_constraint(deal: Deal) -> None:
    sizing = size_deal(deal)
    assert sizing.binding_constraint in CONSTRAINTS
    assert sizing.max_senior == min(v for v in sizing.constraints.values() if v is not None)
    assert sizing.constraints[sizing.binding_constraint] == sizing.max_senior
    assert sizing.max_senior - deal.unit < sizing.senior_size <= sizing.max_senior
    assert sizing.senior_size % deal.unit == 0
    assert sizing.binding_constraint == "dscr_p90"


def test_junior_meets_the_minimum_share(deal: Deal) -> None:
    sizing = size_deal(deal)
    share = deal.financing.min_junior_share_bps
    assert sizing.junior_size * 10_000 >= share * (sizing.senior_size + sizing.junior_size)
    assert (sizing.junior_size - 1) * 10_000 < share * (sizing.senior_size + sizing.junior_size - 1)


def test_junior_for_rounds_up() -> None:
    assert junior_for(80, 2_000) == 20
    assert junior_for(81, 2_000) == 21  # 81 / 4 = 20.25
    assert junior_for(0, 2_000) == 0


def test_llcr_at_start_matches_the_pv_cover(deal: Deal) -> None:
    sizing = size_deal(deal)
    rate = deal.financing.senior_coupon_bps / 120_000
    pv = sum(r.cfads / (1 + rate) ** r.period for r in sizing.schedule[: sizing.tenor_periods])
    assert sizing.schedule[0].llcr == pytest.approx(pv / sizing.senior_size)
    assert math.isinf(sizing.schedule[-1].llcr)


def test_ltv_binds_when_the_cap_is_low() -> None:
    sizing = size_deal(variant(financing__ltv_cap_bps=3_000))
    assert sizing.binding_constraint == "ltv"
    deal = variant(financing__ltv_cap_bps=3_000)
    values = collateral_value(deal)
    assert sizing.senior_size <= 0.3 * values[0]
    for row, value in zip(sizing.schedule, values[1:], strict=False):
        assert row.balance <= 0.3 * value + 1


def test_dscr_base_binds_without_a_harsh_downside() -> None:
    deal = variant(financing__p90_dscr_target=Decimal("1.0"), financing__p90_rent_haircut_bps=0,
                   financing__ltv_cap_bps=10_000, financing__cash_trap_dscr_bps=10_000)
    assert size_deal(deal).binding_constraint == "dscr_base"


def test_tenor_binds_when_it_runs_into_the_tail() -> None:
    deal = variant(financing__tenor_periods=60, financing__tail_periods=12, financing__p90_dscr_target=Decimal("1.0"),
                   financing__p90_rent_haircut_bps=0, financing__ltv_cap_bps=10_000,
                   financing__cash_trap_dscr_bps=10_000)
    sizing = size_deal(deal)
    assert sizing.binding_constraint == "tenor"
    assert sizing.tenor_periods == 48
    assert sizing.constraints["tenor"] < sizing.constraints["dscr_base"]


def test_a_short_lease_names_the_tenor_cut_not_the_dscr_it_is_measured_with() -> None:
    data = example_data()
    for lease in data["leases"]:
        lease["term_periods"] = 36 - lease["start_period"] + 1  # the leases end in period 36: tenor 48 -> 24
    sizing = size_deal(parse_deal(data))
    assert sizing.tenor_periods == 24
    assert sizing.binding_constraint == "tenor"
    tenor, p90 = sizing.constraints["tenor"], sizing.constraints["dscr_p90"]
    assert tenor is not None and p90 is not None and tenor < p90


def test_a_single_lessee_sizes_a_smaller_senior_than_the_same_rent_over_three() -> None:
    data = example_data()
    three = size_deal(parse_deal(data))
    for lease in data["leases"]:
        lease["lessee"] = "Sole lessee"  # the same leases, servers and rent, all to one lessee
    single = size_deal(parse_deal(data))
    assert single.senior_size < three.senior_size
    assert single.binding_constraint == "largest_lessee_default" != three.binding_constraint
    assert single.worst_default_period is not None and 1 <= single.worst_default_period <= single.tenor_periods
    lessee = single.constraints["largest_lessee_default"]
    assert lessee is not None and single.max_senior == lessee


def test_the_lessee_default_capacity_keeps_the_senior_paid_on_time_and_no_more() -> None:
    from rwa.leverage.sizing import lessee_default_capacity, shape_terms

    data = example_data()
    for lease in data["leases"]:
        lease["lessee"] = "Sole lessee"
    deal = parse_deal(data)
    sizing = size_deal(deal)
    fin, fee, tenor = deal.financing, sizing.servicing_fee_per_period, sizing.tenor_periods
    cfads, p90 = scenario_cashflows(deal, BASE, fee).cfads, sizing.cfads_p90
    caps = [min(max(c, 0) / fin.dscr_target, max(d, 0) / fin.p90_dscr_target)
            for c, d in zip(cfads[:tenor], p90[:tenor], strict=True)]
    capacity, worst = lessee_default_capacity(deal, caps, fee, tenor, float(sizing.constraints["dscr_p90"] or 0))
    assert worst == sizing.worst_default_period
    principal = [max(r.principal, 0.0) for r in size_by_dscr(caps, fin.senior_coupon_bps / 120_000, 1.0).schedule]
    rows = np.asarray([scenario_cashflows(deal, lessee_default(deal, worst), fee).cfads], dtype=float)
    # just under the capacity the worst default leaves every payment on time; 1% over it, a payment is late
    under = run_paths(rows, shape_terms(deal, principal, fee, capacity * 0.999), 0.0)
    over = run_paths(rows, shape_terms(deal, principal, fee, capacity * 1.01), 0.0)
    assert not under.late[0] and over.late[0]


def test_a_tail_longer_than_the_leases_is_a_deal_error() -> None:
    with pytest.raises(DealConfigError, match=r"deal\.financing\.tail_periods"):
        size_deal(variant(financing__tail_periods=60))


def test_revenue_model(deal: Deal) -> None:
    contracted = contracted_rent(deal)
    rent_a = deal.leases[0].rent_per_server_month
    assert contracted[0] == 650 * rent_a  # lessee C's servers arrive in period 2
    assert contracted[1] == 650 * rent_a + 150 * deal.leases[2].rent_per_server_month
    assert base_revenue(deal)[1] == math.floor(contracted[1] * 0.87)
    assert billable_rent(deal) == contracted  # everything is delivered when its lease starts
    assert billable_rent(deal, shortfall=True)[1] < contracted[1]
    assert delivered_servers(deal)[:2] == [650, 800]
    assert sum(refunds(deal)) == deal.tax.refunds_total
    assert [p + 1 for p, r in enumerate(refunds(deal)) if r] == [12, 24, 36, 48, 60]


def test_delivery_shortfall_hits_the_largest_supplier(deal: Deal) -> None:
    # the register's rule: the supplier with the most servers scheduled delivers 12/330 of each of its batches
    orders = deal.cluster.supplier_orders()
    largest = max(orders, key=lambda o: (o.servers, -orders.index(o)))
    assert largest_supplier(deal) == largest.supplier
    short = delivered_servers(deal, shortfall=True)
    expected = [sum(d.servers * 12 // 330 if d.supplier == largest.supplier else d.servers
                    for d in deal.cluster.deliveries if d.period <= p) for p in range(1, deal.periods.count + 1)]
    assert short == expected
    assert short == [sum(b.servers for b in delivery_batches(deal, shortfall=True) if b.period <= p)
                     for p in range(1, deal.periods.count + 1)]
    servers = lease_servers(deal, shortfall=True)
    assert sum(row[0] for row in servers) == short[0]


def test_delivery_delay_moves_the_largest_supplier_only(deal: Deal) -> None:
    late = largest_supplier(deal)
    delayed = delivered_servers(deal, delay=6)
    expected = [sum(d.servers for d in deal.cluster.deliveries
                    if d.period + (6 if d.supplier == late else 0) <= p) for p in range(1, deal.periods.count + 1)]
    assert delayed == expected


def test_scenarios_cut_cash(deal: Deal) -> None:
    base = scenario_cashflows(deal)
    assert base.cfads == [r.cfads for r in size_deal(deal).schedule]
    lessee = largest_lessee(deal)
    assert lessee == deal.leases[0].lessee
    default = scenario_cashflows(deal, BASE.with_(defaulted_lessee=lessee, default_period=13))
    assert default.revenue[:12] == base.revenue[:12]
    assert all(d < b for d, b in zip(default.revenue[12:], base.revenue[12:], strict=True))
    rates = scenario_cashflows(deal, BASE.with_(rate_shift_bps=200))
    assert rates.coupon_bps == deal.financing.senior_coupon_bps + 200
    assert scenario_cashflows(deal, BASE.with_(residual_factor=0.4)).residual_value < base.residual_value


def test_collateral_declines_to_the_floor(deal: Deal) -> None:
    values = collateral_value(deal)
    assert values[0] == 650 * deal.cluster.capex_per_server
    assert all(a >= b for a, b in itertools.pairwise(values[2:]))  # all delivered by period 2
    assert values[-1] == math.floor(800 * deal.cluster.capex_per_server * 0.037)


def test_base_deposits_are_revenue_plus_refunds(deal: Deal) -> None:
    from rwa.leverage import base_deposits

    deposits = base_deposits(deal)
    fee = servicing_fee_per_period(deal)
    assert [d - fee for d in deposits] == [r.cfads for r in size_deal(deal).schedule]


def test_a_deal_whose_costs_eat_its_revenue_is_refused_naming_the_cause() -> None:
    cause = r"^deal\.leases: the cash flow after operating costs and the servicing fee is not positive"
    with pytest.raises(DealConfigError, match=cause) as info:
        size_deal(variant(operating_costs__power_per_server_month=Decimal("20000")))
    assert "\n" not in str(info.value) and info.value.exit_code == 2


def test_a_vacancy_the_reserve_cannot_carry_is_refused_naming_the_vacancy_not_the_rent(deal: Deal) -> None:
    """One lessee whose servers stand empty longer than the reserve's span: the refusal names the vacancy and the
    reserve (it said "rent must exceed operating costs", which the rent does)."""

    one = deal.leases[0].model_copy(update={"servers": deal.cluster.servers})
    single = deal.model_copy(update={"leases": [one],
                                     "risk": deal.risk.model_copy(update={"relet_vacancy_periods": 6})})
    with pytest.raises(DealConfigError) as info:
        size_deal(single)
    message = str(info.value)
    assert message.startswith("deal.risk.relet_vacancy_periods: the largest lessee's default leaves no senior")
    assert "empty 6 periods" in message and f"the reserve holds {deal.financing.reserve_periods}" in message
    assert "rent must exceed operating costs" not in message
