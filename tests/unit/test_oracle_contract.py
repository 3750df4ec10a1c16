"""RevenueOracle on the embedded chain: quorum, ordering, calendar, bounds, amendments, each rejection by name."""

from __future__ import annotations

import calendar
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from eth_account import Account

from rwa.chain.interface import Chain
from rwa.chain.tx import contract_at, deploy, send
from rwa.errors import ContractRevertError
from rwa.model.calendar import CALENDAR_MONTHS, month_ends
from rwa.model.fleet import LeaseRow, contracted_rent
from rwa.model.units import FX_RATE_SCALE, UINT96_MAX, UINT128_MAX, fx_convert_down
from rwa.onchain.oracle import Report, tape_hash
from rwa.onchain.register import Delivery, serials_hash
from rwa.oracle.report import digest, sign_report
from tests.support.oracle import (
    CONTRACTED_RENT,
    GRACE,
    MULTIPLE_BPS,
    PERIOD,
    PERIODS,
    RENT_PER_SERVER,
    RMB_RATE,
    SERIALS,
    SERVERS,
    OracleSetup,
    attest,
    deploy_oracle,
    retaped,
    sample_report,
    with_tape,
)

DAY = 86_400
HOUR = 3_600


@pytest.fixture
def setup(chain: Chain) -> OracleSetup:
    return deploy_oracle(chain, ended=2)


def _sigs(s: OracleSetup, report: Report, n: int = 3) -> list[bytes]:
    return sign_report(report, s.reporters[:n], s.chain.chain_id, s.oracle.address)


def _submit(s: OracleSetup, report: Report, sigs: list[bytes] | None = None) -> None:
    s.oracle.submit(report, _sigs(s, report) if sigs is None else sigs, sender=s.admin)


def _rejects(name: str, fn: object, *args: object, **kwargs: object) -> ContractRevertError:
    with pytest.raises(ContractRevertError) as info:
        fn(*args, **kwargs)  # type: ignore[operator]
    assert info.value.error_name == name, str(info.value)
    return info.value


def test_accepts_a_quorum_report_and_emits_every_field(setup: OracleSetup) -> None:
    report = sample_report(1)
    sigs = _sigs(setup, report)
    setup.oracle.submit(report, sigs, sender=setup.admin)
    assert setup.oracle.report_of(1) == report
    assert setup.oracle.latest() == report
    assert setup.oracle.latest_period() == 1
    assert setup.oracle.has_report(1) and not setup.oracle.has_report(2)
    assert setup.oracle.report_of(2) is None
    [event] = setup.oracle.events()
    assert event.kind == "submitted" and event.report == report
    assert event.signers == sorted((r.address for r in setup.reporters[:3]), key=str.lower)


def test_python_digest_matches_the_contract(setup: OracleSetup) -> None:
    report = sample_report(1)
    assert setup.oracle.report_digest(report) == digest(report, setup.chain.chain_id, setup.oracle.address)


def test_more_signatures_than_the_threshold_are_accepted(setup: OracleSetup) -> None:
    report = sample_report(1)
    _submit(setup, report, _sigs(setup, report, n=5))
    assert len(setup.oracle.events()[0].signers) == 5


def test_malformed_signature_is_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    sigs = _sigs(setup, report)
    bad = bytearray(sigs[1])
    bad[84] = 30  # v outside {27, 28}: recovers no key
    sigs[1] = bytes(bad)
    err = _rejects("InvalidSignature", _submit, setup, report, sigs)
    assert err.error_args == {"index": 1}
    err = _rejects("InvalidSignature", _submit, setup, report, [*sigs[:1], sigs[2][:-1], sigs[2]])
    assert err.error_args == {"index": 1}


@pytest.mark.parametrize("where", ["chain_id", "oracle"])
def test_signature_for_another_domain_is_rejected(setup: OracleSetup, where: str) -> None:
    report = sample_report(1)
    chain_id = setup.chain.chain_id + (1 if where == "chain_id" else 0)
    address = setup.stub if where == "oracle" else setup.oracle.address
    sigs = sign_report(report, setup.reporters[:3], chain_id, address)
    err = _rejects("SignerMismatch", _submit, setup, report, sigs)
    assert err.error_args["index"] == 0
    assert str(err.error_args["claimed"]).lower() == "0x" + sigs[0][:20].hex()
    assert str(err.error_args["recovered"]).lower() != "0x" + sigs[0][:20].hex()


