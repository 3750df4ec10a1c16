"""``rwa oracle ...``: publish, amend, run (scheduled) and status. ``register(app)`` adds the sub-app."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from rwa.cli.options import ChainOptions, chain_options, command_group, seed_option
from rwa.errors import InputError

Period = Annotated[int | None, typer.Option("--period", help="publish only this period")]
Source = Annotated[Path | None, typer.Option("--source", help="billing export (.csv or .json)")]
Simulate = Annotated[bool, typer.Option("--simulate", help="figures from the cluster simulator for the deal")]
Seed = Annotated[int | None, seed_option("simulator seed")]
ScenarioOpt = Annotated[str, typer.Option("--scenario", help="simulator scenario: base or stress")]
Keystore = Annotated[list[Path] | None, typer.Option("--reporter-keystore", help="reporter keystore (repeatable)")]
Password = Annotated[str | None, typer.Option("--reporter-password", help="keystore password (or env)")]
Outbox = Annotated[Path | None, typer.Option("--outbox", help="outbox file (default derived from the manifest)")]
Retries = Annotated[int | None, typer.Option("--retries", help="attempts when the node is down")]
RetryDelay = Annotated[float | None, typer.Option("--retry-delay", help="first backoff delay in seconds")]
Signatures = Annotated[
    Path | None,
    typer.Option("--signatures", help="folder of the reporters' signature files (`rwa oracle sign`): submit them "
                 "as they are, holding no reporter key"),
]


def _logging(service: bool = False) -> None:
    """Progress on stderr; a node's retries only in the service's log (a one-shot command ends in one error line
    when the node never answers)."""
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("rwa.oracle.retry").setLevel(logging.INFO if service else logging.WARNING)


def register(app: typer.Typer) -> None:
    """Add the ``oracle`` sub-app to ``app``."""
    sub = command_group("Revenue oracle: publish signed monthly reports, amend them, run the scheduled job.")

    @sub.command("publish")
    @chain_options()
    def publish_cmd(
        opts: ChainOptions, period: Period = None, source: Source = None, simulate: Simulate = False,
        seed: Seed = None, scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None, signatures: Signatures = None,
    ) -> None:
        """Publish period P, or every ended period not yet on-chain, oldest first; with --signatures, the period the
        reporters signed (default the next one)."""
        from rwa.oracle.keys import reporter_keys
        from rwa.oracle.publisher import publish
        from rwa.oracle.retry import RetryPolicy

        _logging()
        retry = RetryPolicy.from_env(retries, retry_delay)
        if signatures is not None:
            from rwa.oracle.publisher import publish_signed

            if source is not None or simulate or reporter_keystore:
                raise InputError("--signatures: the reporters signed the figures; give no --source, --simulate or "
                                 "--reporter-keystore")
            with opts.oracle_session(retry) as (manifest, chain):
                result = publish_signed(chain, manifest, signatures, period=period, outbox=outbox, retry=retry)
            typer.echo(result.message)
            return
        with opts.oracle_session(retry) as (manifest, chain):
            keys = reporter_keys(chain, reporter_keystore, reporter_password)
            results = publish(chain, manifest, period=period, source=source, simulate=simulate, seed=seed,
                              scenario=scenario, keys=keys, outbox=outbox, retry=retry)
        if not results:
            typer.echo("nothing to publish: every ended period is on-chain")
        for result in results:
            typer.echo(result.message)

    @sub.command("amend")
    @chain_options()
    def amend_cmd(
        period: Annotated[int, typer.Option("--period", help="the period to correct")],
        opts: ChainOptions, source: Source = None, simulate: Simulate = False, seed: Seed = None,
        scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None,
    ) -> None:
        """Correct an already published period that the pool has not distributed."""
        from rwa.oracle.keys import reporter_keys
        from rwa.oracle.publisher import amend
        from rwa.oracle.retry import RetryPolicy

        _logging()
        retry = RetryPolicy.from_env(retries, retry_delay)
        with opts.oracle_session(retry) as (manifest, chain):
            keys = reporter_keys(chain, reporter_keystore, reporter_password)
            result = amend(chain, manifest, period, source=source, simulate=simulate, seed=seed,
                           scenario=scenario, keys=keys, retry=retry, outbox=outbox)
        typer.echo(result.message)

    @sub.command("sign")
    @chain_options()
    def sign_cmd(
        period: Annotated[int, typer.Option("--period", help="the period to sign")],
        out: Annotated[Path, typer.Option("--out", help="folder the signature file is written to")],
        key: Annotated[Path | None, typer.Option("--key", help="this reporter's keystore file")] = None,
        password: Annotated[
            str | None, typer.Option("--password", help="the keystore's password (or RWA_REPORTER_PASSWORD)")
        ] = None,
        dev_key: Annotated[
            int | None,
            typer.Option("--dev-key", help="DEVELOPMENT CHAINS ONLY: sign with the local development reporter key "
                         "N (0..4) instead of a keystore"),
        ] = None,
        amend_: Annotated[bool, typer.Option("--amend", help="sign the next version of a published period")] = False,
        *, opts: ChainOptions, source: Source = None, simulate: Simulate = False, seed: Seed = None,
        scenario: ScenarioOpt = "base",
    ) -> None:
        """One reporter signs one period from its own billing data into a signature file (no transaction)."""
        import os

        from rwa.onchain.oracle import RevenueOracle
        from rwa.oracle.keys import dev_reporters, load_reporter_keystores
        from rwa.oracle.retry import RetryPolicy
        from rwa.oracle.signatures import report_to_sign, sign_to_file
        from rwa.oracle.source import open_source
        from rwa.paths import writable_folder

        if (key is None) == (dev_key is None):
            raise InputError("--key: give this reporter's keystore (or, on a development chain, --dev-key N)")
        writable_folder(out, "--out")
        with opts.oracle_session(RetryPolicy.from_env()) as (manifest, chain):
            if key is not None:
                secret = password if password is not None else os.environ.get("RWA_REPORTER_PASSWORD")
                if secret is None:
                    raise InputError("--password: the keystore's password (or set RWA_REPORTER_PASSWORD)")
                (account,) = load_reporter_keystores([key], secret)
            else:
                if not chain.is_dev:
                    raise InputError("--dev-key: only on a development chain; give --key KEYSTORE")
                keys = dev_reporters(chain)
                if dev_key is None or not 0 <= dev_key < len(keys):
                    raise InputError(f"--dev-key {dev_key}: must be 0..{len(keys) - 1}")
                account = keys[dev_key]
            oracle = RevenueOracle.at(chain, manifest.address("oracle"))
            figures = open_source(manifest, source, simulate, seed, scenario).report(period)
            path = sign_to_file(oracle, chain.chain_id, report_to_sign(oracle, figures, amend_), account, out)
        typer.echo(f"period {period}: signed by {account.address} into {path}")

    @sub.command("run")
    @chain_options()
    def run_cmd(
        opts: ChainOptions,
        cron: Annotated[str | None, typer.Option(
            "--cron", help="crontab schedule of the publish job (UTC); default: each period's end plus 6 hours"
        )] = None,
        source: Source = None, simulate: Simulate = False, seed: Seed = None, scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None,
    ) -> None:
        """Run the publish job on a schedule (each of the deal's period ends by default), catching up missed periods
        at start."""
        from rwa.oracle.retry import RetryPolicy
        from rwa.oracle.service import OracleService, cron_trigger

        _logging(service=True)

        service = OracleService(
            deployment=opts.manifest_path, rpc_url=opts.rpc_url, state=opts.state, source=source,
            simulate=simulate, seed=seed, scenario=scenario, keystores=reporter_keystore,
            password=reporter_password, outbox=outbox, retry=RetryPolicy.from_env(retries, retry_delay),
        )
        service.run(cron_trigger(cron) if cron is not None else None)

    @sub.command("status")
    @chain_options()
    def status_cmd(opts: ChainOptions, outbox: Outbox = None) -> None:
        """Latest period, deadline, overdue flag, reporters and anything pending in the outbox, as JSON."""
        from rwa.oracle.publisher import status
        from rwa.oracle.retry import RetryPolicy

        with opts.oracle_session(RetryPolicy.from_env()) as (manifest, chain):
            typer.echo(json.dumps(status(chain, manifest, outbox), indent=2))

    app.add_typer(sub, name="oracle")
