"""The composition root: from the stage's environment variables to one integration, transport and reporter.

`build_plug(environ)` reads the variables once and refuses a wrong configuration with a message naming the
variable. `PlugHolder` keeps one app's plug: built when the app starts if the stage's variables are there
(so `chalice local`, `chalice deploy` and `chalice package`, which import the app with them, stop on a wrong
configuration) and always on Lambda, otherwise at the first lead (so that `import app` works with no variable set).

Any variable may hold `ssm:<parameter name>`: the value is read from SSM Parameter Store,
decrypted, once per container, and kept among the plug's credentials (masked everywhere, never logged).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Mapping
from pathlib import PurePath
from typing import TYPE_CHECKING, NamedTuple

from dispatcher.deadline import DEFAULT_CUSTOMER_TIMEOUT_S
from dispatcher.errors import ConfigurationError
from dispatcher.health import Health, health_from_setting
from dispatcher.integrations import Integration, build_integration
from dispatcher.ledger import ledger_from_setting
from dispatcher.ledger.memory import MemoryStore
from dispatcher.metrics import LeadMetrics, MetricsSettings
from dispatcher.reporting import Reporter
from dispatcher.transport import Transport

if TYPE_CHECKING:  # ledger_from_setting loads it, for a stage with a ledger
    from dispatcher.ledger import Ledger


class Plug(NamedTuple):
    """What serves every lead of one deployment, built once (a named tuple: built once, but its class is made at
    every cold start, three times cheaper than a frozen dataclass's)."""

    integration: Integration
    transport: Transport
    reporter: Reporter
    customer_timeout_s: float
    metrics: LeadMetrics
    ledger: Ledger | None = None
    health: Health | None = None
    secrets: tuple[str, ...] = ()  # the values read from SSM Parameter Store
    customer_id: str = ""  # the one identity: the ledger's key, the health, metrics and Rollbar (`customer_id()`)
    customer_name: str = ""  # for people: messages only (a webhook file's `name`, else the integration's)

    @property
    def credentials(self) -> tuple[str, ...]:
        """Every secret this plug holds (the customer's, Rollbar's and SSM's), read now: a token may have changed."""
        return (*self.integration.auth.credentials, self.reporter.access_token, *self.secrets)


SSM_PREFIX = "ssm:"
CONTAINER_LIFE_S = 365 * 24 * 3600  # Powertools' cache age: a value is read once per container
_SLUG = re.compile(r"[^a-z0-9]+")


def ssm_names(environ: Mapping[str, str]) -> dict[str, str]:
    """{variable: parameter name} of the variables that hold `ssm:<parameter name>`."""
    return {variable: value[len(SSM_PREFIX):].strip() for variable, value in environ.items()
            if isinstance(value, str) and value.startswith(SSM_PREFIX)}


def resolve_ssm(environ: Mapping[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The variables with each `ssm:` value read (decrypted) from Parameter Store, and the values read.

    boto3's standard environment chooses the region and endpoint (AWS_ENDPOINT_URL_SSM for an emulator). An
    error names the variable and the parameter, never a value."""
    names = ssm_names(environ)
    if not names:
        return dict(environ), ()
    from aws_lambda_powertools.utilities.parameters import get_parameter

    resolved, secrets = dict(environ), []
    for variable, name in sorted(names.items()):
        if not name:
            raise ConfigurationError(f"{variable} must be ssm:<parameter name>, the name is empty")
        try:
            value = get_parameter(name, decrypt=True, max_age=CONTAINER_LIFE_S)
        except Exception as exc:  # noqa: BLE001 - any failure to read it stops the plug, naming what
            cause = exc.__cause__ or exc
            raise ConfigurationError(f"{variable}: SSM parameter {name} cannot be read "
                                     f"({type(cause).__name__}: {_first_line(cause)})") from None
        resolved[variable] = str(value)
        secrets.append(str(value))
    return resolved, tuple(secret for secret in secrets if secret)


def _first_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [""])[0][:300]


def slug(text: str) -> str:
    return _SLUG.sub("-", text.lower()).strip("-")


def customer_id(environ: Mapping[str, str]) -> str:
    """The deployment's stable customer id, a slug (lower-case letters, digits, hyphens), carried by every
    metric, Rollbar item and log line, and the key of its ledger and health: CUSTOMER_ID when set, else CUSTOMER,
    plus the webhook file's stem for a webhook customer (`webhook-acme-json`)."""
    explicit = slug(environ.get("CUSTOMER_ID") or "")
    if explicit:
        return explicit
    customer = slug(environ.get("CUSTOMER") or "")
    config = (environ.get("WEBHOOK_CONFIG") or "").strip()
    if customer == "webhook" and config:
        return f"{customer}-{slug(PurePath(config).stem)}"
    return customer or "unset"


SSM_STAND_IN = "read-from-ssm-where-the-plug-runs"


def build_plug(environ: Mapping[str, str], *, read_ssm: bool = True, at_start: bool = False) -> Plug:
    """The plug for these variables; ConfigurationError names what is wrong. `read_ssm=False` checks the
    configuration with a stand-in for each `ssm:` value (the machine that packages needs no access to them).
    `at_start`: a local ledger file that cannot be opened stops the start, naming its path and the OS error
    (later, at a first lead, the lead answers 500 ledger_unavailable and the failure line says the same)."""
    if not (environ.get("CUSTOMER") or "").strip():
        raise ConfigurationError("CUSTOMER is not set: this stage is not in .chalice/config.json, or names no "
                                 "customer")
    if read_ssm:
        environ, secrets = resolve_ssm(environ)
    else:
        environ, secrets = {**environ, **dict.fromkeys(ssm_names(environ), SSM_STAND_IN)}, ()
    identity = customer_id(environ)
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
                        endpoint=environ.get("ROLLBAR_ENDPOINT") or "", customer=identity,
                        code_version=code_version(environ))
    # The ledger, the health and the step memory are keyed by the stable id: renaming the customer for people (a
    # webhook file's `name`) never makes a replayed lead look new.
    ledger = ledger_from_setting(environ, identity)
    if at_start and ledger is not None and not ledger.store.remote:
        _check_ledger_file(getattr(ledger.store, "path", ""))
    # The health is shared through the ledger's store; without a ledger, each container keeps its own.
    name = getattr(integration, "customer", None) or integration.name
    health = health_from_setting(environ, ledger.store if ledger is not None else MemoryStore(), identity, name)
    metrics = LeadMetrics(MetricsSettings.from_environ({**environ, "METRICS_CUSTOMER": environ.get(
        "METRICS_CUSTOMER") or identity}))
    return Plug(integration=integration, transport=Transport(), reporter=reporter,
                customer_timeout_s=customer_timeout_s, metrics=metrics, ledger=ledger, health=health,
                secrets=secrets, customer_id=identity, customer_name=name)


def _check_ledger_file(path: str) -> None:
    """A local ledger's file must open for writing: at start, with the path and the OS error, not as a 500
    for every lead."""
    if not path or path == ":memory:":
        return
    try:
        with open(path, "ab"):
            pass
    except OSError as exc:
        raise ConfigurationError(f"LEDGER: the ledger file {path} cannot be opened for writing: "
                                 f"[Errno {exc.errno}] {exc.strerror}") from None


VERSION_FILE = "VERSION"  # written at the package's root by scripts/package.py


def code_version(environ: Mapping[str, str]) -> str:
    """The deployed code's version for Rollbar: CODE_VERSION, else the package's VERSION file (the commit `make
    package` built), else Lambda's function version."""
    explicit = (environ.get("CODE_VERSION") or "").strip()
    if explicit:
        return explicit[:40]
    root = PurePath(__file__).parent.parent
    try:
        with open(root / VERSION_FILE, encoding="utf-8") as version:
            return version.read().strip()[:40]
    except OSError:
        return (environ.get("AWS_LAMBDA_FUNCTION_VERSION") or "").strip()[:40]


class PlugHolder:
    """One app's plug, built once: at start when a stage's variables are there (CUSTOMER is in the environment,
    even empty: .chalice/config.json's top level sets it empty, so a stage that does not exist or names no
    customer stops here) or on Lambda; else at the first lead (a bare `import app`)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._lock = threading.Lock()
        self._plug: Plug | None = None
        environ = os.environ if environ is None else environ
        on_lambda = bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))
        if on_lambda:
            self._plug = build_plug(environ, at_start=True)
        elif "CUSTOMER" in environ:
            if ssm_names(environ):  # the CLI (package, deploy) checks; secrets are read where the plug runs
                build_plug(environ, read_ssm=False, at_start=True)
            else:
                self._plug = build_plug(environ, at_start=True)

    def get(self) -> Plug:
        """The plug; the first call without one builds it from the environment of that moment (the stage's:
        Chalice's test client sets it for the duration of the client)."""
        if self._plug is None:
            with self._lock:
                if self._plug is None:
                    self._plug = build_plug(os.environ)
        return self._plug
