"""A pause in force at the head, or an expiry, that the pausable contract's events do not explain is a finding."""

from __future__ import annotations

from collections.abc import Mapping

from rwa.replay.findings import FindingKind, Reconciliation
from rwa.replay.history import History


def pause_by_events(history: History, contract: str, at: int) -> tuple[bool, int]:
    """Whether ``contract`` (an address) is paused at time ``at`` by its events, and when its last pause ends: the
    last ``Paused`` not lifted by an ``Unpaused``, until the expiry its ``PauseExpires`` announced."""
    me = contract.lower()
    changes = sorted((ev for ev in [*history.pauses, *history.pause_expiries] if ev.address.lower() == me),
                     key=lambda e: (e.block, e.log_index))
    flagged, expiry = False, 0
    for ev in changes:
        if ev.event == "PauseExpires":
            expiry = int(ev.args["expiresAt"])
        else:
            flagged = ev.event == "Paused"
    return flagged and at < expiry, expiry


def review_pause_state(
    history: History, onchain: Mapping[str, tuple[str, bool, int]], head: int, head_time: int, rec: Reconciliation
) -> None:
    """Each pausable contract's pause at the head (``onchain``: name to address, ``paused()``, ``pauseExpiresAt()``)
    against its events: a pause in force, or an expiry, that no event explains (a pause held past its bound by a
    write no event records) is a finding."""
    for name, (address, paused, expiry) in sorted(onchain.items()):
        want_paused, want_expiry = pause_by_events(history, address, head_time)
        if (paused, expiry) != (want_paused, want_expiry):
            rec.add(FindingKind.PAUSE_BOUND, None, address, (want_paused, want_expiry), (paused, expiry),
                    f"the {name} is {'paused' if paused else 'not paused'} at block {head} with its pause ending at "
                    f"{expiry:,}; its events say {'paused' if want_paused else 'not paused'}, ending at "
                    f"{want_expiry:,}: a pause no event explains (a pause lasts at most 14 days)", block=head)
