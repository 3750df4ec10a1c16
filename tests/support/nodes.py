"""What the tests' local JSON-RPC nodes share: a free loopback port, the process kept by its pid, and its keys."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
from dataclasses import dataclass


@dataclass
class LocalNode:
    """A JSON-RPC node process the tests started on loopback, with the private keys of its funded accounts."""

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


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False
