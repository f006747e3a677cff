"""Metrics for every lead: one CloudWatch Embedded Metric Format (EMF) line on standard output.

CloudWatch Logs turns the line into metrics as it ingests it: no API call, nothing the answer waits for.
Powertools' EMF provider builds and validates each metric directive (names, units, dimension limits); this
module only decides what is measured and writes the directives as one JSON line of their own, through the
`leadplug.metrics` logger and the plug's one log handler (machine.py), which writes it as it is, so that log
tooling and tests see it. Powertools' `Metrics` itself (one object, dimensions and metrics added per lead, then
`flush_metrics()`) would rebuild and validate every directive on every lead: `scripts/bench.py` measures it.

What one line holds, in up to three directives of the namespace METRICS_NAMESPACE:

- `Leads` (count 1) by Customer, State and Reason, and by Customer alone; `ResponseTime` (ms, only when the
  request left) in the same two dimension sets: by customer for its percentiles, by outcome to see which
  ends are slow;
- `ColdStart` (count 1) by Customer, on the first lead a plug measures (in Lambda: the process's first);
- `Replays` (count, by customer): 1 when the answer was replayed from the delivery ledger, else 0.

Dimensions are the customer, the terminal state and the reason: never a lead id, never personal data (a
refusal code made of the person's data is already counted as plain `refused` by the journey).
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import re
import time
from collections.abc import Mapping
from typing import Any, NamedTuple

from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.metric_properties import MetricUnit

from dispatcher.errors import ConfigurationError
from dispatcher.machine import JSON_LINE, emit

LOGGER_NAME = "leadplug.metrics"
DEFAULT_NAMESPACE = "LeadPlug"
DEFAULT_SERVICE = "lead-plug"

LEADS, RESPONSE_TIME, COLD_START, REPLAYS = "Leads", "ResponseTime", "ColdStart", "Replays"
CUSTOMER, STATE, REASON = "Customer", "State", "Reason"

# CloudWatch's own rules: a namespace of these characters, not AWS's; a dimension value of 1..1024 characters.
_NAMESPACE = re.compile(r"^[0-9A-Za-z.\-_/#:]{1,255}$")
_MAX_DIMENSION_VALUE = 1024
# Outcomes whose directive is kept: the plug's reasons and the customer's refusal codes seen so far; past this
# (a customer inventing codes), a directive is built for each lead.
MAX_OUTCOMES_KEPT = 256

_Part = tuple[list[dict[str, Any]], dict[str, Any]]  # a directive's `CloudWatchMetrics` entries, its root members

logger = logging.getLogger(LOGGER_NAME)  # written by the plug's one handler (machine.py), as it is
# json.dumps with options builds a JSONEncoder on every call: one serves every line (the same text)
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class MetricsSettings(NamedTuple):
    """Where the metrics go and how this deployment is named in them (a named tuple, as LeadFacts: its class
    costs a cold start a third of a frozen dataclass's)."""

    namespace: str
    service: str
    customer: str

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> MetricsSettings:
        """METRICS_NAMESPACE (default LeadPlug), METRICS_SERVICE (default lead-plug), METRICS_CUSTOMER (default
        CUSTOMER: set it when several deployments share an integration, as webhook customers do)."""
        namespace = (environ.get("METRICS_NAMESPACE") or "").strip() or DEFAULT_NAMESPACE
        if not _NAMESPACE.match(namespace) or namespace.startswith("AWS/"):
            raise ConfigurationError("METRICS_NAMESPACE must be 1 to 255 letters, digits or . - _ / # : and not "
                                     f"start with AWS/, not {namespace!r}")
        customer = ((environ.get("METRICS_CUSTOMER") or "").strip()
                    or (environ.get("CUSTOMER") or "").strip().lower() or "unset")
        if len(customer) > _MAX_DIMENSION_VALUE:
            raise ConfigurationError(f"METRICS_CUSTOMER must be at most {_MAX_DIMENSION_VALUE} characters")
        service = (environ.get("METRICS_SERVICE") or "").strip() or DEFAULT_SERVICE
        return cls(namespace=namespace, service=service, customer=customer)

    @classmethod
    def of_a_plug_that_cannot_start(cls) -> MetricsSettings:
        """The environment's names as far as they are valid: the lead's 500 is still counted."""
        try:
            return cls.from_environ(os.environ)
        except ConfigurationError:
            return cls(namespace=DEFAULT_NAMESPACE, service=DEFAULT_SERVICE, customer="unset")


class LeadFacts(NamedTuple):
    """What is measured of one ended lead (a named tuple: made on every lead, cheaper than a dataclass)."""

    state: str
    reason: str
    response_ms: float | None  # None when no request left for the customer
    replayed: bool
    trace_id: str


class LeadMetrics:
    """One plug's metrics. Its first lead counts the cold start: a plug is built once per process in Lambda.

    Powertools builds and validates every directive: the constant ones (cold start, replays) once per plug, an
    outcome's (its state and reason, with or without a response time) the first time that outcome ends a lead.
    A lead then only fills in its own values, the response time and the timestamp: building a directive costs
    several times the rest of the line, and would be paid on every lead.
    """

    def __init__(self, settings: MetricsSettings, *, counts_cold_start: bool = True) -> None:
        self.settings = settings
        self._measured = itertools.count(0 if counts_cold_start else 1)  # next() is atomic under the GIL
        cold_start = _directive(settings)
        cold_start.add_dimension(name=CUSTOMER, value=settings.customer)
        cold_start.add_metric(name=COLD_START, unit=MetricUnit.Count, value=1)
        self._cold_start = _part(cold_start)
        self._replays = {}
        for replayed in (False, True):
            replays = _directive(settings)
            replays.add_dimension(name=CUSTOMER, value=settings.customer)  # each plug's dashboard, its own
            replays.add_metric(name=REPLAYS, unit=MetricUnit.Count, value=int(replayed))
            self._replays[replayed] = _part(replays)
        # (state, reason, timed) -> its directive; dict reads and writes are atomic, and chalice local's threads
        # building the same outcome at once build the same thing.
        self._outcomes: dict[tuple[str, str, bool], _Part] = {}

    def lead_ended(self, facts: LeadFacts) -> None:
        """Write the lead's EMF line; a metric that cannot be written is logged, never the lead's failure."""
        try:
            document = self.document(facts, cold_start=next(self._measured) == 0)
            emit(logger, "%s", (_encode(document),), extra=JSON_LINE)
        except Exception as exc:  # noqa: BLE001 - the answer is built already: metrics must not change it
            logging.getLogger("leadplug").error("The lead's metrics could not be written: %s", exc)

    def document(self, facts: LeadFacts, *, cold_start: bool) -> dict[str, Any]:
        """The EMF object of one lead: its directives in one line, with the lead's own values."""
        timed = facts.response_ms is not None
        parts = [self._outcome(facts.state, facts.reason, timed), *([self._cold_start] if cold_start else []),
                 self._replays[facts.replayed]]
        document: dict[str, Any] = {"_aws": {"Timestamp": int(time.time() * 1000),
                                             "CloudWatchMetrics": [entry for entries, _ in parts for entry in entries]}}
        for _, members in parts:
            document.update(members)
        if timed:
            document[RESPONSE_TIME] = [float(facts.response_ms)]  # type: ignore[arg-type]  # timed: not None
        # Searchable in CloudWatch Logs Insights, not metrics: which service wrote the line, and the lead's trace
        # (the transition log's trace_id, never its lead id).
        document.update(service=self.settings.service, trace_id=facts.trace_id)
        return document

    def _outcome(self, state: str, reason: str, timed: bool) -> _Part:
        key = (state, reason, timed)
        part = self._outcomes.get(key)
        if part is None:
            outcome = _directive(self.settings)
            for name, value in ((CUSTOMER, self.settings.customer), (STATE, state), (REASON, reason)):
                outcome.add_dimension(name=name, value=_dimension_value(value))
            outcome.add_dimensions(**{CUSTOMER: self.settings.customer})
            outcome.add_metric(name=LEADS, unit=MetricUnit.Count, value=1)
            if timed:  # each lead writes its own value
                outcome.add_metric(name=RESPONSE_TIME, unit=MetricUnit.Milliseconds, value=0.0)
            part = _part(outcome)
            if len(self._outcomes) < MAX_OUTCOMES_KEPT:
                self._outcomes[key] = part
        return part


def _directive(settings: MetricsSettings) -> AmazonCloudWatchEMFProvider:
    # service="" rather than None: None would read POWERTOOLS_SERVICE_NAME and add a `service` dimension.
    return AmazonCloudWatchEMFProvider(namespace=settings.namespace, service="")


def _part(provider: AmazonCloudWatchEMFProvider) -> _Part:
    """A directive as Powertools serializes it, split into its `CloudWatchMetrics` entries and root members
    (its timestamp is dropped: the lead's line gets its own)."""
    serialized: dict[str, Any] = dict(provider.serialize_metric_set())
    return list(serialized.pop("_aws")["CloudWatchMetrics"]), serialized


def _dimension_value(text: str) -> str:
    """A reason as CloudWatch takes a dimension value; a customer's own code is used as given otherwise."""
    return text.strip()[:_MAX_DIMENSION_VALUE] or "-"
