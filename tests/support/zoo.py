"""A customer zoo: tiny real HTTP servers on 127.0.0.1, one way of speaking HTTP each.

Customers run every kind of server, and the plug must read each one's answer right and keep one lead's
answer, cookie or half-read bytes away from the next lead. `http.server` would normalise the framings
these tests are about, so each answer here is written byte for byte on a raw `socketserver` connection.

A server has one behaviour (the framing) and one default answer; the local part of the lead's email can
name others for one request: `refuse+...@` answers the refusal, `fail+...@` the failure, and a behaviour's
name (`keepalive+...@`, `hang+...@`) overrides the framing. Each lead request is recorded (its body, the
`Cookie` header it carried, the connection it came on, the id it got) so tests can count deliveries.
"""

from __future__ import annotations

import gzip
import json
import re
import socket
import socketserver
import struct
import threading
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from tests.support.leads import unique_suffix

BEHAVIOURS = ("keepalive", "close", "http10", "chunked", "gzip", "deflate", "continue100", "early_hints",
              "cookies", "bom", "huge_number", "drip", "hang", "reset")
ANSWERS = ("accept", "refuse", "fail")
DRIP_INTERVAL_S = 0.5
_EMAIL = re.compile(rb'"([^"@\s]{1,200})@[^"\s]{1,200}"')
_MAX_HEAD_BYTES = 64 * 1024
_IDLE_S = 30.0  # a connection the plug keeps but never uses again is dropped after this (safety only)


def email_for(*tags: str) -> str:
    """A unique, schema-valid email whose local part names the zoo's tags (`refuse`, `fail`, `hang`...)."""
    unknown = [tag for tag in tags if tag not in BEHAVIOURS + ANSWERS]
    if unknown:
        raise ValueError(f"not zoo tags: {unknown}")
    return "+".join((*tags, f"zoo{unique_suffix()}")) + "@exemple.fr"


@dataclass(frozen=True)
class Received:
    """One lead request as the customer saw it: what tests count and compare, nothing more."""

    number: int  # its rank among the requests this server received (1, 2, ...); the cookie lead_<number>
    body: bytes
    cookie: str | None  # the Cookie header it carried (a cookie of another lead must never be here)
    connection: int  # the number of the TCP connection it came on (1, 2, ...)
    answered_id: str | None  # the id the answer gave, when the answer was an acceptance


@dataclass(frozen=True)
class _Answer:
    status: int
    reason: str
    content_type: str
    body: bytes
    email: str  # the lead's, for the cookie that holds it
    number: int  # the request's number on this server, for a cookie name new with each lead


def _lead_email(body: bytes) -> str | None:
    """The lead's email in the request body (the plug's JSON), read without trusting the body's shape."""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("email"), str):
        return data["email"]
    found = _EMAIL.search(body)
    return found.group(0).strip(b'"').decode("utf-8", "replace") if found else None


def _tags(email: str | None) -> set[str]:
    return set(email.split("@", 1)[0].split("+")) if email else set()


class _Connection:
    """Buffered reads of one client connection: HTTP/1.1 requests, one after another."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def read_until(self, marker: bytes) -> bytes | None:
        while marker not in self.buffer:
            if len(self.buffer) > _MAX_HEAD_BYTES or not self._fill():
                return None
        head, self.buffer = self.buffer.split(marker, 1)
        return head

    def read_exactly(self, size: int) -> bytes | None:
        while len(self.buffer) < size:
            if not self._fill():
                return None
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data

    def read_request(self) -> tuple[dict[str, str], bytes] | None:
        """(headers lower-cased, body) of the next request, or None when the client closed."""
        head = self.read_until(b"\r\n\r\n")
        if head is None:
            return None
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").split("\r\n")[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size_line = self.read_until(b"\r\n")
                if size_line is None:
                    return None
                size = int(size_line.split(b";")[0], 16)
                chunk = self.read_exactly(size + 2)
                if chunk is None:
                    return None
                if size == 0:
                    break
                body += chunk[:-2]
            return headers, body
        sized = self.read_exactly(int(headers.get("content-length") or 0))
        return None if sized is None else (headers, sized)


class _Handler(socketserver.BaseRequestHandler):
    """Serves one connection: reads each request, records it, answers it in the server's framing."""

    server: _ZooServer
    request: socket.socket

    def handle(self) -> None:
        zoo = self.server.zoo
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # byte-exact writes go out now
        self.request.settimeout(_IDLE_S)
        connection_number = zoo._opened(self.request)
        reader = _Connection(self.request)
        try:
            while not zoo.stopping.is_set():
                request = reader.read_request()
                if request is None:
                    return
                headers, body = request
                if not self._answer(headers, body, connection_number):
                    return
        except OSError:
            return  # the plug hung up (after its deadline, say): nothing more to answer
        finally:
            zoo._closed(self.request)

    def _answer(self, headers: dict[str, str], body: bytes, connection_number: int) -> bool:
        """Answer one request; False when the connection must end."""
        zoo = self.server.zoo
        email = _lead_email(body)
        tags = _tags(email)
        behaviour = next((tag for tag in BEHAVIOURS if tag in tags), zoo.behaviour)
        kind = next((tag for tag in ANSWERS if tag in tags), zoo.answer)
        number, answered_id = zoo._record(body, headers.get("cookie"), connection_number, kind)
        answer = _make_answer(kind, behaviour, answered_id, email or "unknown", number)
        return _WRITERS[behaviour](self, answer)

    # The writers: each sends `answer` in its framing and says whether the connection lives on.

    def _send(self, data: bytes) -> None:
        self.request.sendall(data)

    def _head(self, answer: _Answer, *extra: str, version: str = "HTTP/1.1") -> bytes:
        lines = [f"{version} {answer.status} {answer.reason}", f"Content-Type: {answer.content_type}", *extra]
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _plain(self, answer: _Answer, *extra: str) -> bytes:
        return self._head(answer, f"Content-Length: {len(answer.body)}", *extra) + answer.body

    def keepalive(self, answer: _Answer) -> bool:
        self._send(self._plain(answer))
        return True

    def close(self, answer: _Answer) -> bool:
        self._send(self._plain(answer, "Connection: close"))
        return False

    def http10(self, answer: _Answer) -> bool:
        self._send(self._head(answer, version="HTTP/1.0") + answer.body)  # no length: the close ends the body
        return False

    def chunked(self, answer: _Answer) -> bool:
        pieces = [answer.body[i:i + 7] for i in range(0, len(answer.body), 7)]
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
        self._send(self._head(answer, "Transfer-Encoding: chunked") + chunks)
        return True

    def _compressed(self, answer: _Answer, coding: str, compress: Callable[[bytes], bytes]) -> bool:
        packed = compress(answer.body)
        self._send(self._head(answer, f"Content-Encoding: {coding}", f"Content-Length: {len(packed)}") + packed)
        return True

    def gzip(self, answer: _Answer) -> bool:
        return self._compressed(answer, "gzip", gzip.compress)

    def deflate(self, answer: _Answer) -> bool:
        return self._compressed(answer, "deflate", zlib.compress)  # HTTP's "deflate" is the zlib format

    def continue100(self, answer: _Answer) -> bool:
        self._send(b"HTTP/1.1 100 Continue\r\n\r\n")
        self._send(self._plain(answer))
        return True

    def early_hints(self, answer: _Answer) -> bool:
        self._send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n")
        self._send(self._plain(answer))
        return True

    def cookies(self, answer: _Answer) -> bool:
        self._send(self._plain(answer, f"Set-Cookie: session={answer.email}; Path=/",
                               f"Set-Cookie: lead_{answer.number}=seen; Path=/; Max-Age=3600"))
        return True

    def bom(self, answer: _Answer) -> bool:
        return self.keepalive(answer)  # the BOM is in the body already (see _make_answer)

    def huge_number(self, answer: _Answer) -> bool:
        return self.keepalive(answer)  # 1e400 is in the body already (see _make_answer)

    def drip(self, answer: _Answer) -> bool:
        for byte in self._plain(answer):  # each read succeeds; the whole never ends in time
            self._send(bytes([byte]))
            if self.server.zoo.stopping.wait(DRIP_INTERVAL_S):
                return False
        return True

    def hang(self, answer: _Answer) -> bool:
        self.server.zoo.stopping.wait()  # read the lead, never answer
        return False

    def reset(self, answer: _Answer) -> bool:
        self.request.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.request.close()  # linger 0: the close sends RST, not FIN
        return False


