from __future__ import annotations

import tomllib
from decimal import Decimal
from typing import Any

from rwa.leverage import size_deal
from rwa.leverage.seedcheck import seed_consistency
from rwa.model.deal import parse_deal
from rwa.model.deal_file import load_deal
from tests.support.deals import EXAMPLE_DEAL as EXAMPLE


def raw() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(), parse_float=Decimal)


def statuses(data: dict[str, Any]) -> dict[str, str]:
    deal = parse_deal(data)
    return {c.key: c.status for c in seed_consistency(deal, size_deal(deal)).checks}


def test_example_is_consistent_with_the_seeds() -> None:
    deal = load_deal(EXAMPLE)
    result = seed_consistency(deal, size_deal(deal))
    assert not result.flagged
    assert all(c.status == "ok" for c in result.checks), [c for c in result.checks if c.status != "ok"]
    assert not result.rate_assumed
    # 96k RMB rent x 87% utilization, less the ramp: between the 50% loss line and full top rent
    assert 45_000 < result.implied_rent_x_utilization_rmb < 120_000
    assert 0.5 < result.implied_utilization_at_headline_rent < 1.0


def test_income_the_cluster_cannot_earn_is_flagged() -> None:
    data = raw()
    for lease in data["leases"]:
        lease["rent_per_server_month"] = Decimal("40000")  # 288k RMB a server-month
    deal = parse_deal(data)
    result = seed_consistency(deal, size_deal(deal))
    assert result.flagged
    checks = {c.key: c.status for c in result.checks}
    assert checks["rent_x_utilization"] == "flag"
    assert checks["rent[0]"] == "flag"


def test_leasing_more_servers_than_exist_is_flagged() -> None:
    data = raw()
    data["leases"][0]["servers"] = 700
    assert statuses(data)["leased_servers"] == "flag"


def test_low_utilization_and_odd_capex_warn() -> None:
    data = raw()
    data["utilization"]["base"] = Decimal("0.6")
    data["utilization"]["p90"] = Decimal("0.5")
    data["cluster"]["capex_per_server"] = Decimal("600000")
    got = statuses(data)
    assert got["base_utilization"] == "warn"
    assert got["capex_per_server"] == "warn"


def test_missing_rate_is_assumed_and_said() -> None:
    data = raw()
    data.pop("rmb_per_unit")
    data.pop("source_currency")
    deal = parse_deal(data)
    result = seed_consistency(deal, size_deal(deal))
    assert result.rate_assumed and result.rmb_per_unit == 7.2
