"""``rwa replay``: ingest, rebuild, recompute, reconcile, report.

Exit 0 reconciled (disclosures are not failures), 1 findings, 2 bad input, 3 the replay could not finish (a node
that stopped answering or left logs out of its answers, an internal failure): no verdict, the previous outputs
untouched, and a re-run finishes.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rwa.chain.interface import Chain
from rwa.chain.tx import call_many
from rwa.errors import InputError, NodeUnreachableError, RwaError
from rwa.model.deal import Deal
from rwa.model.deal_file import deal_hash, load_deal
from rwa.model.units import TRANCHES, Tranche
from rwa.model.waterfall import PoolTerms
from rwa.onchain.deployment import Manifest, check_chain, load_manifest
from rwa.replay.checks.acts import disclose_agent_acts, disclose_registry_acts
from rwa.replay.checks.escrow import UseOfProceeds, reconcile_escrow
from rwa.replay.checks.fleet import FleetView, RegisterReads, reconcile_fleet
from rwa.replay.checks.links import Links, reconcile_links
from rwa.replay.checks.money import reconcile_distributions, reconcile_money
from rwa.replay.checks.offering import reconcile_offering
from rwa.replay.checks.pauses import review_pause_state
from rwa.replay.checks.quorum import reconcile_oracle
from rwa.replay.checks.reports import disclose_shortfalls, reconcile_reports
from rwa.replay.checks.roles import review_role_members, review_roles
from rwa.replay.checks.state import reconcile_state
from rwa.replay.checks.terms import reconcile_deal_file, reconcile_face, reconcile_period_ends, reconcile_terms
from rwa.replay.checks.timelock import review_delay, review_untimelocked, untimelocked
from rwa.replay.checks.tokens import reconcile_claimable, reconcile_dust, reconcile_token, review_issued_supply
from rwa.replay.checks.trades import holder_flows_from_claims, reconcile_trades
from rwa.replay.checks.waterfall import find_late_periods, reconcile_waterfall
from rwa.replay.findings import Disclosure, DisclosureKind, Finding, FindingKind, Reconciliation
from rwa.replay.history import History, rebuild
from rwa.replay.ingest import (
    ForeignLedgerError,
    Source,
    check_continuity,
    first_difference,
    ingest,
    unreturned_logs,
)
from rwa.replay.ledger import Ledger, LedgerIdentityError, check_ledger_file
from rwa.replay.outputs import check_out, recover
from rwa.replay.totals import (
    contract_totals,
    event_totals,
    holder_state,
    holder_state_by_events,
    stablecoin_balances,
)

CONTRACTS = {
    "pool": "LeasePool",
    "oracle": "RevenueOracle",
    "senior": "TrancheToken",
    "junior": "TrancheToken",
    "registry": "ComplianceRegistry",
    "timelock": "DealTimelock",
    "offering": "DealOffering",
    "settlement": "TradeSettlement",
    "stablecoin": "TestStablecoin",
    "register": "FleetRegister",
}


EXIT_RECONCILED, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 3


class ReplayFailure(RwaError):
    """The replay could not reach a verdict (the node stopped answering, or an internal failure): never "findings"."""

    exit_code = EXIT_FAILED


@dataclass
class ReplayResult:
    exit_code: int
    findings: list[Finding]
    events: int
    out: Path
    timings: dict[str, float] = field(default_factory=dict)
    reused: bool = False
    notes: list[str] = field(default_factory=list)
    """What the auditor should know about the run itself (a ledger set aside, a reorg rolled back)."""
    disclosures: list[Disclosure] = field(default_factory=list)


def default_db(manifest: Manifest) -> Path:
    from rwa.paths import state_dir

    pool = manifest.contracts.get("pool", "none")[:10].lower()
    return state_dir() / f"replay-{manifest.chain_id}-{pool}.sqlite"


def chain_identity(chain: Chain, manifest: Manifest) -> dict[str, str]:
    """What ties a ledger to one history: chain id, pool, and the hash of the deployment's first block as this chain
    has it. A reset embedded chain has the same genesis and the same addresses but another first block (its
    timestamp, the deal's own transactions), so a ledger of the old history never serves the new one."""
    anchor = manifest.deployment_block + 1
    block = chain.w3.eth.get_block(anchor)
    return {
        "chain_id": str(manifest.chain_id),
        "pool": manifest.address("pool").lower(),
        "anchor_block": str(anchor),
        "anchor_hash": "0x" + bytes(block["hash"]).hex(),
    }


def open_ledger(
    chain: Chain, manifest: Manifest, db: Path | None, identity: dict[str, str], notes: list[str]
) -> Ledger:
    """The ledger for this deployment on this chain (``identity``: :func:`chain_identity`). A default ledger left by
    another history (a reset chain) is set aside under a new name, with a note; an explicitly named one is refused.
    Never merged."""
    path = db or default_db(manifest)
    ledger = Ledger(path)
    try:
        ledger.bind(identity)
        dropped = check_continuity(chain.w3, ledger)
        if dropped:
            notes.append(f"a reorg replaced blocks the ledger had read: {dropped} events rolled back and read again")
        return ledger
    except (ForeignLedgerError, LedgerIdentityError) as exc:
        ledger.close()
        if db is not None:
            raise
        aside = path.with_name(f"{path.stem}.set-aside-{int(time.time())}{path.suffix}")
        path.rename(aside)
        notes.append(f"the ledger {path} held another history of this chain ({exc}); set aside as {aside.name}")
    ledger = Ledger(path)
    ledger.bind(identity)
    return ledger


def read_links(chain: Chain, manifest: Manifest, block: int) -> Links:
    """The deal's contracts as the pool and its tokens name them at ``block``: the manifest gives only the pool."""
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken

    pool = LeasePool.at(chain, manifest.address("pool"))
    linked = pool.addresses(block)
    tokens = {t: TrancheToken.at(chain, linked[t]) for t in TRANCHES}
    return Links(
        oracle=linked["oracle"],
        senior=linked["senior"],
        junior=linked["junior"],
        stablecoin=linked["stablecoin"],
        fee_recipient=linked["fee_recipient"],
        registry=tokens["senior"].registry(block),
        token_stablecoins={t: tok.stablecoin(block) for t, tok in tokens.items()},
        token_registries={t: tok.registry(block) for t, tok in tokens.items()},
        oracle_pool=RevenueOracle.at(chain, linked["oracle"]).pool(block),
        register="" if int(linked["register"], 16) == 0 else linked["register"],
        timelock_is_admin="timelock" in manifest.contracts and bool(
            pool.contract.functions.hasRole(bytes(32), manifest.address("timelock")).call(block_identifier=block)
        ),
    )


def _sources(manifest: Manifest, links: Links | None = None) -> list[Source]:
    """What the replay reads: the pool the manifest names and the contracts the chain links it to (the manifest's own
    addresses only when ``links`` is not given, as the benchmark does)."""
    from rwa.build.compile import load_build

    build = load_build()
    where = {k: manifest.address(k) for k in CONTRACTS if k in manifest.contracts}
    if links is not None:
        where.update(links.contracts())
    deal_accounts = tuple(where[k] for k in ("pool", *TRANCHES, "offering", "settlement", "register") if k in where)
    return [
        Source(key, where[key], build[name].abi, deal_accounts if key == "stablecoin" else ())
        for key, name in CONTRACTS.items()
        if key in where
    ]


def _refuse_incomplete_read(
    chain: Chain, ledger: Ledger, sources: list[Source], start_block: int, head: int,
    counted: dict[str, int], onchain: dict[str, int],
) -> None:
    """The ledger, just compared with the node's logs, disagrees with the contracts' state: either the node's
    ``eth_getLogs`` left entries out, or the state changed without an event (a finding, made by the
    reconciliation). The blocks' receipts tell which; an incomplete read is no verdict (exit 3). A chain whose logs
    are read from its own blocks in this process (the embedded chain) leaves none out."""
    if chain.logs_complete:
        return
    missing = unreturned_logs(chain.w3, ledger, sources, start_block, head)
    if not missing:
        return
    differ = sorted(k for k in onchain.keys() | counted.keys() if onchain.get(k) != counted.get(k))
    shown = ", ".join(f"{k} {onchain.get(k)} on-chain, {counted.get(k)} by the logs" for k in differ[:3])
    first = missing[0]
    raise ReplayFailure(
        f"incomplete read: the node's eth_getLogs left out {len(missing)} logs its blocks' receipts hold (first: "
        f"{first.contract} {first.event} in block {first.block}), so {len(differ)} figures disagree with the chain "
        f"at block {head} ({shown}{', ...' if len(differ) > 3 else ''}); no verdict: re-run against a node that "
        "returns every log"
    )


def _fingerprint(manifest_path: Path, ledger: Ledger, deal_file: Path, identity: dict[str, str], head: str) -> str:
    """Everything a verdict depends on: the chain (identity and the ingested head's hash), the ledger's content,
    the manifest and the deal file."""
    digest = hashlib.sha256()
    digest.update(json.dumps(identity, sort_keys=True).encode())
    digest.update(head.encode())
    digest.update(ledger.digest().encode())
    digest.update(manifest_path.read_bytes())
    digest.update(deal_file.read_bytes() if deal_file.is_file() else b"<missing>")
    return digest.hexdigest()


def run_replay(
    chain: Chain,
    manifest_path: Path,
    out: Path,
    db: Path | None = None,
    confirmations: int = 0,
    block_range: int = 2_000,
) -> ReplayResult:
    """Replay the deployment of ``manifest_path`` on ``chain`` into ``out``. Bad input raises ``InputError`` before
    anything is read; a failure on the way raises :class:`ReplayFailure` and leaves ``out`` as it was."""
    t0 = time.perf_counter()
    manifest = load_manifest(manifest_path)
    check_chain(chain, manifest, "pool")
    deal_file = Path(manifest.deal_file)
    if not deal_file.is_file():
        raise InputError(f"the deal file {deal_file} named by the manifest is missing")
    check_out(out)
    if db is not None:
        check_ledger_file(db)
    try:
        return _run(chain, manifest_path, manifest, deal_file, out, db, confirmations, block_range, t0)
    except RwaError as exc:
        if isinstance(exc, NodeUnreachableError):
            raise ReplayFailure(f"the node stopped answering ({exc}); what was read is kept: re-run to finish") from exc
        raise
    except Exception as exc:  # anything else is the replay's own failure: one line, exit 3, never "findings"
        raise ReplayFailure(
            f"internal failure before a verdict ({type(exc).__name__}: {exc}); {out} is unchanged"
        ) from exc


def _run(
    chain: Chain,
    manifest_path: Path,
    manifest: Manifest,
    deal_file: Path,
    out: Path,
    db: Path | None,
    confirmations: int,
    block_range: int,
    t0: float,
) -> ReplayResult:
    timings: dict[str, float] = {}
    recover(out)
    notes: list[str] = []
    identity = chain_identity(chain, manifest)
    ledger = open_ledger(chain, manifest, db, identity, notes)
    try:
        head = int(chain.w3.eth.block_number) - confirmations
        if head < manifest.deployment_block:
            raise InputError(f"--confirmations {confirmations}: the chain has no block that deep after the deployment")
        if (ledger.last_block() or -1) > head:  # a larger --confirmations than the last run's
            ledger.rollback_to(head)
        pool_address = manifest.address("pool")
        links = read_links(chain, manifest, head)
        sources = _sources(manifest, links)
        refusals: list[str] = []

        def refused(frm: int, to: int, message: str) -> None:
            if not refusals:
                notes.append(f"the node refused the log range {frm}..{to} as too large ({message}); read in smaller "
                             "ranges")
            refusals.append(message)

        _check_ledger(chain, ledger, sources, manifest.deployment_block, block_range, refused, notes)
        ingest(chain.w3, ledger, sources, manifest.deployment_block, head, block_range=block_range,
               on_refusal=refused)
        balances = stablecoin_balances(chain, links, pool_address, head)
        accounts = {"pool": pool_address, "senior": links.senior, "junior": links.junior}
        if links.register:
            accounts["register"] = links.register
        history = rebuild(ledger)
        counters = (contract_totals(chain, links, pool_address, head) | {f"balance.{k}": v for k, v in balances.items()}
                    | holder_state(chain, links, pool_address, history, head))
        counted = event_totals(history, accounts) | holder_state_by_events(history)
        if counted != counters:
            _refuse_incomplete_read(chain, ledger, sources, manifest.deployment_block, head, counted, counters)
        timings["ingest"] = time.perf_counter() - t0
        head_hash = "0x" + bytes(chain.w3.eth.get_block(head)["hash"]).hex()
        fingerprint = _fingerprint(manifest_path, ledger, deal_file, identity, head_hash)
        reused = _reuse(out, fingerprint, balances)
        if reused is not None:
            timings["total"] = time.perf_counter() - t0
            return ReplayResult(reused[0], reused[1], ledger.count(), out, timings, reused=True, notes=notes,
                                disclosures=reused[2])
        result = _reconcile(chain, manifest, ledger, history, deal_file, out, fingerprint, timings, t0, head,
                            balances, links, counters, counted)
        result.notes = notes
        return result
    finally:
        ledger.close()


def _check_ledger(
    chain: Chain,
    ledger: Ledger,
    sources: list[Source],
    start_block: int,
    block_range: int,
    refused: Callable[[int, int, str], None],
    notes: list[str],
) -> None:
    """Make the ledger what the chain gives before anything is rebuilt from it: from the first range whose rows differ
    from a fresh read (an edited, damaged or foreign-written file), it is dropped, with a note, and read again."""
    through = ledger.last_block()
    first = first_difference(chain.w3, ledger, sources, start_block, block_range=block_range, on_refusal=refused)
    if first is None:
        return
    dropped = ledger.rollback_to(first - 1)
    notes.append(f"the ledger {ledger.path} differs from the chain from block {first} on (through block {through}): "
                 f"its {dropped} events from there were dropped and read again from the chain")


def _reuse(out: Path, fingerprint: str, balances: dict[str, int]) -> tuple[int, list[Finding], list[Disclosure]] | None:
    """With the same chain identity and head, the same ledger content, manifest and deal file, and the same balances
    at the head (a development node can rewrite state without a block), the last report stands: return its verdict
    instead of recomputing it. The outputs are one set (see :mod:`rwa.replay.outputs`), so they agree."""
    summary_path, findings_path, disclosures_path = (out / n for n in ("summary.json", "findings.json",
                                                                        "disclosures.json"))
    if not (summary_path.is_file() and findings_path.is_file() and disclosures_path.is_file()):
        return None
    try:
        summary = json.loads(summary_path.read_text())
        if summary.get("fingerprint") != fingerprint or summary.get("balances") != balances:
            return None
        findings = [Finding(**{**f, "kind": FindingKind(f["kind"])}) for f in json.loads(findings_path.read_text())]
        disclosures = [
            Disclosure(**{**d, "kind": DisclosureKind(d["kind"])}) for d in json.loads(disclosures_path.read_text())
        ]
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None  # a damaged or hand-edited set is no verdict to reuse: the replay writes a new one over it
    return (EXIT_RECONCILED if not findings else EXIT_FINDINGS), findings, disclosures


def _reconcile_offering(
    chain: Chain,
    manifest: Manifest,
    deal: Deal,
    terms: PoolTerms,
    history: History,
    pool: str,
    tokens: dict[Tranche, str],
    head: int,
    rec: Reconciliation,
) -> dict[str, Any] | None:
    """The offering's book and money (:mod:`rwa.replay.checks.offering`), when the deal sold through one."""
    from rwa.model.fleet import register_terms
    from rwa.model.terms import offering_config, treasury_of
    from rwa.onchain.offering import DealOffering
    from rwa.onchain.stablecoin import Stablecoin

    if "offering" not in manifest.contracts or deal.offering is None:
        return None
    offering = DealOffering.at(chain, manifest.address("offering"))
    onchain = (offering.config(head), offering.costs(head))
    escrow = manifest.contracts.get("register", "")
    expected = offering_config(deal, terms, manifest.roles.issuer, escrow)
    capex = register_terms(deal, treasury_of(deal, manifest.roles.issuer)).capex_total if escrow else 0
    balance = Stablecoin.at(chain, offering.stablecoin()).balance_of(offering.address, head)
    book = reconcile_offering(history, offering.address, onchain, expected,
                              (manifest.senior_size, manifest.junior_size), pool,
                              {str(k): v for k, v in tokens.items()}, balance, rec, capex)
    return {"address": offering.address, "phase": book.phase, "subscribers": book.subscribers,
            "requested": book.requested, "sold": list(book.sold), "taken_up": list(book.taken_up),
            "delivered": book.delivered, "reserve": book.reserve, "costs": book.costs, "proceeds": book.proceeds,
            "refunds": book.refunds, "balance": balance}


def _reconcile_register(
    chain: Chain,
    manifest: Manifest,
    deal: Deal,
    terms: PoolTerms,
    history: History,
    links: Links,
    pool: str,
    balances: dict[str, int],
    head: int,
    rec: Reconciliation,
) -> tuple[FleetView, UseOfProceeds] | None:
    """The fleet register (:mod:`rwa.replay.checks.fleet`) and its escrow (:mod:`rwa.replay.checks.escrow`), when
    the deployment has one."""
    from rwa.model.fleet import register_terms
    from rwa.model.terms import treasury_of
    from rwa.onchain.offering import DealOffering
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.register import FleetRegister

    named = manifest.contracts.get("register")
    if not named:
        return None
    address = links.register or named
    f = FleetRegister.at(chain, address).contract.functions
    long_stop, treasury, periods, bound_pool, bound_offering = call_many(
        [f.longStop(), f.treasury(), f.periodCount(), f.pool(), f.offering()], block=head)
    offering = manifest.contracts.get("offering") if deal.offering is not None else None
    reads = RegisterReads(
        address=address, long_stop=int(long_stop), treasury=str(treasury), period_count=int(periods),
        pool=str(bound_pool), offering=str(bound_offering),
        oracle_register=RevenueOracle.at(chain, links.oracle).register(head), pool_register=links.register,
        offering_escrow=DealOffering.at(chain, offering).config(head).escrow if offering else None,
    )
    expected = register_terms(deal, treasury_of(deal, manifest.roles.issuer))
    view = reconcile_fleet(history, expected, reads, named, (pool, offering or ""), terms.period_ends[:-1],
                           deal.events_of_default.lessee_past_due_days, links.oracle, rec)
    use = reconcile_escrow(history, expected, address, offering, balances.get("register", 0), rec)
    return view, use


def _review_governance(
    history: History, manifest: Manifest, deal: Deal, links: Links, pool: str, rec: Reconciliation
) -> list[tuple[int, int, int]]:
    """The governance review against the deal's trust model: the oracle's quorum, who holds which role, every
    privileged act tied to its timelock operation, the agent's and the registry's acts, the timelock's delay, the
    supply issued. Returns the threshold's history (block, reporters, threshold)."""
    from rwa.onchain.privileges import deal_mark, party_addresses

    contracts = {k: v for k, v in links.contracts().items() if k != "stablecoin"}
    contracts |= {"pool": pool, "timelock": manifest.contracts.get("timelock", "")}
    untied = untimelocked(history)
    thresholds = reconcile_oracle(history, deal.oracle.threshold, manifest.roles.reporters, contracts["oracle"], rec,
                                  untied)
    review_role_members(history, contracts, party_addresses(manifest), deal_mark(manifest), rec)
    review_roles(history, pool, contracts, rec, untied)
    review_untimelocked(history, untied, rec)
    disclose_agent_acts(history, rec, untied)
    disclose_registry_acts(history, rec, untied)
    review_delay(history, deal.governance_delay, contracts["timelock"], untied, rec)
    review_issued_supply(history, {"senior": manifest.senior_size, "junior": manifest.junior_size}, rec)
    return thresholds


def fleet_summary(view: FleetView) -> dict[str, Any]:
    """The summary's ``fleet`` section: servers ordered and delivered, deliveries, tapes, lease changes, and the
    last period's active servers and servers leased per lessee (every period is in ``fleet.csv``)."""
    last = view.rows[-1] if view.rows else {}
    return {"ordered": view.ordered, "delivered": view.delivered, "deliveries": view.deliveries, "tapes": view.tapes,
            "lease_changes": view.lease_changes, "period": last.get("period", 0), "active": last.get("active", 0),
            "leased": {n: last.get(f"leased:{n}", 0) for n in view.lessees}}


def _review_pauses(chain: Chain, history: History, pausable: dict[str, str], head: int, rec: Reconciliation) -> None:
    """Each pausable contract's pause at the head against its events (``review_pause_state``)."""
    from rwa.onchain.pool import LeasePool

    fns = []
    for address in pausable.values():
        functions = LeasePool.at(chain, address).contract.functions  # the pool and the tokens share BoundedPausable
        fns += [functions.paused(), functions.pauseExpiresAt()]
    got = call_many(fns, block=head)
    onchain = {name: (address, bool(got[2 * i]), int(got[2 * i + 1])) for i, (name, address) in enumerate(
        pausable.items())}
    review_pause_state(history, onchain, head, int(chain.w3.eth.get_block(head)["timestamp"]), rec)


def _reconcile(
    chain: Chain,
    manifest: Manifest,
    ledger: Ledger,
    history: History,
    deal_file: Path,
    out: Path,
    fingerprint: str,
    timings: dict[str, float],
    t0: float,
    head: int,
    balances: dict[str, int],
    links: Links,
    counters: dict[str, int],
    counted: dict[str, int],
) -> ReplayResult:
    """Reconcile with every on-chain read at ``head``, the block the ledger was read to (``balances``, ``links`` and
    ``counters`` read there; ``history`` rebuilt from the ledger once and ``counted`` from it by the caller)."""
    from rwa.model.terms import default_rules, recorded_terms
    from rwa.model.units import POINTS_MAGNITUDE
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken
    from rwa.replay.report import write_outputs

    rec = Reconciliation()
    pool = LeasePool.at(chain, manifest.address("pool"))
    actual_hash = deal_hash(deal_file)
    reconcile_deal_file(str(deal_file), manifest.deal_hash, actual_hash, rec)
    deal = load_deal(deal_file)
    expected_terms = recorded_terms(deal, manifest.terms)
    reconcile_face(expected_terms, manifest.senior_size, pool.address, rec)
    reconcile_links(links, manifest.contracts, manifest.roles.fee_recipient, pool.address, rec)
    reconcile_state(counters, counted, head, rec)
    reconcile_terms(pool.terms(head), expected_terms, pool.address, rec)
    oracle_ends = RevenueOracle.at(chain, links.oracle).period_ends(head)
    reconcile_period_ends(oracle_ends, expected_terms.period_ends[:-1], FindingKind.ORACLE_CALENDAR, links.oracle, rec)
    reconcile_waterfall(history, expected_terms, pool.address, rec)
    reconcile_reports(history, links.oracle, rec)
    register = _reconcile_register(chain, manifest, deal, expected_terms, history, links, pool.address, balances,
                                   head, rec)
    thresholds = _review_governance(history, manifest, deal, links, pool.address, rec)
    for tok in history.tokens.values():
        reconcile_token(tok, POINTS_MAGNITUDE, rec)
    reconcile_dust(history, POINTS_MAGNITUDE, rec)
    tokens: dict[Tranche, str] = {"senior": links.senior, "junior": links.junior}
    reconcile_money(history, pool.address, tokens, links.fee_recipient, balances, rec)
    reconcile_distributions(history, pool.address, rec)
    _review_pauses(chain, history, {"pool": pool.address, "senior": links.senior, "junior": links.junior}, head, rec)
    disclose_shortfalls(history, pool.address, rec)
    late = find_late_periods(expected_terms.period_ends[:-1], default_rules(deal).distribution_grace,
                             max((p for p in history.legs if p <= expected_terms.period_count), default=0),
                             int(chain.w3.eth.get_block(head)["timestamp"]), pool.address, rec)
    offering_summary = _reconcile_offering(chain, manifest, deal, expected_terms, history, pool.address, tokens,
                                           head, rec)
    holder_flows_from_claims(history, rec.flows)
    trades = reconcile_trades(history, manifest.contracts.get("settlement", ""), {str(k): v for k, v in tokens.items()},
                              rec)
    for tranche, address in tokens.items():
        lines = [line for (t, _), line in rec.holders.items() if t == tranche]
        onchain = TrancheToken.at(chain, address).claimable_of([line.holder for line in lines], head) if lines else []
        reconcile_claimable(tranche, lines, onchain, rec)
    timings["reconcile"] = time.perf_counter() - t0 - timings["ingest"]
    summary: dict[str, Any] = {
        "verdict": "reconciled" if not rec.findings else "findings",
        "findings": len(rec.findings),
        "chain_id": manifest.chain_id,
        "pool": pool.address,
        "deal_file": str(deal_file),
        "deal_hash": actual_hash,
        "events": ledger.count(),
        "last_block": ledger.last_block(),
        "periods_distributed": len([p for p in history.legs if p <= expected_terms.period_count]),
        "finalized": history.finalized is not None,
        "reports": sum(len(v) for v in history.reports.values()),
        "deposits": len(history.deposit_events),
        "holders": len(rec.holders),
        "claims": sum(len(t.claims) for t in history.tokens.values()),
        "senior_paid": sum(legs.senior_paid for legs, _ in history.legs.values()),
        "junior_paid": sum(legs.junior for legs, _ in history.legs.values()),
        "fees_paid": sum(legs.fee for legs, _ in history.legs.values()),
        "trapped_periods": [p for p, (legs, _) in sorted(history.legs.items()) if legs.trapped],
        "late_periods": list(late),
        "disclosures": len(rec.disclosures),
        "disclosures_by_kind": dict(sorted(Counter(str(d.kind) for d in rec.disclosures).items())),
        "collection_shortfall": sum(
            d.amount or 0 for d in rec.disclosures if d.kind == DisclosureKind.COLLECTION_SHORTFALL and d.period
        ),
        "donations": sum(rec.donations.values()),
        "reporters": thresholds[-1][1] if thresholds else 0,
        "threshold": thresholds[-1][2] if thresholds else 0,
        "links": {"pool": pool.address, **links.contracts(), "fee_recipient": links.fee_recipient},
        "balances": balances,
        "offering": offering_summary,
        "use_of_proceeds": register[1].to_json() if register else None,
        "fleet": fleet_summary(register[0]) if register else None,
        "trades": trades,
        "fingerprint": fingerprint,
    }
    write_outputs(out, summary, history, rec, expected_terms, *(register or (None, None)))
    timings["total"] = time.perf_counter() - t0
    code = EXIT_RECONCILED if not rec.findings else EXIT_FINDINGS
    return ReplayResult(code, rec.findings, ledger.count(), out, timings, disclosures=rec.disclosures)
