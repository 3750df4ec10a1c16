"""Steps that can be re-run after a crash without doing anything twice.

A deployment step first writes the sender and nonce it is about to use into the manifest; if the process dies
after the transaction but before the address is recorded, the next run computes the CREATE address from that
sender and nonce and adopts the contract found there instead of deploying a second one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import rlp
from eth_utils.crypto import keccak
from web3 import Web3

from rwa.chain.interface import Chain
from rwa.onchain.deployment import Manifest, PendingDeploy, save_manifest


def create_address(sender: str, nonce: int) -> str:
    raw = keccak(rlp.encode([bytes.fromhex(sender[2:]), nonce]))[12:]
    return Web3.to_checksum_address(raw)


class StepRunner:
    """Runs named steps once each, recording progress in the manifest after every step."""

    def __init__(self, chain: Chain, manifest: Manifest, path: Path, log: Callable[[str], None]) -> None:
        self.chain = chain
        self.manifest = manifest
        self.path = path
        self.log = log

    def save(self) -> None:
        save_manifest(self.manifest, self.path)

    def step(self, name: str, action: Callable[[], None]) -> None:
        if name in self.manifest.progress:
            return
        action()
        self.manifest.progress.append(name)
        self.save()

    def deploy(self, key: str, sender: str, action: Callable[[], str]) -> str:
        """Deploy contract ``key`` once: adopt an earlier run's contract when its transaction went through."""
        if key in self.manifest.contracts:
            return self.manifest.contracts[key]
        pending = self.manifest.pending_deploy
        if pending is not None and pending.key == key:
            guess = create_address(pending.sender, pending.nonce)
            if len(self.chain.w3.eth.get_code(Web3.to_checksum_address(guess))) > 0:
                self.log(f"adopted {key} at {guess}, deployed by an interrupted run")
                return self._record(key, guess)
        nonce = self.chain.w3.eth.get_transaction_count(Web3.to_checksum_address(sender), "pending")
        self.manifest.pending_deploy = PendingDeploy(key=key, sender=sender, nonce=nonce)
        self.save()
        address = action()
        self.log(f"deployed {key} at {address}")
        return self._record(key, address)

    def _record(self, key: str, address: str) -> str:
        self.manifest.contracts[key] = address
        self.manifest.pending_deploy = None
        self.save()
        return address
