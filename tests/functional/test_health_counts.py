"""Which ends count in a customer's health: every failure that is not about the person.

A misconfigured plug (a custom field the Salesforce org lacks: every lead answered INVALID_FIELD) pauses after
HEALTH_FAILURES leads, reports the pause once, and answers 502 `customer_paused` after that, sending nothing;
refusals are answers about the person and reset the count; a lead that never left because no time was left is
not the customer's failure. The customer is the Salesforce sandbox on 127.0.0.1.
"""

from __future__ import annotations

import json

import pytest

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.leads import make_lead
from tests.support.rollbar_catcher import RollbarCatcher
from tests.support.translog import transition_lines

FAILURES = 3
MISCONFIGURED = {"SALESFORCE_CUSTOM_FIELDS": json.dumps({"Product__c": "product"})}  # the org has no Product__c


@pytest.fixture
def sandbox_and_rollbar():
    with SalesforceSandbox() as sandbox, RollbarCatcher() as rollbar:
        yield sandbox, rollbar


def health_env(sandbox, rollbar, tmp_path, **extra: str) -> dict[str, str]:
    return salesforce_env(sandbox.base_url, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}",
                          HEALTH_FAILURES=str(FAILURES), HEALTH_PAUSE_S="60", ROLLBAR_ACCESS_TOKEN="t",
                          ROLLBAR_ENDPOINT=rollbar.endpoint, **extra)


def lead_posts(sandbox: SalesforceSandbox) -> int:
    return len([item for item in sandbox.journal.matching("/sobjects/Lead") if item.method == "POST"])


def pauses(caplog: pytest.LogCaptureFixture) -> list[dict]:
    return [line for line in transition_lines(caplog) if line.get("to") == "paused"]


def test_a_misconfiguration_pauses_after_n_leads_once_and_answers_customer_paused(
        plug_for, sandbox_and_rollbar, tmp_path, caplog):
    sandbox, rollbar = sandbox_and_rollbar
    plug = plug_for(health_env(sandbox, rollbar, tmp_path, **MISCONFIGURED))
    reasons = [plug.post(make_lead())[1]["error"]["reason"] for _ in range(FAILURES)]
    assert reasons == ["customer_rejected_request"] * FAILURES  # never a refusal of the person
    sent = lead_posts(sandbox)
    later = [plug.post(make_lead()) for _ in range(2)]
    assert [(status, envelope["error"]["reason"]) for status, envelope in later] == [(502, "customer_paused")] * 2
    assert lead_posts(sandbox) == sent  # nothing sent while paused
    paused, = pauses(caplog)  # the pause is logged once
    assert paused["reason"] == "customer_rejected_request"
    alarms = [item for item in rollbar.items if item["data"].get("custom", {}).get("health") == "paused"]
    assert len(alarms) == 1  # and reported once


def test_refusals_about_the_person_do_not_pause_the_customer(plug_for, sandbox_and_rollbar, tmp_path, caplog):
    sandbox, rollbar = sandbox_and_rollbar
    plug = plug_for(health_env(sandbox, rollbar, tmp_path))
    outside = [plug.post(make_lead(address={"country": "US"})) for _ in range(FAILURES + 1)]
    assert {(status, envelope["error"]["reason"]) for status, envelope in outside} == \
        {(406, "FIELD_CUSTOM_VALIDATION_EXCEPTION")}
    assert plug.post(make_lead())[0] == 201
    assert pauses(caplog) == []


def test_a_refusal_between_failures_resets_the_count(plug_for, sandbox_and_rollbar, tmp_path, caplog):
    sandbox, rollbar = sandbox_and_rollbar
    plug = plug_for(health_env(sandbox, rollbar, tmp_path))
    locked = [make_lead(email=f"lead+lock+{n}@exemple.fr") for n in range(2 * FAILURES)]
    for lead in locked[:FAILURES - 1]:
        assert plug.post(lead)[1]["error"]["reason"] == "customer_error"
    assert plug.post(make_lead(address={"country": "US"}))[0] == 406  # an answer about the person
    for lead in locked[FAILURES:2 * FAILURES - 1]:
        assert plug.post(lead)[1]["error"]["reason"] == "customer_error"
    assert pauses(caplog) == []


def test_a_lead_that_never_left_because_no_time_was_left_does_not_count(
        plug_for, sandbox_and_rollbar, tmp_path, caplog):
    sandbox, rollbar = sandbox_and_rollbar
    # A Lambda with one second: the answer's margin leaves no time to call the customer at all.
    hurried = plug_for(health_env(sandbox, rollbar, tmp_path), lambda_timeout=1)
    for _ in range(FAILURES + 1):
        status, envelope = hurried.post(make_lead())
        assert (status, envelope["error"]["reason"]) == (502, "customer_timeout")
    assert sandbox.journal.requests == []  # the customer was never asked
    assert pauses(caplog) == []
    patient = plug_for(health_env(sandbox, rollbar, tmp_path))  # the same ledger, so the same health
    assert patient.post(make_lead())[0] == 201
