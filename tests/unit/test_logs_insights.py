"""The Logs Insights evaluator the docs' queries are checked with: what it answers, and that it refuses what it
does not understand (a doc query beyond its subset fails its test rather than passing unchecked)."""

from __future__ import annotations

import json

import pytest

from tests.support.logs_insights import UnsupportedQuery, run_query

LINES = [json.dumps(line) for line in (
    {"lead_id": "a", "to": "failed", "reason": "invalid_lead", "trigger": "fail", "ts": "2026-11-26T10:00:01Z"},
    {"lead_id": "b", "to": "failed", "reason": "customer_error", "trigger": "fail", "ts": "2026-11-26T10:00:02Z"},
    {"lead_id": "c", "to": "accepted", "reason": "created", "trigger": "replay", "ts": "2026-11-26T10:00:03Z"},
    {"lead_id": "c", "to": "sent", "reason": None, "trigger": "send", "ts": "2026-11-26T10:00:00Z"},
    {"customer": "x", "to": "paused", "trigger": "pause", "reason": "customer_error", "ts": "2026-11-26T10:00:04Z"},
)] + ["START RequestId: 1 Version: $LATEST"]


def test_filter_and_binds_tighter_than_or_and_stats_count_by():
    rows = run_query('filter trigger = "replay" or `to` = "failed" and reason != "invalid_lead" '
                     "| stats count(*) as n by `to`", LINES)
    assert sorted((row["to"], row["n"]) for row in rows) == [("accepted", 1), ("failed", 1)]


def test_in_ispresent_fields_and_sort():
    rows = run_query('fields lead_id, @timestamp | filter `to` in ["failed", "accepted", "sent"] and ispresent(reason)'
                     " | sort @timestamp desc | limit 2", LINES)
    assert rows == [{"lead_id": "c", "@timestamp": "2026-11-26T10:00:03Z"},
                    {"lead_id": "b", "@timestamp": "2026-11-26T10:00:02Z"}]


@pytest.mark.parametrize("query", ['filter reason like /error/', "stats avg(elapsed_ms) by reason",
                                   'parse @message "* *" as a, b', 'filter (a = "1" or b = "2")'])
def test_syntax_outside_the_subset_is_refused(query):
    with pytest.raises(UnsupportedQuery):
        run_query(query, LINES)
