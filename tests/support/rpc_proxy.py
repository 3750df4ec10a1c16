"""A JSON-RPC proxy in front of a real node that refuses ``eth_getLogs`` over more than a few blocks, as public nodes
refuse large ranges, and may leave entries out of the logs it does return without saying so (``drop``: the entries to
leave out; ``max_results``: at most that many a query, as a node that caps its answers silently); everything else is
passed through unchanged. :class:`DyingProxy` is one that stops answering (drops every connection) after a number of
requests, as a node that dies in the middle of a command. :class:`JsonRpcServer` answers each request with a given
function (a node's stand-in, or :func:`forwarding` to a real one) and records what came and when the first came."""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar


def _block(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class CappedLogsProxy:
    def __init__(self, upstream: str, max_range: int, drop: Callable[[dict[str, Any]], bool] | None = None,
                 max_results: int | None = None) -> None:
        self.upstream = upstream
        self.max_range = max_range
        self.drop = drop
        self.max_results = max_results
        self.refused = 0
        self.dropped = 0
        self.log_queries = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                return None

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = json.loads(body)
                if proxy.drops(request):
                    self.close_connection = True
                    return
                answer = proxy.refuse(request)
                if answer is None:
                    forward = urllib.request.Request(proxy.upstream, data=body,
                                                     headers={"Content-Type": "application/json"})
                    with urllib.request.urlopen(forward, timeout=30) as resp:
                        data = proxy.leave_out(request, resp.read())
                else:
                    data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def drops(self, request: Any) -> bool:
        """Whether this request goes unanswered (its connection closed)."""
        return False

    def leave_out(self, request: Any, data: bytes) -> bytes:
        """The node's answer, less the log entries this proxy leaves out."""
        if isinstance(request, list) or request.get("method") != "eth_getLogs" or (
                self.drop is None and self.max_results is None):
            return data
        answer = json.loads(data)
        logs = answer.get("result") or []
        kept = [log for log in logs if self.drop is None or not self.drop(log)][:self.max_results]
        self.dropped += len(logs) - len(kept)
        return json.dumps({**answer, "result": kept}).encode()

    def refuse(self, request: Any) -> dict[str, Any] | None:
        if isinstance(request, list) or request.get("method") != "eth_getLogs":
            return None
        self.log_queries += 1
        query = request["params"][0]
        span = _block(query["toBlock"]) - _block(query["fromBlock"]) + 1
        if span <= self.max_range:
            return None
        self.refused += 1
        return {"jsonrpc": "2.0", "id": request["id"],
                "error": {"code": -32005, "message": f"query exceeds max block range {self.max_range}"}}


class DyingProxy(CappedLogsProxy):
    """Answers its first ``answers`` requests, or every request up to the ``sends``-th transaction it passes on,
    then none."""

    def __init__(self, upstream: str, answers: int | None = None, sends: int | None = None) -> None:
        super().__init__(upstream, max_range=2**62)
        self.answers, self.sends = answers, sends
        self.requests = self.sent = 0
        self._dead = False
        self._lock = threading.Lock()

    def drops(self, request: Any) -> bool:
        with self._lock:
            self.requests += 1
            self._dead = self._dead or (self.answers is not None and self.requests > self.answers)
            if self._dead:
                return True
            if not isinstance(request, list) and request.get("method") == "eth_sendRawTransaction":
                self.sent += 1
                self._dead = self.sent == self.sends  # this one is passed on, then the node dies
            return False


@contextmanager
def capped_logs_proxy(upstream: str, max_range: int, drop: Callable[[dict[str, Any]], bool] | None = None,
                      max_results: int | None = None) -> Iterator[CappedLogsProxy]:
    with serving(CappedLogsProxy(upstream, max_range, drop, max_results)) as proxy:
        yield proxy


@contextmanager
def dying_proxy(upstream: str, answers: int | None = None, sends: int | None = None) -> Iterator[DyingProxy]:
    with serving(DyingProxy(upstream, answers, sends)) as proxy:
        yield proxy


P = TypeVar("P", bound=CappedLogsProxy)


@contextmanager
def serving(proxy: P) -> Iterator[P]:
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()


class JsonRpcServer(ThreadingHTTPServer):
    """A loopback HTTP server answering each POST with ``answer(request body) -> (status, payload)``; it records each
    request's method and headers and when the first one arrived (``time.monotonic``)."""

    def __init__(self, answer: Callable[[bytes], tuple[int, bytes]]) -> None:
        super().__init__(("127.0.0.1", 0), _JsonRpcHandler)
        self.answer = answer
        self.methods: list[str] = []
        self.headers_seen: list[dict[str, str]] = []
        self.first: float | None = None
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _JsonRpcHandler(BaseHTTPRequestHandler):
    server: JsonRpcServer

    def do_POST(self) -> None:
        arrived = time.monotonic()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        request = json.loads(body)
        with self.server.lock:
            if self.server.first is None:
                self.server.first = arrived
            self.server.methods.append(request["method"] if isinstance(request, dict) else "batch")
            self.server.headers_seen.append(dict(self.headers))
        status, payload = self.server.answer(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *_args: object) -> None:
        return None


def forwarding(upstream: str) -> Callable[[bytes], tuple[int, bytes]]:
    """An answer for :class:`JsonRpcServer` that passes each request to the node at ``upstream``."""
    def answer(body: bytes) -> tuple[int, bytes]:
        request = urllib.request.Request(upstream, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as reply:
            return 200, reply.read()
    return answer


@contextmanager
def json_rpc_server(answer: Callable[[bytes], tuple[int, bytes]]) -> Iterator[JsonRpcServer]:
    server = JsonRpcServer(answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
