"""A DynamoDB emulator for tests: moto's server mode, a real HTTP DynamoDB API on a free loopback port.

    with dynamodb_emulator() as endpoint:
        env = emulator_environment(endpoint)      # for a subprocess: boto3 finds the emulator by itself
        client = emulator_client(endpoint)        # for the test's own checks

boto3 (1.28 and later) reads AWS_ENDPOINT_URL_DYNAMODB itself, so the code under test keeps its production
path: nothing in it knows about the emulator. Each emulator starts empty; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

REGION = "eu-west-3"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def dynamodb_emulator() -> Iterator[str]:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port, for the duration of the block; its endpoint URL."""
    from moto.server import ThreadedMotoServer  # deferred: moto is a development dependency, heavy to import

    requests_log = logging.getLogger("werkzeug")  # one line per request, on standard error, otherwise
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    _one_request_at_a_time(server)
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        requests_log.setLevel(level)


def _one_request_at_a_time(server: Any) -> None:
    """Make moto's server answer one request at a time, as DynamoDB applies each write atomically.

    DynamoDB checks a write's condition and makes the write as one step; moto 5.2.5 checks, then writes, with no
    lock, on one thread per request: 8 threads putting one new key with `attribute_not_exists(pk)` gave two winners
    for 3 keys of 60 here, and two plugs sharing one table then both claimed a lead under load. Serialising the
    requests gives DynamoDB's guarantee (and keeps moto's own tables from changing under a transaction's copy).
    Werkzeug's handler reads `server.app` for each request; `_server` is the server ThreadedMotoServer made."""
    served = server._server  # moto exposes no other way in
    app, lock = served.app, threading.Lock()

    def serialised(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with lock:
            return list(app(environ, start_response))

    served.app = serialised


def emulator_environment(endpoint: str, base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (default: this process's environment) without any AWS setting of the machine, pointed at `endpoint`.

    The machine's own profile, config file or credentials must never be used by a test, even by mistake.
    """
    clean = {name: value for name, value in (os.environ if base is None else base).items()
             if not name.startswith("AWS_")}
    return {**clean, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true", **extra}


def emulator_client(endpoint: str) -> Any:
    """A boto3 DynamoDB client of the test itself, on the emulator."""
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


def create_ledger_table(client: Any, table: str) -> None:
    """The table as scripts/ledger_table.py and the deploy artifacts make it (key `pk`, TTL on `expires_at`)."""
    from scripts.ledger_table import TABLE_DEFINITION, TTL_ATTRIBUTE

    client.create_table(TableName=table, **TABLE_DEFINITION)
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True,
                                                                        "AttributeName": TTL_ATTRIBUTE})


class DynamoProxy:
    """A real HTTP proxy in front of the emulator, for what moto's server cannot do by itself: it counts the calls
    by action (`X-Amz-Target`), and on demand answers them as a struggling DynamoDB does, as AWS documents it:

    - `throttle(n, action)`: the next n calls (of that action, or any) get HTTP 400
      `ProvisionedThroughputExceededException` (n=-1: every call until `calm()`);
    - `hang(action)`: calls wait, unanswered, until `calm()` (a DynamoDB that does not answer);
    - `lose_answer(action)`: the next call reaches the emulator, its answer is held until the client gave up;
    - `fail_conditions(item)`: every conditional PutItem answers ConditionalCheckFailedException with `item`
      (another writer always winning).

        with dynamodb_emulator() as endpoint, DynamoProxy(endpoint) as proxy:
            env = emulator_environment(proxy.endpoint)
    """

    THROTTLED = {"__type": "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
                 "message": "The level of configured provisioned throughput for the table was exceeded. Consider "
                            "increasing your provisioning level with the UpdateTable API."}

    def __init__(self, upstream: str) -> None:
        import threading
        from collections import Counter
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        import requests

        proxy = self
        self.upstream = upstream
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.calm_event = threading.Event()
        self._throttle: tuple[int, str | None] = (0, None)
        self._hang: str | None = None
        self._lose: str | None = None
        self._conditions_item: dict[str, Any] | None = None
        self.hanging = 0  # calls waiting unanswered right now
        session = requests.Session()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # head and body are two writes: Nagle and a delayed ACK would add 40 ms

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
                pass

            def do_GET(self) -> None:
                """GET /__counts: the calls so far by action, for a process that does not hold the proxy."""
                with proxy.lock:
                    self._send(200, json.dumps(proxy.calls).encode())

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                action = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
                with proxy.lock:
                    proxy.calls[action] += 1
                    count, throttled_action = proxy._throttle
                    throttle = count != 0 and throttled_action in (None, action)
                    if throttle and count > 0:
                        proxy._throttle = (count - 1, throttled_action)
                    hang = proxy._hang in ("*", action)
                    lose = proxy._lose == action
                    if lose:
                        proxy._lose = None
                    conditions = proxy._conditions_item if action == "PutItem" else None
                if hang:
                    with proxy.lock:
                        proxy.hanging += 1
                    proxy.calm_event.wait(60)
                    with proxy.lock:
                        proxy.hanging -= 1
                if throttle:
                    return self._send(400, json.dumps(DynamoProxy.THROTTLED).encode())
                if conditions is not None and b"ConditionExpression" in body:
                    failed = {"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
                              "message": "The conditional request failed", "Item": conditions}
                    return self._send(400, json.dumps(failed).encode())
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                answer = session.post(proxy.upstream + self.path, data=body, headers=headers, timeout=30)
                if lose:
                    proxy.calm_event.wait(5)  # the write landed; its answer comes after the client gave up
                    self.close_connection = True
                self._send(answer.status_code, answer.content)

            def _send(self, status: int, body: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/x-amz-json-1.0")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except OSError:  # the client gave up first
                    self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.endpoint = f"http://127.0.0.1:{self.server.server_address[1]}"

    def throttle(self, n: int = -1, action: str | None = None) -> None:
        self.calm_event.clear()
        with self.lock:
            self._throttle = (n, action)

    def hang(self, action: str = "*") -> None:
        self.calm_event.clear()
        with self.lock:
            self._hang = action

    def lose_answer(self, action: str) -> None:
        self.calm_event.clear()
        with self.lock:
            self._lose = action

    def fail_conditions(self, item: dict[str, Any]) -> None:
        with self.lock:
            self._conditions_item = item

    def calm(self) -> None:
        with self.lock:
            self._throttle, self._hang, self._lose, self._conditions_item = (0, None), None, None, None
        self.calm_event.set()

    def reset_counts(self) -> None:
        with self.lock:
            self.calls.clear()

    def __enter__(self) -> DynamoProxy:
        import threading

        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self.calm()
        self.server.shutdown()
        self.server.server_close()
