"""HTTP to the customer under the lead's deadline: the whole exchange, however slowly the bytes come.

`requests` only bounds each socket operation, so a customer dripping one byte every half second would
hold a lead forever. Here every socket read and write of a customer connection gets as timeout the time
left before the lead's deadline (kept per thread: chalice local serves leads on several threads), so the
exchange ends at the deadline whatever the customer does. No redirect is followed (a 307 would post the
lead again), no answer is read beyond `max_body_bytes`, and only a failure to connect is retried.

`on_sent` is called when the request is about to leave: the connection is open and its first byte is
being written (SPEC section 1, `sent`). A failure before that certainly left the customer without the lead.
"""

from __future__ import annotations

import io
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import NameResolutionError, NewConnectionError

from dispatcher.answer import Answer
from dispatcher.deadline import Deadline
from dispatcher.errors import CustomerFailure
from dispatcher.reasons import Reason

MAX_ANSWER_BYTES = 1_000_000
CONNECT_RETRY_PAUSE_S = 0.1
_current = threading.local()


def _time_left() -> float:
    deadline: Deadline | None = getattr(_current, "deadline", None)
    if deadline is None:
        return 30.0  # a connection used outside a lead (there is none today): bounded all the same
    left = deadline.remaining()
    if left <= 0:
        raise TimeoutError("the lead's deadline has passed")
    return left


class _DeadlineReader(io.RawIOBase):
    """Socket reads that never wait past the lead's deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        self._sock.settimeout(_time_left())
        return self._sock.recv_into(buffer)


class _DeadlineSocket:
    """A connected (possibly TLS) socket whose reads and writes are bounded by the lead's deadline."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)

    def makefile(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "r" in mode:
            return io.BufferedReader(_DeadlineReader(self._sock))
        return self._sock.makefile(mode, *args, **kwargs)

    def sendall(self, data: Any, *args: Any) -> None:
        self._sock.settimeout(_time_left())
        self._sock.sendall(data, *args)


class _DeadlineConnectionMixin:
    sock: Any

    def connect(self) -> None:
        super().connect()  # type: ignore[misc]
        self.sock = _DeadlineSocket(self.sock)

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.connect()  # a failure to connect comes before the request leaves
        on_sent = getattr(_current, "on_sent", None)
        if on_sent is not None:
            _current.sent = True
            on_sent()
        super().request(*args, **kwargs)  # type: ignore[misc]


class _DeadlineHTTPConnection(_DeadlineConnectionMixin, HTTPConnection):
    pass


class _DeadlineHTTPSConnection(_DeadlineConnectionMixin, HTTPSConnection):
    pass


class _DeadlineHTTPPool(HTTPConnectionPool):
    ConnectionCls = _DeadlineHTTPConnection


class _DeadlineHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _DeadlineHTTPSConnection


class _DeadlineAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _DeadlineHTTPPool, "https": _DeadlineHTTPSPool}


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


def _failure(exc: Exception, deadline: Deadline) -> tuple[CustomerFailure, bool]:
    """Our reason for a failed call, and whether retrying is safe (the connection was never made)."""
    chain = _cause_chain(exc)
    if any(isinstance(item, NameResolutionError) for item in chain):
        return CustomerFailure(Reason.CUSTOMER_API_NOT_FOUND, "The customer's host name does not resolve"), False
    if deadline.expired or any(isinstance(item, (TimeoutError, socket.timeout)) for item in chain) \
            or isinstance(exc, requests.Timeout):
        return CustomerFailure(Reason.CUSTOMER_TIMEOUT, "The customer did not answer before the deadline"), False
    if any(isinstance(item, NewConnectionError) for item in chain):
        return CustomerFailure(Reason.CUSTOMER_UNREACHABLE, "The customer refused the connection"), True
    if isinstance(exc, requests.exceptions.SSLError):
        return CustomerFailure(Reason.CUSTOMER_UNREACHABLE, "The TLS handshake with the customer failed"), False
    return CustomerFailure(Reason.CUSTOMER_UNREACHABLE,
                           "The connection to the customer broke before a full answer"), False


class Transport:
    """One keep-alive session to the customer, shared by the leads of a warm Lambda."""

    def __init__(self, max_answer_bytes: int = MAX_ANSWER_BYTES) -> None:
        self.max_answer_bytes = max_answer_bytes
        self.session = requests.Session()
        self.session.trust_env = False  # no proxy or .netrc lookups per request: Lambda has neither
        adapter = _DeadlineAdapter(pool_maxsize=16, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def post(self, url: str, deadline: Deadline, *, headers: dict[str, str] | None = None,
             json_body: Any = None, form: dict[str, str] | None = None,
             params: dict[str, str] | None = None, on_sent: Callable[[], None] | None = None) -> Answer:
        """POST once (twice only if the first connection could not be made); raise CustomerFailure."""
        for attempt in (1, 2):
            _current.sent = False
            try:
                return self._post_once(url, deadline, headers, json_body, form, params, on_sent)
            except CustomerFailure:
                raise
            except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
                failure, retryable = _failure(exc, deadline)
                if attempt == 2 or not retryable or _current.sent or deadline.remaining() < 2 * CONNECT_RETRY_PAUSE_S:
                    raise failure from exc
                time.sleep(CONNECT_RETRY_PAUSE_S)
        raise AssertionError("unreachable")  # pragma: no cover

    def _post_once(self, url: str, deadline: Deadline, headers: dict[str, str] | None, json_body: Any,
                   form: dict[str, str] | None, params: dict[str, str] | None,
                   on_sent: Callable[[], None] | None) -> Answer:
        left = deadline.remaining()
        if left <= 0:
            raise CustomerFailure(Reason.CUSTOMER_TIMEOUT, "No time was left to call the customer")
        _current.deadline, _current.on_sent = deadline, on_sent
        try:
            response = self.session.post(url, headers=headers, json=json_body, data=form, params=params,
                                         timeout=(left, left), allow_redirects=False, stream=True)
            try:
                body = response.raw.read(self.max_answer_bytes + 1, decode_content=True) or b""
            except BaseException:
                response.close()
                raise
        finally:
            _current.deadline = _current.on_sent = None
        truncated = len(body) > self.max_answer_bytes
        if truncated:
            response.close()  # drop the connection rather than drain megabytes nobody reads
        else:
            response.raw.release_conn()  # fully read: the connection goes back to the keep-alive pool
        return Answer(status=response.status_code, body=body[: self.max_answer_bytes],
                      content_type=response.headers.get("Content-Type", ""), truncated=truncated)
