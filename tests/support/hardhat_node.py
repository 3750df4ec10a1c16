"""Start Hardhat's node (from the project's node_modules) on a free loopback port and stop it by its pid: a second
JSON-RPC node implementation, besides anvil, that the lifecycle runs on.

The node is configured by ``tests/support/hardhat/hardhat.config.js``; its accounts come from a mnemonic drawn at
random here and passed in the environment, and the keys are derived from it with eth-account (BIP-44, Hardhat's
path), so no key is written in the project and the well-known default keys are never used.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from eth_account import Account
from web3 import Web3

from rwa.build.compile import EVM_VERSION
from rwa.errors import ToolchainError
from rwa.paths import node_modules
from tests.support.nodes import LocalNode, free_port, listening

CONFIG = Path(__file__).resolve().parent / "hardhat" / "hardhat.config.js"
HD_PATH = "m/44'/60'/0'/0/{}"
"""Hardhat derives account ``i`` of its mnemonic on this path (its default ``accounts.path`` and index)."""


class HardhatNode(LocalNode):
    """A Hardhat node process."""


def hardhat_entry() -> Path:
    entry = node_modules() / "hardhat" / "internal" / "cli" / "bootstrap.js"
    if not entry.is_file():
        raise ToolchainError(f"hardhat is not installed under {node_modules()}: run `npm ci`")
    return entry


def hardhat_version() -> str:
    import json

    return str(json.loads((node_modules() / "hardhat" / "package.json").read_text())["version"])


def _keys(mnemonic: str, count: int) -> list[str]:
    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(mnemonic, account_path=HD_PATH.format(i)).key.to_0x_hex() for i in range(count)]


def start_hardhat(accounts: int = 20, timeout: float = 60.0) -> HardhatNode:
    """Hardhat's node with ``accounts`` funded accounts, mining a block per transaction (its default), on the EVM
    version the contracts are compiled for."""
    Account.enable_unaudited_hdwallet_features()
    _, mnemonic = Account.create_with_mnemonic()
    port = free_port()
    log = Path(tempfile.mkdtemp(prefix="hardhat-")) / "node.log"
    env = {
        **os.environ,
        "RWA_HARDHAT_MNEMONIC": mnemonic,
        "RWA_HARDHAT_ACCOUNTS": str(accounts),
        "RWA_HARDHAT_HARDFORK": EVM_VERSION,
        "HARDHAT_DISABLE_TELEMETRY_PROMPT": "true",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            ["node", str(hardhat_entry()), "--config", str(CONFIG), "node",
             "--hostname", "127.0.0.1", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, cwd=CONFIG.parent,
        )
    keys = _keys(mnemonic, accounts)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ToolchainError(f"hardhat node exited with code {process.returncode}: {_tail(log)}")
        if listening(port):
            node = HardhatNode(url=f"http://127.0.0.1:{port}", pid=process.pid, private_keys=keys, process=process)
            _check_accounts(node)
            return node
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise ToolchainError(f"hardhat node did not start in {timeout:.0f}s: {_tail(log)}")


def _check_accounts(node: HardhatNode) -> None:
    """The node's accounts must be the keys derived here (else the derivation path drifted from Hardhat's)."""
    served = [a.lower() for a in Web3(Web3.HTTPProvider(node.url)).eth.accounts]
    derived = [Account.from_key(k).address.lower() for k in node.private_keys]
    if served != derived:
        node.stop()
        raise ToolchainError(f"hardhat's accounts {served[:2]}... are not the keys derived on {HD_PATH}")


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:] if log.is_file() else "(no output)"
