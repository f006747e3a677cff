"""scripts/trace.py finds every id the schema accepts, in every log format it reads (tabs, line breaks,
invisible characters and quotes included).

The lines are the plug's own (its JsonFormatter), then as CloudWatch shows them: behind the Lambda runtime's
prefix, inside `aws logs filter-log-events` JSON, and as rows of the console's CSV export.
"""

from __future__ import annotations

import json
import logging

import pytest

from dispatcher.machine import LOGGER_NAME, JsonFormatter
from scripts.trace import lead_paths, transitions
from tests.support.leads import TRACEABLE_IDS

IDS = [
    *(pytest.param(lead_id, id=name) for name, lead_id in TRACEABLE_IDS.items()),
    pytest.param('"quoted"', id="quotes-around"),
    pytest.param('a""b', id="doubled-quotes-inside"),
    pytest.param("lead-ordinary-7c1e", id="ordinary"),
]
FORMATS = {
    "plug": lambda line: line,
    "lambda-prefixed": lambda line: f"2026-11-26T10:00:00.000Z\tc0ffee-1234\t{line}",
    "filter-log-events": lambda line: json.dumps({"events": [{"timestamp": 1, "message": line + "\n"}]}),
    "csv-export": lambda line: '1,"' + line.replace('"', '""') + '"',
}


def plug_line(lead_id: str, source: str, dest: str) -> str:
    fields = {"lead_id": lead_id, "trace_id": "t-1", "from": source, "to": dest, "trigger": "t", "reason": None,
              "elapsed_ms": 1.0}
    record = logging.LogRecord(LOGGER_NAME, logging.INFO, __file__, 1, "%s", (dest,), None)
    record.fields = fields
    return JsonFormatter().format(record)


@pytest.mark.parametrize("shown", FORMATS)
@pytest.mark.parametrize("lead_id", IDS)
def test_every_accepted_id_is_found_in_every_format(lead_id, shown):
    lines = [FORMATS[shown](plug_line(lead_id, "received", "validated")),
             FORMATS[shown](plug_line("other-lead", "received", "validated"))]
    paths = lead_paths(transitions(lines), lead_id)
    assert list(paths) == ["t-1"]
    assert [record["to"] for record in paths["t-1"]] == ["validated"]


def test_every_attempt_of_a_lead_is_shown_with_the_attempt_it_follows_or_replays():
    from scripts.trace import describe

    def line(trace: str, source: str, dest: str, trigger: str, **extra: object) -> dict:
        return {"lead_id": "lead-1", "trace_id": trace, "from": source, "to": dest, "trigger": trigger,
                "reason": extra.pop("reason", None), "elapsed_ms": 1.0, "ts": "2026-11-26T10:00:00.000Z", **extra}

    records = [line("t-1", "translated", "sent", "send"), line("t-1", "sent", "failed", "fail",
                                                               reason="customer_timeout"),
               line("t-2", "translated", "accepted", "find", reason="created", previous_trace_id="t-1"),
               line("t-3", "translated", "accepted", "replay", reason="created", replay_of="t-2")]
    paths = lead_paths(records, "lead-1")
    assert list(paths) == ["t-1", "t-2", "t-3"]
    assert "trace t-1 ended in doubt before this one" in describe("t-2", paths["t-2"])
    assert "replays the delivery of trace t-2: the customer was not called" in describe("t-3", paths["t-3"])
