"""The calculator's use of proceeds: every unit of the raise accounted for, each order's releases at its price split
by the register's pro-rata rule, and what the delivery shortfall prepays, each figure recomputed from the deal."""

from __future__ import annotations

from pathlib import Path

import pytest

from rwa.leverage.analysis import stress_scenarios
from rwa.leverage.cashflows import largest_supplier, scenario_cashflows
from rwa.leverage.report import SHORTFALL_ROW
from rwa.leverage.sizing import Sizing, size_deal
from rwa.leverage.use_of_proceeds import UseOfProceeds, use_of_proceeds
from rwa.model.deal import Deal
from rwa.model.deal_file import load_deal
from rwa.model.fleet import delivery_batches
from rwa.model.terms import reserve_at_close
from rwa.model.waterfall import PoolState, fund_reserve, run_maturity, run_period
from tests.support.deals import EXAMPLE_DEAL

OFFERING_DEAL = Path(EXAMPLE_DEAL).with_name("deal-h800-offering.toml")


@pytest.fixture(scope="module", params=[EXAMPLE_DEAL, OFFERING_DEAL], ids=["placement", "offering"])
def case(request: pytest.FixtureRequest) -> tuple[Deal, Sizing, UseOfProceeds]:
    deal = load_deal(Path(request.param))
    sizing = size_deal(deal)
    row = next(s for key, _, s in stress_scenarios(deal, sizing) if key == SHORTFALL_ROW)
    return deal, sizing, use_of_proceeds(deal, sizing, row)


def _releases(deal: Deal, escrowed: int, capex: int, shortfall: bool) -> dict[str, tuple[int, int, int]]:
    """Per supplier: servers delivered, from the raise, from the equity; the register's rule written out:
    release k of price P after releases of price R takes floor((R + P) E / C) - floor(R E / C) from the raise."""
    prices = {o.supplier: deal.cluster.unit_price(o) for o in deal.cluster.supplier_orders()}
    out = {name: (0, 0, 0) for name in prices}
    released = 0
    for batch in delivery_batches(deal, shortfall):
        price = batch.servers * prices[batch.supplier]
        raise_part = (released + price) * escrowed // capex - released * escrowed // capex
        released += price
        n, r, e = out[batch.supplier]
        out[batch.supplier] = (n + batch.servers, r + raise_part, e + price - raise_part)
    return out


def test_the_raise_is_reserve_costs_escrow_and_treasury_to_the_unit(case: tuple[Deal, Sizing, UseOfProceeds]
                                                                     ) -> None:
    deal, sizing, u = case
    assert u.raise_amount == sizing.senior_size + sizing.junior_size
    assert u.reserve_at_close == reserve_at_close(deal, sizing.pool_terms(deal))
    assert u.costs == (sum(c.amount for c in deal.offering.costs) if deal.offering else 0)
    capex = sum(o.servers * deal.cluster.unit_price(o) for o in deal.cluster.supplier_orders())
    assert u.capex_total == capex
    assert u.escrowed == min(u.raise_amount - u.reserve_at_close - u.costs, capex)
    assert u.raise_amount == u.reserve_at_close + u.costs + u.escrowed + u.to_treasury
    assert u.equity == capex - u.escrowed


def test_each_order_releases_its_price_split_pro_rata(case: tuple[Deal, Sizing, UseOfProceeds]) -> None:
    deal, _, u = case
    expected = _releases(deal, u.escrowed, u.capex_total, shortfall=False)
    for order in u.scheduled.orders:
        delivered, from_raise, from_equity = expected[order.supplier]
        assert (order.servers_delivered, order.from_raise, order.from_equity) == expected[order.supplier]
        assert order.released == delivered * order.unit_price == from_raise + from_equity == order.price
    # the whole fleet delivered: the raise is spent to the unit, the equity pays the rest, nothing is prepaid
    assert u.scheduled.raise_released == u.escrowed and u.scheduled.prepaid == 0
    assert u.scheduled.equity_released == u.equity


def test_the_shortfall_prepays_the_raise_not_released_to_the_senior(case: tuple[Deal, Sizing, UseOfProceeds]
                                                                     ) -> None:
    deal, sizing, u = case
    s = u.shortfall
    assert s.supplier == largest_supplier(deal)
    expected = _releases(deal, u.escrowed, u.capex_total, shortfall=True)
    assert {o.supplier: (o.servers_delivered, o.from_raise, o.from_equity) for o in s.escrow.orders} == expected
    ordered = next(o.servers for o in deal.cluster.supplier_orders() if o.supplier == s.supplier)
    assert (s.servers_ordered, s.servers_delivered) == (ordered, expected[s.supplier][0])
    assert s.servers_delivered < s.servers_ordered
    raise_released = sum(r for _, r, _ in expected.values())
    assert s.escrow.raise_released == raise_released
    assert s.escrow.prepaid == u.escrowed - raise_released > 0
    # the pool's waterfall on the stress row's cash, the prepayment after the long-stop period
    row = next(sc for key, _, sc in stress_scenarios(deal, sizing) if key == SHORTFALL_ROW)
    flows = scenario_cashflows(deal, row, sizing.servicing_fee_per_period)
    terms = sizing.pool_terms(deal)
    state = fund_reserve(PoolState.opening(terms), u.reserve_at_close)
    for p in range(1, deal.long_stop_period + 1):
        cash = flows.revenue[p - 1] + flows.refunds[p - 1]
        state, _ = run_period(terms, state, p, cash, flows.revenue[p - 1], refund=flows.refunds[p - 1])
    assert s.senior_before == state.balance
    assert s.prepaid_senior == min(s.escrow.prepaid, state.balance)
    assert s.prepaid_junior == s.escrow.prepaid - s.prepaid_senior
    assert s.senior_after == state.balance - s.prepaid_senior
    # the example deals' senior is still paid in full after the shortfall
    assert s.senior_paid_in_full and s.senior_outstanding_at_maturity == 0


def test_the_prepayment_lowers_the_senior_balance_by_its_senior_part(case: tuple[Deal, Sizing, UseOfProceeds]
                                                                      ) -> None:
    _, _, u = case
    s = u.shortfall
    assert s.senior_after < s.senior_before
    assert s.senior_before - s.senior_after == s.prepaid_senior


def test_maturity_after_the_prepayment_is_what_the_waterfall_gives(case: tuple[Deal, Sizing, UseOfProceeds]) -> None:
    """Re-run the shortfall to maturity with the prepayment applied by hand (principal first, the schedule's last
    amounts first): the outstanding balance matches the use of proceeds."""
    from rwa.model.waterfall import prepay

    deal, sizing, u = case
    row = next(sc for key, _, sc in stress_scenarios(deal, sizing) if key == SHORTFALL_ROW)
    flows = scenario_cashflows(deal, row, sizing.servicing_fee_per_period)
    terms = sizing.pool_terms(deal)
    state = fund_reserve(PoolState.opening(terms), u.reserve_at_close)
    for p in range(1, terms.period_count + 1):
        cash = flows.revenue[p - 1] + flows.refunds[p - 1]
        state, _ = run_period(terms, state, p, cash, flows.revenue[p - 1], refund=flows.refunds[p - 1])
        if p == deal.long_stop_period:
            state, _ = prepay(state, u.shortfall.escrow.prepaid)
    state, _ = run_maturity(terms, state, flows.residual_value)
    assert u.shortfall.senior_outstanding_at_maturity == state.balance + state.interest_arrears
