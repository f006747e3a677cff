"""HTTP to the customer under the lead's deadline, on requests' and urllib3's own framing.

requests bounds each socket operation; a watchdog bounds the whole exchange: at the lead's deadline it shuts
the connection's socket down, so a customer that drips bytes or never ends its answer is cut there, however
the answer is framed. No redirect is followed (a 307 would post the lead again), no answer is read beyond
`max_answer_bytes`, and only a failure to connect is retried. The plug is stateless toward the customer: no
cookie is kept, and a connection goes back to the pool only when its answer ended cleanly.

`on_sent` is called when the request is about to leave: the connection is open and its first byte is
being written (the `sent` state). A failure before that certainly left the customer without the lead.

Idle keep-alive connections: a server closes a connection idle longer than its keep-alive timeout, and a lead
written on it at that moment is lost in a race (a reset: in doubt). So a pooled connection is reused only
before the server's advertised `Keep-Alive: timeout=N` less a margin, and never after KEEP_IDLE_S (Apache's
and Node's 5 s default, less a margin) when the server advertises none; just before a request is written on a
reused connection, a connection the server already closed (end of stream readable) is replaced by a fresh one:
provably safe, nothing of the request was written. A failure after the first byte left stays in doubt.

What comes back is an `Answer` (first below): the customer's status, headers, and body read no further than the
size cap. An integration sees all three: an id may come only in a header (Dataverse's `OData-EntityId` on a 204),
`Retry-After` says when to come back, and a text body is decoded in the charset its `Content-Type` declares
(an old form endpoint answers Latin-1), UTF-8 when it declares none.
"""

from __future__ import annotations

import codecs
import heapq
import http.client
import itertools
import json
import math
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from http.cookiejar import DefaultCookiePolicy
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError
from urllib3.util.retry import Retry
from urllib3.util.wait import wait_for_read

from dispatcher.deadline import Deadline
from dispatcher.errors import CustomerFailure
from dispatcher.reasons import Reason

# The answer

MAX_ANSWER_DEPTH = 64  # deeper JSON is shown as text: walking it (secrets, envelope) must not recurse forever


@dataclass(frozen=True)
class Answer:
    """What the customer answered, read no further than the size cap."""

    status: int
    body: bytes
    content_type: str = ""
    truncated: bool = False
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict, hash=False)

    def __post_init__(self) -> None:
        headers = CaseInsensitiveDict(self.headers)
        if self.content_type and "Content-Type" not in headers:
            headers["Content-Type"] = self.content_type
        object.__setattr__(self, "headers", headers)  # looked up case-insensitively, as HTTP says
        object.__setattr__(self, "content_type", headers.get("Content-Type", ""))

    def header(self, name: str) -> str | None:
        """A header's value, whatever case the customer wrote its name in."""
        return self.headers.get(name)

    @cached_property
    def charset(self) -> str:
        """The charset the answer declares (`text/html; charset=ISO-8859-1`), UTF-8 when none or unknown."""
        message = Message()
        message["Content-Type"] = self.content_type or "application/octet-stream"
        declared = message.get_content_charset()
        try:
            return codecs.lookup(declared).name if declared else "utf-8"
        except LookupError:
            return "utf-8"

    @cached_property
    def retry_after_s(self) -> int | None:
        """Seconds until the customer asks us to come back (`Retry-After`: seconds or an HTTP date), if it says."""
        value = self.header("Retry-After")
        if not value:
            return None
        try:
            return max(0, math.ceil(Retry().parse_retry_after(value)))
        except Exception:  # noqa: BLE001 - urllib3 raises its own InvalidHeader on a value it cannot read
            return None

    @cached_property
    def _parsed(self) -> Any:
        if self.truncated:
            return None
        try:  # utf-8-sig: a byte order mark before the JSON (ASP.NET writes one) is not part of it
            value = json.loads(self.body.decode("utf-8-sig"), parse_constant=_not_json, parse_float=_finite,
                               parse_int=_integer)
        except (ValueError, RecursionError):
            return None
        return value if _depth_within(value, MAX_ANSWER_DEPTH) else None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a customer's HTML error page, say)."""
        return self._parsed

    def text(self, limit: int = 10_000) -> str:
        """The body as text in its declared charset (a UTF-8 byte order mark is not text)."""
        charset = "utf-8-sig" if self.charset == "utf-8" else self.charset
        return self.body[:limit].decode(charset, "replace")


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN would make the envelope itself invalid JSON


def _finite(text: str) -> float | str:
    """A number beyond a double's range (1e400) is kept as its text: Infinity is not JSON (RFC 8259)."""
    value = float(text)
    return value if math.isfinite(value) else text


def _integer(text: str) -> int | str:
    """An integer too long for Python to convert (over 4,300 digits) is kept as its text."""
    try:
        return int(text)
    except ValueError:
        return text


def _depth_within(value: Any, depth: int) -> bool:
    if depth < 0:
        return False
    if isinstance(value, dict):
        return all(_depth_within(item, depth - 1) for item in value.values())
    if isinstance(value, list):
        return all(_depth_within(item, depth - 1) for item in value)
    return True


