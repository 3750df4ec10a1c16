"""The oracle's reports: each conversion recomputed from its source revenue and rate, each amendment disclosed (a
finding after its period's distribution), and the rent collected against the revenue reported. (The contracted rent
and the lease tape are checked against the fleet register: :mod:`rwa.replay.checks.fleet`.)"""

from __future__ import annotations

from rwa.model.units import fx_convert_down
from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History, ReportRecord


def reconcile_reports(history: History, oracle: str, rec: Reconciliation) -> None:
    """Each report's conversion recomputed from its source revenue and rate; each amendment disclosed, and a finding
    when it came after the period was distributed (the oracle's rules forbid it: the paid figure would no longer be
    the report)."""
    distributed_at = {period: (ev.block, ev.log_index) for period, (_, ev) in history.legs.items()}
    for period, records in sorted(history.reports.items()):
        for r in records:
            reconcile_conversion(r, oracle, rec)
            if r.amended_from is None or r.event is None:
                continue
            where = (r.event.block, r.event.log_index)
            if period in distributed_at and distributed_at[period] < where:
                rec.add(
                    FindingKind.AMENDED_AFTER_DISTRIBUTION,
                    period,
                    oracle,
                    r.amended_from,
                    r.revenue,
                    f"period {period}'s report was amended after its distribution, from {r.amended_from:,} to "
                    f"{r.revenue:,}",
                    block=r.block,
                    sender=r.event.sender,
                )
            else:
                rec.disclose(
                    DisclosureKind.REPORT_AMENDED,
                    r.event,
                    oracle,
                    r.revenue - r.amended_from,
                    f"period {period}'s revenue amended from {r.amended_from:,} to {r.revenue:,} before its "
                    f"distribution, signed by {len(r.signers)}: {', '.join(r.signers)}",
                    period=period,
                )


def reconcile_conversion(r: ReportRecord, oracle: str, rec: Reconciliation) -> None:
    """A report's revenue must be its source revenue at its rate, rounded down (``rwa.model.units.fx_convert_down``, the
    oracle's own rule): a report that breaks it came from an oracle that does not hold its reports to the rule."""
    expected = fx_convert_down(r.source_revenue, r.fx_rate)
    if r.revenue != expected:
        version = "report" if r.amended_from is None else "amended report"
        rec.add(
            FindingKind.ORACLE_FX,
            r.period,
            oracle,
            expected,
            r.revenue,
            f"period {r.period}'s {version}: source revenue {r.source_revenue:,} at fx rate {r.fx_rate:,} "
            f"(x 1e-18) converts to {expected:,}, the report says {r.revenue:,}",
            block=r.block,
            sender=r.event.sender if r.event is not None else None,
        )


def disclose_shortfalls(history: History, pool: str, rec: Reconciliation) -> None:
    """Per distributed period, rent collected against the revenue reported, and the total: a servicer that deposits
    less than the cluster earned is within the pool's rules (it pays what arrived) but a holder must know."""
    from rwa.onchain.pool import DepositKind

    total_short = 0
    servicer = {int(ev.args["period"]): str(ev.args["from"]) for ev in history.deposit_events}
    for period in sorted(history.legs):
        legs, ev = history.legs[period]
        rent = history.deposits.get(period, {}).get(int(DepositKind.RENT), 0)
        short = legs.reported - rent
        if short > 0:
            total_short += short
            share = short * 10_000 // legs.reported
            rec.disclose(
                DisclosureKind.COLLECTION_SHORTFALL,
                ev,
                pool,
                short,
                f"period {period}: rent deposited {rent:,} against {legs.reported:,} reported "
                f"({share / 100:.2f}% short)",
                period=period,
                sender=servicer.get(period),
            )
    if total_short:
        rec.disclose(DisclosureKind.COLLECTION_SHORTFALL, None, pool, total_short,
                     f"all periods: {total_short:,} of reported revenue was not deposited as rent")
