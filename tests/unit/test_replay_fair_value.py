"""The auditor's fair-value column from a history alone: the pool's state after each distribution as the events
give it (default, finalization), the supply then, and no crash on a history the waterfall cannot run on from."""

from __future__ import annotations

from dataclasses import replace

from rwa.leverage.sizing import Sizing
from rwa.model.deal import Deal
from rwa.model.units import ZERO_ADDRESS
from rwa.model.waterfall import PeriodLegs
from rwa.replay.history import History, TokenHistory
from rwa.replay.ledger import Event
from rwa.replay.report import fair_values

LEGS = PeriodLegs(period=0, collected=0, reported=0, collected_minus_reported=0, fee=0, senior_interest=0,
                  senior_principal=0, reserve_in=0, reserve_out=0, trapped=0, junior=0, senior_dust=0, junior_dust=0,
                  balance_after=0, interest_arrears=0, principal_arrears=0, reserve_after=0, dscr_bps=0)


def _event(block: int, name: str, tx: str = "", contract: str = "pool", **args: object) -> Event:
    return Event(block, 0, tx or f"0x{block:064x}", contract, "0xpool", name, dict(args))


def _history(face: int, junior: int) -> History:
    h = History()
    for tranche, supply in (("senior", face), ("junior", junior)):
        h.tokens[tranche] = TokenHistory(tranche, f"0x{tranche}")
        h.tokens[tranche].transfers.append(_event(1, "Transfer", contract=tranche, to="0xholder", value=supply,
                                                  **{"from": ZERO_ADDRESS}))
    return h


def test_the_state_after_a_distribution_carries_its_legs_and_the_default_before_it(deal: Deal, sizing: Sizing) -> None:
    terms = sizing.pool_terms(deal)
    h = _history(terms.face, sizing.junior_size)
    h.legs[1] = (replace(LEGS, period=1, balance_after=terms.face - 5, reserve_after=7, interest_arrears=3),
                 _event(10, "PeriodDistributed"))
    h.default_events.append(_event(11, "DefaultDeclared"))
    h.legs[2] = (replace(LEGS, period=2, balance_after=terms.face - 9), _event(12, "PeriodDistributed"))
    first, second = h.state_after(1), h.state_after(2)
    assert (first.balance, first.reserve, first.interest_arrears, first.last_distributed_period) == (
        terms.face - 5, 7, 3, 1)
    assert not first.defaulted and second.defaulted and not second.finalized
    assert h.supply_at("senior", (10, 0)) == terms.face and h.supply_at("senior", (1, 0)) == 0
    values = fair_values(h, deal, terms)
    assert values[1]["senior"] is not None and 0 < values[1]["senior"] < 10**deal.decimals


def test_the_maturity_settlement_finalizes_and_a_recovery_before_it_has_no_value(deal: Deal, sizing: Sizing) -> None:
    terms = sizing.pool_terms(deal)
    n = terms.period_count
    h = _history(terms.face, sizing.junior_size)
    h.legs[n] = (replace(LEGS, period=n), _event(20, "PeriodDistributed"))
    h.legs[n + 1] = (replace(LEGS, period=n + 1), _event(21, "PeriodDistributed", tx="0xmaturity"))
    h.finalized = _event(21, "Finalized", tx="0xmaturity")
    settled = h.state_after(n + 1)
    assert settled.finalized and settled.last_distributed_period == n
    assert fair_values(h, deal, terms)[n + 1] == {"senior": 0, "junior": 0}
    early = _history(terms.face, sizing.junior_size)
    early.legs[n + 2] = (replace(LEGS, period=n + 2), _event(30, "PeriodDistributed"))  # not finalized: a finding
    assert fair_values(early, deal, terms)[n + 2] == {"senior": None, "junior": None}
