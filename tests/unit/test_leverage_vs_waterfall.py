"""The calculator's float pool model against the integer reference waterfall that LeasePool implements."""

from __future__ import annotations

from dataclasses import replace

import pytest

from rwa.leverage import scenario_cashflows, size_deal
from rwa.leverage.analysis import run_scenario, stress_scenarios
from rwa.model import waterfall
from rwa.model.deal_file import load_deal
from rwa.model.terms import reserve_at_close
from tests.support.deals import EXAMPLE_DEAL as EXAMPLE


@pytest.mark.parametrize("key", [key for key, _, _ in stress_scenarios(load_deal(EXAMPLE))])
def test_stress_outcomes_match_the_reference_waterfall(key: str) -> None:
    deal = load_deal(EXAMPLE)
    sizing = size_deal(deal)
    scenario = {k: s for k, _, s in stress_scenarios(deal, sizing)}[key]
    flows = scenario_cashflows(deal, scenario, sizing.servicing_fee_per_period)
    # the pool's terms as issuance deploys them, at the scenario's coupon (the rates stress moves it)
    terms = replace(sizing.pool_terms(deal), senior_coupon_bps=flows.coupon_bps)
    deposits = {p + 1: r + t for p, (r, t) in enumerate(zip(flows.revenue, flows.refunds, strict=True))}
    deposits[deal.periods.count + 1] = flows.residual_value
    # the reporters attest the scenario's revenue; the refunds arrive as the deal schedules them (scaled by the
    # scenario's cash factor), so the covenant reads the same cash the calculator sizes on
    reported = {p + 1: r for p, r in enumerate(flows.revenue)}
    refunds = {p + 1: t for p, t in enumerate(flows.refunds)}
    state, legs = waterfall.run_schedule(terms, deposits, reported, refund_by_period=refunds,
                                         reserve_at_close=reserve_at_close(deal, terms))
    reference_loss = state.balance + state.interest_arrears
    reference_trap = any(leg.dscr_bps < deal.financing.cash_trap_dscr_bps for leg in legs[:-1])
    reference_min = min(leg.dscr_bps for leg in legs[:-1]) / 10_000

    _, model = run_scenario(deal, sizing, scenario)
    # floats against floored integers: a few units a period at most
    assert model.loss[0] == pytest.approx(reference_loss, abs=1_000 * deal.periods.count)
    assert (model.loss[0] > 1.0) == (reference_loss > 0)
    assert bool(model.trapped[0]) == reference_trap
    assert min(model.min_dscr[0], 42_949.0) == pytest.approx(reference_min, abs=2e-4)