# The transport

MAX_ANSWER_BYTES = 1_000_000
CONNECT_RETRY_PAUSE_S = 0.1
KEEP_IDLE_S = 4.0  # the longest a pooled connection waits for its next lead when the server advertises nothing
KEEP_ALIVE_MARGIN_S = 1.0  # dropped this long before the server's own Keep-Alive timeout
_KEEP_ALIVE_TIMEOUT = re.compile(r"(?:^|[,;\s])timeout\s*=\s*([0-9]+(?:\.[0-9]+)?)", re.IGNORECASE)
COMPACT_AT = 256  # entries in the watchdog's heap before the ended exchanges are dropped (memory stays flat)


class _Exchange:
    """One POST under the deadline: the sockets it uses, whether the request left, whether it was cut."""

    def __init__(self, deadline: Deadline, on_sent: Callable[[], None] | None) -> None:
        self.at = deadline.customer_at
        self.on_sent = on_sent
        self.sent = False
        self.fired = False
        self.over = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def request_leaves(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            if self.fired:
                _shut(sock)
        self.sent = True
        if self.on_sent is not None:
            self.on_sent()

    def cut(self) -> None:
        """At the deadline (watchdog thread): a read or write blocked on these sockets returns at once."""
        with self._lock:
            if self.over:
                return
            self.fired = True
            for sock in self._sockets:
                _shut(sock)

    def end(self) -> None:
        """The exchange is over: the watchdog keeps its entry until its deadline, but nothing of the lead."""
        with self._lock:
            self.over = True
            self.on_sent = None
            self._sockets.clear()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):  # already closed: nothing to cut
        pass


class _Watchdog:
    """One thread for the whole process: it cuts each exchange still running at its deadline.

    A thread per exchange (threading.Timer) would cost a thread start on every lead; here an exchange is one
    entry in a heap, and an exchange that ended is simply dropped when its time comes.
    """

    def __init__(self) -> None:
        self._wakeup = threading.Condition()
        self._due: list[tuple[float, int, _Exchange]] = []
        self._order = itertools.count()
        self._thread: threading.Thread | None = None

    def watch(self, exchange: _Exchange) -> None:
        with self._wakeup:
            if len(self._due) >= COMPACT_AT:  # many leads within one deadline: drop the ended ones now
                self._due = [entry for entry in self._due if not entry[2].over]
                heapq.heapify(self._due)
            heapq.heappush(self._due, (exchange.at, next(self._order), exchange))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="customer-deadline-watchdog", daemon=True)
                self._thread.start()
            elif self._due[0][2] is exchange:  # earlier than what the thread waits for
                self._wakeup.notify()

    def _run(self) -> None:
        with self._wakeup:
            while True:
                now = time.monotonic()
                while self._due and (self._due[0][0] <= now or self._due[0][2].over):
                    self._due[0][2].cut()
                    heapq.heappop(self._due)
                self._wakeup.wait(self._due[0][0] - now if self._due else None)


_WATCHDOG = _Watchdog()
_exchange: ContextVar[_Exchange | None] = ContextVar("exchange", default=None)


@contextmanager
def _watched(deadline: Deadline, on_sent: Callable[[], None] | None) -> Iterator[_Exchange]:
    exchange = _Exchange(deadline, on_sent)
    token = _exchange.set(exchange)
    _WATCHDOG.watch(exchange)
    try:
        yield exchange
    finally:
        exchange.end()
        _exchange.reset(token)


class FinalResponse(http.client.HTTPResponse):
    """http.client skips `100 Continue` only; every other informational answer but `101` (a `103 Early Hints`)
    is skipped too, so that the final answer is the one read (RFC 9110, section 15.2)."""

    def begin(self) -> None:
        super().begin()
        while 100 <= self.status < 200 and self.status != 101:
            self.headers = self.msg = None  # type: ignore[assignment]  # begin() reads a new head only then
            super().begin()


def reuse_window_s(keep_alive: str | None) -> float:
    """How long a connection may wait idle for its next request: the server's `Keep-Alive: timeout=N` less a
    margin (a second, or a tenth of N when longer), else KEEP_IDLE_S."""
    found = _KEEP_ALIVE_TIMEOUT.search(keep_alive or "")
    if found is None:
        return KEEP_IDLE_S
    advertised = float(found[1])
    return max(0.0, min(advertised - max(KEEP_ALIVE_MARGIN_S, advertised / 10), 300.0))