_WRITERS: dict[str, Callable[[_Handler, _Answer], bool]] = {
    name: getattr(_Handler, name) for name in BEHAVIOURS}


class _ZooServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    block_on_close = True  # stop() joins the handler threads, after waking every one of them
    allow_reuse_address = True

    def __init__(self, zoo: Zoo) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.zoo = zoo


class Zoo:
    """One customer server: `with Zoo("chunked") as zoo:` serves on `zoo.url` until the block ends."""

    def __init__(self, behaviour: str, answer: str = "accept") -> None:
        if behaviour not in BEHAVIOURS or answer not in ANSWERS:
            raise ValueError(f"unknown zoo behaviour {behaviour!r} or answer {answer!r}")
        self.behaviour, self.answer = behaviour, answer
        self.requests: list[Received] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._connections = 0
        self._next_id = 0
        self._server: _ZooServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the zoo server is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}/leads"

    def start(self) -> Self:
        self._server = _ZooServer(self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"zoo-{self.behaviour}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, wake hanging and dripping answers, close every connection, join the threads."""
        if self._server is None:
            return
        self.stopping.set()
        self._server.shutdown()
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)  # a handler blocked in recv wakes up with end of stream
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def received(self, email: str) -> list[Received]:
        """The requests whose body holds this email: a lead sent once is here once."""
        needle = email.encode("utf-8")
        with self._lock:
            return [item for item in self.requests if needle in item.body]

    def count(self, email: str) -> int:
        return len(self.received(email))

    # Called by the handler threads.

    def _opened(self, sock: socket.socket) -> int:
        with self._lock:
            self._sockets.add(sock)
            self._connections += 1
            return self._connections

    def _closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)

    def _record(self, body: bytes, cookie: str | None, connection: int, kind: str) -> tuple[int, str | None]:
        """Keep the request; its number on this server, and the id an acceptance gives it."""
        with self._lock:
            answered_id = None
            if kind == "accept":
                self._next_id += 1
                answered_id = str(self._next_id)
            self.requests.append(Received(len(self.requests) + 1, body, cookie, connection, answered_id))
            return len(self.requests), answered_id


def _make_answer(kind: str, behaviour: str, answered_id: str | None, email: str, number: int) -> _Answer:
    """The answer of `kind`, with the server's body quirks (a byte order mark, a number beyond a double)."""
    if kind == "fail":
        return _Answer(503, "Service Unavailable", "text/plain; charset=utf-8",
                       b"Service temporarily unavailable, try again later\n", email, number)
    if kind == "accept":
        payload, status, reason = f'{{"id": "{answered_id}", "status": "created"', 201, "Created"
    else:
        payload, status, reason = '{"error": "OUT_OF_AREA"', 422, "Unprocessable Entity"
    payload += ', "score": 1e400}' if behaviour == "huge_number" else "}"
    body = payload.encode("utf-8")
    if behaviour == "bom":
        body = b"\xef\xbb\xbf" + body
    return _Answer(status, reason, "application/json; charset=utf-8", body, email, number)
