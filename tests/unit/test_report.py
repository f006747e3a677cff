"""scripts/report.py's reading and arithmetic, on lines written by the plug's own formatter and metrics."""

from __future__ import annotations

import io
import json
import logging

import pytest

from dispatcher import metrics
from dispatcher.machine import LOGGER_NAME, JsonFormatter
from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings
from scripts import report
from scripts.report import Report, html_report, percentile, response_times, text_report

METRICS = LeadMetrics(MetricsSettings(namespace="LeadPlug", service="lead-plug", customer="acme"))


def transition_line(state: str, reason: str, ts: str = "2026-11-26T10:00:00.000Z") -> dict:
    record = logging.LogRecord(LOGGER_NAME, logging.INFO, __file__, 1, "%s", (state,), None)
    record.fields = {"lead_id": "lead-1", "trace_id": "t-1", "from": "sent", "to": state, "trigger": "t",
                     "reason": reason, "elapsed_ms": 1.0}
    line = json.loads(JsonFormatter().format(record))
    line["ts"] = ts
    return line


def metric_line(state: str, reason: str, response_ms: float | None) -> dict:
    return METRICS.document(LeadFacts(state, reason, response_ms, False, "t-1"), cold_start=False)


def test_the_report_reads_the_metric_the_plug_writes():
    assert report.RESPONSE_TIME == metrics.RESPONSE_TIME
    assert response_times(metric_line("accepted", "created", 123.5)) == [123.5]
    assert response_times(metric_line("failed", "invalid_lead", None)) == []


def test_a_member_named_like_the_metric_but_not_declared_is_not_a_response_time():
    document = {"_aws": {"CloudWatchMetrics": [{"Namespace": "X", "Dimensions": [[]], "Metrics": []}]},
                "ResponseTime": 5}
    assert response_times(document) == []


@pytest.mark.parametrize(("rank", "expected"), [(50, 50), (90, 90), (99, 99), (100, 100), (1, 1)])
def test_percentiles_are_nearest_rank(rank, expected):
    assert percentile([float(value) for value in range(1, 101)], rank) == expected


def test_a_single_value_is_every_percentile():
    assert {percentile([7.0], rank) for rank in (50, 90, 99)} == {7.0}


def test_leads_are_counted_by_their_terminal_move_only():
    folded = Report()
    for value in (transition_line("validated", None), transition_line("accepted", "created"),
                  transition_line("failed", "customer_timeout"), metric_line("accepted", "created", 80.0),
                  metric_line("failed", "customer_timeout", 1000.0)):
        folded.add(value)
    assert folded.ends == {("accepted", "created"): 1, ("failed", "customer_timeout"): 1}
    text = text_report(folded)
    assert "2 leads ended" in text and "2 requests sent" in text
    assert folded.response_ms_by_state == {"accepted": [80.0], "failed": [1000.0]}


def test_a_customers_code_is_shown_as_text_never_as_markup():
    folded = Report()
    folded.add(transition_line("refused", "<img src=x onerror=alert(1)>"))
    page = html_report(folded)
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_progress_is_told_on_a_long_read_and_not_on_a_short_one(monkeypatch):
    lines = [json.dumps(transition_line("accepted", "created")) + "\n"] * 10_000
    quiet = io.StringIO()
    list(report._with_progress(lines[:100], None, quiet))
    assert quiet.getvalue() == ""
    monkeypatch.setattr(report, "PROGRESS_EVERY_S", 0.0)
    told = io.StringIO()
    assert len(list(report._with_progress(lines, 10 * len(lines[0]) * 1000, told))) == 10_000
    assert "report: 4,096 lines read" in told.getvalue()
    assert told.getvalue().splitlines()[-1].startswith("report: 10,000 lines read in")
