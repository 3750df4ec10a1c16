"""What the replay tests read of the auditor's report in a browser: the use-of-proceeds and fleet sections."""

from __future__ import annotations

from pathlib import Path

from tests.support.browser import rendered


def assert_asset_sections_render(report: Path, summary: dict[str, object]) -> None:
    """The report's use-of-proceeds and fleet sections, laid out by a browser, show the summary's figures and
    their charts."""
    from rwa.model.units import money_formatter

    use, fleet = summary["use_of_proceeds"], summary["fleet"]
    assert isinstance(use, dict) and isinstance(fleet, dict)
    money = money_formatter(6, "USDC")
    seen = rendered(report.as_uri(), ["#use-of-proceeds", "#chart-proceeds svg", "#fleet", "#chart-fleet svg",
                                      "#fleet-table tr:last-child"])
    proceeds, fleet_text = seen["#use-of-proceeds"], seen["#fleet"]
    assert proceeds is not None and fleet_text is not None
    for label, key in (("raised at the close", "raised"), ("to the reserve", "reserve"), ("costs", "costs"),
                       ("into the escrow (capex share)", "escrowed"), ("released from the raise",
                       "released_from_raise"), ("released from the equity", "released_from_equity"),
                       ("prepaid at the long-stop", "prepaid"), ("equity returned", "equity_returned")):
        assert f"{label}\t{money(int(use[key]))}" in proceeds.text, (label, proceeds.text)
    for order in use["orders"]:
        assert order["supplier"] in proceeds.text and money(order["from_raise"]) in proceeds.text
    assert f"{fleet['ordered']:,} servers ordered, {fleet['delivered']:,} delivered" in fleet_text.text
    last = seen["#fleet-table tr:last-child"]
    assert last is not None and last.text.split("\t")[:4] == [
        f"{fleet['period']:,}", f"{fleet['ordered']:,}", f"{fleet['delivered']:,}", f"{fleet['active']:,}"]
    for chart in ("#chart-proceeds svg", "#chart-fleet svg"):
        box = seen[chart]
        assert box is not None and box.width > 300 and box.height > 150, (chart, box)