class _ExchangeConnection:
    """A connection that tells the current exchange when its request leaves, and on which socket; reused only
    within its keep-alive window, and only while the server has not closed it."""

    sock: Any
    response_class: type[http.client.HTTPResponse] = FinalResponse
    reuse_until: float | None = None  # set when its last answer ended cleanly (monotonic seconds)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is not None and not self._fit_for_reuse():
            self.close()  # type: ignore[attr-defined]  # nothing of this request was written: a fresh one is safe
        if self.sock is None:
            self.connect()  # type: ignore[attr-defined]  # a failure to connect comes before the request leaves
        self.reuse_until = None
        exchange = _exchange.get()
        if exchange is not None:
            exchange.request_leaves(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]


    def getresponse(self, *args: Any, **kwargs: Any) -> Any:
        """The answer; its head starts the connection's keep-alive window (a little early: on the safe side)."""
        response = super().getresponse(*args, **kwargs)  # type: ignore[misc]
        self.reuse_until = time.monotonic() + reuse_window_s(response.headers.get("Keep-Alive"))
        return response

    def _fit_for_reuse(self) -> bool:
        if self.reuse_until is None or time.monotonic() >= self.reuse_until:
            return False
        try:
            return not wait_for_read(self.sock, timeout=0.0)  # readable while idle: the server closed it
        except (OSError, ValueError):
            return False


class _HTTPConnection(_ExchangeConnection, HTTPConnection):
    pass


class _HTTPSConnection(_ExchangeConnection, HTTPSConnection):
    pass


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


class _Adapter(HTTPAdapter):
    """requests' adapter, with urllib3's pools of the connections above (urllib3's documented extension point)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}


def _cause_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(chain) < 10:
        chain.append(current)
        if isinstance(current, urllib3.exceptions.MaxRetryError) and current.reason is not None:
            current = current.reason
        else:
            current = current.__cause__ or current.__context__
    return chain


def _failure(exc: Exception, exchange: _Exchange) -> tuple[CustomerFailure, bool]:
    """Our reason for a failed call, and whether retrying is safe (the connection was never made)."""
    chain = _cause_chain(exc)
    if exchange.fired or any(isinstance(item, (TimeoutError, socket.timeout)) for item in chain) \
            or isinstance(exc, requests.Timeout):
        return CustomerFailure(Reason.CUSTOMER_TIMEOUT, "The customer did not answer before the deadline"), False
    if any(isinstance(item, NameResolutionError) for item in chain):
        return CustomerFailure(Reason.CUSTOMER_API_NOT_FOUND, "The customer's host name does not resolve"), False
    if any(isinstance(item, NewConnectionError) for item in chain):
        return CustomerFailure(Reason.CUSTOMER_UNREACHABLE, "The customer refused the connection"), True
    if isinstance(exc, requests.exceptions.SSLError) and not exchange.sent:
        return CustomerFailure(Reason.CUSTOMER_UNREACHABLE, "The TLS handshake with the customer failed"), False
    return CustomerFailure(Reason.CUSTOMER_UNREACHABLE,
                           "The connection to the customer broke before a full answer"), False


class _NoCookies(DefaultCookiePolicy):
    """The plug is stateless toward the customer: a cookie of one lead must never travel with another."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


class Transport:
    """One keep-alive session to the customer, shared by the leads of a warm Lambda."""

    def __init__(self, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.max_answer_bytes = max_answer_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc lookups per request: Lambda has neither
        self.session.cookies.set_policy(_NoCookies())
        adapter = _Adapter(pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def post(self, url: str, deadline: Deadline, *, headers: dict[str, str] | None = None,
             json_body: Any = None, form: dict[str, str] | bytes | None = None,
             params: dict[str, str] | None = None, on_sent: Callable[[], None] | None = None,
             method: str = "POST") -> Answer:
        """Send once (twice only if the first connection could not be made); raise CustomerFailure."""
        for attempt in (1, 2):
            if deadline.remaining() <= 0:
                raise CustomerFailure(Reason.CUSTOMER_TIMEOUT, "No time was left to call the customer",
                                      customer_asked=False)
            with _watched(deadline, on_sent) as exchange:
                try:
                    return self._send_once(method, url, deadline, exchange, headers, json_body, form, params)
                except Exception as exc:
                    if not exchange.fired and not isinstance(
                            exc, (requests.RequestException, urllib3.exceptions.HTTPError, OSError)):
                        raise
                    failure, retryable = _failure(exc, exchange)
                    if attempt == 2 or not retryable or exchange.sent \
                            or deadline.remaining() < 2 * CONNECT_RETRY_PAUSE_S:
                        raise failure from exc
            time.sleep(CONNECT_RETRY_PAUSE_S)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_once(self, method: str, url: str, deadline: Deadline, exchange: _Exchange,
                   headers: dict[str, str] | None, json_body: Any, form: dict[str, str] | bytes | None,
                   params: dict[str, str] | None) -> Answer:
        left = deadline.remaining()
        response = self.session.request(method, url, headers=headers, json=json_body, data=form, params=params,
                                        timeout=(left, left), allow_redirects=False, stream=True)
        try:
            body = response.raw.read(self.max_answer_bytes + 1, decode_content=True) or b""
        except BaseException:
            response.close()
            raise
        truncated = len(body) > self.max_answer_bytes
        if exchange.fired:  # the socket was cut at the deadline: what was read may end anywhere
            response.close()
            raise TimeoutError("the lead's deadline has passed")
        if truncated:
            response.close()  # drop the connection rather than drain megabytes nobody reads
        else:
            response.raw.release_conn()  # fully read: the connection goes back to the keep-alive pool
        return Answer(status=response.status_code, body=body[: self.max_answer_bytes],
                      headers=response.headers, truncated=truncated)
