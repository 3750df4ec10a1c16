"""``rwa oracle run``: the publish job on an apscheduler ``BlockingScheduler``.

Before the scheduler starts, the deployment is checked once: a missing or malformed manifest, another chain or
no oracle code at the manifest's address ends ``run`` at once with that error (a service that could never publish
must not sit waiting for its next firing); a node that does not answer is a warning, since it may be back by the
next run. The job then runs once at start (catching up every ended period that is not on-chain) and then on the
trigger: by default :class:`PeriodEndTrigger`, at each of the deal's period ends (its calendar months, from the deal
file the manifest names, the ends the oracle accepts each report from) plus six hours for the billing to close; or a
crontab given with ``--cron``. Each run opens the deployment's
session, publishes, and lets the chain go again, so other commands can use the embedded chain between runs. A failed
run is logged and retried at the next firing; SIGTERM or SIGINT stop the scheduler cleanly after the run in progress.
With ``--simulate`` each run first attests the deal's scheduled deliveries due by each period it publishes (the fleet
a report's servers and rent are checked against), through the outbox like the reports.
The service's log is its output: each run logs its results, one line each.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from rwa.chain.interface import Chain
from rwa.errors import InputError, RwaError
from rwa.model.deal_file import load_deal
from rwa.model.terms import period_ends
from rwa.onchain.deployment import Manifest, check_chain, load_manifest
from rwa.oracle.keys import reporter_keys
from rwa.oracle.publisher import PublishResult, PublishStatus, publish
from rwa.oracle.retry import NodeUnavailableError, RetryPolicy, open_oracle_session
from rwa.oracle.simulator import SimulatorScenario

log = logging.getLogger("rwa.oracle.service")

PUBLISH_DELAY = timedelta(hours=6)
"""How long after a period's end the default schedule publishes: the billing export of the month has closed."""


class PeriodEndTrigger(BaseTrigger):  # type: ignore[misc]  # apscheduler ships no type hints
    """Fires once at each period's end plus ``delay``; never after the last period's."""

    def __init__(self, ends: Sequence[int], delay: timedelta = PUBLISH_DELAY) -> None:
        self.fire_times = [datetime.fromtimestamp(end, UTC) + delay for end in ends]
        self.delay = delay

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        for fire in self.fire_times:
            if fire > previous_fire_time if previous_fire_time is not None else fire >= now:
                return fire
        return None

    def __str__(self) -> str:
        hours = self.delay.total_seconds() / 3600
        return f"each period's end + {hours:g} h, {len(self.fire_times)} periods"


def period_end_trigger(deployment: Path, delay: timedelta = PUBLISH_DELAY) -> PeriodEndTrigger:
    """The default schedule of a deployment: its deal's period ends 1..N (the deal file the manifest names)."""
    manifest = load_manifest(deployment)
    deal_file = Path(manifest.deal_file)
    if not deal_file.is_file():
        raise InputError(f"the deal file {deal_file} named by the manifest is missing: its calendar is the "
                         "schedule (or give --cron)")
    return PeriodEndTrigger(period_ends(load_deal(deal_file))[:-1], delay)


def cron_trigger(expression: str) -> CronTrigger:
    """A UTC crontab trigger; a malformed expression is an ``InputError``."""
    try:
        return CronTrigger.from_crontab(expression, timezone=UTC)
    except ValueError as exc:
        raise InputError(f"--cron {expression!r}: {exc}") from None


