"""The leverage calculator: how much senior and junior a deal's cash flow supports, and how it fares under stress.

Money is integer smallest units of the deal's stablecoin wherever it is paid (the sizes, the schedule, the fee);
floats appear only in ratios and in the statistics of the stress grid and the Monte Carlo.
"""

from rwa.leverage.analysis import Breakevens, Returns, StressResult, breakevens, path_terms, returns, stress
from rwa.leverage.cashflows import (
    BASE,
    Scenario,
    ScenarioFlows,
    base_deposits,
    base_revenue,
    billable_rent,
    collateral_value,
    contracted_rent,
    operating_costs,
    refunds,
    scenario_cashflows,
    servicing_fee_per_period,
)
from rwa.leverage.sculpt import FloatRow, FloatSizing, size_by_dscr
from rwa.leverage.sizing import CONSTRAINTS, ScheduleRow, Sizing, junior_for, size_deal

__all__ = [
    "BASE",
    "CONSTRAINTS",
    "Breakevens",
    "FloatRow",
    "FloatSizing",
    "Returns",
    "Scenario",
    "ScenarioFlows",
    "ScheduleRow",
    "Sizing",
    "StressResult",
    "base_deposits",
    "base_revenue",
    "billable_rent",
    "breakevens",
    "collateral_value",
    "contracted_rent",
    "junior_for",
    "operating_costs",
    "path_terms",
    "refunds",
    "returns",
    "scenario_cashflows",
    "servicing_fee_per_period",
    "size_by_dscr",
    "size_deal",
    "stress",
]
