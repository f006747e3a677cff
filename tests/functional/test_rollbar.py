"""Rollbar: a 500 is an error with its traceback, a 502 a warning; items arrive before the answer leaves.

A local catcher stands in for Rollbar's API (ROLLBAR_ENDPOINT); the items read here are the real payloads
pyrollbar sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from dispatcher import integrations
from tests.conftest import salesforce_env
from tests.support.faulty import FaultyCustomer
from tests.support.leads import make_lead
from tests.support.rollbar_catcher import RollbarCatcher

ROLLBAR_BUDGET_S = 1.0  # dispatcher/reporting.py waits for a Rollbar item this long at most before answering
# Correctness, not speed: a loaded machine may answer seconds late; a plug without the budget would wait for the
# hanging Rollbar (60 s in tests/support/faulty.py).
ROLLBAR_MARGIN_S = 3.0


@pytest.fixture
def catcher() -> Iterator[RollbarCatcher]:
    with RollbarCatcher() as running:
        yield running


def rollbar_env(base_url: str, catcher: RollbarCatcher, token: str = "test-rollbar-token",
                **extra: str) -> dict[str, str]:
    return salesforce_env(base_url, ROLLBAR_ACCESS_TOKEN=token, ROLLBAR_ENDPOINT=catcher.endpoint, **extra)


def test_a_customer_failure_is_reported_as_a_warning_before_the_answer(plug_for, catcher):
    lead = make_lead()
    with FaultyCustomer("html503") as customer:
        plug = plug_for(rollbar_env(customer.base_url, catcher, CODE_VERSION="0a1b2c3"))
        status, _ = plug.post(lead)
    assert status == 502
    assert len(catcher.items) == 1, "the item was flushed before the answer came back"
    data = catcher.items[0]["data"]
    assert data["level"] == "warning"
    assert data["environment"] == "test"
    assert data["code_version"] == "0a1b2c3"
    assert data["custom"] == {"customer_id": "salesforce", "lead_id": lead["id"],
                              "trace_id": data["custom"]["trace_id"], "state": "failed",
                              "reason": "customer_error", "status": 502}


def test_an_internal_error_is_reported_with_its_traceback_and_without_personal_data(
        plug_for, catcher, salesforce, monkeypatch, caplog):
    monkeypatch.setitem(integrations.MODULES, "broken", "tests.support.broken_integration")
    lead = make_lead(first_name="Zéphyrine", last_name="Quatrebarbe")
    plug = plug_for(rollbar_env(salesforce.base_url, catcher, CUSTOMER="broken", CUSTOMER_ID="Broken Co"))
    status, envelope = plug.post(lead)
    assert status == 500
    assert envelope["error"] == {"state": "failed", "reason": "internal_error"}
    assert envelope["request_details"] == {}
    assert len(catcher.items) == 1
    data = catcher.items[0]["data"]
    assert data["level"] == "error"
    trace = data["body"]["trace"]
    assert trace["exception"]["class"] == "KeyError"
    assert any(frame["method"] == "translate" for frame in trace["frames"])
    assert all("locals" not in frame and "args" not in frame for frame in trace["frames"])
    assert data["custom"]["reason"] == "internal_error" and data["custom"]["status"] == 500
    assert data["custom"]["customer_id"] == "broken-co"
    raw = catcher.raw[0]
    for personal in (lead["email"], "Zéphyrine", "Quatrebarbe", lead["phone"], lead["address"]["street"]):
        assert personal not in raw and json.dumps(personal)[1:-1] not in raw
    # the cause is on the deployment's own log too: one masked line, whether or not Rollbar is set up
    failures = [json.loads(record.getMessage()) for record in caplog.records if record.name == "leadplug.failures"]
    assert len(failures) == 1
    line = failures[0]
    assert (line["event"], line["customer"], line["exception"]) == ("internal_error", "broken-co", "KeyError")
    assert "def translate" in line["traceback"] or "translate" in line["traceback"]
    assert line["trace_id"] == data["custom"]["trace_id"]
    for personal in (lead["email"], "Zéphyrine", "Quatrebarbe", lead["phone"]):
        assert personal not in json.dumps(line, ensure_ascii=False)


def test_an_empty_token_disables_reporting_quietly(plug_for, catcher):
    with FaultyCustomer("html503") as customer:
        plug = plug_for(rollbar_env(customer.base_url, catcher, token=""))
        status, _ = plug.post(make_lead())
    assert status == 502
    assert catcher.items == []


def test_accepted_refused_and_invalid_leads_are_not_reported(plug_for, catcher, salesforce):
    plug = plug_for(rollbar_env(salesforce.base_url, catcher))
    assert plug.post(make_lead())[0] == 201
    assert plug.post(make_lead(address={"country": "US"}))[0] == 406
    assert plug.post({"id": "x"})[0] == 400
    assert catcher.items == []


def test_a_rollbar_that_is_down_does_not_change_the_answer(plug_for, salesforce):
    from tests.support.project import free_port

    env = salesforce_env("http://127.0.0.1:1", ROLLBAR_ACCESS_TOKEN="t",
                         ROLLBAR_ENDPOINT=f"http://127.0.0.1:{free_port()}/api/1/")
    status, envelope = plug_for(env).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (502, "customer_unreachable")


def test_a_hanging_rollbar_holds_the_answer_no_longer_than_its_budget(plug_for):
    with FaultyCustomer("html503") as customer, FaultyCustomer("hang") as rollbar:
        plug = plug_for(salesforce_env(customer.base_url, ROLLBAR_ACCESS_TOKEN="t",
                                       ROLLBAR_ENDPOINT=rollbar.base_url + "/api/1/"))
        started = time.monotonic()
        status, _ = plug.post(make_lead())
        elapsed = time.monotonic() - started
    assert status == 502
    assert len(rollbar.lead_posts) == 1, "the item did reach Rollbar"
    assert elapsed < ROLLBAR_BUDGET_S + ROLLBAR_MARGIN_S, f"answered after {elapsed:.1f} s"
