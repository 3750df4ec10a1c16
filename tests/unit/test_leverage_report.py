from __future__ import annotations

import json

from rich.console import Console

from rwa.leverage.report import analyse, render, to_json
from tests.support.deals import EXAMPLE_DEAL as EXAMPLE


def test_json_is_strict_deterministic_and_integer_money() -> None:
    first = to_json(analyse(EXAMPLE, paths=1500, seed=4))
    second = to_json(analyse(EXAMPLE, paths=1500, seed=4))
    text = json.dumps(first, allow_nan=False, sort_keys=True)
    assert text == json.dumps(second, allow_nan=False, sort_keys=True)
    for key in ("max_senior", "senior_size", "junior_size", "servicing_fee_per_period"):
        assert isinstance(first[key], int)
    for row in first["schedule"]:
        for key in ("period", "cfads", "interest", "principal", "balance"):
            assert isinstance(row[key], int)
    assert all(isinstance(v, int) for v in first["constraints"].values())
    assert first["deal"]["sha256"] and len(first["deal"]["sha256"]) == 64


def test_render_mentions_every_section() -> None:
    console = Console(record=True, width=140)
    render(analyse(EXAMPLE, paths=1000, seed=1), console)
    text = console.export_text()
    for part in ("capacity: dscr_p90", "<- binds", "rent -50%", "delivers 12 of 330", "P(senior loss)",
                 "main driver", "rent_x_utilization", "Senior schedule"):
        assert part in text
