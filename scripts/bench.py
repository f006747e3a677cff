#!/usr/bin/env python3
"""`make bench`: what the plug adds to each lead, against the customer's own round trip.

N leads go through the Lambda handler in process (`app.app(event, context)`, as the Lambda runtime calls
it, without an HTTP server in front) to a fast Salesforce-like customer on 127.0.0.1 (keep-alive, its own
process so that it does not share our GIL); the same N translated requests go with a bare
`requests.Session` to the same customer, in the same run, interleaved in rounds so that both see the same
machine. Printed: leads/s both ways, their ratio and the microseconds the plug adds per lead; then the
peak memory after 1,000 and after 10,000 leads (it must not grow).

The transition log stays ON (as in production), written to /dev/null instead of the terminal;
`--log off` measures without it. `--profile` adds a cProfile account of the plug's own time by component.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import itertools
import json
import os
import pstats
import resource
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "00Dbench!AQ4AQFakeTokenForTheBenchmarkOnly"
ROUNDS = 10
MEMORY_MARKS = (1_000, 10_000)


# --- the customer: a minimal HTTP/1.1 keep-alive server in a process of its own -------------------------

class _Customer(asyncio.Protocol):
    """Salesforce as the plug sees it: a token, then 201 {"id", "success", "errors"} for every Lead."""

    ids = itertools.count(1)

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self._answer(head.split(" ", 2)[1])

    def _answer(self, path: str) -> None:
        if path.endswith("/oauth2/token"):
            status, body = "200 OK", {"access_token": TOKEN, "instance_url": self.base_url, "token_type": "Bearer"}
        else:
            status, body = "201 Created", {"id": f"00Q{next(self.ids):015d}", "success": True, "errors": []}
        payload = json.dumps(body).encode()
        assert self.transport is not None
        self.transport.write(f"HTTP/1.1 {status}\r\nContent-Type: application/json;charset=UTF-8\r\n"
                             f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)


def serve_customer() -> None:
    """Run the customer until stdin closes; its first line on stdout is its base URL."""

    async def run() -> None:
        loop = asyncio.get_running_loop()
        holder: dict[str, str] = {}
        server = await loop.create_server(lambda: _Customer(holder["url"]), "127.0.0.1", 0)
        holder["url"] = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        print(holder["url"], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # the parent closes our stdin when done
        server.close()

    asyncio.run(run())


def start_customer() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, __file__, "--serve-customer"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


# --- the two clients ----------------------------------------------------------------------------------

def leads(count: int) -> Iterator[str]:
    """`count` distinct valid leads, serialised as the platform sends them, made one at a time."""
    from tests.support.leads import make_lead  # the suite's own lead factory

    return (json.dumps(make_lead(), ensure_ascii=False) for _ in range(count))


def plug_sender(app: Any) -> Callable[[str], int]:
    """One lead as Lambda delivers it: API Gateway's proxy event (built now: it carries the arrival time)."""
    from tests.support.lambda_event import LambdaContext, proxy_event

    ids = itertools.count()

    def send(body: str) -> int:
        answer = app(proxy_event(body), LambdaContext(f"bench-{next(ids)}"))
        return answer["statusCode"]

    return send


def bare_sender(customer_url: str, bodies: list[str], trust_env: bool = True) -> Callable[[int], int]:
    """The floor: the plug's own translated requests, posted with a bare keep-alive requests.Session."""
    import requests

    from dispatcher.contract import validate_lead
    from dispatcher.plug import current_plug

    integration = current_plug().integration
    translated = [integration.translate(validate_lead(json.loads(body))) for body in bodies]
    session = requests.Session()
    session.trust_env = trust_env
    token = session.post(customer_url + "/services/oauth2/token",
                         data={"grant_type": "client_credentials", "client_id": "bench", "client_secret": "bench"})
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    urls = [customer_url + request.path for request in translated]
    json_bodies = [request.json_body for request in translated]

    def send(index: int) -> int:
        response = session.post(urls[index], json=json_bodies[index], headers=headers, timeout=5)
        response.json()
        return response.status_code

    return send


