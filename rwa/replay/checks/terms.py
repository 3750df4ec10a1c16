"""The deal the deployment runs: the deal file it was issued from, the pool's terms as deployed, and the period ends
the pool and the oracle compute, against the deal's."""

from __future__ import annotations

from collections.abc import Sequence

from rwa.model.units import format_time
from rwa.model.waterfall import PoolTerms
from rwa.replay.findings import FindingKind, Reconciliation


def reconcile_deal_file(deal_file: str, recorded_hash: str, actual_hash: str, rec: Reconciliation) -> None:
    """The deal file's hash against the one the deployment was issued from."""
    if actual_hash != recorded_hash:
        rec.add(
            FindingKind.DEAL_FILE_CHANGED,
            None,
            deal_file,
            recorded_hash,
            actual_hash,
            "the deal file differs from the one the deployment was issued from",
        )


def reconcile_face(expected: PoolTerms, senior_size: int, pool: str, rec: Reconciliation) -> None:
    """The recorded principal schedule sums to the senior size the manifest states."""
    if expected.face != senior_size:
        rec.add(FindingKind.POOL_TERMS, None, pool, senior_size, expected.face,
                "the recorded principal schedule does not sum to the senior size the manifest states")


def reconcile_terms(onchain: PoolTerms, expected: PoolTerms, pool: str, rec: Reconciliation) -> None:
    """The pool's terms as deployed (its period ends as it computes them included) against the deal's."""
    for name in (
        "first_period_start",
        "period_count",
        "senior_coupon_bps",
        "servicing_fee_per_period",
        "reserve_periods",
        "cash_trap_dscr_bps",
    ):
        want, got = getattr(expected, name), getattr(onchain, name)
        if want != got:
            rec.add(
                FindingKind.POOL_TERMS, None, pool, want, got,
                f"the pool was deployed with {name}={got}, the deal says {want}",
            )
    for what, want_all, got_all in (
        ("principal", expected.principal_schedule, onchain.principal_schedule),
        ("refund", expected.refund_schedule, onchain.refund_schedule),
    ):
        for i, (want, got) in enumerate(zip(want_all, got_all, strict=False)):
            if want != got:
                rec.add(FindingKind.POOL_TERMS, i + 1, pool, want, got, f"scheduled {what} for period {i + 1}")
        if len(want_all) != len(got_all):
            rec.add(FindingKind.POOL_TERMS, None, pool, len(want_all), len(got_all), f"length of the {what} schedule")
    reconcile_period_ends(onchain.period_ends, expected.period_ends, FindingKind.POOL_TERMS, pool, rec)


def reconcile_period_ends(
    onchain: Sequence[int], expected: Sequence[int], kind: FindingKind, contract: str, rec: Reconciliation
) -> None:
    """A contract's period ends (the pool's 1..N+1, the oracle's 1..N) against the deal's calendar: one finding per
    period that ends elsewhere, so a pool or oracle counting other months (or 30 days) is named period by period."""
    for i, (want, got) in enumerate(zip(expected, onchain, strict=False)):
        if want != got:
            rec.add(kind, i + 1, contract, want, got,
                    f"period {i + 1} ends at {format_time(got)} on-chain, at {format_time(want)} by the deal's "
                    "calendar")
    if len(onchain) != len(expected):
        rec.add(kind, None, contract, len(expected), len(onchain), "number of period ends")
