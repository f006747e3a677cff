"""A small threaded HTTP server base (JSON helpers, a record of what arrived, start/stop in a thread), and the
base of every sandbox customer: the leads it holds, its duplicate rule and its error triggers, written once."""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qs

# A sandbox module's `MAKE_RUN`, read by sandbox/__main__.py: name -> (class name, port, keyword arguments).
MakeRun = dict[str, tuple[str, int, dict[str, Any]]]


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

    def start(self) -> Self:
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


class LeadSandbox(CustomerServer):
    """A customer that takes leads, with what every such sandbox shares, written once here:

    - the leads it holds, and its duplicate rule: one lead per email, compared trimmed and lower-cased
      (`take`); `GET /_sandbox/leads` lists them;
    - the error triggers a test or a fixture writes in the email's local part, each a `+tag` of its own
      (`jean+error500@x.fr`; `--unique` adds a `+nonce` after it): `error500` (the customer fails),
      `error503` (a maintenance page), `limit` (a rate or request limit). Each sandbox answers them in its
      customer's documented shape (`trigger`);
    - the email check CRMs make: an address that is not shaped like one, or a `.invalid` domain (RFC 2606),
      is refused (`email_is_valid`);
    - two slow answers, for the plug's ledger (a lead in doubt): `+slowanswer` keeps the lead but answers after
      the plug's deadline (the CRM's search then finds it), `+noanswer` answers the first request for that
      email as late and keeps nothing (the search finds nothing; the next request is served).
    """

    TRIGGERS = frozenset({"error500", "error503", "limit"})
    SLOW_ANSWER_S = 3.0
    _EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")

    def __init__(self, port: int = 0, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.leads: dict[str, dict[str, Any]] = {}
        self.created_at: dict[str, float] = {}  # lead id -> epoch seconds, for the CRMs' search endpoints
        self._ids_by_email: dict[str, str] = {}
        self._dropped: set[str] = set()
        self._lock = threading.Lock()

    @staticmethod
    def _tags(email: object) -> list[str]:
        return str(email or "").split("@", maxsplit=1)[0].split("+")[1:]

    def answer_late_if_asked(self, email: object) -> None:
        """`+slowanswer`: the lead is kept, the answer comes after the plug's deadline."""
        if "slowanswer" in self._tags(email):
            time.sleep(self.SLOW_ANSWER_S)

    def drops_first_request(self, email: object) -> bool:
        """`+noanswer`: the first request for this email waits as long and keeps nothing."""
        address = str(email or "").strip().lower()
        if "noanswer" not in self._tags(email):
            return False
        with self._lock:
            if address in self._dropped:
                return False
            self._dropped.add(address)
        time.sleep(self.SLOW_ANSWER_S)
        return True

    @classmethod
    def trigger(cls, email: object) -> str | None:
        """The error trigger written in the email's local part, if any."""
        local_part = str(email or "").split("@", maxsplit=1)[0]
        return next((tag for tag in local_part.split("+")[1:] if tag in cls.TRIGGERS), None)

    @classmethod
    def email_is_valid(cls, email: object) -> bool:
        return isinstance(email, str) and bool(cls._EMAIL.match(email)) and not email.lower().endswith(".invalid")

    def existing(self, email: object) -> str | None:
        """The id of the lead that already has this email, if one does."""
        with self._lock:
            return self._ids_by_email.get(str(email or "").strip().lower())

    def take(self, email: object, record: dict[str, Any], new_id: Callable[[], str]) -> tuple[str, bool]:
        """(id, True) for a new lead, kept; (the existing lead's id, False) when one already has this email."""
        key = str(email or "").strip().lower()
        with self._lock:
            if key and key in self._ids_by_email:
                return self._ids_by_email[key], False
            lead_id = new_id()
            self.leads[lead_id] = record
            self.created_at[lead_id] = time.time()
            if key:
                self._ids_by_email[key] = lead_id
            return lead_id, True

    def sandbox_route(self, handler: Handler, request: Received, path: str) -> bool:
        """Answer a test helper's request; False when `path` is not one."""
        if request.method == "GET" and path == "/_sandbox/leads":
            with self._lock:
                handler.send_json(200, {"leads": self.leads})
            return True
        return False


class CrmSandbox(LeadSandbox):
    """A CRM with tokens: those it issued, and the test helper `POST /_sandbox/expire-tokens` (the next call then
    meets an expired session)."""

    def __init__(self, port: int = 0, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.tokens: set[str] = set()

    def expire_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def sandbox_route(self, handler: Handler, request: Received, path: str) -> bool:
        if request.method == "POST" and path == "/_sandbox/expire-tokens":
            self.expire_tokens()
            handler.send_json(200, {"expired": True})
            return True
        return super().sandbox_route(handler, request, path)
