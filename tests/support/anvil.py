"""Start anvil (from the project's node_modules) on a free loopback port and stop it by its pid.

The node generates a random mnemonic and writes its keys to a config file, so no key is written in the project.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from rwa.errors import ToolchainError
from rwa.paths import node_modules


@dataclass
class AnvilNode:
    url: str
    pid: int
    private_keys: list[str]
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        if self.process.poll() is None:
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.process.wait()


def anvil_binary() -> Path:
    for candidate in (
        node_modules() / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
        node_modules() / "@foundry-rs" / "anvil-linux-arm64" / "bin" / "anvil",
        node_modules() / ".bin" / "anvil",
    ):
        if candidate.is_file():
            return candidate
    raise ToolchainError(f"anvil is not installed under {node_modules()}: run `npm ci`")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_anvil(accounts: int = 20, timeout: float = 20.0) -> AnvilNode:
    port = free_port()
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
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return AnvilNode(url=f"http://127.0.0.1:{port}", pid=process.pid, private_keys=keys,
                                     process=process)
            except (OSError, ValueError, KeyError):
                pass
        time.sleep(0.1)
    process.kill()
    raise ToolchainError("anvil did not start in time")
