"""The composition root: from the environment (SPEC section 5) to one integration, transport and reporter.

Built once when the app starts, so a wrong configuration is refused at start (and at `chalice deploy`,
which imports the app with the stage's variables), not at the first lead. It is rebuilt only when one of
the variables it read changes (tests switch stages in one process).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from dispatcher.deadline import DEFAULT_CUSTOMER_TIMEOUT_S
from dispatcher.integrations import ConfigurationError, Integration, build_integration
from dispatcher.reporting import Reporter
from dispatcher.transport import Transport


class _RecordingEnv(Mapping[str, str]):
    """The environment, remembering which variables were read (and their values) to know when to rebuild."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.read: dict[str, str | None] = {}

    def __getitem__(self, key: str) -> str:
        self.read[key] = self._environ.get(key)
        return self._environ[key]

    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        value = self._environ.get(key)
        self.read[key] = value
        return default if value is None else value

    def __iter__(self) -> Iterator[str]:
        return iter(self._environ)

    def __len__(self) -> int:
        return len(self._environ)


@dataclass(frozen=True)
class Plug:
    integration: Integration
    transport: Transport
    reporter: Reporter
    customer_timeout_s: float
    read_environment: tuple[tuple[str, str | None], ...] = ()

    def still_matches(self, environ: Mapping[str, str]) -> bool:
        return all(environ.get(key) == value for key, value in self.read_environment)


def build_plug(environ: Mapping[str, str]) -> Plug:
    env = _RecordingEnv(environ)
    raw_timeout = env.get("CUSTOMER_TIMEOUT_S") or str(DEFAULT_CUSTOMER_TIMEOUT_S)
    try:
        customer_timeout_s = float(raw_timeout)
    except ValueError:
        raise ConfigurationError(f"CUSTOMER_TIMEOUT_S must be a number of seconds, not {raw_timeout!r}") from None
    if not 0 < customer_timeout_s <= 900:
        raise ConfigurationError("CUSTOMER_TIMEOUT_S must be between 0 and 900 seconds")
    integration = build_integration(env)
    reporter = Reporter(access_token=env.get("ROLLBAR_ACCESS_TOKEN") or "",
                        environment=env.get("ROLLBAR_ENVIRONMENT") or "development",
                        endpoint=env.get("ROLLBAR_ENDPOINT") or "")
    return Plug(integration=integration, transport=Transport(), reporter=reporter,
                customer_timeout_s=customer_timeout_s, read_environment=tuple(env.read.items()))


_lock = threading.Lock()
_plug: Plug | None = None


def current_plug(environ: Mapping[str, str] | None = None) -> Plug:
    """The plug for the current environment, built on first use and whenever its variables change."""
    global _plug
    environ = os.environ if environ is None else environ  # read late: chalice's test client swaps os.environ
    plug = _plug
    if plug is not None and plug.still_matches(environ):
        return plug
    with _lock:
        if _plug is None or not _plug.still_matches(environ):
            _plug = build_plug(environ)
        return _plug
