#!/usr/bin/env python3
"""`make bench`: the plug against peers written by hand from the brief, in one run, with its targets' pass/fail.

The peer, `scripts/bench_baseline/app.py`, is what an engineer would write first: one Chalice route,
jsonschema, a cached token, one `requests.Session`, one JSON log line per lead. With PEER_IDEMPOTENCY_TABLE it
adds "never twice" as a user would: Powertools' idempotency on DynamoDB. What the plug costs beyond them is
the price of its guarantees (state machine, deadlines, privacy, classification, its ledger's rules).

Every side is called as the Lambda runtime calls it, `app(event, context)` with an API Gateway proxy event,
against the same fast Salesforce-like customer on 127.0.0.1 (keep-alive, a process of its own). Logs stay ON,
written to /dev/null. Sides and what is printed:

1. time per lead, each side in a new process per round (rounds interleaved, the order alternating), CPU time
   of that process (what a busy machine moves least) and wall time beside, the median round: the peer, the
   plug without a ledger, with `LEDGER=sqlite:`, the peer with Powertools' idempotency and the plug with
   `LEDGER=dynamodb:`, both on moto's DynamoDB emulator behind a proxy that counts the calls (per new lead,
   and per replay: the same lead sent again);
2. cold start: import and first lead in a fresh interpreter, from the Lambda package (`make package`'s, trimmed)
   unzipped and compiled to bytecode in a read-only folder, `-I -S -B` (the package first on the path, as
   /var/task, then boto3 and botocore as Lambda's runtime has them), the peer's app.py in a copy of the same
   folder; the plug with `LEDGER=dynamodb:` too (boto3's import and client); alternated, medians;
3. peak memory (ru_maxrss) after import, 1,000 and 10,000 leads, each side alone in a fresh process;
4. the targets of issue 23, PASS or FAIL (never asserted by a test: a shared 2-core VM moves timings by 10 %);
5. one lead's log lines (4 transitions, 1 EMF line) written by the plug's one log setup and by Powertools'
   `Logger` and `Metrics` as their documentation shows, CPU per lead (why the plug keeps its own).

`--profile` prints where the plug's time goes beside the peer's (cProfile, the steps of a lead); `--quick`
is a smoke run of a few seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import compileall
import cProfile
import gc
import importlib.util
import itertools
import json
import logging
import os
import pstats
import resource
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE_DIR = ROOT / "scripts" / "bench_baseline"
TOKEN = "00Dbench!AQ4AQFakeTokenForTheBenchmarkOnly"
MEMORY_MARKS = (1_000, 10_000)
CRM_ROUND_TRIPS_MS = (100, 500)
LEDGER_TABLE, IDEMPOTENCY_TABLE = "bench-ledger", "bench-idempotency"

# The sides: (name shown, which app, the plug's LEDGER or the peer's idempotency, on DynamoDB).
SIDES: dict[str, tuple[str, str, bool]] = {
    "peer": ("peer (hand-written)", "baseline", False),
    "plug": ("plug, no ledger", "plug", False),
    "plug-sqlite": ("plug, LEDGER=sqlite:", "plug", False),
    "peer-powertools": ("peer + Powertools idempotency", "baseline", True),
    "plug-dynamodb": ("plug, LEDGER=dynamodb:", "plug", True),
}
LOCAL_SIDES = ("peer", "plug", "plug-sqlite")
DYNAMODB_SIDES = ("peer-powertools", "plug-dynamodb")
# Every log a side writes per lead: the plug's one handler (its transition lines and its metric line), the peer's line.
LOGGERS = {"plug": ("leadplug",), "baseline": ("bench_baseline",)}

# Issue 23's targets.
NO_LEDGER_RATIO, SQLITE_ADDED_US, DYNAMODB_RATIO, CALLS_NEW, CALLS_REPLAY, COLD_RATIO = 1.1, 300, 1.1, 3, 1, 1.1


# --- the customer: a minimal HTTP/1.1 keep-alive server in a process of its own -------------------------

class _Customer(asyncio.Protocol):
    """Salesforce as every side sees it: a token, then 201 {"id", "success", "errors"} for every Lead."""

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
        body: dict[str, Any]
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


@contextmanager
def customer() -> Iterator[str]:
    process = subprocess.Popen([sys.executable, __file__, "--serve-customer"], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None and process.stdin is not None
    try:
        yield process.stdout.readline().strip()
    finally:
        process.stdin.close()
        process.wait(timeout=10)


# --- DynamoDB: moto's emulator behind a proxy that counts the calls ------------------------------------

@contextmanager
def counted_dynamodb() -> Iterator[str]:
    """moto's server with the ledger's and Powertools' tables, behind the counting proxy; the proxy's URL."""
    from tests.support.dynamodb import DynamoProxy, create_ledger_table, dynamodb_emulator, emulator_client

    with dynamodb_emulator() as endpoint:
        client = emulator_client(endpoint)
        create_ledger_table(client, LEDGER_TABLE)
        client.create_table(TableName=IDEMPOTENCY_TABLE, BillingMode="PAY_PER_REQUEST",  # Powertools' defaults
                            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        with DynamoProxy(endpoint) as proxy:  # the tests' proxy: it counts, and serves GET /__counts
            yield proxy.endpoint


def dynamodb_calls(proxy: str) -> Counter[str]:
    with urllib.request.urlopen(f"{proxy}/__counts", timeout=10) as answer:
        return Counter(json.loads(answer.read()))


# --- the environment of a side: what Lambda sets, not this machine's variables -------------------------

def environment(customer_url: str, pycache: str) -> dict[str, str]:
    """What a deployment sets pointed at our customer, beside the variables Lambda's runtime sets
    (not this machine's: requests reads the environment on every call, so its size is part of the cost)."""
    # Lambda's own variables (AWS_LAMBDA_FUNCTION_NAME aside: with it, the plug refuses LEDGER=sqlite:).
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TZ": ":UTC",
            "LD_LIBRARY_PATH": "/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/task:/var/task/lib:/opt/lib",
            "LAMBDA_TASK_ROOT": "/var/task", "LAMBDA_RUNTIME_DIR": "/var/runtime", "AWS_REGION": "eu-west-3",
            "AWS_DEFAULT_REGION": "eu-west-3", "AWS_EXECUTION_ENV": "AWS_Lambda_python3.13",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/bench", "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/03/[$LATEST]b",
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand", "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
            "AWS_ACCESS_KEY_ID": "ASIABENCH", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR", "AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129:2000",
            "_AWS_XRAY_DAEMON_ADDRESS": "169.254.79.129", "_AWS_XRAY_DAEMON_PORT": "2000", "_HANDLER": "app.app",
            "CUSTOMER": "salesforce", "SALESFORCE_LOGIN_URL": customer_url, "SALESFORCE_CLIENT_ID": "bench",
            "SALESFORCE_CLIENT_SECRET": "bench", "SALESFORCE_API_VERSION": "v62.0", "CUSTOMER_TIMEOUT_S": "5",
            "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "bench", "PYTHONPYCACHEPREFIX": pycache}


def side_environment(side: str, base: dict[str, str], proxy: str | None, folder: str) -> dict[str, str]:
    env = dict(base)
    if side == "plug-sqlite":
        env["LEDGER"] = f"sqlite:{folder}/ledger-{uuid.uuid4().hex[:8]}.sqlite3"
    if SIDES[side][2]:
        from tests.support.dynamodb import emulator_environment

        assert proxy is not None
        env = emulator_environment(proxy, base=env)
        env.update({"LEDGER": f"dynamodb:{LEDGER_TABLE}"} if side == "plug-dynamodb"
                   else {"PEER_IDEMPOTENCY_TABLE": IDEMPOTENCY_TABLE})
    return env


# --- leads and Lambda events: the suite's own ---------------------------------------------------------

sys.path.insert(0, str(ROOT))
from tests.support.lambda_event import LambdaContext, proxy_event  # noqa: E402
from tests.support.leads import make_lead  # noqa: E402


def leads(count: int) -> list[str]:
    """`count` distinct leads, serialised as the platform sends them; ids unique across processes and rounds
    (the DynamoDB tables live for the whole run)."""
    run = uuid.uuid4().hex[:12]
    return [json.dumps(make_lead(id=f"bench-{run}-{index}"), ensure_ascii=False) for index in range(count)]


# --- one side in its own process ----------------------------------------------------------------------

_devnull = open(os.devnull, "w", encoding="utf-8")  # every log writes here; lives as long as the process


def load(app_name: str) -> Any:
    """The side's Chalice app (its environment set by the parent); its log ON, written to /dev/null."""
    if app_name == "plug":
        from app import app
    else:  # imported under its own name: both files are called app.py
        spec = importlib.util.spec_from_file_location("bench_baseline_app", BASELINE_DIR / "app.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        app = module.app
    for name in LOGGERS[app_name]:
        log = logging.getLogger(name)
        handlers = [handler for handler in log.handlers if isinstance(handler, logging.StreamHandler)]
        if not handlers or not log.isEnabledFor(logging.INFO):
            raise SystemExit(f"the {app_name}'s log {name!r} has no stream handler or is off: nothing to measure")
        for handler in handlers:
            handler.setStream(_devnull)
    return app


def sender(app: Any, label: str) -> Callable[[str], dict[str, Any]]:
    """One lead as Lambda delivers it: a fresh proxy event and context, the handler's answer back."""
    ids = itertools.count()

    def send(body: str) -> dict[str, Any]:
        return app(proxy_event(body), LambdaContext(f"bench-{label}-{next(ids)}"))

    return send


def send_all(send: Callable[[str], dict[str, Any]], bodies: list[str], what: str) -> None:
    for body in bodies:
        answer = send(body)
        if answer["statusCode"] != 201:
            raise SystemExit(f"{what}: {answer['statusCode']} {answer['body'][:300]}: the benchmark is void")


def measured(send: Callable[[str], dict[str, Any]], bodies: list[str], what: str,
             proxy: str | None) -> dict[str, Any]:
    """CPU and wall seconds per lead over `bodies`, and the DynamoDB calls per lead by operation."""
    before = dynamodb_calls(proxy) if proxy else Counter()
    cpu, wall = time.process_time(), time.perf_counter()
    send_all(send, bodies, what)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    calls = dynamodb_calls(proxy) - before if proxy else Counter()
    return {"cpu": cpu / len(bodies), "wall": wall / len(bodies),
            "calls": {operation: count / len(bodies) for operation, count in calls.items()}}


def child(side: str, count: int, warmup: int, replays: int) -> None:
    """In a fresh process: one side, `warmup` leads, `count` timed new leads, then `replays` of them sent again."""
    app_name = SIDES[side][1]
    proxy = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
    send = sender(load(app_name), side)
    bodies = leads(warmup + count)
    send_all(send, bodies[:warmup], f"the {side}'s warm-up")  # token, connection, first-use imports
    result = {"new": measured(send, bodies[warmup:], f"the {side}", proxy)}
    if replays and side not in ("peer", "plug"):  # without a ledger, a lead sent again is sent again
        again = bodies[warmup:warmup + replays]
        result["replay"] = measured(send, again, f"the {side}'s replays", proxy)
    print("BENCH", json.dumps(result), flush=True)


def run_child(side: str, env: dict[str, str], count: int, warmup: int, replays: int) -> dict[str, Any]:
    done = subprocess.run([sys.executable, __file__, "--child", side, "--leads", str(count), "--warmup",
                           str(warmup), "--replays", str(replays)], env=env, capture_output=True, text=True,
                          timeout=1800, check=False, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the {side} failed:\n{done.stdout[-2000:]}{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("BENCH "))


# --- 1. time per lead ----------------------------------------------------------------------------------

def per_lead(sides: list[str], envs: Callable[[str], dict[str, str]], counts: dict[str, int], warmup: int,
             replays: int, rounds: int) -> dict[str, list[dict[str, Any]]]:
    """Each side in a new process per round; rounds interleaved, the order reversed every other round, so that
    a neighbour's burst of CPU hits every side alike and the median leaves it out."""
    results: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
    for index in range(rounds):
        for side in sides if index % 2 == 0 else sides[::-1]:
            print(f"  round {index + 1}/{rounds}: {side}...", file=sys.stderr, flush=True)
            results[side].append(run_child(side, envs(side), counts[side], warmup, replays))
    return results


def median_of(results: list[dict[str, Any]], phase: str, key: str) -> float:
    return statistics.median(result[phase][key] for result in results)


def calls_of(results: list[dict[str, Any]], phase: str) -> tuple[float, str]:
    """The median total of DynamoDB calls per lead, and the operations of the median round."""
    totals = [sum(result[phase]["calls"].values()) for result in results]
    middle = results[totals.index(statistics.median_low(totals))][phase]["calls"]
    return statistics.median(totals), ", ".join(f"{name} {count:g}" for name, count in sorted(middle.items()))


def report_per_lead(results: dict[str, list[dict[str, Any]]], counts: dict[str, int], rounds: int) -> None:
    print(f"\n1. time per lead: a new process per side and round, {rounds} rounds interleaved, the median round; "
          "CPU time of the side's process (wall beside)")
    for side, runs in results.items():
        name = SIDES[side][0]
        line = (f"   {name:31}: {median_of(runs, 'new', 'cpu') * 1e6:7.1f} us CPU  "
                f"{median_of(runs, 'new', 'wall') * 1e6:7.1f} us wall   ({counts[side]:,} leads)")
        if SIDES[side][2]:
            total, operations = calls_of(runs, "new")
            line += f"\n   {'':31}  DynamoDB calls per new lead: {total:g} ({operations})"
            if "replay" in runs[0]:
                total, operations = calls_of(runs, "replay")
                line += (f"; per replay: {total:g} ({operations}), "
                         f"{median_of(runs, 'replay', 'cpu') * 1e6:.0f} us CPU")
        elif "replay" in runs[0]:
            line += f"\n   {'':31}  a replay: {median_of(runs, 'replay', 'cpu') * 1e6:.1f} us CPU"
        print(line)


# --- 2. cold start -------------------------------------------------------------------------------------

# Run as `python -I -S -B -c COLD_CODE TASK RUNTIME`: the package folder first on the path, as Lambda's /var/task,
# then what Lambda's runtime provides (boto3, botocore). Only the app's imports and its first lead
# are inside the clocks; the figures go to stderr (the app's log goes to stdout, /dev/null). Beside the CPU time, its
# system part and the page faults: what CPython's frame-stack chunks cost when a deep import crosses one back and forth
# (docs/performance.md#cold-start).
COLD_CODE = """\
import resource, sys, time
sys.path[:0] = sys.argv[1:2]
sys.path.extend(sys.argv[2:])
class Context:
    aws_request_id = "cold-start"
    def get_remaining_time_in_millis(self):
        return 28000
event = EVENT
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu, started = time.process_time(), time.perf_counter()
from app import app
imported = time.perf_counter()
event["requestContext"]["requestTimeEpoch"] = int(time.time() * 1000)
status = app(event, Context())["statusCode"]
done, cpu = time.perf_counter(), time.process_time() - cpu
after = resource.getrusage(resource.RUSAGE_SELF)
system, faults = (after.ru_stime - usage.ru_stime) * 1000, after.ru_minflt - usage.ru_minflt
times = f"{(imported - started) * 1000} {(done - imported) * 1000} {cpu * 1000}"
sys.stderr.write(f"BENCH {status} {times} {system} {faults}\\n")
"""


def build_package(folder: Path, package: Path | None) -> Path:
    """The Lambda package as `make package` ships it (`chalice package`, then scripts/trim_package.py), or the
    one given; its path."""
    if package is not None:
        return package
    out = folder / "package"
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"}
    chalice = Path(sys.executable).parent / "chalice"
    built = subprocess.run([str(chalice), "--project-dir", str(ROOT), "package", "--stage", "dev", str(out)],
                           capture_output=True, text=True, env=env, timeout=600, check=False)
    if built.returncode != 0:
        raise SystemExit(f"chalice package failed:\n{built.stdout}{built.stderr}")
    subprocess.run([sys.executable, str(ROOT / "scripts" / "trim_package.py"), str(out / "deployment.zip")],
                   check=True, capture_output=True, timeout=120)
    return out / "deployment.zip"


def task_folders(folder: Path, package: Path) -> dict[str, Path]:
    """The package unzipped twice, the peer's app.py in place of the plug's in the second; each compiled to
    bytecode, whatever the package ships, and made read-only (as /var/task: nothing can be written there)."""
    tasks = {}
    for app_name in ("plug", "baseline"):
        task = folder / f"task-{app_name}"
        with zipfile.ZipFile(package) as zipped:
            zipped.extractall(task)
        if app_name == "baseline":
            shutil.copy(BASELINE_DIR / "app.py", task / "app.py")
        if not compileall.compile_dir(task, quiet=2, workers=1):
            raise SystemExit(f"the {app_name}'s package does not compile")
        for path in task.rglob("*"):
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        task.chmod(task.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
        tasks[app_name] = task
    # What Lambda's Python runtime adds after /var/task: boto3 and botocore (Powertools imports botocore when
    # it can, to tag its calls; the plug imports boto3 for LEDGER=dynamodb: only).
    runtime = folder / "runtime"
    runtime.mkdir()
    for name in ("boto3", "botocore", "s3transfer", "dateutil"):
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.origin:
            (runtime / name).symlink_to(Path(spec.origin).parent)
    tasks["runtime"] = runtime
    return tasks


def cold_run(task: Path, env: dict[str, str], extra_path: list[str]) -> tuple[float, ...]:
    """Import, first lead, CPU and its system part (ms), page faults, of one app in a fresh interpreter."""
    code = COLD_CODE.replace("EVENT", repr(proxy_event(leads(1)[0])))
    done = subprocess.run([sys.executable, "-I", "-S", "-B", "-c", code, str(task), *extra_path], env=env, cwd=task,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False, timeout=120)
    figures = [line.split() for line in done.stderr.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not figures or figures[-1][1] != "201":
        raise SystemExit(f"the cold start from {task} failed:\n{done.stderr[-3000:]}")
    return tuple(float(figure) for figure in figures[-1][2:7])


def cold_start(tasks: dict[str, Path], sides: list[str], envs: Callable[[str], dict[str, str]],
               runs: int) -> dict[str, list[tuple[float, ...]]]:
    """`runs` fresh interpreters per side, alternated, after one each to warm the file system cache."""
    runtime = [str(tasks["runtime"])]
    plan = {side: (tasks[SIDES[side][1]], {key: value for key, value in envs(side).items()
                                           if key != "PYTHONPYCACHEPREFIX"}, runtime) for side in sides}
    results: dict[str, list[tuple[float, ...]]] = {side: [] for side in sides}
    for side in sides:
        cold_run(*plan[side])
    for index in range(runs):
        for side in sides if index % 2 == 0 else sides[::-1]:
            results[side].append(cold_run(*plan[side]))
    return results


def report_cold_start(results: dict[str, list[tuple[float, ...]]], runs: int) -> None:
    print(f"\n2. cold start: import + first lead (token, connection, send), median of {runs} fresh interpreters per "
          "side, alternated, from the package unzipped, compiled to bytecode, read-only, `-I -S -B`")
    for side, figures in results.items():
        imports, firsts, cpus, systems, faults = (statistics.median(values) for values in zip(*figures, strict=True))
        totals = statistics.median(figure[0] + figure[1] for figure in figures)
        print(f"   {SIDES[side][0]:31}: import {imports:6.1f} ms + first lead {firsts:5.1f} ms -> {totals:6.1f} ms "
              f"wall, {cpus:6.1f} ms CPU (system {systems:5.1f} ms, {faults:,.0f} page faults)")


# --- 3. memory -----------------------------------------------------------------------------------------

def max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def memory_child(side: str) -> None:
    """In a fresh process: one side alone, its peak RSS after each mark; a leak shows as growth."""
    send = sender(load(SIDES[side][1]), side)
    sent, marks = 0, [max_rss_mb()]
    for mark in MEMORY_MARKS:
        send_all(send, leads(mark - sent), f"the {side} during the memory check")
        sent = mark
        gc.collect()
        marks.append(max_rss_mb())
    print("BENCH", *marks, flush=True)


def memory(envs: Callable[[str], dict[str, str]]) -> dict[str, list[float]]:
    """Both sides' memory checks at once: RSS does not depend on speed, and the run stays short."""
    children = {side: subprocess.Popen([sys.executable, __file__, "--memory-child", side], stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE, text=True, env=envs(side), cwd=ROOT)
                for side in ("peer", "plug")}
    marks = {}
    try:
        for side, process in children.items():
            out, err = process.communicate(timeout=900)
            figures = [line.split()[1:] for line in out.splitlines() if line.startswith("BENCH ")]
            if process.returncode != 0 or not figures:
                raise SystemExit(f"the {side}'s memory check failed:\n{out[-2000:]}{err[-2000:]}")
            marks[side] = [float(value) for value in figures[-1]]
    finally:
        for process in children.values():
            if process.poll() is None:  # the other side, when one failed
                process.kill()
                process.wait()
    return marks


def report_memory(marks: dict[str, list[float]]) -> None:
    print("\n3. peak memory (ru_maxrss), each side alone in a fresh process: after import, then after "
          + " and ".join(f"{mark:,}" for mark in MEMORY_MARKS) + " leads")
    for side, figures in marks.items():
        first, last = figures[1], figures[-1]
        verdict = "flat" if last - first < 1.0 else "GROWS: a leak?"
        print(f"   {SIDES[side][0]:31}: " + " / ".join(f"{value:.1f}" for value in figures)
              + f" MB   ({last - first:+.1f} MB from {MEMORY_MARKS[0]:,} to {MEMORY_MARKS[-1]:,} leads: {verdict})")


# --- 5. what logging a lead costs: the plug's log setup against Powertools' Logger and Metrics ---------------

LOG_LEADS = 3_000
_MOVES = (("received", "validated", "validate"), ("validated", "translated", "translate"),
          ("translated", "sent", "send"), ("sent", "accepted", "accept"))


def logs_child(count: int) -> None:
    """In a fresh process: one lead's log lines (4 transitions and its EMF line), `count` times, written by the
    plug's own setup (`machine`'s log, `metrics`) and by Powertools' `Logger` and `Metrics` as their documentation
    shows them (one `Logger`, `logger.info(..., extra=...)`; one `Metrics`, dimensions and metrics added per
    lead, `flush_metrics()`), alternated in blocks; CPU seconds per lead of each, the median block."""
    from aws_lambda_powertools import Logger, Metrics
    from aws_lambda_powertools.metrics import MetricUnit

    from dispatcher import machine
    from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings

    for name in LOGGERS["plug"]:
        for handler in logging.getLogger(name).handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(_devnull)
    settings = MetricsSettings.from_environ(os.environ)
    ours = LeadMetrics(settings)
    logger = Logger(service=settings.service, stream=_devnull, utc=True, use_rfc3339=True)
    metrics = Metrics(namespace=settings.namespace, service=settings.service)

    def plug_lead(index: int) -> None:
        trace = f"trace-{index}"
        for source, dest, trigger in _MOVES:
            machine.transition(lead_id=f"lead-{index}", trace_id=trace, source=source, dest=dest, trigger=trigger,
                                reason="created" if dest == "accepted" else None, elapsed_ms=1.5)
        ours.lead_ended(LeadFacts("accepted", "created", 12.5, False, trace))

    def powertools_lead(index: int) -> None:
        trace = f"trace-{index}"
        for source, dest, trigger in _MOVES:
            logger.info("%s -> %s", source, dest, extra={
                "lead_id": f"lead-{index}", "trace_id": trace, "from": source, "to": dest,
                "trigger": trigger, "reason": "created" if dest == "accepted" else None, "elapsed_ms": 1.5})
        metrics.add_dimension(name="Customer", value=settings.customer)
        metrics.add_dimension(name="State", value="accepted")
        metrics.add_dimension(name="Reason", value="created")
        metrics.add_dimensions(Customer=settings.customer)
        metrics.add_metric(name="Leads", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="ResponseTime", unit=MetricUnit.Milliseconds, value=12.5)
        metrics.add_metric(name="Replays", unit=MetricUnit.Count, value=0)
        metrics.add_metadata(key="trace_id", value=trace)
        metrics.flush_metrics()

    blocks: dict[str, list[float]] = {"plug": [], "powertools": []}
    stdout, sys.stdout = sys.stdout, _devnull  # Powertools' Metrics prints its line
    try:
        for index in range(8):
            for label, lead in (("plug", plug_lead), ("powertools", powertools_lead))[:: 1 if index % 2 else -1]:
                started = time.process_time()
                for number in range(count // 4):
                    lead(number)
                blocks[label].append((time.process_time() - started) / (count // 4))
    finally:
        sys.stdout = stdout
    print("BENCH", json.dumps({label: statistics.median(found[1:]) for label, found in blocks.items()}), flush=True)


def logs_cost(env: dict[str, str], count: int) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--logs-child", "--leads", str(count)], env=env,
                          capture_output=True, text=True, timeout=600, check=False, cwd=ROOT)
    lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"the log measure failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("BENCH "))


def report_logs(figures: dict[str, float], results: dict[str, list[dict[str, Any]]] | None) -> None:
    ours, powertools = figures["plug"] * 1e6, figures["powertools"] * 1e6
    line = (f"\n5. one lead's log lines (4 transitions, 1 EMF line), CPU per lead: the plug's setup {ours:.1f} us, "
            f"Powertools' Logger and Metrics as documented {powertools:.1f} us ({powertools - ours:+.1f} us")
    if results and "peer" in results:
        line += f", {(powertools - ours) / (median_of(results['peer'], 'new', 'cpu') * 1e6):+.1%} of the peer's lead"
    print(line + ")")


# --- 4. the targets ------------------------------------------------------------------------------------

def report_targets(results: dict[str, list[dict[str, Any]]],
                   cold: dict[str, list[tuple[float, ...]]] | None) -> None:
    print("\n4. targets (issue 23), on CPU time medians (wall beside)")

    def verdict(ok: bool, text: str) -> None:
        print(f"   {'PASS' if ok else 'FAIL'}  {text}")

    def cpu(side: str, phase: str = "new") -> float:
        return median_of(results[side], phase, "cpu")

    def wall(side: str) -> float:
        return median_of(results[side], "new", "wall")

    if "peer" in results and "plug" in results:
        ratio = cpu("plug") / cpu("peer")
        verdict(ratio <= NO_LEDGER_RATIO, f"no ledger: plug / peer {ratio:.3f} (<= {NO_LEDGER_RATIO}; wall "
                f"{wall('plug') / wall('peer'):.3f}); the plug adds {(cpu('plug') - cpu('peer')) * 1e6:.0f} us CPU a "
                "lead: " + ", ".join(f"{(cpu('plug') - cpu('peer')) / (ms / 1000):.2%} of a {ms} ms"
                                     for ms in CRM_ROUND_TRIPS_MS) + " CRM round trip")
    if "plug" in results and "plug-sqlite" in results:
        added = (cpu("plug-sqlite") - cpu("plug")) * 1e6
        verdict(added <= SQLITE_ADDED_US, f"SQLite ledger: {added:+.0f} us CPU a lead over no ledger "
                f"(<= +{SQLITE_ADDED_US} us; wall {(wall('plug-sqlite') - wall('plug')) * 1e6:+.0f} us)")
    if "plug-dynamodb" in results and "peer-powertools" in results:
        ratio = cpu("plug-dynamodb") / cpu("peer-powertools")
        verdict(ratio <= DYNAMODB_RATIO, f"DynamoDB ledger: plug / peer + Powertools {ratio:.3f} (<= "
                f"{DYNAMODB_RATIO}; wall {wall('plug-dynamodb') / wall('peer-powertools'):.3f})")
        new, _ = calls_of(results["plug-dynamodb"], "new")
        peer_new, _ = calls_of(results["peer-powertools"], "new")
        verdict(new <= CALLS_NEW, f"DynamoDB calls per new lead: {new:g} (<= {CALLS_NEW}; Powertools {peer_new:g})")
        if "replay" in results["plug-dynamodb"][0]:
            again, _ = calls_of(results["plug-dynamodb"], "replay")
            peer_again, _ = calls_of(results["peer-powertools"], "replay")
            verdict(again <= CALLS_REPLAY, f"DynamoDB calls per replay: {again:g} (<= {CALLS_REPLAY}; Powertools "
                    f"{peer_again:g})")
    if cold and "peer" in cold and "plug" in cold:
        cpus = {side: statistics.median(figure[2] for figure in cold[side]) for side in ("peer", "plug")}
        walls = {side: statistics.median(figure[0] + figure[1] for figure in cold[side]) for side in ("peer", "plug")}
        ratio = cpus["plug"] / cpus["peer"]
        verdict(ratio <= COLD_RATIO, f"cold start: plug / peer {ratio:.3f} (<= {COLD_RATIO}; wall "
                f"{walls['plug'] / walls['peer']:.3f}: {walls['plug']:.0f} ms against {walls['peer']:.0f} ms)")


# --- where the time goes -------------------------------------------------------------------------------

WHOLE = "the whole lead"
# The steps of a lead, by the function that does each (file suffix, function name): cumulative time per lead.
STEPS = (
    ("read the body", "dispatcher/contract.py", "read_body"),
    ("validate (jsonschema)", "dispatcher/contract.py", "validate_lead"),
    ("validate (jsonschema)", "bench_baseline/app.py", "_deliver"),
    ("translate", "integrations/salesforce.py", "translate"),
    ("send (requests + urllib3)", "dispatcher/transport.py", "post"),
    ("send (requests + urllib3)", "requests/sessions.py", "post"),
    ("classify the answer", "integrations/salesforce.py", "classify"),
    ("state machine moves, with their logs", "dispatcher/machine.py", "trigger"),
    ("  of which the 4 transition log lines", "dispatcher/machine.py", "transition"),
    ("the metric (EMF) line", "dispatcher/metrics.py", "lead_ended"),
    ("the peer's log line", "logging/__init__.py", "info"),
    ("the envelope", "dispatcher/delivery.py", "_answer"),
    ("health (admit + record)", "dispatcher/health.py", "admit"),
    ("health (admit + record)", "dispatcher/health.py", "record"),
    ("privacy (the lead's Masker, built)", "dispatcher/privacy.py", "__init__"),
    ("the deadline", "dispatcher/deadline.py", "lead_deadline"),
)


def profile_child(side: str, count: int) -> None:
    """In a fresh process: `count` leads of one side under cProfile; the cumulative time of each step per lead."""
    send = sender(load(SIDES[side][1]), side)
    bodies = leads(200 + count)
    send_all(send, bodies[:200], "the warm-up")
    profiler = cProfile.Profile()
    profiler.enable()
    send_all(send, bodies[200:], f"the {side}")
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]  # {(file, line, name): (..., cumulative)}
    steps: Counter[str] = Counter({WHOLE: sum(entry[2] for entry in stats.values())})  # every function's own time
    for label, suffix, function in STEPS:
        steps[label] += sum(entry[3] for (file, _, name), entry in stats.items()
                            if file.endswith(suffix) and name == function)
    if SIDES[side][1] == "baseline":  # its _deliver holds its send: the validation alone is the rest
        steps["validate (jsonschema)"] -= steps["send (requests + urllib3)"]
    print("BENCH", json.dumps({label: seconds / count for label, seconds in steps.items()}), flush=True)


def report_profile(envs: Callable[[str], dict[str, str]], count: int, rounds: int) -> None:
    """Each side profiled in `rounds` fresh processes, alternated; the median of each step."""
    runs: dict[str, list[dict[str, float]]] = {"peer": [], "plug": []}
    for index in range(rounds):
        for side in ("peer", "plug") if index % 2 == 0 else ("plug", "peer"):
            done = subprocess.run([sys.executable, __file__, "--profile-child", side, "--leads", str(count)],
                                  env=envs(side), capture_output=True, text=True, timeout=900, check=False, cwd=ROOT)
            lines = [line for line in done.stdout.splitlines() if line.startswith("BENCH ")]
            if done.returncode != 0 or not lines:
                raise SystemExit(f"the {side}'s profile failed:\n{done.stderr[-3000:]}")
            runs[side].append(json.loads(lines[-1].removeprefix("BENCH ")))
    figures = {side: {label: statistics.median(run.get(label, 0.0) for run in found) for label in found[0]}
               for side, found in runs.items()}
    print(f"\nwhere the time goes: {count:,} leads per side under cProfile in {rounds} processes each, alternated "
          "(the profiler slows every call: compare the shares), the median us per lead")
    whole = {side: figures[side][WHOLE] for side in figures}
    print(f"   {'step':40} {'peer':>16} {'plug':>16}")
    for label in dict.fromkeys([WHOLE, *(label for label, _, _ in STEPS)]):
        cells = [f"{figures[side].get(label, 0) * 1e6:7.0f} ({figures[side].get(label, 0) / whole[side]:4.0%})"
                 if figures[side].get(label) else f"{'-':>16}" for side in ("peer", "plug")]
        print(f"   {label:40} {cells[0]:>16} {cells[1]:>16}")


# --- main ----------------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", "--leads", type=int, default=1_000, help="timed leads per side and round without "
                        "DynamoDB (default 1000)")
    parser.add_argument("--dynamodb-leads", type=int, default=150, help="timed leads per round on DynamoDB (150)")
    parser.add_argument("--rounds", type=int, default=9, help="rounds, a new process per side in each (default 9)")
    parser.add_argument("--warmup", type=int, default=100, help="leads before the clock starts, per process (100)")
    parser.add_argument("--replays", type=int, default=30, help="leads sent again per round, with a ledger (30)")
    parser.add_argument("-r", "--runs", type=int, default=15, help="fresh interpreters per side, cold start (15)")
    parser.add_argument("--package", type=Path, help="a deployment.zip to cold-start (default: built now)")
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 rounds of few leads, 3 cold starts")
    parser.add_argument("--no-dynamodb", action="store_true", help="skip the two sides on DynamoDB")
    parser.add_argument("--no-coldstart", action="store_true", help="skip the cold start (2)")
    parser.add_argument("--coldstart-only", action="store_true", help="only the cold start (2)")
    parser.add_argument("--no-memory", action="store_true", help="skip the 10,000-lead memory check (3)")
    parser.add_argument("--profile", action="store_true", help="where the plug's time goes beside the peer's, "
                                                               "under cProfile (nothing else)")
    parser.add_argument("--serve-customer", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--memory-child", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", choices=SIDES, help=argparse.SUPPRESS)
    parser.add_argument("--logs-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_customer:
        serve_customer()
        return 0
    if args.child:
        child(args.child, args.leads, args.warmup, args.replays)
        return 0
    if args.memory_child:
        memory_child(args.memory_child)
        return 0
    if args.profile_child:
        profile_child(args.profile_child, args.leads)
        return 0
    if args.logs_child:
        logs_child(args.leads)
        return 0
    if args.quick:
        args.leads, args.dynamodb_leads, args.rounds, args.warmup, args.replays, args.runs = 100, 10, 2, 20, 5, 3
        args.no_memory = True
    if min(args.leads, args.dynamodb_leads, args.rounds, args.runs) < 1 or args.warmup < 0 or args.replays < 0:
        parser.error("--leads, --dynamodb-leads, --rounds and --runs must be at least 1")

    run(args)
    return 0


def run(args: argparse.Namespace) -> None:
    """The whole benchmark, as the options say."""
    started = time.perf_counter()
    print(f"plug: {ROOT / 'app.py'}; peer: {BASELINE_DIR / 'app.py'} (written by hand); load average "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())} on {os.cpu_count()} CPUs", flush=True)
    with customer() as customer_url, tempfile.TemporaryDirectory(prefix="leadplug-bench-") as scratch:
        pycache = os.path.join(scratch, "pycache")  # nothing written in the repository
        base = environment(customer_url, pycache)
        sides = list(LOCAL_SIDES) + ([] if args.no_dynamodb or args.profile else list(DYNAMODB_SIDES))

        def local(side: str) -> dict[str, str]:
            return side_environment(side, base, None, scratch)

        if args.profile:
            report_profile(local, args.leads, args.rounds)
            return
        # Memory first, before the emulator runs in this process: a child's ru_maxrss starts at its parent's peak
        # (Linux keeps it across fork and exec).
        marks = None if args.coldstart_only or args.no_memory else memory(local)
        with (counted_dynamodb() if "plug-dynamodb" in sides else _nothing()) as proxy:
            def envs(side: str) -> dict[str, str]:
                return side_environment(side, base, proxy, scratch)

            results = None
            if not args.coldstart_only:
                counts = {side: args.dynamodb_leads if SIDES[side][2] else args.leads for side in sides}
                results = per_lead(sides, envs, counts, args.warmup, args.replays, args.rounds)
                report_per_lead(results, counts, args.rounds)
            cold = None
            if not args.no_coldstart:
                print("  building and unzipping the package...", file=sys.stderr, flush=True)
                tasks = task_folders(Path(scratch), build_package(Path(scratch), args.package))
                cold_sides = ["peer", "plug"] + ([] if proxy is None else ["plug-dynamodb"])  # boto3 and a client
                cold = cold_start(tasks, cold_sides, envs, args.runs)
                report_cold_start(cold, args.runs)
                for task in (tasks["plug"], tasks["baseline"]):  # writable again, for the temporary folder's removal
                    task.chmod(task.stat().st_mode | stat.S_IWUSR)
                    for path in task.rglob("*"):
                        path.chmod(path.stat().st_mode | stat.S_IWUSR)
            if marks is not None:
                report_memory(marks)
            log_leads = LOG_LEADS // 10 if args.quick else LOG_LEADS
            logs = None if args.coldstart_only else logs_cost(local("plug"), log_leads)
            report_targets(results or {}, cold)
            if logs is not None:
                report_logs(logs, results)
    print(f"\n(the benchmark took {time.perf_counter() - started:.0f} s; load average now "
          f"{' '.join(f'{load:.2f}' for load in os.getloadavg())})")


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    sys.exit(main())