# --- measuring ----------------------------------------------------------------------------------------

def timed(send: Callable[[Any], int], items: list[Any]) -> float:
    started = time.perf_counter()
    statuses = [send(item) for item in items]
    elapsed = time.perf_counter() - started
    wrong = [status for status in statuses if status != 201]
    if wrong:
        raise SystemExit(f"{len(wrong)} leads did not get 201 (first: {wrong[0]}): the benchmark is void")
    return elapsed


def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


# Entry points whose cumulative time makes up a lead: (label, file suffix, function name).
ENTRIES = [
    ("handler", "scripts/bench.py", "send"),  # app.app(event, context) and the event's making
    ("view", "/app.py", "send_lead"),
    ("deliver", "dispatcher/delivery.py", "deliver"),
    ("read", "dispatcher/contract.py", "read_body"),
    ("validate", "dispatcher/contract.py", "validate_lead"),
    ("translate", "dispatcher/integrations/salesforce.py", "translate"),
    ("exchange", "dispatcher/delivery.py", "_exchange"),
    ("classify", "dispatcher/integrations/salesforce.py", "classify"),
    ("triggers", "transitions/core.py", "trigger"),
    ("attach", "transitions/core.py", "add_model"),
    ("detach", "transitions/core.py", "remove_model"),
    ("log", "dispatcher/translog.py", "transition"),
    ("envelope", "dispatcher/envelopes.py", "envelope"),
]


def profile_account(app: Any, bodies: list[str]) -> None:
    """Where a lead's time goes, from cProfile's cumulative times of the entry points of each component."""
    send = plug_sender(app)
    profiler = cProfile.Profile()
    profiler.enable()
    for body in bodies:
        send(body)
    profiler.disable()
    stats = pstats.Stats(profiler)
    cumulative: dict[str, float] = defaultdict(float)
    for (filename, _, name), (_, _, _, cumtime, _) in stats.stats.items():  # type: ignore[attr-defined]
        for label, suffix, function in ENTRIES:
            if filename.endswith(suffix) and name == function and not (label == "view" and "chalice" in filename):
                cumulative[label] += cumtime
    c = {label: cumulative[label] / len(bodies) * 1e6 for label, _, _ in ENTRIES}
    parts = [
        ("the customer call (token cache, transport, requests)", c["exchange"]),
        ("validation (contract.validate_lead: jsonschema)", c["validate"]),
        ("state machine (transitions: attach, 4 triggers, detach; log excluded)",
         c["attach"] + c["triggers"] - c["log"] + c["detach"]),
        ("transition log (4 JSON lines)", c["log"]),
        ("Chalice event handling (event, request, middleware, route, response JSON)", c["handler"] - c["view"]),
        ("body, translate, classify, envelope", c["read"] + c["translate"] + c["classify"] + c["envelope"]),
    ]
    parts.append(("the rest of deliver (deadline, privacy, plug lookup, outcome)",
                  c["view"] - sum(value for _, value in parts[:2]) - sum(value for _, value in parts[2:4])
                  - parts[5][1]))
    print(f"\ncProfile account, {len(bodies)} leads through the handler (us per lead, profiler overhead included):")
    for label, value in parts:
        print(f"  {value:8.1f} us  {value / c['handler']:6.1%}  {label}")
    print(f"  {c['handler']:8.1f} us  100.0%  the whole handler")


def quiet_transition_log(state: str) -> None:
    """The production handler and format, writing to /dev/null instead of the terminal; or the log off."""
    import logging

    from dispatcher.translog import LOGGER_NAME

    log = logging.getLogger(LOGGER_NAME)
    devnull = open(os.devnull, "w", encoding="utf-8")  # lives as long as the process
    for handler in log.handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)
    if state == "off":
        log.setLevel(logging.WARNING)


