from __future__ import annotations

import hashlib
import tomllib
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rwa.errors import DealConfigError
from rwa.model.deal import Deal, parse_deal
from rwa.model.deal_file import deal_hash, load_deal
from rwa.model.placement import allocate
from tests.support.deals import EXAMPLE_DEAL as EXAMPLE

DAY = 86_400


def raw() -> dict[str, Any]:
    return tomllib.loads(EXAMPLE.read_text(), parse_float=Decimal)


def error_of(data: dict[str, Any]) -> str:
    with pytest.raises(DealConfigError) as info:
        parse_deal(data)
    message = str(info.value)
    assert "\n" not in message
    assert info.value.exit_code == 2
    return message


def test_example_deal_loads_with_money_in_smallest_units() -> None:
    deal = load_deal(EXAMPLE)
    assert deal.currency == "USDC"
    assert deal.decimals == 6
    assert deal.rmb_per_unit == 7.2
    assert deal.periods.count == 60
    assert deal.periods.first_start == datetime(2025, 7, 1, tzinfo=UTC)
    assert deal.leases[0].rent_per_server_month == 13_333_330_000
    assert deal.cluster.capex_per_server == 388_888_890_000
    assert isinstance(deal.financing.senior_coupon_bps, int)
    assert deal.financing.cash_trap_dscr_bps == 10_500


def test_the_example_deals_periods_are_calendar_months_and_period_60_ends_with_the_leases() -> None:
    periods = load_deal(EXAMPLE).periods
    assert periods.end_of(1) == periods.start_of(2) == datetime(2025, 8, 1, tzinfo=UTC)
    assert periods.start_of(60) == datetime(2030, 6, 1, tzinfo=UTC)
    assert periods.end_of(60) == datetime(2030, 7, 1, tzinfo=UTC)  # five-year leases from 2025-07-01
    assert {periods.start_of(p).day for p in range(1, 62)} == {1}
    assert periods.seconds_of(1) == 31 * DAY and periods.seconds_of(3) == 30 * DAY  # July, September
    assert periods.longest_seconds == 31 * DAY


def test_february_has_29_days_in_a_leap_year_and_28_otherwise() -> None:
    data = raw()
    data["periods"]["first_start"] = datetime(2027, 11, 1, tzinfo=UTC)
    periods = parse_deal(data).periods
    feb_2028, feb_2029 = 4, 16  # periods starting 2028-02-01 and 2029-02-01
    assert periods.start_of(feb_2028) == datetime(2028, 2, 1, tzinfo=UTC)
    assert periods.seconds_of(feb_2028) == 29 * DAY
    assert periods.end_of(feb_2028) == datetime(2028, 3, 1, tzinfo=UTC)
    assert periods.seconds_of(feb_2029) == 28 * DAY


def test_a_first_start_on_another_day_keeps_that_day_or_the_months_last() -> None:
    data = raw()
    data["periods"]["first_start"] = datetime(2028, 1, 31, 12, 30, tzinfo=UTC)
    periods = parse_deal(data).periods
    assert [periods.end_of(p) for p in (1, 2, 3, 13)] == [
        datetime(2028, 2, 29, 12, 30, tzinfo=UTC),  # leap February: its last day
        datetime(2028, 3, 31, 12, 30, tzinfo=UTC),  # counted from the first start: back on the 31st
        datetime(2028, 4, 30, 12, 30, tzinfo=UTC),
        datetime(2029, 2, 28, 12, 30, tzinfo=UTC),
    ]


def test_a_deal_that_sets_period_seconds_is_refused_with_the_fix() -> None:
    data = raw()
    data["periods"]["period_seconds"] = 2_592_000
    message = error_of(data)
    assert message.startswith("deal.periods.period_seconds: ")
    assert "calendar months" in message and "delete the line" in message


