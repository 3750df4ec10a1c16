"""Gas of a report with its lease tape, measured from receipts on the embedded chain: a three-lease tape and a
100-lease one, held to the limit the publisher sends with (``rwa.onchain.oracle.submit_gas``)."""

from __future__ import annotations

import pytest

from rwa.chain.interface import Chain
from rwa.model.fleet import LeaseRow, LeaseTerms, OrderTerms, RegisterTerms, allocate
from rwa.onchain.oracle import SUBMIT_GAS, SUBMIT_GAS_PER_ROW, Report, submit_gas
from rwa.onchain.register import Delivery, serials_hash
from rwa.oracle.report import sign_report
from tests.support.oracle import PERIOD, PERIODS, THRESHOLD, OracleSetup, attest, deploy_oracle

SERVERS_PER_LEASE = 8
RENT = 12_500
MARGIN_BPS = 9_000
"""The measured gas must stay under 90% of the limit the publisher sends with."""


def _fleet(chain: Chain, leases: int) -> OracleSetup:
    """The test oracle with a register of ``leases`` leases of :data:`SERVERS_PER_LEASE` servers, all delivered."""
    admin = chain.accounts[0].address
    servers = leases * SERVERS_PER_LEASE
    first_start = chain.now() - 2 * PERIOD - 60
    terms = RegisterTerms((OrderTerms("Test supplier", admin, servers, 1_000),),
                          tuple(LeaseTerms(f"Lessee {i}", SERVERS_PER_LEASE, RENT, 1, PERIODS) for i in range(leases)),
                          first_start + (PERIODS + 1) * PERIOD, PERIODS, PERIODS, admin)
    s = deploy_oracle(chain, ended=2, terms=terms, first_start=first_start)
    serials = [f"GAS-{n:05d}" for n in range(servers)]
    attest(s, Delivery(0, servers, serials_hash(serials), first_start, "Test site", 0))
    return s


def _submit_gas_used(s: OracleSetup, period: int) -> int:
    leases = s.terms.leases
    fleet = s.register.fleet()
    given = allocate(leases, fleet, period)
    # every lease billed 90% of its rent; the first one unpaid and 30 days past due (the oracle records it: the
    # costlier case)
    tape = tuple(LeaseRow(i + 1, n, n * RENT * 9 // 10, 0 if i == 0 else n * RENT * 9 // 10, 30 if i == 0 else 0)
                 for i, n in enumerate(given))
    billed = sum(r.billed for r in tape)
    report = Report(period, billed, 9_000, sum(given), sum(n * RENT for n in given), b"\x01" * 32,
                    source_revenue=billed, fx_rate=10**18, tape=tape)
    signatures = sign_report(report, s.reporters[:THRESHOLD], s.chain.chain_id, s.oracle.address)
    receipt = s.oracle.submit(report, signatures, sender=s.admin, gas=30_000_000)
    assert receipt["status"] == 1
    return int(receipt["gasUsed"])


@pytest.mark.parametrize("leases", [3, 100])
def test_a_reports_gas_with_its_tape_fits_the_limit_it_is_sent_with(chain: Chain, leases: int) -> None:
    s = _fleet(chain, leases)
    first, second = _submit_gas_used(s, 1), _submit_gas_used(s, 2)
    print(f"\nsubmit with a {leases}-lease tape: {first:,} gas (first report), {second:,} gas (next period); "
          f"limit submit_gas({leases}) = {submit_gas(leases):,}")
    for used in (first, second):
        assert used * 10_000 <= submit_gas(leases) * MARGIN_BPS, (used, submit_gas(leases))


def test_each_tape_row_costs_less_than_the_gas_allowed_per_row(chain: Chain) -> None:
    small, large = _submit_gas_used(_fleet(chain, 3), 1), _submit_gas_used(_fleet(chain, 100), 1)
    per_row = (large - small) // 97
    print(f"\nper tape row: {per_row:,} gas (SUBMIT_GAS_PER_ROW {SUBMIT_GAS_PER_ROW:,}); base at 3 rows "
          f"{small - 3 * per_row:,} (SUBMIT_GAS {SUBMIT_GAS:,})")
    assert per_row * 10_000 <= SUBMIT_GAS_PER_ROW * MARGIN_BPS
    assert small - 3 * per_row <= SUBMIT_GAS
