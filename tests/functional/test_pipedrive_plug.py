"""Pipedrive through the app in process, against its sandbox (sandbox/pipedrive.py): a person (API v2) then its lead
(API v1). Whatever fails between the two calls, the platform's retry leaves exactly one person and one lead."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.pipedrive import TOKEN, PipedriveSandbox
from tests.support.customers import COMMON, fixture_cases
from tests.support.dynamodb import create_ledger_table, emulator_client, emulator_environment
from tests.support.envelopes import assert_envelope
from tests.support.leads import make_lead


def pipedrive_env(sandbox: PipedriveSandbox, **extra: str) -> dict[str, str]:
    """The variables of a pipedrive stage, pointed at the sandbox on its test port."""
    return {**COMMON, "CUSTOMER": "pipedrive", "PIPEDRIVE_API_URL": sandbox.base_url, "PIPEDRIVE_API_TOKEN": TOKEN,
            **extra}


@pytest.fixture
def pipedrive() -> Iterator[PipedriveSandbox]:
    with PipedriveSandbox() as server:
        yield server


def with_tag(tag: str) -> dict[str, Any]:
    lead = make_lead()
    lead["email"] = lead["email"].replace("@", f"+{tag}@")
    return lead


def held(sandbox: PipedriveSandbox, lead: dict[str, Any]) -> tuple[int, int]:
    """(persons, leads) the customer holds for this lead's email."""
    persons = [pid for pid, person in sandbox.persons.items() if person["emails"][0]["value"] == lead["email"]]
    return len(persons), sum(found["person_id"] in persons for found in sandbox.leads.values())


def test_the_fixtures_get_what_expected_json_says(plug_for, pipedrive):
    plug = plug_for(pipedrive_env(pipedrive, PIPEDRIVE_REFUSE_DUPLICATES="true"))
    envelopes = {}
    for name, lead, expected in fixture_cases("pipedrive"):
        status, envelopes[name] = plug.post(lead)
        assert_envelope(status, envelopes[name])
        assert status == expected["status"], (name, envelopes[name])
    created = envelopes["01-created.json"]
    lead = pipedrive.leads[created["customer_lead_id"]]
    person = pipedrive.persons[lead["person_id"]]
    assert created["request_details"] == {"person": {key: person[key] for key in ("name", "emails", "phones")},
                                          "lead": {"title": lead["title"]}}
    assert envelopes["02-duplicate.json"]["error"] == {"state": "duplicate", "reason": "duplicate",
                                                       "existing_customer_lead_id": person["id"]}
    assert len(pipedrive.persons) == len(pipedrive.leads) == 1
    assert {request.headers["x-api-token"] for request in pipedrive.journal.requests} == {TOKEN}
    assert TOKEN not in str(envelopes)


def test_without_the_duplicate_setting_pipedrive_keeps_a_second_person(plug_for, pipedrive):
    plug = plug_for(pipedrive_env(pipedrive))
    lead = make_lead()
    assert plug.post(lead)[0] == plug.post({**lead, "id": lead["id"] + "-again"})[0] == 201
    assert held(pipedrive, lead) == (2, 2)
    assert pipedrive.journal.matching("/search") == []  # no search unless asked, or in doubt


def test_a_wrong_token_is_a_401(plug_for, pipedrive):
    status, envelope = plug_for(pipedrive_env(pipedrive, PIPEDRIVE_API_TOKEN="wrong-token")).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (401, "unauthorized")
    assert "wrong-token" not in str(envelope)


