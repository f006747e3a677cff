"""Idle keep-alive connections (a connection is reused only when its last answer ended cleanly): a server
closes a connection idle beyond its keep-alive timeout; the plug must never write a lead on such a connection.

The customer is a real HTTP/1.1 server on 127.0.0.1 that closes a connection idle longer than its timeout (the
standard library's handler `timeout`, as nginx's `keepalive_timeout` or Apache's `KeepAliveTimeout` do) and,
when told, advertises it in `Keep-Alive: timeout=N`. It counts the connections it accepted and the requests.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest

from dispatcher.deadline import Deadline
from dispatcher.transport import KEEP_IDLE_S, Transport, reuse_window_s
from sandbox.server import CustomerServer


class _KeepAliveHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _ShortKeepAlive

    def setup(self) -> None:
        self.timeout = self.server.idle_timeout_s  # idle beyond it: the server closes the connection
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.requests += 1
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        if self.server.advertise:
            self.send_header("Keep-Alive", f"timeout={self.server.idle_timeout_s:g}, max=100")
        self.end_headers()
        self.wfile.write(body)


class _ShortKeepAlive(CustomerServer):
    handler_class = _KeepAliveHandler

    def __init__(self, idle_timeout_s: float, advertise: bool) -> None:
        super().__init__(0)
        self.idle_timeout_s, self.advertise = idle_timeout_s, advertise
        self.connections = self.requests = 0
        self.lock = threading.Lock()


def _deadline() -> Deadline:
    now = time.monotonic()
    return Deadline(customer_at=now + 5, answer_at=now + 6)


def test_a_connection_is_not_reused_past_the_servers_advertised_keep_alive_less_a_margin():
    with _ShortKeepAlive(idle_timeout_s=2.0, advertise=True) as server:
        transport = Transport()
        assert transport.post(server.base_url + "/leads", _deadline(), json_body={"n": 1}).status == 200
        assert transport.post(server.base_url + "/leads", _deadline(), json_body={"n": 2}).status == 200
        assert server.connections == 1  # reused at once: keep-alive works
        time.sleep(reuse_window_s("timeout=2") + 0.2)  # within the server's 2 s, beyond our window
        assert transport.post(server.base_url + "/leads", _deadline(), json_body={"n": 3}).status == 200
    assert (server.connections, server.requests) == (2, 3)  # a fresh connection, each lead written once


def test_a_connection_the_server_closed_while_idle_is_replaced_before_the_lead_is_written():
    with _ShortKeepAlive(idle_timeout_s=0.3, advertise=False) as server:
        transport = Transport()
        for number in range(3):
            answer = transport.post(server.base_url + "/leads", _deadline(), json_body={"n": number})
            assert answer.status == 200  # never customer_unreachable
            time.sleep(0.6)  # the server has closed the idle connection by now
    assert (server.connections, server.requests) == (3, 3)


@pytest.mark.parametrize(("header", "window"), [
    (None, KEEP_IDLE_S), ("timeout=5", 4.0), ("timeout=5, max=100", 4.0), ("max=10, timeout=75", 67.5),
    ("timeout=1", 0.0), ("timeout=oops", KEEP_IDLE_S),
])
def test_the_reuse_window_is_the_servers_keep_alive_less_a_margin(header, window):
    assert reuse_window_s(header) == pytest.approx(window)
