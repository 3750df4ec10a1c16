"""Reaching a chain starts at once: importing :func:`rwa.chain.connect.connect` loads no chain library, a node is
asked its chain id before one is imported (over HTTP or its IPC socket), and a node that does not answer, or answers
something else than a chain id, is refused in the one line the oracle's retry waits on."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from rwa.chain.connect import connect, node_chain_id
from rwa.errors import InputError, NodeUnreachableError
from tests.support.rpc_proxy import json_rpc_server

CHAIN_LIBRARIES = ("web3", "eth_account", "eth_tester", "eth", "eth_utils", "eth_keys", "trie", "rlp")

_PROBE = """
import json, sys
import rwa.chain.connect
print(json.dumps(sorted({name.split(".")[0] for name in sys.modules})))
"""


def test_importing_connect_imports_no_chain_library() -> None:
    done = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, check=True, timeout=60)
    loaded = set(json.loads(done.stdout))
    assert not loaded & set(CHAIN_LIBRARIES), f"rwa.chain.connect imported {sorted(loaded & set(CHAIN_LIBRARIES))}"


def _unreachable(url: str, named: str) -> str:
    """The one line a node that does not answer is refused with (the oracle's retry waits on it)."""
    return "^" + re.escape(f"cannot reach a JSON-RPC node at {url}: {named}") + "$"


def _chain_id_answer(chain_id: int) -> Callable[[bytes], tuple[int, bytes]]:
    def answer(body: bytes) -> tuple[int, bytes]:
        request = json.loads(body)
        return 200, json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": hex(chain_id)}).encode()
    return answer


def test_a_node_is_asked_its_chain_id_once() -> None:
    with json_rpc_server(_chain_id_answer(31337)) as node:
        url = f"http://127.0.0.1:{node.server_address[1]}"
        with connect(rpc_url=url, accounts=[]) as chain:
            assert chain.chain_id == 31337
            assert chain.is_dev
        assert node.methods == ["eth_chainId"]


def test_a_user_and_password_in_the_url_are_sent_as_basic_authentication() -> None:
    with json_rpc_server(_chain_id_answer(5)) as node:
        assert node_chain_id(f"http://me:s%40cret@127.0.0.1:{node.server_address[1]}", 5.0) == 5
        assert node.headers_seen[0]["Authorization"] == "Basic bWU6c0BjcmV0"  # me:s@cret


@pytest.mark.parametrize(("status", "payload", "named"), [
    (500, b"oops", "HTTPError"),
    (200, b"not json", "JSONDecodeError"),
    (200, b'{"jsonrpc": "2.0", "id": 1, "error": {"code": -32601, "message": "no such method"}}', "KeyError"),
])
def test_a_node_that_answers_no_chain_id_is_unreachable(status: int, payload: bytes, named: str) -> None:
    with json_rpc_server(lambda _body: (status, payload)) as node:
        url = f"http://127.0.0.1:{node.server_address[1]}"
        with pytest.raises(NodeUnreachableError, match=_unreachable(url, named)):
            connect(rpc_url=url, accounts=[])


def test_a_closed_port_is_unreachable_before_any_chain_library_is_needed() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: refused
        with pytest.raises(NodeUnreachableError, match=_unreachable(f"http://127.0.0.1:{port}", "ConnectionError")):
            node_chain_id(f"http://127.0.0.1:{port}", 5.0)


def test_a_silent_node_times_out() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)  # accepts the connection, never answers
        port = sock.getsockname()[1]
        with pytest.raises(NodeUnreachableError, match=_unreachable(f"http://127.0.0.1:{port}", "Timeout")):
            node_chain_id(f"http://127.0.0.1:{port}", 0.3)


def test_a_url_that_is_no_node_address_is_bad_input() -> None:
    with pytest.raises(InputError, match="not an http"):
        connect(rpc_url="ftp://example.org", accounts=[])


@pytest.fixture
def ipc_path() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="rwa-ipc-") as folder:  # short: a socket path has about 100 bytes
        yield Path(folder) / "node.ipc"


def test_an_ipc_node_is_asked_over_its_socket(ipc_path: Path) -> None:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as server:
        server.bind(str(ipc_path))
        server.listen(1)

        def answer_once() -> None:
            conn, _ = server.accept()
            with conn:
                request = json.loads(conn.recv(4096))
                reply = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x539"}).encode()
                conn.sendall(reply[:10])  # in two pieces: the answer is read until it is whole
                conn.sendall(reply[10:])

        thread = threading.Thread(target=answer_once, daemon=True)
        thread.start()
        assert node_chain_id(str(ipc_path), 5.0) == 1337
        thread.join(5)


def test_an_ipc_path_without_a_node_is_unreachable(ipc_path: Path) -> None:
    assert not os.path.exists(ipc_path)
    with pytest.raises(NodeUnreachableError, match=_unreachable(str(ipc_path), "ConnectionError")):
        connect(rpc_url=str(ipc_path), accounts=[])