def test_the_governance_delay_must_exceed_the_longest_month() -> None:
    data = raw()
    data["governance"] = {"delay_seconds": 31 * DAY}
    assert error_of(data).startswith("deal.governance.delay_seconds: must exceed the deal's longest period (2678400 s)")
    data["governance"] = {"delay_seconds": 31 * DAY + 1}
    assert parse_deal(data).governance_delay == 31 * DAY + 1
    assert parse_deal(raw()).governance_delay == 32 * DAY  # default: the longest month plus a day


def test_example_investors_are_distinct_checksummed_and_span_both_tranches() -> None:
    deal = load_deal(EXAMPLE)
    assert 4 <= len(deal.investors) <= 6
    assert len({inv.address for inv in deal.investors}) == len(deal.investors)
    assert {inv.tranche for inv in deal.investors} == {"senior", "junior"}
    assert all(inv.kyc_expiry.year > 2031 for inv in deal.investors)


def test_deal_hash_is_sha256_of_the_file_bytes() -> None:
    assert deal_hash(EXAMPLE) == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()


def test_decimals_scale_amounts() -> None:
    data = raw()
    data["decimals"] = 2
    deal = parse_deal(data)
    assert deal.leases[0].rent_per_server_month == 1_333_333
    assert deal.unit == 100


def test_more_decimals_than_the_token_has_is_refused() -> None:
    data = raw()
    data["decimals"] = 1
    assert error_of(data) == "deal.cluster.capex_per_server: has more than 1 decimal places"


def test_negative_rent_names_the_field() -> None:
    data = raw()
    data["leases"][1]["rent_per_server_month"] = Decimal("-5")
    assert error_of(data) == "deal.leases[1].rent_per_server_month: must be > 0"


def test_negative_coupon_names_the_field() -> None:
    data = raw()
    data["financing"]["senior_coupon_bps"] = -1
    assert error_of(data) == "deal.financing.senior_coupon_bps: must be >= 0"


@pytest.mark.parametrize("field", ["dscr_target", "p90_dscr_target"])
def test_dscr_under_one_is_refused(field: str) -> None:
    data = raw()
    data["financing"][field] = Decimal("0.95")
    assert error_of(data) == f"deal.financing.{field}: must be >= 1.0"


def test_covenant_under_one_is_refused() -> None:
    data = raw()
    data["financing"]["cash_trap_dscr_bps"] = 9_000
    assert error_of(data) == "deal.financing.cash_trap_dscr_bps: must be >= 10000"


def test_allocations_that_do_not_sum_are_refused() -> None:
    data = raw()
    data["investors"][0]["share_bps"] = 3_999
    assert error_of(data) == ("deal.investors: senior shares sum to 9999 bps, must be exactly 10000 (or give each "
                              "investor an amount)")


def test_a_tranche_without_investors_is_refused() -> None:
    data = raw()
    data["investors"] = [inv for inv in data["investors"] if inv["tranche"] == "senior"]
    assert error_of(data) == ("deal.investors: junior shares sum to 0 bps, must be exactly 10000 (or give each "
                              "investor an amount)")


@pytest.mark.parametrize(
    ("section", "field"),
    [("financing", "dscr_target"), ("cluster", "servers"), ("periods", "first_start"), (None, "currency")],
)
def test_missing_fields_are_named(section: str | None, field: str) -> None:
    data = raw()
    (data[section] if section else data).pop(field)
    path = f"deal.{section}.{field}" if section else f"deal.{field}"
    assert error_of(data) == f"{path}: required field is missing"


def test_missing_section_is_named() -> None:
    data = raw()
    data.pop("financing")
    assert error_of(data) == "deal.financing: required field is missing"


def test_unknown_field_is_named() -> None:
    data = raw()
    data["financing"]["dscr_targte"] = Decimal("1.3")
    assert error_of(data) == "deal.financing.dscr_targte: unknown field"