@pytest.mark.parametrize(("tag", "customer_status"), [
    pytest.param("error500", 500, id="failing"),
    pytest.param("error503", 503, id="maintenance-page"),
    pytest.param("limit", 429, id="rate-limited-never-retried"),
    pytest.param("capped", 403, id="account-at-its-persons-limit-is-its-state-not-our-access"),
])
def test_a_failing_person_call_is_a_502_and_no_lead_is_asked(plug_for, pipedrive, tag, customer_status):
    status, envelope = plug_for(pipedrive_env(pipedrive)).post(with_tag(tag))
    assert (status, envelope["error"]["reason"]) == (502, "customer_error")
    assert envelope["response_details"]["http_status_code"] == customer_status
    assert len(pipedrive.journal.requests) == 1 and pipedrive.leads == {}
    if tag == "limit":
        assert envelope["error"]["retry_after_s"] == 2


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request: pytest.FixtureRequest, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """The LEDGER setting of a plug whose claims and remembered steps live in that store: a SQLite file, or a
    table of DynamoDB through moto's server (boto3 finds it through the environment, as in production)."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'ledger.sqlite3'}"
    endpoint = request.getfixturevalue("dynamodb_endpoint")
    for name, value in emulator_environment(endpoint).items():
        monkeypatch.setenv(name, value)
    table = f"pipedrive-ledger-{time.monotonic_ns()}"
    create_ledger_table(emulator_client(endpoint), table)
    return f"dynamodb:{table}"


def ledger_env(pipedrive: PipedriveSandbox, ledger: str, **extra: str) -> dict[str, str]:
    return pipedrive_env(pipedrive, LEDGER=ledger, CUSTOMER_TIMEOUT_S="1", **extra)


@pytest.mark.parametrize("refuse_duplicates", ["false", "true"])
@pytest.mark.parametrize(("tag", "first_reason"), [
    pytest.param("leaderror", "customer_error", id="lead-call-fails"),
    pytest.param("leadnoanswer", "customer_timeout", id="lead-call-unanswered-nothing-kept"),
    pytest.param("leadslow", "customer_timeout", id="lead-call-late-lead-kept"),
    pytest.param("slowanswer", "customer_timeout", id="person-call-late-person-kept"),
    pytest.param("noanswer", "customer_timeout", id="person-call-unanswered-nothing-kept"),
])
def test_a_retry_after_any_failure_leaves_one_person_and_one_lead(plug_for, pipedrive, ledger, tag, first_reason,
                                                                  refuse_duplicates):
    plug = plug_for(ledger_env(pipedrive, ledger, PIPEDRIVE_REFUSE_DUPLICATES=refuse_duplicates))
    lead = with_tag(tag)
    first = plug.post(lead)
    assert (first[0], first[1]["error"]["reason"]) == (502, first_reason)
    status, envelope = plug.post(lead)
    assert status == 201, envelope  # never 409 naming the person our own first attempt created
    assert held(pipedrive, lead) == (1, 1)
    assert envelope["customer_lead_id"] in pipedrive.leads
    assert plug.post(lead)[0] == 201 and held(pipedrive, lead) == (1, 1)  # and a third time: replayed


def test_without_a_ledger_a_retry_creates_a_second_person(plug_for, pipedrive):
    plug = plug_for(pipedrive_env(pipedrive, LEDGER="off"))
    lead = with_tag("leaderror")
    assert plug.post(lead)[0] == 502
    assert plug.post(lead)[0] == 201
    assert held(pipedrive, lead) == (2, 1)  # what LEDGER=off accepts, and what the ledger prevents


def test_in_doubt_the_lead_goes_to_the_person_our_attempt_created_not_an_older_one(plug_for, pipedrive, tmp_path):
    lead = with_tag("slowanswer")
    pipedrive.persons[1] = {"id": 1, "name": "Someone earlier", "emails": [{"value": lead["email"]}],
                            "add_time": "2026-01-05T10:00:00.000Z"}  # the customer held this email already
    plug = plug_for(ledger_env(pipedrive, f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
    assert plug.post(lead)[1]["error"]["reason"] == "customer_timeout"
    status, envelope = plug.post(lead)
    assert status == 201, envelope
    ours = max(pipedrive.persons)
    assert ours != 1 and pipedrive.leads[envelope["customer_lead_id"]]["person_id"] == ours
    assert held(pipedrive, lead) == (2, 1)  # the older person, and ours with its one lead


def test_in_doubt_a_person_who_asked_many_times_is_found_not_failed(plug_for, pipedrive, tmp_path):
    lead = with_tag("leadslow")  # the person is created, the lead kept, its answer late
    plug = plug_for(ledger_env(pipedrive, f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
    for earlier in range(1, 10):  # nine persons with this email already, as Pipedrive keeps them
        pipedrive.persons[earlier] = {"id": earlier, "name": "Earlier", "emails": [{"value": lead["email"]}]}
    assert plug.post(lead)[1]["error"]["reason"] == "customer_timeout"
    status, envelope = plug.post(lead)
    assert status == 201, envelope
    assert envelope["customer_lead_id"] in pipedrive.leads and len(pipedrive.leads) == 1  # found, not sent again