class OracleService:
    """The scheduled publisher. ``chain`` may be given (tests); otherwise each run connects and disconnects."""

    def __init__(
        self,
        deployment: Path,
        rpc_url: str | None = None,
        state: Path | None = None,
        source: Path | None = None,
        simulate: bool = False,
        seed: int | None = None,
        scenario: str = "base",
        keystores: Sequence[Path] | None = None,
        password: str | None = None,
        outbox: Path | None = None,
        retry: RetryPolicy | None = None,
        chain: Chain | None = None,
        tape: Path | None = None,
    ) -> None:
        self.deployment = deployment
        self.tape = tape
        self.rpc_url = rpc_url
        self.state = state
        self.source = source
        self.simulate = simulate
        self.seed = seed
        self.scenario = scenario
        self.keystores = list(keystores or [])
        self.password = password
        self.outbox = outbox
        self.retry = retry or RetryPolicy.from_env()
        self.chain = chain
        self.lock = threading.Lock()
        """Held while a run talks to the chain."""
        self.runs: list[list[PublishResult]] = []
        self.failures: list[str] = []
        self.run_done = threading.Condition()
        self.scheduler: BlockingScheduler | None = None
        if source is None and not simulate:
            raise InputError("give --source FILE or --simulate")
        SimulatorScenario.parse(scenario)  # a typo must not fail every run, month after month

    @contextlib.contextmanager
    def _session(self) -> Iterator[tuple[Manifest, Chain]]:
        """The deployment on its chain, checked (chain id, oracle code): the given chain, or a new connection."""
        if self.chain is None:
            with open_oracle_session(self.deployment, self.rpc_url, self.state, self.retry) as session:
                yield session
            return
        manifest = load_manifest(self.deployment)
        check_chain(self.chain, manifest, "oracle")
        yield manifest, self.chain

    def check(self) -> None:
        """Open the deployment's session once and let it go: raises what would make every run fail. A node that
        does not answer is only a warning: it may be back by the next run, which retries it again."""
        try:
            with self.lock, self._session():
                pass
        except NodeUnavailableError as exc:
            log.warning("oracle service: %s; starting anyway, each run retries the node", exc)

    def publish_once(self) -> list[PublishResult]:
        """One run of the job: every ended period that is not on-chain."""
        with self.lock:
            log.info("publish job: starting")
            with self._session() as (manifest, chain):
                keys = reporter_keys(chain, self.keystores, self.password)
                results = publish(chain, manifest, source=self.source, simulate=self.simulate, seed=self.seed,
                                  scenario=self.scenario, keys=keys, outbox=self.outbox, retry=self.retry,
                                  tape=self.tape)
            if not results:
                log.info("nothing to publish: every ended period is on-chain")
            for result in results:
                log.info("%s", result.message)
            log.info("publish job: done, %d period(s) published",
                     sum(r.status is PublishStatus.PUBLISHED for r in results))
            return results

    def _job(self) -> None:
        try:
            results = self.publish_once()
        except RwaError as exc:
            log.error("publish job failed: %s (next run retries)", exc)
            with self.run_done:
                self.failures.append(str(exc))
                self.run_done.notify_all()
            return
        with self.run_done:
            self.runs.append(results)
            self.run_done.notify_all()

    def wait_runs(self, count: int, timeout: float) -> bool:
        """Block until ``count`` runs have finished (for tests and embedding)."""
        with self.run_done:
            return self.run_done.wait_for(lambda: len(self.runs) + len(self.failures) >= count, timeout)

    def run(self, trigger: BaseTrigger | None = None, install_signals: bool = True) -> None:
        """Check the deployment (:meth:`check`, raising at once), then run until ``stop()``, SIGTERM or SIGINT: once
        now (catch-up), then on ``trigger`` (default: :func:`period_end_trigger`)."""
        self.check()
        trigger = trigger or period_end_trigger(self.deployment)
        scheduler = BlockingScheduler(timezone=UTC)
        self.scheduler = scheduler
        scheduler.add_listener(self._listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.add_job(self._job, trigger, id="publish", name="publish", coalesce=True,
                          max_instances=1, misfire_grace_time=None, next_run_time=datetime.now(UTC))
        if install_signals and threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        log.info("oracle service: started (%s)", trigger)
        scheduler.start()
        log.info("oracle service: stopped")

    def stop(self) -> None:
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("oracle service: signal %d, stopping after the run in progress", signum)
        if self.scheduler is not None:
            threading.Thread(target=self.stop, daemon=True).start()

    @staticmethod
    def _listen(event: JobExecutionEvent) -> None:
        if event.exception is not None:
            log.error("publish job crashed: %r", event.exception)
