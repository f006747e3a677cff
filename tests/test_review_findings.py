"""Regressions for what the code review found: odd customer answers, garbled ids, unknown ends, slow Rollbar."""

from __future__ import annotations

import json
import time

from dispatcher import integrations
from tests.conftest import salesforce_env
from tests.support.faulty import FaultyCustomer
from tests.support.leads import make_lead
from tests.support.scripted import ScriptedSalesforce
from tests.support.translog import transition_lines


def raw_post(plug, lead) -> tuple[int, bytes]:
    response = plug.client.http.post("/send", headers={"Content-Type": "application/json"},
                                     body=json.dumps(lead).encode())
    return response.status_code, response.body


def test_a_deeply_nested_customer_answer_is_shown_as_text_not_a_crash(plug_for):
    deep = b'{"a": ' * 520 + b"1" + b"}" * 520
    with ScriptedSalesforce(lead=(201, deep)) as customer:
        status, envelope = plug_for(salesforce_env(customer.base_url)).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (502, "bad_customer_response")
    assert envelope["response_details"]["body"].startswith('{"a": {"a":')


def test_nan_in_a_customer_answer_never_makes_the_envelope_invalid_json(plug_for):
    with ScriptedSalesforce(lead=(201, b'{"id": "00Q1", "success": true, "score": NaN}')) as customer:
        status, body = raw_post(plug_for(salesforce_env(customer.base_url)), make_lead())
    assert status == 502
    envelope = json.loads(body, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert envelope["error"]["reason"] == "bad_customer_response"


def test_an_id_holding_a_short_name_stays_whole_in_the_log(plug, caplog):
    lead = make_lead(id="7c1ed0a4-0abe-11c0ffee", first_name="Ed", last_name="Abe")
    assert plug.post(lead)[0] == 201
    assert [line["lead_id"] for line in transition_lines(caplog)] == ["7c1ed0a4-0abe-11c0ffee"] * 4


def test_an_id_that_is_the_persons_email_is_masked_in_the_log(plug, caplog):
    lead = make_lead()
    lead["id"] = lead["email"]
    plug.post(lead)
    assert {line["lead_id"] for line in transition_lines(caplog)} == {"[masked]"}
    assert lead["email"] not in caplog.text


def test_an_end_the_status_table_does_not_know_is_our_bug_not_a_success(plug_for, salesforce, monkeypatch):
    monkeypatch.setitem(integrations.MODULES, "unknown_outcome", "tests.support.unknown_outcome_integration")
    plug = plug_for(salesforce_env(salesforce.base_url, CUSTOMER="unknown_outcome"))
    status, envelope = plug.post(make_lead())
    assert (status, envelope["error"]) == (500, {"state": "failed", "reason": "internal_error"})
    assert "customer_lead_id" not in envelope


def test_a_hanging_rollbar_holds_the_answer_one_second_at_most(plug_for):
    with FaultyCustomer("html503") as customer, FaultyCustomer("hang") as rollbar:
        plug = plug_for(salesforce_env(customer.base_url, ROLLBAR_ACCESS_TOKEN="t",
                                       ROLLBAR_ENDPOINT=rollbar.base_url + "/api/1/"))
        started = time.monotonic()
        status, _ = plug.post(make_lead())
        elapsed = time.monotonic() - started
    assert status == 502
    assert len(rollbar.lead_posts) == 1, "the item did reach Rollbar"
    assert elapsed < 1.8
