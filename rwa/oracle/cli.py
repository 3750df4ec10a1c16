"""``rwa oracle ...``: publish, amend, run (scheduled) and status. ``register(app)`` adds the sub-app."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from rwa.cli_options import Deployment, RpcUrl, StateFile
from rwa.deployment import default_manifest_path
from rwa.oracle.keys import reporter_keys
from rwa.oracle.publisher import amend, publish, status
from rwa.oracle.retry import RetryPolicy, open_oracle_session

Period = Annotated[int | None, typer.Option("--period", help="publish only this period")]
Source = Annotated[Path | None, typer.Option("--source", help="billing export (.csv or .json)")]
Simulate = Annotated[bool, typer.Option("--simulate", help="figures from the cluster simulator for the deal")]
Seed = Annotated[int | None, typer.Option("--seed", help="simulator seed")]
ScenarioOpt = Annotated[str, typer.Option("--scenario", help="simulator scenario: base or stress")]
Keystore = Annotated[list[Path] | None, typer.Option("--reporter-keystore", help="reporter keystore (repeatable)")]
Password = Annotated[str | None, typer.Option("--reporter-password", help="keystore password (or env)")]
Outbox = Annotated[Path | None, typer.Option("--outbox", help="outbox file (default derived from the manifest)")]
Retries = Annotated[int | None, typer.Option("--retries", help="attempts when the node is down")]
RetryDelay = Annotated[float | None, typer.Option("--retry-delay", help="first backoff delay in seconds")]


def _logging() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")


def register(app: typer.Typer) -> None:
    """Add the ``oracle`` sub-app to ``app``."""
    sub = typer.Typer(help="Revenue oracle: publish signed monthly reports, amend them, run the scheduled job.",
                      no_args_is_help=True)

    @sub.command("publish")
    def publish_cmd(
        deployment: Deployment = None, rpc_url: RpcUrl = None, state: StateFile = None, period: Period = None,
        source: Source = None, simulate: Simulate = False, seed: Seed = None, scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None,
    ) -> None:
        """Publish period P, or every ended period not yet on-chain, oldest first."""
        _logging()
        retry = RetryPolicy.from_env(retries, retry_delay)
        with open_oracle_session(deployment, rpc_url, state, retry) as (manifest, chain):
            keys = reporter_keys(chain, reporter_keystore, reporter_password)
            results = publish(chain, manifest, period=period, source=source, simulate=simulate, seed=seed,
                              scenario=scenario, keys=keys, outbox=outbox, retry=retry)
        if not results:
            typer.echo("nothing to publish: every ended period is on-chain")
        for result in results:
            typer.echo(result.message)

    @sub.command("amend")
    def amend_cmd(
        period: Annotated[int, typer.Option("--period", help="the period to correct")],
        deployment: Deployment = None, rpc_url: RpcUrl = None, state: StateFile = None,
        source: Source = None, simulate: Simulate = False, seed: Seed = None, scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None,
    ) -> None:
        """Correct an already published period that the pool has not distributed."""
        _logging()
        retry = RetryPolicy.from_env(retries, retry_delay)
        with open_oracle_session(deployment, rpc_url, state, retry) as (manifest, chain):
            keys = reporter_keys(chain, reporter_keystore, reporter_password)
            result = amend(chain, manifest, period, source=source, simulate=simulate, seed=seed,
                           scenario=scenario, keys=keys, retry=retry, outbox=outbox)
        typer.echo(result.message)

    @sub.command("run")
    def run_cmd(
        deployment: Deployment = None, rpc_url: RpcUrl = None, state: StateFile = None,
        cron: Annotated[str, typer.Option("--cron", help="crontab schedule of the publish job (UTC)")] = "0 6 1 * *",
        source: Source = None, simulate: Simulate = False, seed: Seed = None, scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None,
    ) -> None:
        """Run the publish job on a schedule (monthly by default), catching up missed periods at start."""
        from rwa.oracle.service import OracleService, cron_trigger

        _logging()

        service = OracleService(
            deployment=deployment or default_manifest_path(), rpc_url=rpc_url, state=state, source=source,
            simulate=simulate, seed=seed, scenario=scenario, keystores=reporter_keystore,
            password=reporter_password, outbox=outbox, retry=RetryPolicy.from_env(retries, retry_delay),
        )
        service.run(cron_trigger(cron))

    @sub.command("status")
    def status_cmd(
        deployment: Deployment = None, rpc_url: RpcUrl = None, state: StateFile = None, outbox: Outbox = None,
    ) -> None:
        """Latest period, deadline, overdue flag, reporters and anything pending in the outbox, as JSON."""

        with open_oracle_session(deployment, rpc_url, state, RetryPolicy.from_env()) as (manifest, chain):
            typer.echo(json.dumps(status(chain, manifest, outbox), indent=2))

    app.add_typer(sub, name="oracle")
