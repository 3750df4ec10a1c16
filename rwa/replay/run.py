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
from rwa.chain.tx import READ_BATCH_RESULT_BYTES, call_many
from rwa.errors import InputError, NodeUnreachableError, RwaError
from rwa.model.deal import Deal, deal_hash, load_deal
from rwa.model.units import TRANCHES, Tranche
from rwa.model.waterfall import PoolTerms
from rwa.onchain.deployment import Manifest, check_chain, load_manifest
from rwa.replay.governance import Links, reconcile_links, review_governance
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
from rwa.replay.offering import holder_flows_from_claims, reconcile_offering, reconcile_trades
from rwa.replay.outputs import check_out, recover
from rwa.replay.reconcile import (
    Disclosure,
    DisclosureKind,
    Finding,
    FindingKind,
    Reconciliation,
    disclose_shortfalls,
    find_late_periods,
    reconcile_distributions,
    reconcile_dust,
    reconcile_money,
    reconcile_period_ends,
    reconcile_reports,
    reconcile_terms,
    reconcile_token,
    reconcile_waterfall,
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
    deal_accounts = tuple(where[k] for k in ("pool", *TRANCHES, "offering", "settlement") if k in where)
    return [
        Source(key, where[key], build[name].abi, deal_accounts if key == "stablecoin" else ())
        for key, name in CONTRACTS.items()
        if key in where
    ]


def _balances(chain: Chain, links: Links, pool: str, block: int) -> dict[str, int]:
    from rwa.onchain.stablecoin import Stablecoin

    coin = Stablecoin.at(chain, links.stablecoin)
    accounts = {"pool": pool, "senior": links.senior, "junior": links.junior}
    return {k: coin.balance_of(a, block) for k, a in accounts.items()}


def _counters(chain: Chain, links: Links, pool: str, block: int) -> dict[str, int]:
    """The contracts' own running totals at ``block``: what the ledger's events must add up to."""
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken

    p = LeasePool.at(chain, pool).contract
    o = RevenueOracle.at(chain, links.oracle).contract
    reads: list[tuple[str, Any]] = [(name, getattr(p.functions, name)()) for name in (
        "lastDistributedPeriod", "totalSeniorPaid", "totalJuniorPaid", "totalFeesPaid")]
    reads += [("latestPeriod", o.functions.latestPeriod()), ("threshold", o.functions.threshold()),
              ("reporters", o.functions.reporters())]
    for tranche in TRANCHES:
        t = TrancheToken.at(chain, getattr(links, tranche)).contract
        reads += [(f"{tranche}.{name}", getattr(t.functions, name)())
                  for name in ("totalDistributed", "totalClaimed", "totalSupply")]
    got = dict(zip((name for name, _ in reads), call_many([fn for _, fn in reads], block=block), strict=True))
    return {name: len(value) if name == "reporters" else int(value) for name, value in got.items()}


def _last_distributed(history: History) -> int:
    """The pool's ``lastDistributedPeriod`` by the events: N once finalized (the maturity run, N+1, and the
    recoveries after it do not move it), else the last period distributed."""
    if history.finalized is not None:
        (maturity,) = [p for p, (_, ev) in history.legs.items() if ev.tx_hash == history.finalized.tx_hash]
        return maturity - 1
    return max(history.legs, default=0)


def _counted(history: History, accounts: dict[str, str]) -> dict[str, int]:
    """The same totals as :func:`_counters` and the stablecoin balances of ``accounts``, added up from the ledger's
    events alone."""
    from rwa.replay.history import ZERO

    legs = [legs for legs, _ in history.legs.values()]
    out = {
        "lastDistributedPeriod": _last_distributed(history),
        "totalSeniorPaid": sum(leg.senior_paid for leg in legs),
        "totalJuniorPaid": sum(leg.junior for leg in legs),
        "totalFeesPaid": sum(leg.fee for leg in legs),
        "latestPeriod": max(history.reports, default=0),
    }
    reporters: set[str] = set()
    threshold = 0
    for ev in history.governance:
        if ev.event == "ReporterAdded":
            reporters.add(str(ev.args["reporter"]).lower())
        elif ev.event == "ReporterRemoved":
            reporters.discard(str(ev.args["reporter"]).lower())
        elif ev.event == "ThresholdChanged":
            threshold = int(ev.args["newThreshold"])
    out["threshold"], out["reporters"] = threshold, len(reporters)
    for tranche in TRANCHES:
        tok = history.tokens.get(tranche)
        out[f"{tranche}.totalDistributed"] = sum(int(e.args["amount"]) for e in tok.distributions) if tok else 0
        out[f"{tranche}.totalClaimed"] = sum(int(e.args["amount"]) for e in tok.claims) if tok else 0
        supply = 0
        for ev in tok.transfers if tok else []:
            value = int(ev.args["value"])
            supply += value if ev.args["from"] == ZERO else 0
            supply -= value if ev.args["to"] == ZERO else 0
        out[f"{tranche}.totalSupply"] = supply
    for name, address in accounts.items():
        a = address.lower()
        out[f"balance.{name}"] = sum(
            int(ev.args["value"]) * ((str(ev.args["to"]).lower() == a) - (str(ev.args["from"]).lower() == a))
            for ev in history.stablecoin_transfers
        )
    return out


HOLDER_READS = READ_BATCH_RESULT_BYTES // 160
"""Views per :func:`call_many` when every holder's balance is read: a word each, 160 bytes as ``ReadBatch`` encodes
its results, so a batch stays under ``READ_BATCH_RESULT_BYTES``."""


def _holder_state(chain: Chain, links: Links, pool: str, history: History, head: int) -> dict[str, int]:
    """The state the ledger's events must add up to holder by holder at ``head``: every balance of every account
    a tranche's transfers name, and the pool's deposits of every period the events deposit to or distribute (one
    key each; batched reads). A log the node left out shows here even when every total agrees."""
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken

    reads: list[tuple[str, Any]] = []
    for tranche, holders in _holders(history).items():
        token = TrancheToken.at(chain, getattr(links, tranche)).contract
        reads += [(f"{tranche}.balanceOf({h})", token.functions.balanceOf(h)) for h in holders]
    deposits = LeasePool.at(chain, pool).contract
    reads += [(f"deposited({p})", deposits.functions.deposited(p)) for p in _deposit_periods(history)]
    values = [v for start in range(0, len(reads), HOLDER_READS)
              for v in call_many([fn for _, fn in reads[start:start + HOLDER_READS]], block=head)]
    return {name: int(value) for (name, _), value in zip(reads, values, strict=True)}


def _holders(history: History) -> dict[str, list[str]]:
    """Every account a tranche's transfers name (the zero address aside), in a fixed order."""
    from rwa.replay.history import ZERO

    named: dict[str, list[str]] = {}
    for tranche in TRANCHES:
        tok = history.tokens.get(tranche)
        seen = {str(ev.args[side]) for ev in (tok.transfers if tok else []) for side in ("from", "to")}
        named[tranche] = sorted(seen - {ZERO})
    return named


def _deposit_periods(history: History) -> list[int]:
    return sorted(set(history.deposits) | set(history.legs))


def _holder_state_counted(history: History) -> dict[str, int]:
    """The keys of :func:`_holder_state` added up from the ledger's events alone."""
    out: dict[str, int] = {}
    for tranche, holders in _holders(history).items():
        balance = dict.fromkeys(holders, 0)
        tok = history.tokens.get(tranche)
        for ev in tok.transfers if tok else []:
            value = int(ev.args["value"])
            if str(ev.args["from"]) in balance:
                balance[str(ev.args["from"])] -= value
            if str(ev.args["to"]) in balance:
                balance[str(ev.args["to"])] += value
        out |= {f"{tranche}.balanceOf({h})": v for h, v in balance.items()}
    out |= {f"deposited({p})": sum(history.deposits.get(p, {}).values()) for p in _deposit_periods(history)}
    return out


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
        balances = _balances(chain, links, pool_address, head)
        accounts = {"pool": pool_address, "senior": links.senior, "junior": links.junior}
        history = rebuild(ledger)
        counters = (_counters(chain, links, pool_address, head) | {f"balance.{k}": v for k, v in balances.items()}
                    | _holder_state(chain, links, pool_address, history, head))
        counted = _counted(history, accounts) | _holder_state_counted(history)
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
    """The offering's book and money (:mod:`rwa.replay.offering`), when the deal sold through one."""
    from rwa.model.terms import offering_config
    from rwa.onchain.offering import DealOffering
    from rwa.onchain.stablecoin import Stablecoin

    if "offering" not in manifest.contracts or deal.offering is None:
        return None
    offering = DealOffering.at(chain, manifest.address("offering"))
    onchain = (offering.config(head), offering.costs(head))
    expected = offering_config(deal, terms, manifest.roles.issuer)
    balance = Stablecoin.at(chain, offering.stablecoin()).balance_of(offering.address, head)
    book = reconcile_offering(history, offering.address, onchain, expected,
                              (manifest.senior_size, manifest.junior_size), pool,
                              {str(k): v for k, v in tokens.items()}, balance, rec)
    return {"address": offering.address, "phase": book.phase, "subscribers": book.subscribers,
            "requested": book.requested, "sold": list(book.sold), "taken_up": list(book.taken_up),
            "delivered": book.delivered, "reserve": book.reserve, "costs": book.costs, "proceeds": book.proceeds,
            "refunds": book.refunds, "balance": balance}


def _review_governance(
    history: History, manifest: Manifest, deal: Deal, links: Links, pool: str, rec: Reconciliation
) -> list[tuple[int, int, int]]:
    """The governance review (:func:`rwa.replay.governance.review_governance`) against the deal's trust model."""
    from rwa.onchain.privileges import deal_mark, party_addresses

    contracts = {k: v for k, v in links.contracts().items() if k != "stablecoin"}
    contracts |= {"pool": pool, "timelock": manifest.contracts.get("timelock", "")}
    return review_governance(history, rec, pool=pool, contracts=contracts, parties=party_addresses(manifest),
                             mark=deal_mark(manifest), stated_delay=deal.governance_delay,
                             deal_threshold=deal.oracle.threshold, manifest_reporters=manifest.roles.reporters,
                             sizes={"senior": manifest.senior_size, "junior": manifest.junior_size})


def _review_pauses(chain: Chain, history: History, pausable: dict[str, str], head: int, rec: Reconciliation) -> None:
    """Each pausable contract's pause at the head against its events (``review_pause_state``)."""
    from rwa.onchain.pool import LeasePool
    from rwa.replay.governance import review_pause_state

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
    from rwa.leverage.cashflows import contracted_rent
    from rwa.model.terms import default_rules, recorded_terms
    from rwa.model.units import POINTS_MAGNITUDE
    from rwa.onchain.oracle import RevenueOracle
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken
    from rwa.replay.report import write_outputs

    rec = Reconciliation()
    pool = LeasePool.at(chain, manifest.address("pool"))
    actual_hash = deal_hash(deal_file)
    if actual_hash != manifest.deal_hash:
        rec.add(
            FindingKind.DEAL_FILE_CHANGED,
            None,
            str(deal_file),
            manifest.deal_hash,
            actual_hash,
            "the deal file differs from the one the deployment was issued from",
        )
    deal = load_deal(deal_file)
    expected_terms = recorded_terms(deal, manifest.terms)
    if expected_terms.face != manifest.senior_size:
        rec.add(FindingKind.POOL_TERMS, None, pool.address, manifest.senior_size, expected_terms.face,
                "the recorded principal schedule does not sum to the senior size the manifest states")
    reconcile_links(links, manifest.contracts, manifest.roles.fee_recipient, pool.address, rec)
    for key in sorted(counters):
        if key.startswith("balance."):
            continue  # the money reconciliation names a balance that its transfers do not explain
        if counted.get(key) != counters[key]:
            rec.add(FindingKind.STATE_WITHOUT_EVENT, None, key, counted.get(key), counters[key],
                    f"{key} at block {head} is {counters[key]:,} on-chain, {counted.get(key)} by the events")
    reconcile_terms(pool.terms(head), expected_terms, pool.address, rec)
    oracle_ends = RevenueOracle.at(chain, links.oracle).period_ends(head)
    reconcile_period_ends(oracle_ends, expected_terms.period_ends[:-1], FindingKind.ORACLE_CALENDAR, links.oracle, rec)
    reconcile_waterfall(history, expected_terms, pool.address, rec)
    reconcile_reports(history, contracted_rent(deal), links.oracle, rec)
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
        for line, amount in zip(lines, onchain, strict=True):
            line.onchain_claimable = amount
            if amount != line.expected_claimable:
                rec.add(FindingKind.CLAIMABLE, None, line.holder, line.expected_claimable, amount,
                        f"{tranche} claimable now: recomputed {line.expected_claimable:,}, on-chain {amount:,}")
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
        "trades": trades,
        "fingerprint": fingerprint,
    }
    write_outputs(out, summary, history, rec, expected_terms)
    timings["total"] = time.perf_counter() - t0
    code = EXIT_RECONCILED if not rec.findings else EXIT_FINDINGS
    return ReplayResult(code, rec.findings, ledger.count(), out, timings, disclosures=rec.disclosures)
