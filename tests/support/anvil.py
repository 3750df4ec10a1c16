"""Start anvil (from the project's node_modules) on a free loopback port and stop it by its pid.

The node generates a random mnemonic and writes its keys to a config file, so no key is written in the project.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
from pathlib import Path

from rwa.errors import ToolchainError
from rwa.paths import node_modules
from tests.support.nodes import LocalNode, free_port, listening

__all__ = ["AnvilNode", "anvil_binary", "free_port", "start_anvil"]


class AnvilNode(LocalNode):
    """An anvil process."""


def anvil_binary() -> Path:
    for candidate in (
        node_modules() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
        node_modules() / "@foundry-rs" / "anvil-linux-arm64" / "bin" / "anvil",
        node_modules() / ".bin" / "anvil",
    ):
        if candidate.is_file():
            return candidate
    raise ToolchainError(f"anvil is not installed under {node_modules()}: run `npm ci`")


def start_anvil(accounts: int = 20, timeout: float = 20.0, block_time: int | None = None,
                chain_id: int | None = None) -> AnvilNode:
    """``block_time``: mine a block every that many seconds, as a real network does (default: a block per
    transaction, at once); ``chain_id``: another chain id than anvil's development one (a real network's)."""
    port = free_port()
    interval = ["--block-time", str(block_time)] if block_time is not None else []
    if chain_id is not None:
        interval += ["--chain-id", str(chain_id)]
    config = Path(tempfile.mkdtemp(prefix="anvil-")) / "config.json"
    process = subprocess.Popen(
        [
            str(anvil_binary()),
            "--host", "127.0.0.1",
            "--port", str(port),
            "--accounts", str(accounts),
            "--mnemonic-random",
            "--config-out", str(config),
            "--silent",
            *interval,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ToolchainError(f"anvil exited with code {process.returncode}")
        if config.is_file():
            try:
                keys = json.loads(config.read_text())["private_keys"]
                if listening(port):
                    return AnvilNode(url=f"http://127.0.0.1:{port}", pid=process.pid, private_keys=keys,
                                     process=process)
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.1)
    process.kill()
    raise ToolchainError("anvil did not start in time")
