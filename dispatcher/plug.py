"""The composition root: from the environment (SPEC section 5) to one integration, transport and reporter.

`build_plug(environ)` reads the variables once and refuses a wrong configuration with a message naming the
variable. `PlugHolder` keeps one app's plug: built when the app starts if the stage's variables are there
(so `chalice local`, `chalice deploy` and `chalice package`, which import the app with them, stop on a wrong
configuration), otherwise at the first lead (so that `import app` works with no variable set).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass

from dispatcher.deadline import DEFAULT_CUSTOMER_TIMEOUT_S
from dispatcher.errors import ConfigurationError
from dispatcher.health import Health, health_from_setting
from dispatcher.integrations import Integration, build_integration
from dispatcher.ledger import Ledger, ledger_from_setting
from dispatcher.ledger.memory import MemoryStore
from dispatcher.metrics import LeadMetrics, MetricsSettings
from dispatcher.reporting import Reporter
from dispatcher.transport import Transport


@dataclass(frozen=True)
class Plug:
    integration: Integration
    transport: Transport
    reporter: Reporter
    customer_timeout_s: float
    metrics: LeadMetrics
    ledger: Ledger | None = None
    health: Health | None = None

    @property
    def credentials(self) -> tuple[str, ...]:
        """Every secret this plug holds (the customer's and Rollbar's), read now: a token may have changed."""
        return (*self.integration.auth.credentials, self.reporter.access_token)


def build_plug(environ: Mapping[str, str]) -> Plug:
    """The plug for these variables; ConfigurationError names what is wrong."""
    raw_timeout = environ.get("CUSTOMER_TIMEOUT_S") or str(DEFAULT_CUSTOMER_TIMEOUT_S)
    try:
        customer_timeout_s = float(raw_timeout)
    except ValueError:
        raise ConfigurationError(f"CUSTOMER_TIMEOUT_S must be a number of seconds, not {raw_timeout!r}") from None
    if not 0 < customer_timeout_s <= 900:
        raise ConfigurationError("CUSTOMER_TIMEOUT_S must be between 0 and 900 seconds")
    integration = build_integration(environ)
    reporter = Reporter(access_token=environ.get("ROLLBAR_ACCESS_TOKEN") or "",
                        environment=environ.get("ROLLBAR_ENVIRONMENT") or "development",
                        endpoint=environ.get("ROLLBAR_ENDPOINT") or "")
    customer = getattr(integration, "customer", None) or integration.name
    ledger = ledger_from_setting(environ, customer)
    # The health is shared through the ledger's store; without a ledger, each container keeps its own.
    health = health_from_setting(environ, ledger.store if ledger is not None else MemoryStore(), customer)
    return Plug(integration=integration, transport=Transport(), reporter=reporter,
                customer_timeout_s=customer_timeout_s, metrics=LeadMetrics(MetricsSettings.from_environ(environ)),
                ledger=ledger, health=health)


class PlugHolder:
    """One app's plug, built once: at start when CUSTOMER is set, else at the first lead."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._plug: Plug | None = None
        environ = os.environ if environ is None else environ
        if environ.get("CUSTOMER"):
            self._plug = build_plug(environ)

    def get(self) -> Plug:
        """The plug; the first call without one builds it from the environment of that moment (the stage's:
        Chalice's test client sets it for the duration of the client)."""
        if self._plug is None:
            with self._lock:
                if self._plug is None:
                    self._plug = build_plug(os.environ)
        return self._plug
