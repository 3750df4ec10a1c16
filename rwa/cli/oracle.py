"""``rwa oracle ...``: publish, amend, sign, attest, run (scheduled) and status. ``register(app)`` adds the sub-app."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rwa.cli.options import ChainOptions, chain_options, command_group, seed_option
from rwa.errors import InputError

if TYPE_CHECKING:
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.register import FleetRegister

Period = Annotated[int | None, typer.Option("--period", help="publish only this period")]
Source = Annotated[Path | None, typer.Option("--source", help="billing export (.csv or .json)")]
Tape = Annotated[Path | None, typer.Option(
    "--tape", help="the lease tapes of a CSV export, a CSV of period,lease,servers,billed,collected,days_past_due")]
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


def _register_of(oracle: RevenueOracle) -> FleetRegister:
    """The fleet register bound to ``oracle``; an oracle without one is an error."""
    from rwa.onchain.register import FleetRegister

    address = oracle.register()
    if int(address, 16) == 0:
        raise InputError(f"the oracle {oracle.address} has no fleet register bound")
    return FleetRegister.at(oracle.chain, address)


def register(app: typer.Typer) -> None:
    """Add the ``oracle`` sub-app to ``app``."""
    sub = command_group("Revenue oracle: publish signed monthly reports, amend them, run the scheduled job.")

    @sub.command("publish")
    @chain_options()
    def publish_cmd(
        opts: ChainOptions, period: Period = None, source: Source = None, tape: Tape = None, simulate: Simulate = False,
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

            if source is not None or tape is not None or simulate or reporter_keystore:
                raise InputError("--signatures: the reporters signed the figures; give no --source, --simulate or "
                                 "--reporter-keystore")
            with opts.oracle_session(retry) as (manifest, chain):
                result = publish_signed(chain, manifest, signatures, period=period, outbox=outbox, retry=retry)
            typer.echo(result.message)
            return
        with opts.oracle_session(retry) as (manifest, chain):
            keys = reporter_keys(chain, reporter_keystore, reporter_password)
            results = publish(chain, manifest, period=period, source=source, simulate=simulate, seed=seed,
                              scenario=scenario, keys=keys, outbox=outbox, retry=retry, tape=tape)
        if not results:
            typer.echo("nothing to publish: every ended period is on-chain")
        for result in results:
            typer.echo(result.message)

    @sub.command("amend")
    @chain_options()
    def amend_cmd(
        period: Annotated[int, typer.Option("--period", help="the period to correct")],
        opts: ChainOptions, source: Source = None, tape: Tape = None, simulate: Simulate = False,
        seed: Seed = None, scenario: ScenarioOpt = "base",
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
                           scenario=scenario, keys=keys, retry=retry, outbox=outbox, tape=tape)
        typer.echo(result.message)

    @sub.command("sign")
    @chain_options()
    def sign_cmd(
        out: Annotated[Path, typer.Option("--out", help="folder the signature file is written to")],
        period: Annotated[int | None, typer.Option("--period", help="the period whose report to sign")] = None,
        delivery: Annotated[Path | None, typer.Option(
            "--delivery", help="a delivery to sign (JSON: order, servers, serials, site, accepted; see docs/oracle.md)"
        )] = None,
        lease_update: Annotated[Path | None, typer.Option(
            "--lease-update", help="a lease update to sign (JSON: lease, status, servers, rent_per_server, "
            "start_period, end_period, lessee)"
        )] = None,
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
        *, opts: ChainOptions, source: Source = None, tape: Tape = None, simulate: Simulate = False,
        seed: Seed = None, scenario: ScenarioOpt = "base",
    ) -> None:
        """One reporter signs one period's report (from its own billing data), one delivery or one lease update
        into a signature file (no transaction)."""
        import os

        from rwa.onchain.oracle import RevenueOracle
        from rwa.oracle.keys import dev_reporters, load_reporter_keystores
        from rwa.oracle.retry import RetryPolicy
        from rwa.paths import writable_folder

        if sum(x is not None for x in (period, delivery, lease_update)) != 1:
            raise InputError("--period: give exactly one of --period N, --delivery FILE or --lease-update FILE")
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
            if period is not None:
                from rwa.oracle.signatures import report_to_sign, sign_to_file
                from rwa.oracle.source import open_source

                source_of = open_source(manifest, source, simulate, seed, scenario, tape)
                figures = source_of.report(period)
                if source_of.planned:
                    from rwa.oracle.signatures import require_attested

                    require_attested(oracle, source_of.planned, period)
                path = sign_to_file(oracle, chain.chain_id, report_to_sign(oracle, figures, amend_), account, out)
                what = f"period {period}"
            else:
                from rwa.onchain.register import Delivery
                from rwa.oracle import attestations

                register = _register_of(oracle)
                item: attestations.Item
                if delivery is not None:
                    item = attestations.read_delivery(delivery, register)
                else:
                    assert lease_update is not None
                    item = attestations.read_lease_update(lease_update, register)
                attestations.check_sequence(register, item)
                attestations.check_item(register, item, chain.now())
                if isinstance(item, Delivery):
                    attestations.check_new_batch(register, item)
                path = attestations.sign_to_file(oracle, item, account, out)
                what = attestations.describe(item)
        typer.echo(f"{what}: signed by {account.address} into {path}")

    @sub.command("attest")
    @chain_options()
    def attest_cmd(
        signatures: Annotated[Path, typer.Option("--signatures", help="folder of the reporters' signature files")],
        opts: ChainOptions,
        delivery: Annotated[Path | None, typer.Option("--delivery", help="the delivery the reporters signed")] = None,
        lease_update: Annotated[Path | None, typer.Option(
            "--lease-update", help="the lease update the reporters signed")] = None,
        outbox: Outbox = None,
    ) -> None:
        """Send a delivery or a lease update that a quorum of reporters signed to the fleet register, once."""
        from rwa.onchain.oracle import RevenueOracle
        from rwa.oracle import attestations
        from rwa.oracle.outbox import Outbox as Box
        from rwa.oracle.outbox import default_outbox_path, outbox_identity
        from rwa.oracle.retry import RetryPolicy

        if (delivery is None) == (lease_update is None):
            raise InputError("--delivery: give exactly one of --delivery FILE or --lease-update FILE")
        given = delivery if delivery is not None else lease_update
        assert given is not None
        with opts.oracle_session(RetryPolicy.from_env()) as (manifest, chain):
            if not chain.accounts:
                raise InputError("no key to send the transaction: set RWA_PRIVATE_KEYS or RWA_KEYSTORE")
            oracle = RevenueOracle.at(chain, manifest.address("oracle"))
            register = _register_of(oracle)
            item: attestations.Item = (attestations.read_delivery(given, register) if delivery is not None
                                       else attestations.read_lease_update(given, register))
            data = json.loads(given.read_text(encoding="utf-8"))
            signed, sigs = attestations.collect(signatures, chain.chain_id, oracle.address, item,
                                                sequence_given="sequence" in data)
            attestations.check_signers(oracle, signed, sigs)
            box = Box(outbox or default_outbox_path(manifest), outbox_identity(manifest))
            try:
                sender = chain.account(chain.accounts[0].address)
                result = attestations.Attester(chain, register, box, sender).attest(signed, sigs)
            finally:
                box.close()
        typer.echo(result.message)

    @sub.command("run")
    @chain_options()
    def run_cmd(
        opts: ChainOptions,
        cron: Annotated[str | None, typer.Option(
            "--cron", help="crontab schedule of the publish job (UTC); default: each period's end plus 6 hours"
        )] = None,
        source: Source = None, tape: Tape = None, simulate: Simulate = False, seed: Seed = None,
        scenario: ScenarioOpt = "base",
        reporter_keystore: Keystore = None, reporter_password: Password = None, outbox: Outbox = None,
        retries: Retries = None, retry_delay: RetryDelay = None,
    ) -> None:
        """Run the publish job on a schedule (each of the deal's period ends by default), catching up missed periods
        at start."""
        from rwa.oracle.retry import RetryPolicy
        from rwa.oracle.service import OracleService, cron_trigger

        _logging(service=True)

        service = OracleService(
            deployment=opts.manifest_path, rpc_url=opts.rpc_url, state=opts.state, source=source, tape=tape,
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
