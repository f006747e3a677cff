"""`python -m sandbox` (`make run` starts it): run the sandbox customers until Ctrl-C; the dev stages point at them."""

from __future__ import annotations

import argparse
import importlib
import signal
import threading
from typing import Any

from sandbox.server import CustomerServer

# name: (module, class, port under `make run`, keyword arguments). A customer's `<name>-dev` stage in
# .chalice/config.json points at its port; scripts/new_integration.py adds a line here with the next free one.
SANDBOXES: dict[str, tuple[str, str, int, dict[str, Any]]] = {
    "salesforce": ("sandbox.salesforce", "SalesforceSandbox", 8001, {}),
    "zoho": ("sandbox.zoho", "ZohoSandbox", 8002, {}),
    "acme-json": ("sandbox.webhook", "WebhookSandbox", 8003, {"dialect": "json"}),
    "solaris-form": ("sandbox.webhook", "WebhookSandbox", 8004, {"dialect": "form"}),
    "hubspot": ("sandbox.hubspot", "HubSpotSandbox", 8005, {}),
}


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