def test_signature_over_other_figures_is_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    other = sample_report(1, revenue=report.revenue + 1)
    _rejects("SignerMismatch", _submit, setup, report, _sigs(setup, other))


def test_unauthorised_signer_is_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    outsider = Account.create()
    signers = [*setup.reporters[:2], outsider]
    err = _rejects("SignerNotReporter", _submit, setup, report,
                   sign_report(report, signers, setup.chain.chain_id, setup.oracle.address))
    assert str(err.error_args["signer"]).lower() == outsider.address.lower()


def test_duplicate_signer_is_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    sigs = _sigs(setup, report)
    err = _rejects("SignersNotAscending", _submit, setup, report, [sigs[0], sigs[1], sigs[1]])
    assert err.error_args["previous"] == err.error_args["next"]


def test_signers_out_of_order_are_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    sigs = _sigs(setup, report)
    _rejects("SignersNotAscending", _submit, setup, report, [sigs[1], sigs[0], sigs[2]])


def test_one_signature_short_of_threshold_is_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    err = _rejects("QuorumNotReached", _submit, setup, report, _sigs(setup, report, n=2))
    assert err.error_args == {"got": 2, "threshold": 3}


def test_replayed_report_is_rejected(setup: OracleSetup) -> None:
    report = sample_report(1)
    sigs = _sigs(setup, report)
    _submit(setup, report, sigs)
    err = _rejects("PeriodAlreadyReported", _submit, setup, report, sigs)
    assert err.error_args == {"period": 1}


def test_gap_is_rejected(setup: OracleSetup) -> None:
    err = _rejects("PeriodGap", _submit, setup, sample_report(2))
    assert err.error_args == {"expected": 1, "got": 2}
    err = _rejects("PeriodGap", _submit, setup, sample_report(0))
    assert err.error_args == {"expected": 1, "got": 0}


def test_period_not_ended_is_rejected(setup: OracleSetup) -> None:
    _submit(setup, sample_report(1))
    _submit(setup, sample_report(2))
    err = _rejects("PeriodNotEnded", _submit, setup, sample_report(3))
    assert err.error_args["periodEnd"] == setup.first_start + 3 * PERIOD
    setup.chain.time_travel(setup.first_start + 3 * PERIOD)
    _submit(setup, sample_report(3))
    assert setup.oracle.latest_period() == 3


def test_out_of_bounds_revenue_is_rejected(setup: OracleSetup) -> None:
    rent = 10_000_000
    top = rent * MULTIPLE_BPS // 10_000
    err = _rejects("RevenueOutOfBounds", _submit, setup, sample_report(1, revenue=top + 1, rent=rent))
    assert err.error_args == {"revenue": top + 1, "max": top}
    _submit(setup, sample_report(1, revenue=top, rent=rent))


def test_the_fx_rule_and_its_scale_are_the_contracts(setup: OracleSetup) -> None:
    functions = setup.oracle.contract.functions
    assert functions.FX_RATE_SCALE().call() == FX_RATE_SCALE
    cases = [(0, RMB_RATE), (1, RMB_RATE), (7, 10**17), (10, 10**17), (72_000_000, RMB_RATE),
             (54_287_986_428_000, RMB_RATE), (123_456_789, FX_RATE_SCALE), (3, 3 * FX_RATE_SCALE + 1),
             (UINT128_MAX, UINT96_MAX), (UINT128_MAX, 1), (1, UINT96_MAX)]
    for source, rate in cases:
        assert functions.fxConvertDown(source, rate).call() == fx_convert_down(source, rate), (source, rate)


def test_a_report_converted_from_its_source_currency_is_accepted_and_emitted_with_its_rate(
    setup: OracleSetup,
) -> None:
    report = sample_report(1, revenue=9_000_000, fx_rate=RMB_RATE)
    assert report.source_revenue == 64_800_001 and report.fx_rate == RMB_RATE
    _submit(setup, report)
    assert setup.oracle.report_of(1) == report
    [event] = setup.oracle.events()
    assert (event.report.source_revenue, event.report.fx_rate) == (64_800_001, RMB_RATE)
    args = setup.oracle.contract.events.ReportSubmitted.get_logs(from_block=0)[0]["args"]["report"]
    assert (args["revenue"], args["sourceRevenue"], args["fxRate"]) == (9_000_000, 64_800_001, RMB_RATE)


