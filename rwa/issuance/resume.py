"""Steps that can be re-run after a crash without doing anything twice.

Issuance sends its transactions in batches (:class:`rwa.chain.pipeline.Batch`): before a batch is broadcast, its
transactions (step, sender, nonce, hash, and the address each deployment creates) are written into the manifest
(``pending_batch``). If the process dies before the batch's receipts are in, the next run first waits for what the
node still holds pending, adopts every contract found at its CREATE address, and plans every step not recorded as
done again from the chain's state (a role already granted is not granted again): the transactions the node never
mined left their nonces free, and the new ones take them. Nothing is sent twice.

A manifest written by an older version may hold a ``pending_deploy`` (sender and nonce of one deployment); its
contract is adopted the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from web3 import Web3

from rwa.chain.interface import Chain
from rwa.chain.pipeline import Batch, Planned, outcome
from rwa.chain.pipeline import create_address as create_address
from rwa.onchain.deployment import Manifest, PendingBatch, PendingTransaction, save_manifest


class StepRunner:
    """Runs named steps once each, recording progress in the manifest after every step or batch."""

    def __init__(self, chain: Chain, manifest: Manifest, path: Path, log: Callable[[str], None]) -> None:
        self.chain = chain
        self.manifest = manifest
        self.path = path
        self.log = log

    def save(self) -> None:
        save_manifest(self.manifest, self.path)

    def done(self, name: str) -> bool:
        return name in self.manifest.progress

    def step(self, name: str, action: Callable[[], None]) -> None:
        if name in self.manifest.progress:
            return
        action()
        self.manifest.progress.append(name)
        self.save()

    def resume(self) -> None:
        """Settle what an interrupted run left in flight: adopt the contracts its transactions created."""
        pending = self.manifest.pending_deploy
        if pending is not None:
            self._adopt(pending.key, create_address(pending.sender, pending.nonce))
            self.manifest.pending_deploy = None
            self.save()
        batch = self.manifest.pending_batch
        if batch is None:
            return
        for sent in batch.transactions:
            if sent.tx_hash is not None:
                outcome(self.chain, sent.tx_hash)  # a transaction the node still holds is mined first
        for sent in batch.transactions:
            if sent.created is not None:
                self._adopt(sent.step, sent.created)
        self.manifest.pending_batch = None
        self.save()

    def _adopt(self, key: str, address: str) -> None:
        if key in self.manifest.contracts:
            return
        if len(self.chain.w3.eth.get_code(Web3.to_checksum_address(address))) > 0:
            self.log(f"adopted {key} at {address}, deployed by an interrupted run")
            self.manifest.contracts[key] = address

    def batch(self, steps: Sequence[str], plan: Callable[[Batch], None]) -> None:
        """Run ``steps`` (issuance steps and contract keys to deploy) as one batch: ``plan`` adds the transactions
        still needed (reading the chain's state; a deployment under its contract's key, :meth:`Batch.step`), the
        batch is recorded in the manifest, sent, and every step recorded as done once all its receipts are in."""
        todo = [s for s in steps if s not in self.manifest.progress and s not in self.manifest.contracts]
        if not todo:
            return
        batch = Batch(self.chain)
        plan(batch)
        try:
            batch.send(record=self._record)
        except BaseException:
            self._settle(batch.planned, failed=True)
            raise
        self._settle(batch.planned, failed=False)
        for name in todo:
            if name not in self.manifest.contracts and name not in self.manifest.progress:
                self.manifest.progress.append(name)
        self.save()

    def _record(self, planned: Sequence[Planned]) -> None:
        self.manifest.pending_batch = PendingBatch(transactions=[
            PendingTransaction(step=p.step, sender=p.sender, nonce=p.nonce, tx_hash=p.tx_hash, created=p.created)
            for p in planned])
        self.save()

    def _settle(self, planned: Sequence[Planned], failed: bool) -> None:
        """Record the contracts the batch created (each deployment depends only on mined contracts, so one that
        succeeded stands even when another of its batch failed)."""
        if failed and any(p.mined is None for p in planned if p.tx_hash is not None):
            return  # receipts are missing (the node stopped answering): the next run settles the recorded batch
        for p in planned:
            if p.created is not None and p.mined is not None and p.mined["status"] == 1:
                self.manifest.contracts[p.step] = p.created
                self.log(f"deployed {p.step} at {p.created}")
        self.manifest.pending_batch = None
        self.save()
