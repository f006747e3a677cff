"""A small threaded HTTP server base: JSON helpers, a record of what arrived, and start/stop in a thread."""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs


@dataclass
class Received:
    """One request as the customer saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode("utf-8")).items()}


@dataclass
class Journal:
    """Everything a server received, thread-safe."""

    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, item: Received) -> None:
        with self.lock:
            self.requests.append(item)

    def matching(self, path_part: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if path_part in r.path]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()


class Handler(BaseHTTPRequestHandler):
    """Base handler: reads the body, records it, and routes to `handle_post`/`handle_get` of the server."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two writes: without this, 40 ms per answer
    server: CustomerServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        if self.server.verbose:
            super().log_message(format, *args)

    def _read(self) -> Received:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        item = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body)
        self.server.journal.add(item)
        return item

    def do_POST(self) -> None:
        self.server.route(self, self._read())

    def do_GET(self) -> None:
        self.server.route(self, self._read())

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_body(status, json.dumps(payload).encode("utf-8"), "application/json;charset=UTF-8", headers)

    def send_body(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class CustomerServer(ThreadingHTTPServer):
    """Serve on 127.0.0.1 (port 0 picks a free one) in a thread; subclasses implement `route`, or bring
    a handler class of their own. `with Server() as server:` starts it and stops it."""

    daemon_threads = True
    allow_reuse_address = True
    handler_class: type[BaseHTTPRequestHandler] = Handler

    def __init__(self, port: int = 0, verbose: bool = False) -> None:
        super().__init__(("127.0.0.1", port), self.handler_class)
        self.verbose = verbose
        self.journal = Journal()
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def route(self, handler: Handler, request: Received) -> None:
        raise NotImplementedError

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up before a late answer (the plug gave up at its deadline) is not an error."""
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)

    def start(self) -> CustomerServer:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=type(self).__name__, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()


class CrmSandbox(CustomerServer):
    """A CRM emulator's shared state: issued tokens, created leads, and the two test helpers
    `GET /_sandbox/leads` and `POST /_sandbox/expire-tokens` (the next call then meets an expired session)."""

    SLOW_ANSWER_S = 3.0  # `+slowanswer` in an email: the lead is created, the answer comes this late

    def __init__(self, port: int = 0, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.tokens: set[str] = set()
        self.leads: dict[str, dict[str, Any]] = {}
        self.created_at: dict[str, float] = {}  # lead id -> epoch seconds, for the CRMs' search endpoints
        self.dropped: set[str] = set()
        self._lock = threading.Lock()

    def answer_late_if_asked(self, email: object) -> None:
        """`+slowanswer` in the email's local part: the lead is kept, but the answer comes after the plug gave
        up (the plug's ledger then holds it in doubt, and the CRM's search finds it)."""
        if "+slowanswer" in str(email or "").split("@", maxsplit=1)[0]:
            time.sleep(self.SLOW_ANSWER_S)

    def drops_first_request(self, email: object) -> bool:
        """`+noanswer`: the first request for this email waits as long and creates nothing (the plug's ledger
        holds it in doubt, the search finds nothing); the next one is served."""
        address = str(email or "").lower()
        if "+noanswer" not in address.split("@", maxsplit=1)[0]:
            return False
        with self._lock:
            if address in self.dropped:
                return False
            self.dropped.add(address)
        time.sleep(self.SLOW_ANSWER_S)
        return True

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def sandbox_route(self, handler: Handler, request: Received, path: str) -> bool:
        """Answer a test helper's request; False when `path` is not one."""
        if request.method == "GET" and path == "/_sandbox/leads":
            with self._lock:
                handler.send_json(200, {"leads": self.leads})
            return True
        if request.method == "POST" and path == "/_sandbox/expire-tokens":
            self.expire_tokens()
            handler.send_json(200, {"expired": True})
            return True
        return False