@pytest.mark.parametrize("off_by", [1, -1])
def test_a_report_whose_revenue_is_not_its_conversion_is_refused_with_the_figures(
    setup: OracleSetup, off_by: int
) -> None:
    honest = sample_report(1, revenue=9_000_000, fx_rate=RMB_RATE)
    forged = replace(honest, revenue=honest.revenue + off_by)  # signed by the whole quorum, still refused
    err = _rejects("FxConversionMismatch", _submit, setup, forged)
    assert err.error_args == {"period": 1, "sourceRevenue": honest.source_revenue, "fxRate": RMB_RATE,
                              "expected": honest.revenue, "reported": honest.revenue + off_by}
    rated = replace(honest, fx_rate=RMB_RATE + 10**12)  # the same revenue claimed at another rate
    _rejects("FxConversionMismatch", _submit, setup, rated)
    assert setup.oracle.latest_period() == 0
    _submit(setup, honest)


def test_an_amendment_is_held_to_the_fx_rule_and_a_new_rate_alone_is_a_change(setup: OracleSetup) -> None:
    setup.oracle.bind_pool(setup.stub, sender=setup.admin)
    first = sample_report(1, revenue=7_000_000, fx_rate=RMB_RATE)
    _submit(setup, first)
    broken = replace(first, revenue=first.revenue + 1, version=1)
    err = _rejects("FxConversionMismatch", setup.oracle.amend, 1, broken, _sigs(setup, broken), sender=setup.admin)
    assert err.error_args["expected"] == first.revenue
    # the same stablecoin revenue from one more source unit: another report, not AmendmentUnchanged
    restated = retaped(replace(first, source_revenue=first.source_revenue + 1, version=1))
    assert fx_convert_down(restated.source_revenue, RMB_RATE) == first.revenue and not first.same_figures(restated)
    setup.oracle.amend(1, restated, _sigs(setup, restated), sender=setup.admin)
    amended = setup.oracle.events()[-1]
    assert amended.old_report == first and amended.report == restated


def test_overdue_once_the_next_deadline_passes(setup: OracleSetup) -> None:
    deadline = setup.first_start + PERIOD + GRACE
    assert setup.oracle.next_deadline() == deadline
    assert setup.oracle.is_overdue()  # period 1 ended two periods ago
    _submit(setup, sample_report(1))
    _submit(setup, sample_report(2))
    assert setup.oracle.next_deadline() == setup.first_start + 3 * PERIOD + GRACE
    assert not setup.oracle.is_overdue()
    setup.chain.time_travel(setup.first_start + 3 * PERIOD + GRACE + 1)
    assert setup.oracle.is_overdue()
    _submit(setup, sample_report(3))
    assert not setup.oracle.is_overdue()


@pytest.mark.parametrize("leap", [False, True])
def test_a_deals_oracle_times_each_report_and_its_deadline_by_the_calendar_month(chain: Chain, leap: bool) -> None:
    year = datetime.fromtimestamp(chain.now(), UTC).year + 1
    while calendar.isleap(year) != leap:
        year += 1
    first = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    s = deploy_oracle(chain, first_start=first, period_length=CALENDAR_MONTHS)
    assert s.oracle.period_ends() == month_ends(first, PERIODS) == s.oracle.config().period_ends
    january, february = 31 * DAY, (29 if leap else 28) * DAY
    # January: reported only after its 31 days, overdue its grace later
    err = _rejects("PeriodNotEnded", _submit, s, sample_report(1))
    assert err.error_args["periodEnd"] == first + january
    assert s.oracle.next_deadline() == first + january + GRACE
    chain.time_travel(first + 30 * DAY + GRACE + HOUR)  # past a 30-day period's deadline, not January's
    assert not s.oracle.is_overdue()
    chain.time_travel(first + january + GRACE + 1)
    assert s.oracle.is_overdue()
    _submit(s, sample_report(1))
    # February: 28 days (29 in a leap year), then the same grace
    assert s.oracle.next_deadline() == first + january + february + GRACE
    chain.time_travel(first + january + february + GRACE - HOUR)
    assert not s.oracle.is_overdue()
    chain.time_travel(first + january + february + GRACE + 1)  # a 30-day clock would wait one or two days more
    assert s.oracle.is_overdue()
    _submit(s, sample_report(2))
    assert s.oracle.next_deadline() == first + january + february + 31 * DAY + GRACE  # March


