"""A JSON-RPC proxy in front of a real node that refuses ``eth_getLogs`` over more than a few blocks, as public nodes
refuse large ranges, and may leave entries out of the logs it does return without saying so (``drop``: the entries to
leave out; ``max_results``: at most that many a query, as a node that caps its answers silently); everything else is
passed through unchanged."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


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


@contextmanager
def capped_logs_proxy(upstream: str, max_range: int, drop: Callable[[dict[str, Any]], bool] | None = None,
                      max_results: int | None = None) -> Iterator[CappedLogsProxy]:
    proxy = CappedLogsProxy(upstream, max_range, drop, max_results)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
