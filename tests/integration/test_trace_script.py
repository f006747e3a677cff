"""scripts/trace.py prints a lead's path from the plug's own log and from CloudWatch's exports of it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import requests

from tests.support.leads import make_lead

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "trace.py"


def run_trace(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], input=stdin, capture_output=True, text=True,
                          timeout=30, check=False)


def test_the_path_of_a_lead_from_a_live_plug_log(local_plug):
    lead = make_lead(address={"country": "US"})
    assert requests.post(local_plug.url, json=lead, timeout=10).status_code == 406
    result = run_trace(lead["id"], str(local_plug.log_path))
    assert result.returncode == 0, result.stderr
    assert "received -> validated -> translated -> sent -> refused" in result.stdout
    assert "ended refused (FIELD_CUSTOM_VALIDATION_EXCEPTION)" in result.stdout


def test_cloudwatch_exports_are_understood(local_plug):
    lead = make_lead()
    assert requests.post(local_plug.url, json=lead, timeout=10).status_code == 201
    lines = [json.dumps(line) for line in local_plug.log_lines() if line["lead_id"] == lead["id"]]
    # the Lambda runtime's prefix, then the JSON of `aws logs filter-log-events`, then a console CSV export
    prefixed = "\n".join(f"2026-11-26T10:00:00.000Z\tc0ffee-1234\t{line}" for line in lines)
    events = json.dumps({"events": [{"timestamp": 1, "message": line + "\n"} for line in lines]})
    csv_rows = "timestamp,message\n" + "\n".join('1,"' + line.replace('"', '""') + '"' for line in lines)
    for text in (prefixed, events, csv_rows):
        result = run_trace(lead["id"], stdin=text)
        assert result.returncode == 0, result.stderr
        assert "received -> validated -> translated -> sent -> accepted" in result.stdout
        assert "ended accepted (created)" in result.stdout


def test_an_unknown_lead_says_so_and_fails():
    result = run_trace("no-such-lead", stdin='{"lead_id": "other"}\n')
    assert result.returncode == 1
    assert "no transition of lead 'no-such-lead'" in result.stderr
