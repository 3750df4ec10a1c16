from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwa.leverage import size_by_dscr
from rwa.leverage.path_engine import PathTerms, run_paths
from rwa.leverage.sculpt import integer_schedule, max_integer_debt
from tests.support.reference_loops import run_paths_loop

cash_flows = st.lists(st.integers(min_value=1, max_value=10**13), min_size=1, max_size=72)
coupons = st.integers(min_value=0, max_value=3_000)
targets = st.floats(min_value=1.0, max_value=3.0, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(cfads=cash_flows, coupon=coupons, target=targets, data=st.data())
def test_integer_schedule_invariants(cfads: list[int], coupon: int, target: float, data: st.DataObject) -> None:
    tenor = data.draw(st.integers(min_value=1, max_value=len(cfads)))
    caps = [math.floor(c / target) for c in cfads[:tenor]]
    largest = max_integer_debt(caps, coupon, 10**16)
    size = data.draw(st.integers(min_value=0, max_value=largest))
    rows = integer_schedule(size, cfads, target, coupon, tenor)
    assert sum(r.principal for r in rows) == size
    balance = size
    for r in rows:
        assert r.principal >= 0
        assert r.interest == balance * coupon // 120_000
        balance -= r.principal
        assert r.balance == balance >= 0
        service = r.interest + r.principal
        if service:
            assert r.period <= tenor
            assert r.cfads >= target * service
    assert rows[-1].balance == 0


@settings(max_examples=100, deadline=None)
@given(cfads=cash_flows, coupon=coupons, data=st.data())
def test_integer_schedule_respects_tighter_caps(cfads: list[int], coupon: int, data: st.DataObject) -> None:
    caps = [c * data.draw(st.floats(min_value=0.0, max_value=1.0)) for c in cfads]
    largest = max_integer_debt([math.floor(min(c / 1.2, k)) for c, k in zip(cfads, caps, strict=True)], coupon, 10**16)
    rows = integer_schedule(largest, cfads, 1.2, coupon, len(cfads), caps=caps)
    assert sum(r.principal for r in rows) == largest
    for r, cap in zip(rows, caps, strict=True):
        assert r.interest + r.principal <= cap


@settings(max_examples=150, deadline=None)
@given(
    cfads=st.lists(st.floats(min_value=0.01, max_value=1e9, allow_nan=False), min_size=1, max_size=72),
    rate=st.floats(min_value=0.0, max_value=0.05),
    target=targets,
)
def test_float_sculpting_holds_the_target_and_repays(cfads: list[float], rate: float, target: float) -> None:
    result = size_by_dscr(cfads, rate, target)
    assert result.debt > 0
    assert abs(result.schedule[-1].balance) <= 1e-6 * result.debt
    for row in result.schedule:
        assert row.dscr == math.inf or row.dscr >= target * (1 - 1e-9)
    assert result.schedule[0].llcr == pytest.approx(target, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.floats(min_value=-50.0, max_value=400.0), min_size=6, max_size=6), min_size=1,
                  max_size=20),
    residual=st.floats(min_value=0.0, max_value=500.0),
    shift=st.integers(min_value=0, max_value=300),
)
def test_vectorized_waterfall_equals_the_loop(rows: list[list[float]], residual: float, shift: int) -> None:
    principal = [150.0, 150.0, 200.0, 250.0, 0.0, 0.0]
    terms = PathTerms(senior=750.0, principal=principal, coupon_bps=900, reserve_periods=2, cash_trap_dscr=1.15,
                      servicing_fee=3.0)
    run = run_paths(np.asarray(rows), terms, residual, shift)
    low, trapped, loss = run_paths_loop(rows, terms, [residual] * len(rows), shift)
    np.testing.assert_allclose(run.loss, loss, rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(run.min_dscr, low, rtol=1e-12)
    assert run.trapped.tolist() == trapped
    assert (run.loss >= 0).all() and (run.loss <= 750.0 * 2).all()
    assert not (run.min_dscr < 0).any()
