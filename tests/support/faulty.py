"""A Salesforce that misbehaves on purpose, over real TCP on 127.0.0.1: it hangs, drips, resets, lies.

The token endpoint behaves (unless `token_fault` is set); the Lead endpoint answers with `fault`. Every
Lead POST that reached it is counted, so tests can prove a lead was never sent twice.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler
from typing import Any

from sandbox.server import CustomerServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: FaultyCustomer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        pass

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/services/oauth2/token"):
            self.server.token_requests += 1
            return self._answer(self.server.token_fault or "token")
        with self.server.lock:
            self.server.lead_posts.append(body)
        return self._answer(self.server.fault)

    def _send(self, status: int, body: bytes, content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _answer(self, fault: str) -> None:
        server = self.server
        if fault == "token":
            token = {"access_token": f"tok-{server.token_requests}", "instance_url": server.base_url,
                     "token_type": "Bearer"}
            return self._send(200, json.dumps(token).encode())
        if fault == "ok":
            return self._send(201, b'{"id": "00Qfaulty0000001", "success": true, "errors": []}')
        if fault in ("expire_once", "always_expired"):
            if fault == "expire_once":
                server.fault = "ok"
            return self._send(401, b'[{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]')
        if fault == "hang":
            server.release.wait(60)
            return None
        if fault in ("drip", "slow_headers"):
            payload = b'{"id": "00Qdrip", "success": true, "errors": []}'
            head = (b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\n\r\n" % len(payload))
            data = head + payload if fault == "drip" else head
            for byte in data:  # one byte every half second: each read succeeds, the whole never ends in time
                if server.release.wait(0.5):
                    return None
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return None
            return None
        if fault == "reset":
            self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
                             b"Content-Length: 500\r\n\r\n{\"id\"")
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return None
        if fault == "html503":
            return self._send(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>", "text/html")
        if fault == "not_json":
            return self._send(201, b"Lead created, thanks!", "text/plain")
        if fault == "huge":
            size = 10 * 1024 * 1024
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b" " * 65536
            try:
                for _ in range(size // len(chunk)):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the plug stopped reading, as it should
            return None
        if fault == "redirect":
            return self._send(307, b"", "text/plain", Location=server.base_url + self.path)
        raise ValueError(fault)


class FaultyCustomer(CustomerServer):
    block_on_close = False
    handler_class = _Handler

    def __init__(self, fault: str = "ok", token_fault: str | None = None) -> None:
        super().__init__()
        self.fault, self.token_fault = fault, token_fault
        self.lead_posts: list[bytes] = []
        self.token_requests = 0
        self.lock = threading.Lock()
        self.release = threading.Event()

    def stop(self) -> None:
        self.release.set()  # a hanging or dripping answer ends now
        super().stop()
