#!/usr/bin/env python3
"""`make run`: the sandbox customers and `chalice local` on port 8000 (dev stage); Ctrl-C stops both.

    scripts/run_local.py [--port PORT]        (PORT from the environment, else 8000)

The sandboxes listen on 8001 and up (sandbox/__main__.py says which). A port already taken stops the command
before anything starts, with one line naming the port; "Lead Plug on ..." is printed only once the plug answers.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_PYTHON = ROOT / ".venv" / "bin" / "python"
START_TIMEOUT_S = 60.0
HOST = "127.0.0.1"  # where `chalice local` and the sandboxes listen


def sandbox_ports() -> dict[int, str]:
    """The sandboxes' `make run` ports (sandbox/__main__.py finds them in sandbox/'s modules)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from sandbox.__main__ import SANDBOXES

    return {port: f"the {name} sandbox" for name, (_, _, port, _) in SANDBOXES.items()}


def listening(port: int) -> bool:
    """Whether something accepts connections on `port` (asked by connecting: a bind would take the port)."""
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((HOST, port)) == 0


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (kill, a background job) stops both children like Ctrl-C


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1 to 65535)")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=_port, default=os.environ.get("PORT") or "8000",
                        help="the plug's port (default: $PORT, else 8000)")
    args = parser.parse_args(argv)
    try:
        sandboxes = sandbox_ports()
    except ModuleNotFoundError as missing:  # run by a python3 without the project's requirements
        if VENV_PYTHON.exists() and Path(sys.executable).resolve() != VENV_PYTHON.resolve():
            os.execv(VENV_PYTHON, [str(VENV_PYTHON), __file__, *(sys.argv[1:] if argv is None else argv)])
        print(f"run_local: {missing.name} is missing: make run builds .venv and runs this with it", file=sys.stderr)
        return 2
    wanted = {args.port: "the plug", **sandboxes}
    if args.port in sandboxes:
        parser.error(f"port {args.port} is {wanted[args.port]}'s: choose another (make run PORT=8080)")
    taken = [f"{port} ({owner})" for port, owner in sorted(wanted.items()) if listening(port)]
    if taken:
        print(f"run_local: port {', '.join(taken)} already in use: stop what holds it, or make run PORT=8080 "
              "for the plug's", file=sys.stderr)
        return 1
    python = VENV_PYTHON if VENV_PYTHON.exists() else Path(sys.executable)
    signal.signal(signal.SIGTERM, _interrupt)
    sandbox = subprocess.Popen([str(python), "-m", "sandbox"], cwd=ROOT)
    plug = subprocess.Popen([str(python.parent / "chalice"), "local", "--no-autoreload", "--stage", "dev",
                             "--host", HOST, "--port", str(args.port)], cwd=ROOT)
    code = 0
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not listening(args.port):
            if sandbox.poll() is not None or plug.poll() is not None or time.monotonic() > deadline:
                failed = "the sandbox" if sandbox.poll() is not None else "the plug"
                print(f"run_local: {failed} did not start (see above); nothing is left running", file=sys.stderr)
                return 1
            time.sleep(0.2)
        print(f"\nLead Plug on http://localhost:{args.port}/send  (Ctrl-C stops the plug and the sandbox)\n",
              flush=True)
        while sandbox.poll() is None and plug.poll() is None:
            time.sleep(0.2)
        code = 1  # one of them stopped on its own
    except KeyboardInterrupt:
        pass
    finally:
        for process in (plug, sandbox):
            if process.poll() is None:
                process.terminate()  # SIGTERM: a background job may ignore SIGINT
        for process in (plug, sandbox):
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
    return code


if __name__ == "__main__":
    sys.exit(main())
