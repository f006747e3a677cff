#!/usr/bin/env python3
"""`make bench`: the plug against a baseline written by hand from the brief, in the same run.

The baseline, `scripts/bench_baseline/app.py`, is what an engineer would write first: one Chalice route,
jsonschema, a cached token, one `requests.Session`, one JSON log line per lead. What the plug costs beyond
it is the price of its guarantees (state machine, deadlines, privacy, classification); this script prints it.

Both apps are called as the Lambda runtime calls them, `app(event, context)` with an API Gateway proxy
event, in process, against the same fast Salesforce-like customer on 127.0.0.1 (keep-alive, a process of
its own so that it does not share our GIL). Both logs stay ON, written to /dev/null. Printed:

1. time per lead of each, interleaved in rounds (the median round), and the ratio plug / baseline;
2. cold start: import plus a first lead, each in a fresh interpreter, alternated; medians and ratio;
3. peak memory (ru_maxrss) after import, 1,000 and 10,000 leads, each app alone in a fresh process;
4. what the plug adds per lead, against a real CRM's 100 ms and 500 ms round trip.

Targets are printed beside the figures, never asserted: a shared 2-core VM moves them by ±10 %.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import importlib.util
import itertools
import json
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE_DIR = ROOT / "scripts" / "bench_baseline"
SIDES = ("baseline", "plug")
# Every log a side writes per lead: the plug's transition log and its metric (EMF) line, the baseline's line.
LOGGERS = {"plug": ("leadplug.transitions", "leadplug.metrics"), "baseline": ("bench_baseline",)}
TOKEN = "00Dbench!AQ4AQFakeTokenForTheBenchmarkOnly"
WARMUP = 200
MEMORY_MARKS = (1_000, 10_000)
RATIO_TARGET, RATIO_AIM, COLD_TARGET = 1.3, 1.1, 1.3
CRM_ROUND_TRIPS_MS = (100, 500)


# --- the customer: a minimal HTTP/1.1 keep-alive server in a process of its own -------------------------

class _Customer(asyncio.Protocol):
    """Salesforce as both apps see it: a token, then 201 {"id", "success", "errors"} for every Lead."""

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


def environment(customer_url: str) -> dict[str, str]:
    """What a deployment sets (SPEC section 5), pointed at our customer; both apps read the same variables."""
    return {"CUSTOMER": "salesforce", "SALESFORCE_LOGIN_URL": customer_url, "SALESFORCE_CLIENT_ID": "bench",
            "SALESFORCE_CLIENT_SECRET": "bench", "SALESFORCE_API_VERSION": "v62.0", "CUSTOMER_TIMEOUT_S": "5",
            "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "bench"}


# --- leads and Lambda events: the suite's own ---------------------------------------------------------

sys.path.insert(0, str(ROOT))
from tests.support.lambda_event import LambdaContext, proxy_event  # noqa: E402
from tests.support.leads import make_lead  # noqa: E402


def leads(count: int) -> Iterator[str]:
    """`count` distinct leads, serialised as the platform sends them, made one at a time."""
    return (json.dumps(make_lead(), ensure_ascii=False) for _ in range(count))


# --- the two apps ---------------------------------------------------------------------------------------

_devnull = open(os.devnull, "w", encoding="utf-8")  # both logs write here; lives as long as the process


def load(side: str) -> Any:
    """The side's Chalice app (the environment must be set first); its log ON, written to /dev/null."""
    if side == "plug":
        sys.path.insert(0, str(ROOT))
        try:
            from app import app
        except Exception as exc:  # say what broke and stop, whatever it is
            raise SystemExit(f"`from app import app` failed ({type(exc).__name__}: {exc}); retry in a minute "
                             "if the plug is being refactored") from exc
    else:  # imported under its own name: both files are called app.py
        spec = importlib.util.spec_from_file_location("bench_baseline_app", BASELINE_DIR / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        app = module.app
    for name in LOGGERS[side]:
        log = logging.getLogger(name)
        handlers = [handler for handler in log.handlers if isinstance(handler, logging.StreamHandler)]
        if not handlers or not log.isEnabledFor(logging.INFO):
            raise SystemExit(f"the {side}'s log {name!r} has no stream handler or is off: nothing to measure")
        for handler in handlers:
            handler.setStream(_devnull)
    return app


def sender(app: Any, side: str) -> Callable[[str], dict[str, Any]]:
    """One lead as Lambda delivers it: a fresh proxy event and context, the handler's answer back."""
    ids = itertools.count()

    def send(body: str) -> dict[str, Any]:
        return app(proxy_event(body), LambdaContext(f"bench-{side}-{next(ids)}"))

    return send


def compare_records(senders: dict[str, Callable[[str], dict[str, Any]]]) -> str:
    """Send one lead each way and say how the Salesforce records differ: both must do the same work."""
    body = next(leads(1))
    records = {}
    for side, send in senders.items():
        answer = send(body)
        envelope = json.loads(answer["body"])
        if answer["statusCode"] != 201 or not envelope.get("customer_lead_id"):
            raise SystemExit(f"the {side} answered {answer['statusCode']}: {answer['body'][:500]}")
        records[side] = envelope["request_details"]
    plug, base = records["plug"], records["baseline"]
    differences = ([f"{key} (plug only)" for key in plug.keys() - base.keys()]
                   + [f"{key} (baseline only)" for key in base.keys() - plug.keys()]
                   + [f"{key} (values differ)" for key in plug.keys() & base.keys() if plug[key] != base[key]])
    return "identical" if not differences else "identical but " + ", ".join(sorted(differences))


# --- 1. time per lead -----------------------------------------------------------------------------------

def timed(send: Callable[[str], dict[str, Any]], bodies: list[str]) -> float:
    started = time.perf_counter()
    statuses = [send(body)["statusCode"] for body in bodies]
    elapsed = time.perf_counter() - started
    wrong = [status for status in statuses if status != 201]
    if wrong:
        raise SystemExit(f"{len(wrong)} leads did not get 201 (first: {wrong[0]}): the benchmark is void")
    return elapsed


def throughput(senders: dict[str, Callable[[str], dict[str, Any]]], count: int, rounds: int) -> dict[str, float]:
    """Seconds per lead of each side: the median of interleaved rounds on the same leads.

    A neighbour's burst of CPU hits one round of both sides alike and the median leaves it out; the order
    within a round alternates so that neither side always runs on a machine the other has just warmed.
    """
    bodies = list(leads(WARMUP + count))
    for send in senders.values():
        timed(send, bodies[:WARMUP])  # token, connection, first-use imports
    per_lead: dict[str, list[float]] = {side: [] for side in senders}
    chunk = -(-count // rounds)
    for index, start in enumerate(range(WARMUP, WARMUP + count, chunk)):
        batch = bodies[start:start + chunk]
        sides = list(senders)
        for side in sides if index % 2 == 0 else sides[::-1]:
            per_lead[side].append(timed(senders[side], batch) / len(batch))
    return {side: statistics.median(values) for side, values in per_lead.items()}


# --- 2. cold start --------------------------------------------------------------------------------------

# Run with `python -c` in the app's folder, stdout to /dev/null (the app's log goes there), the figures on
# stderr. Nothing but `time` and `sys` is imported before the clock starts, so only the app's imports count.
COLD_CODE = """\
import sys, time
class Context:
    aws_request_id = "cold-start"
    def get_remaining_time_in_millis(self):
        return 28000
event = EVENT
started = time.perf_counter()
from app import app
imported = time.perf_counter()
event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000)
status = app(event, Context())["statusCode"]
done = time.perf_counter()
sys.stderr.write(f"BENCH {status} {(imported - started) * 1000} {(done - imported) * 1000}\\n")
"""


def cold_run(side: str, env: dict[str, str]) -> tuple[float, float]:
    """Import and first lead (ms) of one side in a fresh interpreter."""
    code = COLD_CODE.replace("EVENT", repr(proxy_event(next(leads(1)))))
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT if side == "plug" else BASELINE_DIR, env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=60)
    figures = [line.split() for line in done.stderr.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not figures or figures[-1][1] != "201":
        raise SystemExit(f"the {side}'s cold start failed:\n{done.stderr}")
    return float(figures[-1][2]), float(figures[-1][3])


def cold_start(customer_url: str, runs: int, from_source: bool,
               plug_env: dict[str, str] | None = None) -> dict[str, list[tuple[float, float]]]:
    """`runs` fresh interpreters per side, alternated, after one warm-up each (bytecode, file system cache);
    `plug_env`: variables of the plug's side only (a ledger, say)."""
    results: dict[str, list[tuple[float, float]]] = {side: [] for side in SIDES}
    with tempfile.TemporaryDirectory(prefix="leadplug-pycache-") as pycache:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        env.update(environment(customer_url), PYTHONPYCACHEPREFIX=pycache)  # nothing written in the repository
        if from_source:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        envs = {"baseline": env, "plug": {**env, **(plug_env or {})}}
        for side in SIDES:
            cold_run(side, envs[side])
        for index in range(runs):
            for side in SIDES if index % 2 == 0 else SIDES[::-1]:
                results[side].append(cold_run(side, envs[side]))
    return results


# --- 5. the ledger --------------------------------------------------------------------------------------

def ledger_cost(count: int, rounds: int) -> dict[str, float]:
    """Seconds per lead of the plug with LEDGER=off and with LEDGER=sqlite: (a file in a temporary folder),
    interleaved in the same run: what remembering each delivery costs (two reads and two writes per lead)."""
    from app import create_app

    with tempfile.TemporaryDirectory(prefix="leadplug-ledger-") as folder:
        senders = {}
        for side, setting in (("off", "off"), ("sqlite", f"sqlite:{folder}/ledger.sqlite3")):
            os.environ["LEDGER"] = setting  # a plug reads its variables once, when its app is made
            senders[side] = sender(create_app(), f"ledger-{side}")
        del os.environ["LEDGER"]
        return throughput(senders, count, rounds)


def report_ledger(per_lead: dict[str, float], count: int) -> None:
    print(f"\n5. the ledger's cost: {count:,} leads per side, the plug with LEDGER=sqlite: and with LEDGER=off, "
          "interleaved")
    for side in ("off", "sqlite"):
        print(f"   LEDGER={side:7}: {per_lead[side] * 1e6:7.1f} us/lead")
    added_us = (per_lead["sqlite"] - per_lead["off"]) * 1e6
    print(f"   ratio sqlite / off: {per_lead['sqlite'] / per_lead['off']:.3f}; {added_us:.0f} us per lead, "
          + ", ".join(f"{added_us / (ms * 1000):.2%} of a {ms} ms" for ms in CRM_ROUND_TRIPS_MS) + " CRM round trip")


def report_ledger_figures(customer_url: str, count: int, rounds: int, runs: int) -> None:
    report_ledger(ledger_cost(count, rounds), count)
    results = dynamodb_cold_start(customer_url, runs)
    print("\n6. with LEDGER=dynamodb: (an emulator on 127.0.0.1):", end="")
    report_cold_start(results, runs, False)


def dynamodb_cold_start(customer_url: str, runs: int) -> dict[str, list[tuple[float, float]]]:
    """The cold start with the DynamoDB ledger configured (boto3 imported, a client made, a claim and a
    settle on the first lead), against a DynamoDB emulator on 127.0.0.1 (moto's server mode)."""
    from tests.support.dynamodb import create_ledger_table, dynamodb_emulator, emulator_client, emulator_environment

    with dynamodb_emulator() as endpoint:
        create_ledger_table(emulator_client(endpoint), "bench-ledger")
        ledger_env = {name: value for name, value in emulator_environment(endpoint, base={}).items()}
        return cold_start(customer_url, runs, False, {**ledger_env, "LEDGER": "dynamodb:bench-ledger"})


# --- 3. memory ------------------------------------------------------------------------------------------

def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def memory_child(side: str) -> None:
    """In a fresh process: one app alone, its peak RSS after each mark; a leak shows as growth."""
    send = sender(load(side), side)
    sent, marks = 0, [max_rss_mb()]
    for mark in MEMORY_MARKS:
        for body in leads(mark - sent):
            if send(body)["statusCode"] != 201:
                raise SystemExit(f"the {side} did not answer 201 during the memory check")
        sent = mark
        gc.collect()
        marks.append(max_rss_mb())
    print("BENCH", *marks, flush=True)


def memory() -> dict[str, list[float]]:
    """Both sides' memory checks at once: RSS does not depend on speed, and the default run stays short."""
    children = {side: subprocess.Popen([sys.executable, __file__, "--memory-child", side], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True) for side in SIDES}
    marks = {}
    try:
        for side, child in children.items():
            out, err = child.communicate(timeout=900)
            figures = [line.split()[1:] for line in out.splitlines() if line.startswith("BENCH ")]
            if child.returncode != 0 or not figures:
                raise SystemExit(f"the {side}'s memory check failed:\n{out[-2000:]}{err[-2000:]}")
            marks[side] = [float(value) for value in figures[-1]]
    finally:
        for child in children.values():
            if child.poll() is None:  # the other side, when one failed
                child.kill()
                child.wait()
    return marks


# --- the report -----------------------------------------------------------------------------------------

def report_throughput(per_lead: dict[str, float], count: int, rounds: int) -> None:
    print(f"\n1. time per lead: {count:,} leads per side in {rounds} interleaved rounds (the median round), "
          f"after {WARMUP} warm-up leads each")
    for side in SIDES:
        print(f"   {side:8} : {per_lead[side] * 1e6:7.1f} us/lead  ({1 / per_lead[side]:6.0f} leads/s)")
    ratio = per_lead["plug"] / per_lead["baseline"]
    print(f"   ratio plug / baseline: {ratio:.3f}   (target <= {RATIO_TARGET}, aim {RATIO_AIM})")


def report_cold_start(results: dict[str, list[tuple[float, float]]], runs: int, from_source: bool) -> None:
    mode = "from source, no .pyc (as a deployment.zip)" if from_source else "from bytecode"
    print(f"\n2. cold start: import + first lead (token, connection, send), median of {runs} fresh interpreters "
          f"per side, alternated, {mode}")
    medians = {}
    for side in SIDES:
        imports, firsts = zip(*results[side], strict=True)
        totals = [sum(pair) for pair in results[side]]
        medians[side] = statistics.median(imports), statistics.median(firsts), statistics.median(totals)
        print(f"   {side:8} : import {medians[side][0]:6.1f} ms + first lead {medians[side][1]:5.1f} ms"
              f"   -> {medians[side][2]:6.1f} ms")
    ratio = medians["plug"][2] / medians["baseline"][2]
    print(f"   ratio plug / baseline: {ratio:.2f}   (target <= {COLD_TARGET}; import alone "
          f"{medians['plug'][0] / medians['baseline'][0]:.2f})")


def report_memory(marks: dict[str, list[float]]) -> None:
    print("\n3. peak memory (ru_maxrss), each app alone in a fresh process: after import, then after "
          + " and ".join(f"{mark:,}" for mark in MEMORY_MARKS) + " leads")
    for side in SIDES:
        first, last = marks[side][1], marks[side][-1]
        verdict = "flat" if last - first < 1.0 else "GROWS: a leak?"
        figures = " / ".join(f"{value:.1f}" for value in marks[side])
        print(f"   {side:8} : {figures} MB   ({last - first:+.1f} MB from {MEMORY_MARKS[0]:,} to "
              f"{MEMORY_MARKS[-1]:,} leads: {verdict})")


def report_added(per_lead: dict[str, float]) -> None:
    added_us = (per_lead["plug"] - per_lead["baseline"]) * 1e6
    shares = ", ".join(f"{added_us / (ms * 1000):.2%} of a {ms} ms" for ms in CRM_ROUND_TRIPS_MS)
    print(f"\n4. the plug adds {added_us:.0f} us per lead over the baseline: {shares} real CRM round trip")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--leads", type=int, default=10_000, help="timed leads per side (default 10000)")
    parser.add_argument("--rounds", type=int, default=20, help="interleaved rounds (default 20)")
    parser.add_argument("-r", "--runs", type=int, default=30, help="fresh interpreters per side, cold start (30)")
    parser.add_argument("--from-source", action="store_true", help="cold start without bytecode, as a deployment.zip")
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--coldstart-only", action="store_true", help="only the cold start (2)")
    only.add_argument("--no-coldstart", action="store_true", help="skip the cold start (2)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 10,000-lead memory check (3)")
    parser.add_argument("--ledger", action="store_true", help="also the ledger's cost per lead and the cold start "
                                                              "with the DynamoDB ledger (5, 6)")
    parser.add_argument("--serve-customer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", choices=SIDES, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_customer:
        serve_customer()
        return 0
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    if args.leads < 1 or args.rounds < 1 or args.runs < 1:
        parser.error("--leads, --rounds and --runs must be at least 1")

    started = time.perf_counter()
    customer, customer_url = start_customer()
    try:
        os.environ.update(environment(customer_url))  # before either app is imported, and for the children
        print(f"plug: app.app ({ROOT / 'app.py'}); baseline: {BASELINE_DIR / 'app.py'} (written by hand)")
        print(f"customer: {customer_url}, Salesforce-like, keep-alive, its own process; both logs ON, to "
              f"/dev/null; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
        # Memory first: on Linux a child's ru_maxrss starts at its parent's peak (kept across fork and exec),
        # so the children must start while this process is small, before it loads either app.
        marks = None
        if not args.coldstart_only and not args.no_memory:
            print(f"(memory check first, {MEMORY_MARKS[-1]:,} leads per side...)", file=sys.stderr, flush=True)
            marks = memory()
        per_lead = None
        if not args.coldstart_only:
            senders = {side: sender(load(side), side) for side in SIDES}
            print(f"Salesforce records sent: {compare_records(senders)}")
            per_lead = throughput(senders, args.leads, args.rounds)
            report_throughput(per_lead, args.leads, args.rounds)
        if not args.no_coldstart:
            report_cold_start(cold_start(customer_url, args.runs, args.from_source), args.runs, args.from_source)
        if marks is not None:
            report_memory(marks)
        if per_lead is not None:
            report_added(per_lead)
        if args.ledger:
            report_ledger_figures(customer_url, args.leads, args.rounds, min(args.runs, 10))
    finally:
        if customer.stdin:
            customer.stdin.close()
        customer.wait(timeout=10)
    print(f"\n(the benchmark took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
