"""The CLI speaks one language: the same amount is the same string in every command and in the auditor's report,
money carries its currency, DSCR is a multiple, piped output is whole, and a usage mistake is one ``error:`` line.

Every command here runs as its own process with its output piped, the way a user's script or a file sees it.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from rwa.chain.connect import connect
from rwa.issuance.issue import issue, plan_issue
from rwa.model.units import format_dscr, format_money
from rwa.oracle.publisher import publish
from tests.support.issuance import deal_for, rwa

REPO = Path(__file__).resolve().parents[2]
STRESS_GRID_COLUMNS = ("scenario", "min DSCR", "cash trap", "senior repaid", "senior loss")


def _value(output: str, label: str) -> str:
    """The value of the row ``label`` of a rich table printed without colour: the cell after the label's."""
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃|]", line)]
        if label in cells:
            return cells[cells.index(label) + 1]
    raise AssertionError(f"no row {label!r} in:\n{output}")


@dataclass(frozen=True)
class Demo:
    out: Path
    stdout: str
    summary: dict[str, object]
    status: str
    status_raw: str
    report: str

    def money(self, units: int) -> str:
        return format_money(units, int(str(self.summary["decimals"])), str(self.summary["currency"]))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    out = tmp_path_factory.mktemp("demo-output-with-a-folder-name-long-enough-to-wrap-a-narrow-console") / "demo"
    done = rwa("demo", "--months", "2", "--holders", "4", "--out", str(out), check=True)
    chain = ["--deployment", str(out / "deployment.json"), "--state", str(out / "chain.sqlite")]
    status = rwa("status", *chain, check=True)
    raw = rwa("status", "--raw", *chain, check=True)
    return Demo(
        out=out,
        stdout=done.stdout,
        summary=json.loads((out / "summary.json").read_text()),
        status=status.stdout,
        status_raw=raw.stdout,
        report=(out / "audit" / "report.html").read_text(encoding="utf-8"),
    )


def test_senior_paid_reads_the_same_in_the_demo_status_and_report(demo: Demo) -> None:
    senior_paid = int(str(demo.summary["senior_paid"]))
    assert senior_paid > 0
    shown = demo.money(senior_paid)
    assert shown.endswith(" USDC") and re.fullmatch(r"[\d,]+\.\d\d USDC", shown)
    assert _value(demo.stdout, "senior paid") == shown
    assert _value(demo.status, "senior paid (interest + principal)") == shown
    assert f"<th>senior paid</th><td>{shown}</td>" in demo.report
    assert _value(demo.stdout, "junior paid") == _value(demo.status, "junior paid")


def test_dscr_is_a_multiple_in_the_demo_status_and_report(demo: Demo) -> None:
    lowest = format_dscr(int(str(demo.summary["min_dscr_bps"])))
    assert re.fullmatch(r"\d+\.\d\dx", lowest)
    assert _value(demo.stdout, "lowest DSCR") == lowest
    assert f"<th>lowest DSCR</th><td>{lowest}</td>" in demo.report
    assert re.fullmatch(r"\d+\.\d\dx", _value(demo.status, "last period DSCR"))
    assert re.search(r"cash trap under \d+\.\d\dx", _value(demo.status, "covenant"))
    assert "%" not in _value(demo.status, "last period DSCR")


def test_every_amount_carries_the_currency_and_raw_shows_smallest_units(demo: Demo) -> None:
    claimed = demo.money(int(str(demo.summary["claimed_units"])))
    assert _value(demo.stdout, "claims (paid)") == f"{demo.summary['claims']} ({claimed})"
    for label in ("reserve (DSRA)", "servicing fees paid", "interest arrears"):
        assert _value(demo.status, label).endswith(" USDC")
    senior_paid = demo.summary["senior_paid"]
    assert _value(demo.status_raw, "senior paid (interest + principal)") == f"{senior_paid} USDC smallest units"
    assert "<td>True</td>" not in demo.report and "<td>False</td>" not in demo.report
    assert "<th>finalized</th><td>no</td>" in demo.report


