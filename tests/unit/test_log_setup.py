"""The plug's one log setup (dispatcher/machine.py): every plug logger writes through one handler, as JSON lines.

A real stream is read back: what a deployment's log would hold, line by line.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from dispatcher import machine
from dispatcher.machine import LOGGER_NAME, ROOT_LOGGER, JsonFormatter
from dispatcher.metrics import LOGGER_NAME as METRICS_LOGGER_NAME
from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the plug's one handler writes, while the test runs."""
    (handler,) = [handler for handler in logging.getLogger(ROOT_LOGGER).handlers
                  if isinstance(handler.formatter, JsonFormatter)]
    assert isinstance(handler, logging.StreamHandler)
    stream = io.StringIO()
    previous = handler.setStream(stream)
    try:
        yield stream
    finally:
        handler.setStream(previous)


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_the_transitions_and_the_metrics_have_no_handler_of_their_own():
    for name in (LOGGER_NAME, METRICS_LOGGER_NAME):
        assert logging.getLogger(name).handlers == [], name
        assert logging.getLogger(name).propagate, name


def test_a_move_a_metric_line_and_a_warning_are_one_json_object_a_line_each(written):
    machine.transition(lead_id="lead-1", trace_id="trace-1", source="sent", dest="accepted", trigger="accept",
                        reason="created", elapsed_ms=12.5)
    LeadMetrics(MetricsSettings("LeadPlug", "lead-plug", "salesforce")).lead_ended(
        LeadFacts("accepted", "created", 12.5, False, "trace-1"))
    logging.getLogger(ROOT_LOGGER).warning("ledger: the row %s cannot be read", "abc")

    move, metric, warning = lines(written)
    assert (move["from"], move["to"], move["trigger"], move["reason"], move["trace_id"]) == \
        ("sent", "accepted", "accept", "created", "trace-1")
    assert move["ts"].endswith("Z")
    assert metric["_aws"]["CloudWatchMetrics"] and metric["trace_id"] == "trace-1"
    assert "ts" not in metric, "the EMF document is written as it is"
    assert warning["level"] == "WARNING" and warning["logger"] == ROOT_LOGGER
    assert warning["message"] == "ledger: the row abc cannot be read"
