"""``rwa replay``: ingest, rebuild, recompute, reconcile, report. Exit 0 reconciled, 1 findings, 2 bad input."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rwa.chain import Chain
from rwa.deal import deal_hash, load_deal
from rwa.deployment import Manifest, check_chain, load_manifest
from rwa.errors import InputError
from rwa.replay.history import rebuild
from rwa.replay.ingest import ForeignLedgerError, Source, check_continuity, ingest
from rwa.replay.ledger import Ledger, LedgerIdentityError
from rwa.replay.reconcile import (
    Finding,
    FindingKind,
    Reconciliation,
    reconcile_dust,
    reconcile_money,
    reconcile_reports,
    reconcile_terms,
    reconcile_token,
    reconcile_waterfall,
)
from rwa.units import TRANCHES

CONTRACTS = {
    "pool": "LeasePool",
    "oracle": "RevenueOracle",
    "senior": "TrancheToken",
    "junior": "TrancheToken",
    "registry": "ComplianceRegistry",
    "stablecoin": "TestStablecoin",
}


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


def _sources(manifest: Manifest) -> list[Source]:
    from rwa.compile import load_build

    build = load_build()
    deal_accounts = tuple(manifest.address(k) for k in ("pool", *TRANCHES))
    return [
        Source(key, manifest.address(key), build[name].abi, deal_accounts if key == "stablecoin" else ())
        for key, name in CONTRACTS.items()
        if key in manifest.contracts
    ]


def _balances(chain: Chain, manifest: Manifest, block: int) -> dict[str, int]:
    from rwa.onchain.stablecoin import Stablecoin

    coin = Stablecoin.at(chain, manifest.address("stablecoin"))
    return {k: coin.balance_of(manifest.address(k), block) for k in ("pool", *TRANCHES)}


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
    t0 = time.perf_counter()
    timings: dict[str, float] = {}
    manifest = load_manifest(manifest_path)
    check_chain(chain, manifest, "pool")
    deal_file = Path(manifest.deal_file)
    if not deal_file.is_file():
        raise InputError(f"the deal file {deal_file} named by the manifest is missing")
    notes: list[str] = []
    identity = chain_identity(chain, manifest)
    ledger = open_ledger(chain, manifest, db, identity, notes)
    try:
        head = int(chain.w3.eth.block_number) - confirmations
        if head < manifest.deployment_block:
            raise InputError(f"--confirmations {confirmations}: the chain has no block that deep after the deployment")
        if (ledger.last_block() or -1) > head:  # a larger --confirmations than the last run's
            ledger.rollback_to(head)
        ingest(chain.w3, ledger, _sources(manifest), manifest.deployment_block, head, block_range=block_range)
        timings["ingest"] = time.perf_counter() - t0
        head_hash = "0x" + bytes(chain.w3.eth.get_block(head)["hash"]).hex()
        fingerprint = _fingerprint(manifest_path, ledger, deal_file, identity, head_hash)
        balances = _balances(chain, manifest, head)
        reused = _reuse(out, fingerprint, balances)
        if reused is not None:
            timings["total"] = time.perf_counter() - t0
            return ReplayResult(reused[0], reused[1], ledger.count(), out, timings, reused=True, notes=notes)
        result = _reconcile(chain, manifest, ledger, deal_file, out, fingerprint, timings, t0, head, balances)
        result.notes = notes
        return result
    finally:
        ledger.close()


def _reuse(out: Path, fingerprint: str, balances: dict[str, int]) -> tuple[int, list[Finding]] | None:
    """With the same chain identity and head, the same ledger content, manifest and deal file, and the same balances
    at the head (a development node can rewrite state without a block), the last report stands: return its verdict
    instead of recomputing it."""
    summary_path, findings_path = out / "summary.json", out / "findings.json"
    if not (summary_path.is_file() and findings_path.is_file()):
        return None
    summary = json.loads(summary_path.read_text())
    if summary.get("fingerprint") != fingerprint or summary.get("balances") != balances:
        return None
    findings = [Finding(**{**f, "kind": FindingKind(f["kind"])}) for f in json.loads(findings_path.read_text())]
    return (0 if not findings else 1), findings


def _reconcile(
    chain: Chain,
    manifest: Manifest,
    ledger: Ledger,
    deal_file: Path,
    out: Path,
    fingerprint: str,
    timings: dict[str, float],
    t0: float,
    head: int,
    balances: dict[str, int],
) -> ReplayResult:
    """Reconcile with every on-chain read at ``head``, the block the ledger was read to (``balances`` read there)."""
    from rwa.leverage.cashflows import contracted_rent
    from rwa.onchain.pool import LeasePool
    from rwa.onchain.tranche import TrancheToken
    from rwa.replay.report import write_outputs
    from rwa.terms import recorded_terms
    from rwa.units import POINTS_MAGNITUDE, TRANCHES

    rec = Reconciliation()
    history = rebuild(ledger)
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
    reconcile_terms(pool.terms(head), expected_terms, pool.address, rec)
    reconcile_waterfall(history, expected_terms, pool.address, rec)
    reconcile_reports(history, contracted_rent(deal), manifest.address("oracle"), rec)
    for tok in history.tokens.values():
        reconcile_token(tok, POINTS_MAGNITUDE, rec)
    reconcile_dust(history, POINTS_MAGNITUDE, rec)
    tokens = {t: manifest.address(t) for t in TRANCHES}
    reconcile_money(history, pool.address, tokens, manifest.roles.fee_recipient, balances, rec)
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
        "balances": balances,
        "fingerprint": fingerprint,
    }
    write_outputs(out, summary, history, rec, expected_terms.cash_trap_dscr_bps)
    timings["total"] = time.perf_counter() - t0
    return ReplayResult(0 if not rec.findings else 1, rec.findings, ledger.count(), out, timings)