def test_bad_address_is_named() -> None:
    data = raw()
    data["investors"][2]["address"] = data["investors"][2]["address"].lower()
    assert error_of(data) == "deal.investors[2].address: must be a checksummed 0x address (EIP-55)"


def test_duplicate_investor_in_a_tranche_is_refused() -> None:
    data = raw()
    data["investors"][1]["address"] = data["investors"][0]["address"]
    assert error_of(data).startswith(f"deal.investors: {data['investors'][0]['address'][:6]}")


def test_jurisdiction_must_be_alpha_2() -> None:
    data = raw()
    data["investors"][0]["jurisdiction"] = "SGP"
    assert error_of(data).startswith("deal.investors[0].jurisdiction:")


def test_rmb_figures_need_a_stated_rate() -> None:
    data = raw()
    data.pop("rmb_per_unit")
    assert error_of(data) == "deal.rmb_per_unit: required when source_currency is RMB"


def test_deliveries_must_add_up_to_the_cluster() -> None:
    data = raw()
    data["cluster"]["deliveries"][0]["servers"] = 300
    assert error_of(data) == "deal.cluster.deliveries: servers sum to 770, cluster.servers is 800"


def test_p90_utilization_above_base_is_refused() -> None:
    data = raw()
    data["utilization"]["p90"] = Decimal("0.9")
    assert error_of(data) == "deal.utilization.p90: must be <= base (0.87)"


def test_lease_past_the_deal_is_refused() -> None:
    data = raw()
    data["leases"][2]["term_periods"] = 60
    assert error_of(data) == "deal.leases[2].term_periods: lease ends in period 61, after the deal's 60 periods"


def test_naive_start_is_refused() -> None:
    data = raw()
    data["periods"]["first_start"] = datetime(2025, 7, 1)
    assert error_of(data).startswith("deal.periods.first_start: must carry a UTC offset")


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(DealConfigError, match="cannot read"):
        load_deal(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(DealConfigError, match="not valid TOML"):
        load_deal(bad)


def test_allocate_sums_exactly_with_largest_remainder() -> None:
    deal = load_deal(EXAMPLE)
    out = allocate(deal, senior=1_000_003, junior=7)
    assert sum(out["senior"].values()) == 1_000_003
    assert sum(out["junior"].values()) == 7
    senior = list(out["senior"].values())
    # 40% / 35% / 25% of 1_000_003 = 400_001.2 / 350_001.05 / 250_000.75 -> the .75 gets the spare unit
    assert senior == [400_001, 350_001, 250_001]
    assert list(out["junior"].values()) == [4, 3]  # 4.2 / 2.8 -> floors 4 / 2, the spare goes to 2.8


def test_allocate_breaks_ties_by_file_order() -> None:
    data = raw()
    for inv in data["investors"]:
        if inv["tranche"] == "junior":
            inv["share_bps"] = 5_000
    deal: Deal = parse_deal(data)
    assert list(allocate(deal, 0, 3)["junior"].values()) == [2, 1]


def _by_amount(amounts: list[int]) -> Deal:
    """The example deal with its senior investors replaced by ``len(amounts)`` investors giving amounts."""
    from web3 import Web3

    data = raw()
    template = next(inv for inv in data["investors"] if inv["tranche"] == "senior")
    juniors = [inv for inv in data["investors"] if inv["tranche"] == "junior"]
    seniors = []
    for i, amount in enumerate(amounts):
        inv = {k: v for k, v in template.items() if k != "share_bps"}
        inv.update(name=f"holder {i}", address=Web3.to_checksum_address(f"0x{i + 1:040x}"), amount=amount)
        seniors.append(inv)
    data["investors"] = seniors + juniors
    return parse_deal(data)


def test_amounts_that_add_up_to_the_tranche_are_allocated_exactly_for_any_number_of_holders() -> None:
    amounts = [1 + (i * 7919) % 5000 for i in range(10_001)]  # more holders than basis points
    deal = _by_amount(amounts)
    size = sum(amounts) * 10**deal.decimals
    out = allocate(deal, senior=size, junior=7)["senior"]
    assert len(out) == 10_001 and list(out.values()) == [a * 10**deal.decimals for a in amounts]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 10**6), min_size=1, max_size=40), st.integers(0, 10**15))
