#!/usr/bin/env python3
"""`make run`: the sandbox customers and `chalice local` on port 8000 (dev stage); Ctrl-C stops both."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM (kill, a background job) stops both children like Ctrl-C


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    port = os.environ.get("PORT", "8000")
    sandbox = subprocess.Popen([sys.executable, "-m", "sandbox"], cwd=ROOT)
    time.sleep(0.5)
    plug = subprocess.Popen([str(BIN / "chalice"), "local", "--no-autoreload", "--stage", "dev", "--port", port],
                            cwd=ROOT)
    print(f"\nLead Plug on http://localhost:{port}/send  (Ctrl-C stops the plug and the sandbox)\n", flush=True)
    try:
        while sandbox.poll() is None and plug.poll() is None:
            time.sleep(0.2)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
