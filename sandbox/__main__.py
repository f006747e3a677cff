"""`python -m sandbox` (`make run` starts it): run the sandbox customers until Ctrl-C; the dev stages point at them."""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import signal
import threading
from typing import Any

import sandbox
from sandbox.server import CustomerServer

NOT_A_CUSTOMER = frozenset({"__main__", "server"})


def discovered() -> dict[str, tuple[str, str, int, dict[str, Any]]]:
    """name: (module, class, port under `make run`, keyword arguments), from the `MAKE_RUN` of every module of
    sandbox/: adding a customer's sandbox adds its file, nothing else. A customer's `<name>-dev` stage in
    .chalice/config.json points at its port."""
    found: dict[str, tuple[str, str, int, dict[str, Any]]] = {}
    for info in sorted(pkgutil.iter_modules(sandbox.__path__), key=lambda info: info.name):
        if info.name in NOT_A_CUSTOMER:
            continue
        module = f"sandbox.{info.name}"
        for name, (cls, port, kwargs) in getattr(importlib.import_module(module), "MAKE_RUN", {}).items():
            found[name] = (module, cls, port, kwargs)
    return found


SANDBOXES = discovered()


def build(name: str, verbose: bool = False, **extra: Any) -> CustomerServer:
    """The sandbox `name` on its `make run` port."""
    module, cls, port, kwargs = SANDBOXES[name]
    return getattr(importlib.import_module(module), cls)(port, verbose=verbose, **kwargs, **extra)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"only these ({', '.join(SANDBOXES)}); default all")
    parser.add_argument("--latency-ms", type=float, default=0.0,
                        help="Salesforce answers this much later, like a real org")
    parser.add_argument("--verbose", action="store_true", help="print every request line")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(SANDBOXES))
    if unknown:
        parser.error(f"no sandbox {', '.join(unknown)}; there are {', '.join(SANDBOXES)}")
    servers = []
    for name in args.names or SANDBOXES:
        extra = {"latency_s": args.latency_ms / 1000} if name == "salesforce" and args.latency_ms else {}
        servers.append(build(name, args.verbose, **extra).start())
        print(f"sandbox: {name} on {servers[-1].base_url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    for server in servers:
        server.stop()


if __name__ == "__main__":
    main()
