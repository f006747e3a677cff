"""A local stand-in for Rollbar's API: it accepts items on POST /api/1/item/ and keeps them for the test."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from sandbox.server import CustomerServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: RollbarCatcher

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.raw.append(body.decode("utf-8", "replace"))
            self.server.items.append(json.loads(body))
        answer = json.dumps({"err": 0, "result": {"uuid": "0" * 32}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


class RollbarCatcher(CustomerServer):
    handler_class = _Handler

    def __init__(self) -> None:
        super().__init__()
        self.items: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/api/1/"
