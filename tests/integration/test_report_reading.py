"""The auditor's report at one period: its charts draw, and holders' rates say what they count."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rwa.chain.interface import Chain
from tests.support.lifecycle import replay, run_lifecycle


@pytest.fixture(autouse=True)
def _home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RWA_HOME", str(tmp_path / ".rwa"))


def test_a_one_period_report_draws_its_charts_and_says_what_a_holders_rate_counts(
    chain: Chain, tmp_path: Path
) -> None:
    _, manifest = run_lifecycle(chain, tmp_path, periods=1)
    assert replay(chain, manifest, tmp_path).exit_code == 0
    page = (tmp_path / "audit" / "report.html").read_text()
    for name in ("revenue", "dscr", "reserve", "cumulative", "value"):
        figure = re.search(rf'<figure id="chart-{name}">(.*?)</figure>', page, re.S)
        assert figure is not None and "<circle" in figure.group(1), name
    note = re.search(r'<p id="investors-note">(.*?)</p>', page, re.S)
    assert note is not None and "not yields to maturity" in note.group(1)
    assert "<th>XIRR: cash so far (held tokens at 0)</th><th>XIRR: with held tokens at fair value</th>" in page
    held = re.findall(r"<tr><td>(?:senior|junior)</td><td><code>[^<]*</code></td><td>[^<]*</td><td>[^<]*</td>"
                      r"<td>([^<]*)</td>", page)
    assert held and any(value != "0.00 USDC" for value in held)
