"""Shared set-up for the issuance tests: a deal whose investors are keys the chain under test can sign for."""

from __future__ import annotations

import calendar
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from eth_account.signers.local import LocalAccount

from rwa.cli.demo import write_demo_deal
from tests.support.deals import EXAMPLE_DEAL

EXAMPLE = EXAMPLE_DEAL


def months_before(at: datetime, months: int) -> datetime:
    """``at`` moved ``months`` calendar months back, its day clamped to a shorter month's last: ``months`` calendar
    months after it (:func:`rwa.model.calendar.months_after`) is then ``at`` or a few days before."""
    year, month = divmod(at.year * 12 + at.month - 1 - months, 12)
    return at.replace(year=year, month=month + 1, day=min(at.day, calendar.monthrange(year, month + 1)[1]))


def deal_for(
    investors: list[LocalAccount], out: Path, now: int, periods_ended: int = 2, reserve_at_close: int | None = None
) -> Path:
    """The example deal with ``investors`` and its first ``periods_ended`` calendar months already ended at ``now``
    (the first start is that many months before, on that day and time: the deal's months keep it); ``reserve_at_close``
    in whole units overrides the reserve funded at close (0: the pool fills it from the first periods' cash)."""
    start = months_before(datetime.fromtimestamp(now - 3600, tz=UTC), periods_ended)
    path = write_demo_deal(EXAMPLE, out, investors, start)
    if reserve_at_close is not None:
        text = path.read_text()
        assert "\n[financing]\n" in text
        path.write_text(text.replace("\n[financing]\n", f"\n[financing]\nreserve_at_close = {reserve_at_close}\n", 1))
    return path


def rwa(*args: str, env: dict[str, str] | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "rwa.cli.main", *args],
        capture_output=True, text=True, env={**os.environ, **(env or {})}, check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"rwa {' '.join(args)} exited {done.returncode}: {done.stderr}")
    return done
