"""A customer's health: pause after exactly N customer failures in a row, send nothing while
paused, let one lead probe after the pause, resume on its success, pause again on its failure.

The customer is the Salesforce sandbox, which fails on demand (`+error500` in an email: HTTP 500).
"""

from __future__ import annotations

import json
import time
from datetime import datetime

import pytest

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.leads import make_lead
from tests.support.rollbar_catcher import RollbarCatcher
from tests.support.translog import transition_lines

FAILURES, PAUSE_S = 3, 1.0


def failing_lead() -> dict:
    return make_lead(email=f"lead+error500+{make_lead()['id']}@exemple.fr")


def health_lines(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [line for line in transition_lines(caplog) if "customer" in line]


@pytest.fixture
def paused_plug(plug_for, tmp_path):
    """A plug whose customer just failed FAILURES times in a row, and the sandbox behind it."""
    with SalesforceSandbox() as sandbox, RollbarCatcher() as rollbar:
        plug = plug_for(salesforce_env(sandbox.base_url, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}",
                                       HEALTH_FAILURES=str(FAILURES), HEALTH_PAUSE_S=str(PAUSE_S),
                                       ROLLBAR_ACCESS_TOKEN="t", ROLLBAR_ENDPOINT=rollbar.endpoint))
        yield plug, sandbox, rollbar


def test_the_customer_pauses_after_exactly_n_failures_and_nothing_is_sent_meanwhile(paused_plug, caplog):
    plug, sandbox, rollbar = paused_plug
    for _ in range(FAILURES - 1):
        assert plug.post(failing_lead())[0] == 502
    assert health_lines(caplog) == []  # not yet
    started = time.time()
    assert plug.post(failing_lead())[1]["error"]["reason"] == "customer_error"  # the Nth: the pause starts
    received = len(sandbox.journal.requests)
    status, envelope = plug.post(make_lead())
    assert (status, envelope["error"]["reason"]) == (502, "customer_paused")
    until = datetime.fromisoformat(envelope["error"]["paused_until"].replace("Z", "+00:00"))
    # the pause runs PAUSE_S from the Nth failure (written to the second): no assumption on how fast the machine is
    assert started + PAUSE_S - 1 <= until.timestamp() <= time.time() + PAUSE_S
    assert len(sandbox.journal.requests) == received  # never sent
    paused, = health_lines(caplog)
    assert (paused["from"], paused["to"], paused["trigger"], paused["reason"]) == ("delivering", "paused", "pause",
                                                                                    "customer_error")
    warnings = [item for item in rollbar.items if "paused" in json.dumps(item)]
    assert len(warnings) == 1  # one warning for the pause, not one per lead


def test_after_the_pause_one_lead_probes_and_its_success_resumes_delivery(paused_plug, caplog):
    plug, _, rollbar = paused_plug
    for _ in range(FAILURES):
        plug.post(failing_lead())
    time.sleep(PAUSE_S + 0.2)
    assert plug.post(make_lead())[0] == 201  # the probe
    assert plug.post(make_lead())[0] == 201  # delivery resumed
    assert [line["to"] for line in health_lines(caplog)] == ["paused", "delivering"]
    assert sum("resumed" in json.dumps(item) for item in rollbar.items) == 1


def test_a_failing_probe_starts_a_new_pause(paused_plug, caplog):
    plug, _, _ = paused_plug
    for _ in range(FAILURES):
        plug.post(failing_lead())
    time.sleep(PAUSE_S + 0.2)
    assert plug.post(failing_lead())[1]["error"]["reason"] == "customer_error"  # the probe fails
    assert plug.post(make_lead())[1]["error"]["reason"] == "customer_paused"  # at once, not after N more
    assert [line["to"] for line in health_lines(caplog)] == ["paused", "paused"]


def test_answers_are_not_failures_and_an_answer_resets_the_count(paused_plug):
    plug, _, _ = paused_plug
    for _ in range(FAILURES - 1):
        plug.post(failing_lead())
    assert plug.post(make_lead(address={"country": "US"}))[0] == 406  # a refusal is an answer
    for _ in range(FAILURES - 1):
        plug.post(failing_lead())
    assert plug.post(make_lead())[0] == 201  # still delivering: the refusal reset the count
