"""A JSON-RPC proxy in front of a real node that refuses ``eth_getLogs`` over more than a few blocks, as public nodes
refuse large ranges; everything else is passed through unchanged."""

from __future__ import annotations

import json
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


def _block(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


class CappedLogsProxy:
    def __init__(self, upstream: str, max_range: int) -> None:
        self.upstream = upstream
        self.max_range = max_range
        self.refused = 0
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
                        data = resp.read()
                else:
                    data = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

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
def capped_logs_proxy(upstream: str, max_range: int) -> Iterator[CappedLogsProxy]:
    proxy = CappedLogsProxy(upstream, max_range)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