def test_amend_before_distribution_emits_both_reports(setup: OracleSetup) -> None:
    setup.oracle.bind_pool(setup.stub, sender=setup.admin)
    old = sample_report(1)
    _submit(setup, old)
    new = replace(sample_report(1, revenue=old.revenue - 5, tag=b"corrected"), version=1)
    setup.oracle.amend(1, new, _sigs(setup, new), sender=setup.admin)
    assert setup.oracle.report_of(1) == new
    amended = setup.oracle.events()[-1]
    assert amended.kind == "amended" and amended.old_report == old and amended.report == new


def test_a_superseded_reports_signatures_are_refused_and_an_amendment_must_be_the_next_version(
    setup: OracleSetup,
) -> None:
    setup.oracle.bind_pool(setup.stub, sender=setup.admin)
    first = sample_report(1)
    first_sigs = _sigs(setup, first)
    setup.oracle.submit(first, first_sigs, sender=setup.admin)
    second = replace(sample_report(1, revenue=1, tag=b"second"), version=1)
    setup.oracle.amend(1, second, _sigs(setup, second), sender=setup.admin)
    # anyone holding the first report's public signatures tries to put it back
    err = _rejects("WrongVersion", setup.oracle.amend, 1, first, first_sigs, sender=setup.admin)
    assert err.error_args == {"period": 1, "expected": 2, "got": 0}
    skipped = replace(first, version=3)
    _rejects("WrongVersion", setup.oracle.amend, 1, skipped, _sigs(setup, skipped), sender=setup.admin)
    back = replace(first, version=2)  # the first figures again are only a new, newly signed version
    setup.oracle.amend(1, back, _sigs(setup, back), sender=setup.admin)
    assert setup.oracle.report_of(1) == back


def test_an_unbound_oracle_refuses_every_amendment(setup: OracleSetup) -> None:
    _submit(setup, sample_report(1))
    new = replace(sample_report(1, revenue=1, tag=b"n"), version=1)
    _rejects("PoolNotBound", setup.oracle.amend, 1, new, _sigs(setup, new), sender=setup.admin)


PART = 300
"""Servers of the test order delivered in period 1 when the rest comes in period 2."""


def _part_delivered(chain: Chain) -> OracleSetup:
    """The test register with :data:`PART` servers accepted at period 1's start and none other yet."""
    s = deploy_oracle(chain, ended=2, deliver=False)
    attest(s, Delivery(0, PART, serials_hash(SERIALS[:PART]), s.first_start, "Test site", 0))
    return s


def _of_part(report: Report) -> Report:
    """``report`` for :data:`PART` servers: its one tape row and its active servers."""
    return retaped(with_tape(replace(report, active_servers=PART), [replace(report.tape[0], servers=PART)]))


