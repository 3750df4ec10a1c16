"""Lateness: a period ended, its distribution grace over and not distributed is late, and `rwa status`,
`rwa oracle status`, the auditor's report and `rwa value` say so for the same periods (one rule,
`rwa.model.calendar.late_periods`)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rwa.chain.interface import Chain
from rwa.issuance.operate import status_rows
from rwa.issuance.value import value_deployment
from rwa.leverage.valuation import value_tranches
from rwa.model.deal_file import load_deal
from rwa.model.units import TRANCHES
from rwa.onchain.deployment import load_manifest
from rwa.oracle.publisher import status as oracle_status
from tests.support.lifecycle import replay, run_lifecycle


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))


def test_status_oracle_status_report_and_value_agree_on_the_late_periods(chain: Chain, tmp_path: Path) -> None:
    # five periods reported, only the first distributed, and the clock moved to period 5's grace's end: 2 to 5 are
    # late, 6 has not ended; no reserve funded at close, so the reserve period 1 filled pays fewer than four periods
    deal, manifest_path = run_lifecycle(chain, tmp_path, periods=5, distribute=1, reserve_at_close=0)
    manifest = load_manifest(manifest_path)
    terms, grace = deal.pool.terms(), deal.pool.default_rules().distribution_grace
    chain.time_travel(terms.period_end(5) + grace)
    now = chain.now()
    assert now >= terms.period_end(5) + grace and now < terms.period_end(6)  # the set-up's premise
    late = [2, 3, 4, 5]

    rows = dict(status_rows(deal, str))
    assert rows["late periods"].startswith("4: 2-5 (ended, the servicer's grace passed, not distributed")
    assert rows["covenant"].startswith("late") and "in compliance" not in rows["covenant"]

    shown = oracle_status(chain, manifest)
    assert shown["late_periods"] == late and "2-5" in shown["late_periods_shown"]

    result = replay(chain, manifest_path, tmp_path)
    assert sorted(f.period for f in result.findings if f.kind == "late-distribution") == late
    audit = tmp_path / "audit"
    assert json.loads((audit / "summary.json").read_text())["late_periods"] == late
    assert json.loads((audit / "summary.json").read_text())["verdict"] == "findings"
    page = (audit / "report.html").read_text()
    assert "<th>late periods</th><td>4: 2-5 (ended, the servicer&#x27;s grace passed" in page
    assert page.count("<td>late-distribution</td>") == 4

    deal_file = load_deal(Path(manifest.deal_file))
    valued = value_deployment(deal_file, deal)
    assert list(valued.late) == late
    assert valued.late == {p: deal.pool.deposited(p) for p in late}
    for tranche in TRANCHES:
        flagged = [p.period for p in valued.tranches[tranche].payments if p.late]
        assert flagged == late
    # the base case paid at once for the late periods (the rule before) values both tranches higher than what the
    # pool holds for them pays: what they owe is carried as arrears and paid later, if at all
    as_of = datetime.fromtimestamp(chain.head()[1], tz=UTC)
    supplies = {t: v.supply for t, v in valued.tranches.items()}
    on_time = value_tranches(deal_file, terms, valued.state, supplies, valued.at, as_of=as_of)
    assert valued.tranches["senior"].value < on_time["senior"].value
    assert valued.tranches["junior"].value < on_time["junior"].value
    assert valued.tranches["senior"].payments[3].amount < on_time["senior"].payments[3].amount  # the reserve ran out


def test_nothing_is_late_inside_the_grace(chain: Chain, tmp_path: Path) -> None:
    deal, manifest_path = run_lifecycle(chain, tmp_path, periods=2, distribute=2)
    rows = dict(status_rows(deal, str))
    assert rows["late periods"] == "none" and not rows["covenant"].startswith("late")
    assert oracle_status(chain, load_manifest(manifest_path))["late_periods"] == []
