from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from rwa.cli.size import register
from tests.support.deals import EXAMPLE_DEAL as EXAMPLE


@pytest.fixture(scope="module")
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")  # a second command keeps typer from collapsing the app into `size` alone
    def noop() -> None:
        """Nothing."""

    return app


def test_size_prints_tables(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["size", "--deal", str(EXAMPLE), "--paths", "2000"])
    assert result.exit_code == 0, result.output
    for text in ("binds", "Stress grid", "Monte Carlo", "Seed consistency", "Senior schedule", "Use of proceeds",
                 "Releases per supplier order", "What the shortfall prepays", "senior paid in full"):
        assert text in result.stdout


def test_size_json_has_stable_keys(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["size", "--deal", str(EXAMPLE), "--json", "--paths", "2000", "--seed", "3"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    for key in ("max_senior", "senior_size", "junior_size", "binding_constraint", "constraints", "schedule",
                "servicing_fee_per_period", "returns", "breakevens", "stress", "monte_carlo", "seed_consistency",
                "allocations", "deal"):
        assert key in data
    assert data["binding_constraint"] in {"dscr_base", "dscr_p90", "ltv", "tenor", "largest_lessee_default"}
    assert data["dsra_target"] == data["dsra"]["target_at_close"] > 0
    assert len(data["dsra"]["reserve_after"]) == data["deal"]["periods"]
    assert sum(row["principal"] for row in data["schedule"]) == data["senior_size"]
    assert set(data["schedule"][0]) == {
        "period", "cfads", "interest", "principal", "balance", "dscr", "llcr", "dscr_p90"
    }
    assert data["schedule"][-1]["dscr"] is None  # no debt service left: inf in Python, null in JSON
    assert sum(data["allocations"]["senior"].values()) == data["senior_size"]
    assert sum(data["allocations"]["junior"].values()) == data["junior_size"]
    assert data["monte_carlo"]["paths"] == 2000 and data["monte_carlo"]["seed"] == 3
    assert len(data["stress"]) == 16
    assert {"junior_irr", "junior_xirr", "junior_moic", "senior_yield_nominal"} <= set(data["returns"])
    assert {"utilization_at_dscr_1", "utilization_at_covenant", "rent_per_server_month_at_dscr_1",
            "max_cfads_haircut"} <= set(data["breakevens"])
    # the use of proceeds: the same integers as the model computes, the raise accounted for to the unit
    from rwa.leverage.analysis import stress_scenarios
    from rwa.leverage.report import SHORTFALL_ROW, use_of_proceeds_json
    from rwa.leverage.sizing import size_deal
    from rwa.leverage.use_of_proceeds import use_of_proceeds
    from rwa.model.deal_file import load_deal

    deal = load_deal(EXAMPLE)
    sizing = size_deal(deal)
    row = next(s for key, _, s in stress_scenarios(deal, sizing) if key == SHORTFALL_ROW)
    uop = data["use_of_proceeds"]
    assert uop == use_of_proceeds_json(use_of_proceeds(deal, sizing, row))
    assert uop["raise"] == uop["reserve_at_close"] + uop["costs"] + uop["escrowed"] + uop["to_treasury"]
    assert all(isinstance(v, int) for v in uop["shortfall"].values() if not isinstance(v, bool | str | list))


def test_size_writes_plots(app: typer.Typer, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    result = CliRunner().invoke(app, ["size", "--deal", str(EXAMPLE), "--plots", str(out), "--paths", "1000"])
    assert result.exit_code == 0, result.output
    for name in ("dscr.png", "balance.png", "stress_fan.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("rent_per_server_month = 13333.33  # seed: 120k", "rent_per_server_month = -1  # seed: 120k"),
         "error: deal.leases[0].rent_per_server_month: must be > 0"),
        (("dscr_target = 1.30", "dscr_target = 0.9"), "error: deal.financing.dscr_target: must be >= 1.0"),
        (("share_bps = 2500", "share_bps = 2400"),
         "error: deal.investors: senior shares sum to 9900 bps, must be exactly 10000"),
        (("tenor_periods = 48", ""), "error: deal.financing.tenor_periods: required field is missing"),
        (("power_per_server_month = 847.22", "power_per_server_month = 20000"),
         "error: deal.leases: the cash flow after operating costs and the servicing fee is not positive in any of the "
         "tenor's 48 periods"),
    ],
)
def test_invalid_deals_exit_2_with_one_line(
    app: typer.Typer, tmp_path: Path, edit: tuple[str, str], message: str
) -> None:
    text = EXAMPLE.read_text()
    assert edit[0] in text
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace(edit[0], edit[1], 1))
    result = CliRunner().invoke(app, ["size", "--deal", str(bad)])
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and result.stderr.endswith("\n") and result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_missing_file_and_bad_paths_exit_2(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["size", "--deal", str(tmp_path / "none.toml")])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: deal: cannot read")
    result = CliRunner().invoke(app, ["size", "--deal", str(EXAMPLE), "--paths", "0"])
    assert result.exit_code == 2
    assert result.stderr == "error: --paths: must be > 0\n"


def test_a_short_tenor_sizes_without_numeric_warnings(app: typer.Typer, tmp_path: Path) -> None:
    import warnings

    short = tmp_path / "short.toml"
    text = EXAMPLE.read_text()
    assert "tenor_periods = 48" in text
    short.write_text(text.replace("tenor_periods = 48", "tenor_periods = 24", 1))
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # a vanishing balance's DSCR is inf, not an overflow
        result = CliRunner().invoke(app, ["size", "--deal", str(short), "--paths", "2000", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["tenor_periods"] == 24


def test_size_refuses_a_loss_probability_outside_0_and_1(app: typer.Typer) -> None:
    result = CliRunner().invoke(app, ["size", "--deal", str(EXAMPLE), "--target-loss-probability", "1.5"])
    assert result.exit_code == 2
    assert "--target-loss-probability" in result.output and result.output.count("\n") == 1