def throughput(app: Any, customer_url: str, count: int, log_state: str) -> int:
    """Interleaved rounds of the plug and the bare clients on the same leads; prints the figures."""
    warmup = 200
    bodies = list(leads(count + warmup))
    sides: dict[str, Callable[[Any], int]] = {
        "plug": plug_sender(app), "bare": bare_sender(customer_url, bodies),
        "bare_no_env": bare_sender(customer_url, bodies, trust_env=False),
    }
    items = {"plug": bodies, "bare": list(range(len(bodies))), "bare_no_env": list(range(len(bodies)))}
    for side, send in sides.items():
        timed(send, items[side][:warmup])  # token, connections, first-use imports
    # Interleaved rounds, and the median round of each side: a neighbour's burst of CPU hits one round of
    # every side alike, and the median leaves it out.
    per_lead: dict[str, list[float]] = {side: [] for side in sides}
    chunk = max(1, count // ROUNDS)
    for start in range(warmup, warmup + count, chunk):
        for side, send in sides.items():
            batch = items[side][start:start + chunk]
            per_lead[side].append(timed(send, batch) / len(batch))
    plug_s, bare_s, floor_s = (statistics.median(per_lead[side]) * count for side in ("plug", "bare", "bare_no_env"))
    print(f"leads: {count} per side in {ROUNDS} interleaved rounds (median round), customer {customer_url} "
          f"(keep-alive, separate process), transition log {'ON (to /dev/null)' if log_state == 'on' else 'OFF'}")
    print(f"bare requests.Session : {count / bare_s:8.0f} leads/s  ({bare_s / count * 1e6:7.1f} us/lead)")
    print(f"plug (Lambda handler) : {count / plug_s:8.0f} leads/s  ({plug_s / count * 1e6:7.1f} us/lead)")
    print(f"ratio (plug time / bare time): {plug_s / bare_s:.3f}   target <= 1.25")
    print(f"added by the plug: {(plug_s - bare_s) / count * 1e6:.1f} us per lead")
    print(f"  (a bare Session with trust_env=False, as the plug's own transport: {count / floor_s:.0f} leads/s, "
          f"{floor_s / count * 1e6:.1f} us/lead; ratio {plug_s / floor_s:.3f}, "
          f"{(plug_s - floor_s) / count * 1e6:.1f} us added)")
    return warmup + count


def memory(app: Any, sent: int) -> None:
    """Peak RSS after 1,000 and after 10,000 leads through the plug: a leak shows as growth."""
    send = plug_sender(app)
    marks = {}
    for mark in MEMORY_MARKS:
        for body in leads(max(0, mark - sent)):
            send(body)
        sent = max(sent, mark)
        gc.collect()
        marks[mark] = max_rss_mb()
    first, last = marks[MEMORY_MARKS[0]], marks[MEMORY_MARKS[-1]]
    print(f"peak memory (max RSS): {first:.1f} MB after {MEMORY_MARKS[0]:,} leads, "
          f"{last:.1f} MB after {MEMORY_MARKS[-1]:,} leads ({last - first:+.1f} MB)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--leads", type=int, default=2_000, help="leads per side (default 2000)")
    parser.add_argument("--log", choices=("on", "off"), default="on", help="transition log (to /dev/null) on or off")
    parser.add_argument("--no-memory", action="store_true", help="skip the 10,000-lead memory check")
    parser.add_argument("--profile", action="store_true", help="print a cProfile account of the plug's time")
    parser.add_argument("--serve-customer", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_customer:
        serve_customer()
        return 0

    customer, customer_url = start_customer()
    try:
        os.environ.update({
            "CUSTOMER": "salesforce", "SALESFORCE_LOGIN_URL": customer_url, "SALESFORCE_CLIENT_ID": "bench",
            "SALESFORCE_CLIENT_SECRET": "bench", "SALESFORCE_API_VERSION": "v62.0", "CUSTOMER_TIMEOUT_S": "5",
            "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "bench",
        })
        sys.path.insert(0, str(ROOT))
        from app import app  # the environment above must be set first

        quiet_transition_log(args.log)
        sent = throughput(app, customer_url, args.leads, args.log)
        if args.profile:
            profile_account(app, list(leads(min(args.leads, 2_000))))
        if not args.no_memory:
            memory(app, sent)
    finally:
        if customer.stdin:
            customer.stdin.close()
        customer.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
