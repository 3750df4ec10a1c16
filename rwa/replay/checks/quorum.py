"""The oracle's reporter set and threshold, rebuilt from its events (its constructor's included): every accepted
report must carry at least the threshold in force of signers in the set in force, and at least the deal's own M of
N (:func:`reconcile_oracle`). A reporter added by no timelock operation counts for no quorum."""

from __future__ import annotations

from collections.abc import Collection

from rwa.replay.findings import DisclosureKind, FindingKind, Reconciliation
from rwa.replay.history import History
from rwa.replay.ledger import Event


def reconcile_oracle(
    history: History, deal_threshold: int, manifest_reporters: list[str], oracle: str, rec: Reconciliation,
    untied: Collection[tuple[int, int]] = (),
) -> list[tuple[int, int, int]]:
    """Replay the oracle's reporter set and threshold in chain order and check every accepted report against what
    was in force when it was accepted. A change in ``untied`` (made by no timelock operation: a finding of its own)
    is neither disclosed nor counted: a reporter it added signs for no quorum. Returns the threshold's history as
    (block, reporters, threshold)."""
    reporters: set[str] = set()
    threshold = 0
    timeline: list[tuple[int, int, int]] = []
    changes = sorted(history.governance, key=lambda e: (e.block, e.log_index))
    created = changes[0].tx_hash if changes else None

    def apply(ev: Event, setup: bool) -> None:
        nonlocal threshold
        if (ev.block, ev.log_index) in untied:
            return
        if ev.event == "ReporterAdded":
            reporters.add(str(ev.args["reporter"]).lower())
            if not setup:
                rec.disclose(DisclosureKind.REPORTER_CHANGE, ev, str(ev.args["reporter"]), None,
                             f"reporter {ev.args['reporter']} added ({len(reporters)} reporters)")
        elif ev.event == "ReporterRemoved":
            reporters.discard(str(ev.args["reporter"]).lower())
            rec.disclose(DisclosureKind.REPORTER_CHANGE, ev, str(ev.args["reporter"]), None,
                         f"reporter {ev.args['reporter']} removed ({len(reporters)} reporters)")
        elif ev.event == "ThresholdChanged":
            threshold = int(ev.args["newThreshold"])
            if not setup:
                rec.disclose(DisclosureKind.THRESHOLD_CHANGE, ev, oracle, threshold,
                             f"signatures needed on a report: {ev.args['oldThreshold']} -> {threshold}")
        timeline.append((ev.block, len(reporters), threshold))

    ci = 0
    while ci < len(changes) and changes[ci].tx_hash == created:
        apply(changes[ci], setup=True)
        ci += 1
    if changes and sorted(reporters) != sorted(r.lower() for r in manifest_reporters):
        rec.add(FindingKind.REPORTERS, None, oracle, sorted(r.lower() for r in manifest_reporters), sorted(reporters),
                "the oracle was deployed with other reporters than the manifest names", block=changes[0].block)
    reports = sorted(
        (r for records in history.reports.values() for r in records if r.event is not None),
        key=lambda r: (r.block, r.event.log_index if r.event else 0),
    )
    for report in [*reports, None]:
        at = (2**63, 0) if report is None or report.event is None else (report.block, report.event.log_index)
        while ci < len(changes) and (changes[ci].block, changes[ci].log_index) < at:
            apply(changes[ci], setup=False)
            ci += 1
        if report is None:
            break
        signers = [s.lower() for s in report.signers]
        strangers = [s for s in report.signers if s.lower() not in reporters]
        needed = max(threshold, deal_threshold)
        if strangers or len(set(signers)) != len(signers) or len(signers) < needed:
            rec.add(
                FindingKind.REPORT_QUORUM,
                report.period,
                oracle,
                needed,
                len(set(signers) & reporters),
                f"period {report.period}'s report was accepted with {len(set(signers) & reporters)} valid signers "
                f"({', '.join(report.signers) or 'none'}) where {needed} are needed (the oracle's threshold "
                f"{threshold}, the deal's {deal_threshold} of N)"
                + (f"; not reporters: {', '.join(strangers)}" if strangers else ""),
                block=report.block,
            )
    return timeline