def test_amounts_share_any_tranche_pro_rata_within_a_unit(amounts: list[int], size: int) -> None:
    deal = _by_amount(amounts)
    out = list(allocate(deal, senior=size, junior=0)["senior"].values())
    assert sum(out) == size  # every unit allocated
    total = sum(amounts)
    for got, amount in zip(out, amounts, strict=True):
        assert abs(got * total - size * amount) < total  # within one unit of pro rata


def test_a_tranche_mixing_shares_and_amounts_is_refused() -> None:
    data = raw()
    data["investors"][0]["amount"] = 1_000
    assert error_of(data) == ("deal.investors: senior: give every investor of a tranche either share_bps or an "
                              "amount, not a mix")


def test_allocate_refuses_negative_sizes() -> None:
    with pytest.raises(DealConfigError):
        allocate(load_deal(EXAMPLE), -1, 0)


def test_the_parsed_deal_is_cached_per_file_version(tmp_path: Path) -> None:
    copy = tmp_path / "deal.toml"
    copy.write_bytes(EXAMPLE.read_bytes())
    first = load_deal(copy)
    assert load_deal(copy) is first
    copy.write_bytes(EXAMPLE.read_bytes() + b"\n")  # another version of the file: read again
    assert load_deal(copy) is not first and load_deal(copy) == first


def test_a_dumped_deal_round_trips_without_rescaling() -> None:
    from rwa.model.deal import deal_from_dump

    deal = load_deal(EXAMPLE)
    again = deal_from_dump(deal.model_dump())
    assert again == deal
    assert again.leases[0].rent_per_server_month == 13_333_330_000


def test_oracle_quorum_larger_than_its_reporters_is_refused() -> None:
    data = raw()
    data["oracle"]["threshold"] = 6
    assert error_of(data).startswith("deal.oracle: ")
    assert "threshold 6 exceeds the 5 reporters" in error_of(data)


def test_issuance_roles_follow_the_deals_oracle_terms(tmp_path: Path) -> None:
    from rwa.chain.connect import connect
    from rwa.issuance.issue import default_roles
    from rwa.model.deal_file import load_deal

    deal = load_deal(EXAMPLE)
    with connect(state=tmp_path / "chain.sqlite") as chain:
        roles = default_roles(chain, deal)
        assert roles.threshold == deal.oracle.threshold == 3
        assert sorted(roles.reporters) == sorted(a.address for a in chain.accounts[10:15])
        assert len({roles.admin, roles.servicer, roles.agent, roles.fee_recipient}) == 4


@settings(max_examples=300)
@given(st.binary(min_size=20, max_size=20), st.sampled_from(["checksummed", "lower", "upper", "one flipped"]))
def test_the_deals_checksum_test_is_eth_utils(raw: bytes, form: str) -> None:
    """The deal's EIP-55 test (which spares a command importing eth-utils) answers as eth-utils' does."""
    from eth_utils import is_checksum_address as eth_utils_test
    from eth_utils import to_checksum_address

    from rwa.model.deal import is_checksum_address

    address = to_checksum_address(raw)
    flipped = next((i for i, c in enumerate(address[2:], 2) if c.isalpha()), None)
    value = {
        "checksummed": address,
        "lower": address.lower(),
        "upper": "0x" + address[2:].upper(),
        "one flipped": address if flipped is None else
        address[:flipped] + address[flipped].swapcase() + address[flipped + 1:],
    }[form]
    assert is_checksum_address(value) == eth_utils_test(value)
    assert not is_checksum_address(value + "0") and not is_checksum_address(value[2:])