def test_the_contracted_rent_follows_the_leases_of_the_delivered_servers(chain: Chain) -> None:
    s = _part_delivered(chain)
    leases = s.register.leases()
    rent_1 = contracted_rent(leases, PART, 1)
    assert rent_1 == PART * RENT_PER_SERVER < CONTRACTED_RENT
    whole_lease = _of_part(sample_report(1, revenue=rent_1))  # the rent of servers that never came
    err = _rejects("ContractedRentMismatch", _submit, s, whole_lease)
    assert err.error_args == {"period": 1, "scheduled": rent_1, "reported": CONTRACTED_RENT}
    over = _of_part(sample_report(1, revenue=rent_1 * MULTIPLE_BPS // 10_000 + 1, rent=rent_1))
    _rejects("RevenueOutOfBounds", _submit, s, over)  # the bound follows the delivered rent too
    _submit(s, _of_part(sample_report(1, revenue=rent_1, rent=rent_1)))
    # the rest of the order arrives in period 2: from then the lease's rent is for all its servers
    attest(s, Delivery(0, SERVERS - PART, serials_hash(SERIALS[PART:]), s.first_start + PERIOD, "Test site", 1))
    assert contracted_rent(leases, s.register.fleet_at(s.oracle.period_end(2)), 2) == CONTRACTED_RENT
    _submit(s, sample_report(2))
    assert s.oracle.latest_period() == 2
    assert s.oracle.contract.functions.periodCount().call() == PERIODS


def test_a_report_whose_revenue_is_not_its_tapes_billed_total_is_refused(setup: OracleSetup) -> None:
    honest = sample_report(1)
    row = honest.tape[0]
    short = with_tape(honest, [replace(row, billed=row.billed - 1)])  # the quorum signs it, still refused
    err = _rejects("RevenueNotTapeTotal", _submit, setup, short)
    assert err.error_args == {"period": 1, "tapeBilled": row.billed - 1, "sourceRevenue": honest.source_revenue}
    assert setup.oracle.latest_period() == 0
    _submit(setup, honest)


def test_active_servers_above_the_delivered_fleet_are_refused(chain: Chain) -> None:
    s = _part_delivered(chain)
    honest = _of_part(sample_report(1, revenue=1_000_000, rent=PART * RENT_PER_SERVER))
    claimed = replace(honest, active_servers=SERVERS)  # the lease's servers, not the fleet's
    err = _rejects("ActiveServersAboveFleet", _submit, s, claimed)
    assert err.error_args == {"period": 1, "activeServers": SERVERS, "fleet": PART}
    _submit(s, honest)


def test_a_lease_billed_for_servers_never_delivered_is_refused(chain: Chain) -> None:
    s = _part_delivered(chain)
    rent = PART * RENT_PER_SERVER
    billed_whole = replace(_of_part(sample_report(1, revenue=1_000_000, rent=rent)), active_servers=PART)
    billed_whole = with_tape(billed_whole, [replace(billed_whole.tape[0], servers=PART + 1)])
    err = _rejects("TapeServersAboveLease", _submit, s, billed_whole)
    assert err.error_args == {"period": 1, "lease": 1, "servers": PART + 1, "allowed": PART}
    mismatch = with_tape(billed_whole, [replace(billed_whole.tape[0], servers=PART - 1)])
    err = _rejects("TapeServersMismatch", _submit, s, mismatch)
    assert err.error_args == {"period": 1, "tapeServers": PART - 1, "activeServers": PART}


def test_a_tape_that_is_not_the_signed_one_is_refused(setup: OracleSetup) -> None:
    honest = sample_report(1)
    row = honest.tape[0]
    signed = _sigs(setup, honest)
    other = (replace(row, collected=row.collected - 1, days_past_due=30),)  # sent in place of the signed tape
    swapped = replace(honest, tape=other)  # keeps the signed tapeHash
    err = _rejects("TapeHashMismatch", _submit, setup, swapped, signed)
    assert err.error_args == {"period": 1, "computed": tape_hash(other), "reported": honest.tape_hash}
    missing = replace(honest, tape=())
    err = _rejects("TapeLength", _submit, setup, missing, signed)
    assert err.error_args == {"period": 1, "leases": 1, "rows": 0}
    _submit(setup, honest, signed)


def test_a_tape_with_a_lessee_past_due_is_recorded_for_the_pool(setup: OracleSetup) -> None:
    late = sample_report(1, days_past_due=45)
    assert late.tape[0].collected == 0
    _submit(setup, late)
    assert setup.oracle.past_due_of(1) == (1, 45)
    assert setup.oracle.contract.functions.latestPastDue().call() == [1, 1, 45]
    _submit(setup, sample_report(2))
    assert setup.oracle.past_due_of(2) == (0, 0)
    [(period, version, rows)] = [t for t in setup.oracle.tape_events() if t[0] == 1]
    assert (period, version, rows) == (1, 0, late.tape) and rows[0] == LeaseRow(1, SERVERS, late.source_revenue, 0, 45)


def test_amend_after_distribution_is_rejected(setup: OracleSetup) -> None:
    setup.oracle.bind_pool(setup.stub, sender=setup.admin)
    _submit(setup, sample_report(1))
    stub = contract_at(setup.chain, "StubDistributionStatus", setup.stub)
    send(stub.functions.setLastDistributedPeriod(1), sender=setup.admin, gas=100_000)
    new = sample_report(1, revenue=1, tag=b"late")
    err = _rejects("AmendAfterDistribution", setup.oracle.amend, 1, new, _sigs(setup, new), sender=setup.admin)
    assert err.error_args == {"period": 1, "lastDistributed": 1}


def test_amend_needs_the_same_quorum_and_an_existing_report(setup: OracleSetup) -> None:
    setup.oracle.bind_pool(setup.stub, sender=setup.admin)
    _submit(setup, sample_report(1))
    new = replace(sample_report(1, revenue=7, tag=b"n"), version=1)
    _rejects("QuorumNotReached", setup.oracle.amend, 1, new, _sigs(setup, new, n=2), sender=setup.admin)
    other = sample_report(2, tag=b"n")
    _rejects("NoReport", setup.oracle.amend, 2, other, _sigs(setup, other), sender=setup.admin)
    _rejects("AmendPeriodMismatch", setup.oracle.amend, 1, other, _sigs(setup, other), sender=setup.admin)
    same = replace(sample_report(1), version=1)
    _rejects("AmendmentUnchanged", setup.oracle.amend, 1, same, _sigs(setup, same), sender=setup.admin)
    big = replace(sample_report(1, revenue=10**12), version=1)
    _rejects("RevenueOutOfBounds", setup.oracle.amend, 1, big, _sigs(setup, big), sender=setup.admin)


def test_admin_manages_reporters_and_threshold(setup: OracleSetup) -> None:
    o, admin = setup.oracle, setup.admin
    newcomer = Account.create().address
    o.add_reporter(newcomer, sender=admin)
    assert o.contract.functions.isReporter(newcomer).call()
    _rejects("ReporterAlreadyAdded", o.add_reporter, newcomer, sender=admin)
    o.set_threshold(6, sender=admin)
    _rejects("InvalidThreshold", o.remove_reporter, newcomer, sender=admin)
    _rejects("InvalidThreshold", o.set_threshold, 7, sender=admin)
    _rejects("InvalidThreshold", o.set_threshold, 0, sender=admin)
    o.set_threshold(3, sender=admin)
    o.remove_reporter(newcomer, sender=admin)
    _rejects("ReporterUnknown", o.remove_reporter, newcomer, sender=admin)
    assert len(o.reporters()) == 5
    stranger = setup.chain.accounts[1].address
    _rejects("AccessControlUnauthorizedAccount", o.set_threshold, 2, sender=stranger)
    _rejects("AccessControlUnauthorizedAccount", o.bind_pool, setup.stub, sender=stranger)
    logs = o.contract.events.ThresholdChanged.get_logs(from_block=0)
    assert [(log["args"]["oldThreshold"], log["args"]["newThreshold"]) for log in logs][-2:] == [(3, 6), (6, 3)]


def test_pool_binds_once(setup: OracleSetup) -> None:
    setup.oracle.bind_pool(setup.stub, sender=setup.admin)
    assert setup.oracle.pool().lower() == setup.stub.lower()
    _rejects("PoolAlreadyBound", setup.oracle.bind_pool, setup.admin, sender=setup.admin)


def test_constructor_validates_threshold(chain: Chain) -> None:
    admin = chain.accounts[0].address
    reporters = [a.address for a in chain.accounts[10:12]]
    with pytest.raises(ContractRevertError) as info:
        deploy(chain, "RevenueOracle", admin, reporters, 3, 0, PERIOD, GRACE, MULTIPLE_BPS, 1, sender=admin)
    assert info.value.error_name == "InvalidThreshold"
    with pytest.raises(ContractRevertError) as info:
        deploy(chain, "RevenueOracle", admin, [reporters[0], reporters[0]], 1, 0, PERIOD, GRACE, MULTIPLE_BPS, 1,
               sender=admin)
    assert info.value.error_name == "ReporterAlreadyAdded"
