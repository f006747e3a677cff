#!/usr/bin/env python3
"""`make bench-coldstart`: what importing the plug costs a cold Lambda, against what no plug can avoid.

Each run is a fresh interpreter that times one import statement: `import app` (the whole plug, configured
as a deployment is: CUSTOMER=salesforce and its variables), or `import chalice, requests` (the baseline:
Chalice's runtime and an HTTP client). Runs alternate between the two; the medians and their ratio are
printed, then where the plug's extra time goes (transitions, the plug's own modules).

By default every module is imported from bytecode (a warm-up run writes it under a temporary
PYTHONPYCACHEPREFIX, nothing is written in the repository); `--from-source` compiles everything at every
run instead, as Lambda does with a deployment.zip that carries no .pyc files.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5
ENVIRONMENT = {
    "CUSTOMER": "salesforce", "SALESFORCE_LOGIN_URL": "https://login.salesforce.com",
    "SALESFORCE_CLIENT_ID": "coldstart", "SALESFORCE_CLIENT_SECRET": "coldstart",
    "SALESFORCE_API_VERSION": "v62.0", "CUSTOMER_TIMEOUT_S": "20",
    "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "coldstart",
}
TIMER = "import time; t = time.perf_counter(); {statement}; print((time.perf_counter() - t) * 1000)"
# jsonschema is not a step: the plug imports it only at the first lead its fast check does not vouch for.
STEPS = (("chalice + requests", "import chalice, requests"), ("transitions", "import transitions"),
         ("the plug's own modules", "import app"))
BREAKDOWN = ("import time; marks = [time.perf_counter()]\n"
             + "".join(f"{statement}; marks.append(time.perf_counter())\n" for _, statement in STEPS)
             + "print(' '.join(str((b - a) * 1000) for a, b in zip(marks, marks[1:])))")


def run(code: str, env: dict[str, str]) -> list[float]:
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False, timeout=60)
    if done.returncode != 0:
        raise SystemExit(f"the import failed:\n{done.stderr}")
    return [float(value) for value in done.stdout.split()]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-r", "--runs", type=int, default=20, help="fresh interpreters per measurement (20)")
    parser.add_argument("--from-source", action="store_true", help="no bytecode: compile every module every run")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="leadplug-pycache-") as pycache:
        env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
        env.update(ENVIRONMENT, PYTHONPYCACHEPREFIX=pycache)
        if args.from_source:
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        plug_code, base_code = TIMER.format(statement="import app"), TIMER.format(statement="import chalice, requests")
        run(plug_code, env)  # warm-up: the bytecode (unless --from-source) and the file system cache
        plug, base, steps = [], [], []
        for index in range(args.runs):
            pair = [(plug, plug_code), (base, base_code)]
            for into, code in pair if index % 2 else reversed(pair):
                into.extend(run(code, env))
            steps.append(run(BREAKDOWN, env))

    plug_ms, base_ms = statistics.median(plug), statistics.median(base)
    mode = "from source, no .pyc (as from a deployment.zip)" if args.from_source else "from bytecode"
    print(f"cold import, median of {args.runs} fresh interpreters each, {mode}:")
    print(f"  import chalice, requests (baseline): {base_ms:7.1f} ms")
    print(f"  import app (the plug)              : {plug_ms:7.1f} ms")
    print(f"ratio: {plug_ms / base_ms:.2f}   target <= {TARGET}")
    print("where the plug's import goes (median per step, imported in this order):")
    for position, (label, _) in enumerate(STEPS):
        print(f"  {statistics.median(step[position] for step in steps):7.1f} ms  {label}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