def test_the_demo_shows_the_raise_the_allocation_and_the_trades(demo: Demo) -> None:
    import csv

    s = demo.summary
    sold = [int(x) for x in s["sold"]]  # type: ignore[union-attr]
    requested = [int(x) for x in s["requested"]]  # type: ignore[union-attr]
    assert requested[0] > sold[0] > 0 and int(str(s["refunds"])) == sum(requested) - sum(sold)
    assert _value(demo.stdout, "senior requested / sold") == f"{demo.money(requested[0])} / {demo.money(sold[0])}"
    raise_row = _value(demo.stdout, "raise: reserve / costs / proceeds")
    assert raise_row == " / ".join(demo.money(int(str(s[k]))) for k in ("reserve_at_close", "upfront_costs",
                                                                          "proceeds"))
    assert int(str(s["reserve_at_close"])) + int(str(s["upfront_costs"])) + int(str(s["proceeds"])) == sum(sold)
    proceeds, escrowed = int(str(s["proceeds"])), int(str(s["escrowed"]))
    assert _value(demo.stdout, "proceeds: escrowed / to the treasury") == \
        f"{demo.money(escrowed)} / {demo.money(proceeds - escrowed)}"
    assert _value(demo.stdout, "servers delivered of ordered") == \
        f"{int(str(s['servers_delivered'])):,} of {int(str(s['servers_ordered'])):,}"
    assert re.fullmatch(r"\d+ \(\d+\)", _value(demo.stdout, "trades settled against payment (refused)"))
    with (demo.out / "audit" / "holders.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert {"paid", "received", "xirr"} <= set(rows[0])
    assert sum(int(r["paid"] or 0) for r in rows) >= sum(sold)  # par for the tokens, and the trades' prices


def test_piped_demo_output_keeps_paths_on_one_line(demo: Demo) -> None:
    report = str(demo.out / "audit" / "report.html")
    assert len(report) > 80
    assert report in demo.stdout
    assert _value(demo.stdout, "written to") == str(demo.out)


@dataclass(frozen=True)
class Operated:
    """A deal issued with period 1 reported, then ``rwa distribute``, ``rwa claim`` and ``rwa status`` run as
    separate processes: their outputs, the holder, and the options that reach the deal's chain."""

    distributed: str
    claimed: str
    status: str
    holder: str
    chain: tuple[str, ...]


@pytest.fixture(scope="module")
def operated(tmp_path_factory: pytest.TempPathFactory) -> Operated:
    folder = tmp_path_factory.mktemp("operated")
    state, manifest = folder / "chain.sqlite", folder / "deployment.json"
    with connect(state=state) as chain:
        holder = chain.accounts[15].address
        deal_path = deal_for(chain.accounts[15:20], folder, chain.now(), periods_ended=1)
        issued = issue(chain, plan_issue(deal_path), manifest, lambda _m: None)
        publish(chain, issued, period=1, simulate=True)
    common = ("--deployment", str(manifest), "--state", str(state))
    distributed = rwa("distribute", "--period", "1", *common, check=True)
    claimed = rwa("claim", "--holder", holder, *common, check=True)
    status = rwa("status", *common, check=True)
    return Operated(distributed.stdout, claimed.stdout, status.stdout, holder, common)


def test_distribute_shows_money_with_the_currency_and_dscr_as_a_multiple(operated: Operated) -> None:
    distributed, status = operated.distributed, operated.status
    assert re.search(r"period 1 distributed; deposited [\d,]+\.\d\d USDC$", distributed.splitlines()[0])
    for leg in ("collected", "fee", "senior_interest", "senior_principal", "reserve_in", "junior", "balance_after"):
        assert re.fullmatch(r"-?[\d,]+\.\d\d USDC", _value(distributed, leg)), leg
    assert _value(distributed, "dscr") == _value(status, "last period DSCR")
    assert re.fullmatch(r"\d+\.\d\dx", _value(distributed, "dscr"))
    assert _value(distributed, "fee") == _value(status, "servicing fees paid")


def test_claim_shows_what_status_counts_as_claimed(operated: Operated) -> None:
    claimed, status, holder = operated.claimed, operated.status, operated.holder
    found = re.fullmatch(rf"{holder}: senior ([\d,]+\.\d\d USDC)  junior ([\d,]+\.\d\d USDC)", claimed.strip())
    assert found, claimed
    assert found.group(1) != "0.00 USDC"
    assert _value(status, "senior claimed / distributed").split(" / ")[0] == found.group(1)


def test_value_shows_each_tokens_fair_value_and_trade_quote_agrees(operated: Operated) -> None:
    raw = json.loads(rwa("value", "--json", *operated.chain, check=True).stdout)
    assert raw["date"] == raw["as_of"]["time"] and raw["day_count"] == "actual/365"
    assert raw["last_distributed_period"] == 1 and not raw["finalized"]
    senior, junior = raw["tranches"]["senior"], raw["tranches"]["junior"]
    assert senior["rate_percent"] == 9 and junior["rate_percent"] == 15  # the coupon + 1% and the junior hurdle
    assert 0 < senior["value_per_token"] < 10**6 and isinstance(senior["value"], int)
    assert [p["period"] for p in senior["payments"]] == [*range(2, 61), 61]
    # at 0% the value is the payments themselves; a later date within the period accretes it
    flat = json.loads(rwa("value", "--json", "--rate", "0", "--tranche", "senior", *operated.chain, check=True).stdout)
    assert list(flat["tranches"]) == ["senior"]
    assert flat["tranches"]["senior"]["value"] == sum(p["amount"] for p in senior["payments"])
    later = json.loads(rwa("value", "--json", "--date", senior["payments"][0]["date"], *operated.chain,
                           check=True).stdout)
    assert later["tranches"]["senior"]["value"] > senior["value"]
    shown = rwa("value", *operated.chain, check=True).stdout
    per_token = format_money(senior["value_per_token"], 6, "USDC")
    left = sum(1 for p in senior["payments"] if p["amount"])  # the senior is repaid before the leases end
    assert re.search(rf"│ senior\s+│\s+9\.00% │\s+{left} │\s+{re.escape(per_token)} │", shown), shown
    assert format_money(junior["value"], 6, "USDC") in shown
    # one definition of fair value: a quote for one whole token is the value of one token
    quote = rwa("trade", "quote", "--tranche", "senior", "--amount", "1", *operated.chain, check=True).stdout
    assert f"1.00 senior tokens: {per_token} at 9.00% a year ({senior['value_per_token']} smallest units)" in quote


def test_money_is_typed_as_it_is_shown_times_are_iso_and_the_rate_is_percent_both_ways(operated: Operated) -> None:
    """Money options take whole units (up to the token's decimals), or smallest units with --raw; one parser reads
    every one of them; a rate typed in percent comes back in percent; times are ISO 8601 UTC."""
    whole = rwa("trade", "quote", "--tranche", "senior", "--amount", "1,000.5", *operated.chain, check=True).stdout
    raw = rwa("trade", "quote", "--tranche", "senior", "--amount", "1000500000", "--raw", *operated.chain,
              check=True).stdout
    assert whole.startswith("1,000.50 senior tokens: ") and raw.startswith("1000500000 senior tokens smallest units: ")
    assert whole.split("(")[-1] == raw.split("(")[-1]  # the same price, in smallest units
    for command in (["distribute", "--period", "2", "--amount"], ["offering", "subscribe", "--tranche", "senior",
                    "--investor", operated.holder, "--amount"], ["trade", "quote", "--tranche", "senior", "--amount"],
                    ["trade", "make", "--tranche", "senior", "--seller", operated.holder, "--out", "o.json",
                     "--price", "1", "--amount"]):
        for bad, why in (("5e3", "give whole USDC" if command[0] != "trade" else "give whole senior tokens"),
                         ("1.0000001", "at most 6 digits after the point"), ("-5", "e.g. 5000 or 5,000.50")):
            done = rwa(*command, bad, *operated.chain)
            assert done.returncode == 2 and done.stderr.startswith(f"error: --amount {bad!r}: not an amount"), (
                command, done.stderr)
            assert why in done.stderr and len(done.stderr.strip().splitlines()) == 1
    rated = json.loads(rwa("value", "--json", "--rate", "9.5", *operated.chain, check=True).stdout)
    assert {t["rate_percent"] for t in rated["tranches"].values()} == {9.5}
    status = json.loads(rwa("oracle", "status", *operated.chain, check=True).stdout)
    for key in ("chain_time", "next_deadline"):
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", status[key]), status
    info = rwa("chain", "info", "--state", operated.chain[-1], check=True).stdout
    assert re.search(r"head time\s+│?\s*\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", info), info


def test_piped_size_keeps_every_stress_grid_column() -> None:
    done = rwa("size", "--deal", "examples/deal-h800.toml", "--paths", "500", check=True)
    header = next(line for line in done.stdout.splitlines() if "scenario" in line)
    for column in STRESS_GRID_COLUMNS:
        assert column in header, (column, header)
    assert re.search(r"│ senior \(deployed\)\s+│\s+[\d,]+\.00 USDC │", done.stdout)
    assert re.search(r"│ min base DSCR\s+│\s+\d+\.\d\dx │", done.stdout)


@pytest.mark.parametrize(
    "args",
    [
        ("demo", "--months", "x"),  # a word where a number goes
        ("demo", "--no-such-option"),
        ("size",),  # --deal is required
        ("oracle", "publish", "--period", "one"),
    ],
)
def test_a_usage_mistake_is_one_error_line_and_exit_2(
    args: tuple[str, ...], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rwa.cli.main import main

    monkeypatch.setattr(sys, "argv", ["rwa", *args])
    with pytest.raises(SystemExit) as exited:
        main()
    assert exited.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"error: rwa {args[0]}")
    assert err.rstrip().endswith("--help)")


def _script(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, f"scripts/{name}", *args], capture_output=True, text=True, cwd=REPO,
                          check=False)


@pytest.mark.parametrize("name", ["issue.py", "replay.py"])
def test_script_help_shows_a_usage_line_that_works(name: str) -> None:
    done = _script(name, "--help")
    assert done.returncode == 0, done.stderr
    usage = next(line.strip() for line in done.stdout.splitlines() if "Usage:" in line)
    assert usage == f"Usage: python scripts/{name} [OPTIONS]"

def test_a_script_usage_mistake_is_one_line_naming_the_script(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from rwa.cli.main import main

    monkeypatch.setattr(sys, "argv", ["scripts/issue.py", "--no-such-option"])
    with pytest.raises(SystemExit) as exited:
        main("issue", prog_name="python scripts/issue.py")
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: python scripts/issue.py: No such option: --no-such-option")
    assert err.rstrip().endswith("(see python scripts/issue.py --help)")
