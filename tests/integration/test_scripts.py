"""The project's commands behave like tools: every script's --help answers and starts nothing, a usage error or
a busy port is one line and a non-zero exit, a closed pipe or a hostile line is no traceback, and a lead id
that starts with `-` is an id."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.project import ROOT

SCRIPTS = sorted((ROOT / "scripts").glob("*.py"))
# Run in the interpreter before the script: every attempt to listen, connect, write a file or start a process
# is told on standard error (an audit hook, https://docs.python.org/3/library/audit_events.html).
# A bind to port 0 is urllib3's probe for IPv6 at import, not a server; /dev/null is no file written.
WATCH = """
import os, runpy, sys
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def watch(event, args):
    started = event in ("socket.connect", "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn",
                        "os.spawn", "os.fork", "os.forkpty")
    if event == "socket.bind":
        started = not (isinstance(args[1], tuple) and args[1][1] == 0)
    if event == "open" and len(args) >= 3:
        path, mode, flags = args[0], args[1] or "", args[2] or 0
        started = isinstance(path, (str, bytes)) and os.fsdecode(path) != os.devnull and (
            any(m in mode for m in "wax+") or bool(flags & WRITING))
    if started:
        os.write(2, f"STARTED {event} {args!r}\\n".encode())
sys.addaudithook(watch)
script = sys.argv[1]
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(script))
runpy.run_path(script, run_name="__main__")
"""


def is_command(script: Path) -> bool:
    return 'if __name__ == "__main__":' in script.read_text(encoding="utf-8")


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda script: script.name)
def test_help_answers_and_starts_nothing(script: Path, tmp_path: Path):
    result = subprocess.run([sys.executable, "-c", WATCH, str(script), "--help"], capture_output=True, text=True,
                            timeout=60, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "STARTED" not in result.stderr, result.stderr[-2000:]
    assert list(tmp_path.iterdir()) == []
    if is_command(script):
        assert result.stdout.strip(), "--help says what the command does"


@pytest.mark.parametrize("script", [script for script in SCRIPTS if is_command(script)], ids=lambda s: s.name)
def test_every_command_is_executable_with_a_python3_shebang(script: Path):
    assert os.access(script, os.X_OK), f"chmod 755 {script.relative_to(ROOT)}"
    assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")


def run(*command: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *command], input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def test_make_alone_prints_the_targets_and_their_purpose():
    result = subprocess.run(["make", "--no-print-directory"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            check=False)
    assert result.returncode == 0, result.stderr
    listed = {line.split()[1]: line for line in result.stdout.splitlines() if line.strip().startswith("make ")}
    assert {"help", "run", "test", "quick", "fuzz"} <= set(listed)
    assert "the whole suite" in listed["test"] and "inner loop" in listed["quick"]


def test_run_on_a_busy_port_names_it_in_one_line_and_starts_nothing():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(str(ROOT / "scripts" / "run_local.py"), "--port", str(port))
    assert result.returncode != 0
    assert "Lead Plug on" not in result.stdout
    assert result.stderr.count("\n") == 1 and f"port {port} (the plug)" in result.stderr, result.stderr


def test_run_refuses_a_port_that_is_not_one_in_one_line():
    result = run(str(ROOT / "scripts" / "run_local.py"), "--port", "eighty")
    assert result.returncode == 2 and "not a port" in result.stderr and "Traceback" not in result.stderr


LINE = {"trace_id": "t-1", "from": "received", "to": "failed", "trigger": "reject", "reason": "invalid_lead",
        "elapsed_ms": 1.0, "ts": "2026-11-26T10:00:00.000Z"}


@pytest.mark.parametrize("arguments", [["-lead-7", "{log}"], ["--", "-lead-7", "{log}"], ["{log_first}"]])
def test_a_lead_id_that_starts_with_a_dash_is_an_id(arguments: list[str], tmp_path: Path):
    log = tmp_path / "plug.log"
    log.write_text(json.dumps({"lead_id": "-lead-7", **LINE}) + "\n", encoding="utf-8")
    if arguments == ["{log_first}"]:
        result = run(str(ROOT / "scripts" / "trace.py"), "-lead-7", stdin=log.read_text(encoding="utf-8"))
    else:
        result = run(str(ROOT / "scripts" / "trace.py"), *(arg.format(log=log) for arg in arguments))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("lead -lead-7: 1 trace(s)")


HOSTILE = {
    "deeply-nested": '{"a":' * 200_000,
    "deeply-nested-list": "[" * 200_000 + "{}",
    "many-braces": "{" * 2_000_000,
    "huge-csv-field": '1,"' + "x" * 2_000_000 + '""',
    "huge-line": "x" * 20_000_000,
    "wrong-types": json.dumps({"lead_id": "lead-1", "trace_id": "t-0", "from": {}, "to": [1], "trigger": None,
                               "reason": {"a": 1}, "elapsed_ms": "abc", "ts": 5}),
}


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("script", ["trace.py", "report.py"])
def test_a_hostile_line_is_skipped_without_a_traceback(script: str, name: str, tmp_path: Path):
    log = tmp_path / "plug.log"
    good = json.dumps({"lead_id": "lead-1", **LINE})
    log.write_text(f"{HOSTILE[name]}\n{good}\n", encoding="utf-8")
    arguments = ["lead-1", str(log)] if script == "trace.py" else [str(log), "--html", str(tmp_path / "page.html")]
    result = run(str(ROOT / "scripts" / script), *arguments)
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert result.returncode == 0, result.stderr[-2000:]
    assert "invalid_lead" in result.stdout, "the good line after the hostile one is read"


@pytest.mark.parametrize("script", ["trace.py", "report.py"])
def test_a_closed_pipe_ends_quietly(script: str, tmp_path: Path):
    log = tmp_path / "plug.log"
    log.write_text(json.dumps({"lead_id": "lead-1", **LINE}) + "\n", encoding="utf-8")
    arguments = ["lead-1", str(log)] if script == "trace.py" else [str(log)]
    read, write = os.pipe()
    os.close(read)  # the reader (`| head`) is gone before the script writes
    try:
        result = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *arguments], stdout=write,
                                stderr=subprocess.PIPE, text=True, timeout=60, check=False)
    finally:
        os.close(write)
    assert "Traceback" not in result.stderr and "BrokenPipeError" not in result.stderr, result.stderr
    assert result.returncode == 1
