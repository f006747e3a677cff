"""`python -m sandbox`: run the sandbox customers until Ctrl-C (the dev stage points at them)."""

from __future__ import annotations

import argparse
import signal
import threading

from sandbox.salesforce import SalesforceSandbox
from sandbox.webhook import WebhookSandbox
from sandbox.zoho import ZohoSandbox


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--salesforce-port", type=int, default=8001)
    parser.add_argument("--zoho-port", type=int, default=8002)
    parser.add_argument("--webhook-port", type=int, default=8003,
                        help="the JSON webhook customer (customers/acme-json.json); the form one takes the next port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="answer this much later, like a real org")
    parser.add_argument("--verbose", action="store_true", help="print every request line")
    args = parser.parse_args()
    servers = [SalesforceSandbox(args.salesforce_port, latency_s=args.latency_ms / 1000, verbose=args.verbose),
               ZohoSandbox(args.zoho_port, verbose=args.verbose),
               WebhookSandbox(args.webhook_port, dialect="json", verbose=args.verbose),
               WebhookSandbox(args.webhook_port + 1, dialect="form", verbose=args.verbose)]
    for server in servers:
        server.start()
        kind = f" ({server.dialect})" if isinstance(server, WebhookSandbox) else ""
        print(f"sandbox: {type(server).__name__}{kind} on {server.base_url}", flush=True)
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
