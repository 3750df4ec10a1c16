"""How a program reaches a chain: :func:`connect`, which imports only the standard library until the chain has
answered.

web3.py, eth-account, eth-tester and py-evm take most of a second of CPU to import, and a command would spend it
before its first request. So :func:`connect` first asks a node its chain id over the standard library
(``eth_chainId``, by HTTP or over the IPC socket), or opens the embedded chain's state file (its format, its lock, its
key-values), and only then imports them to build the backend, handing it what it read. A node that does not answer or
a state file that is not one is refused as soon as it can be, and a command's first request goes out at once.

Importing this module imports no chain library (``tests/unit/test_chain_startup.py``); :class:`Chain` is in
:mod:`rwa.chain.interface`, which re-exports :func:`connect`.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rwa.chain.state_log import ChainStateLog, default_state_path
from rwa.errors import InputError, NodeUnreachableError
from rwa.settings import env_switch

if TYPE_CHECKING:
    from eth_account.signers.local import LocalAccount

    from rwa.chain.backend import Backend
    from rwa.chain.interface import Chain

__all__ = ["connect", "node_chain_id"]

_CHAIN_ID_REQUEST = json.dumps({"jsonrpc": "2.0", "method": "eth_chainId", "params": [], "id": 1}).encode()
_IPC_CHUNK = 4096


def connect(
    rpc_url: str | None = None,
    state: Path | None = None,
    accounts: Sequence[LocalAccount] | None = None,
    timeout: float = 10.0,
    fast: bool | None = None,
) -> Chain:
    """Connect to ``rpc_url`` (or ``RWA_RPC_URL``) if given, else open the embedded chain at ``state`` (or
    ``RWA_STATE``, else the project's default file). ``accounts`` sign (default: ``RWA_PRIVATE_KEYS`` /
    ``RWA_KEYSTORE`` on a node, the development keys on the embedded chain). ``fast`` turns the embedded chain's
    fast path on or off (default: the ``RWA_FAST_PATH`` setting, on unless it is 0)."""
    backend: Backend
    url = rpc_url or os.environ.get("RWA_RPC_URL") or None
    if url:
        chain_id = node_chain_id(url, timeout)  # the first request, before any chain library is imported
        from rwa.chain.keys import keys_from_environment
        from rwa.chain.rpc import RpcBackend

        backend = RpcBackend.open(url, timeout, chain_id)
        signers = list(accounts) if accounts is not None else keys_from_environment()
    else:
        use_fast = env_switch("RWA_FAST_PATH", True) if fast is None else fast
        log = ChainStateLog(Path(state) if state else default_state_path())
        meta, kv = log.open()  # the format checked, the lock taken and the chain read, before py-evm is imported
        try:
            from rwa.chain.embedded import open_embedded

            backend, dev_accounts = open_embedded(log, meta, kv, fast=use_fast)
        except BaseException:
            log.close()
            raise
        signers = list(accounts) if accounts is not None else dev_accounts
    from rwa.chain.interface import front

    return front(backend, signers)


def node_chain_id(url: str, timeout: float) -> int:
    """The chain id the node at ``url`` (an http(s) URL or an IPC path) answers ``eth_chainId`` with, within
    ``timeout`` seconds. ``InputError`` for a URL that is neither; ``NodeUnreachableError`` when the node does not
    answer, or answers something else than a chain id."""
    ask: Callable[[str, float], bytes]
    if url.startswith(("http://", "https://")):
        ask = _ask_http
    elif url.endswith(".ipc") or url.startswith("/"):
        ask = _ask_ipc
    else:
        raise InputError(f"--rpc-url {url}: not an http(s):// URL or an IPC path")
    try:
        answer = json.loads(ask(url, timeout))
        return int(answer["result"], 16)
    except Exception as exc:
        raise NodeUnreachableError(f"cannot reach a JSON-RPC node at {url}: {_failure(exc)}") from None


def _ask_http(url: str, timeout: float) -> bytes:
    """The node's answer to ``eth_chainId`` POSTed to ``url``; a user and password in the URL are sent as basic
    authentication, as web3.py's HTTP provider (``requests``) sends them."""
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Type": "application/json"}
    if parts.username is not None or parts.password is not None:
        credentials = f"{urllib.parse.unquote(parts.username or '')}:{urllib.parse.unquote(parts.password or '')}"
        headers["Authorization"] = "Basic " + base64.b64encode(credentials.encode()).decode()
        host = parts.hostname or ""
        netloc = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port is not None else "")
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    request = urllib.request.Request(url, data=_CHAIN_ID_REQUEST, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=timeout) as response:
        body: bytes = response.read()
    return body


def _ask_ipc(path: str, timeout: float) -> bytes:
    """The node's answer to ``eth_chainId`` over its IPC socket: the bytes read until they make one JSON value."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(path)
        sock.sendall(_CHAIN_ID_REQUEST)
        received = b""
        while True:
            chunk = sock.recv(_IPC_CHUNK)
            if not chunk:
                return received  # the node hung up: what it sent is the answer, or not JSON
            received += chunk
            try:
                json.loads(received)
            except ValueError:
                continue
            return received


def _failure(exc: Exception) -> str:
    """A failed first request named as web3.py's HTTP provider names it: ``ConnectionError`` when the node cannot be
    reached, ``Timeout`` when it does not answer in time, else the error's own type (e.g. ``HTTPError`` for an HTTP
    error status, ``JSONDecodeError`` for an answer that is not JSON)."""
    cause: Any = exc
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        cause = exc.reason
    if isinstance(cause, TimeoutError):
        return "Timeout"
    if isinstance(cause, OSError) and not isinstance(cause, urllib.error.HTTPError):
        return "ConnectionError"
    return type(cause).__name__ if isinstance(cause, BaseException) else "ConnectionError"
