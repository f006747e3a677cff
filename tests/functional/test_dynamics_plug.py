"""Dynamics 365 through the app in process (chalice.test.Client), against its sandbox on 127.0.0.1 answering as
Dataverse and Entra ID document (sandbox/dynamics.py): the fixtures, duplicates, refusals, errors, the token's
expiry, and a lead in doubt found by its search."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.dynamics import CLIENT_ID, CLIENT_SECRET, TENANT_ID, DynamicsSandbox
from tests.support.customers import COMMON, fixture_cases
from tests.support.envelopes import assert_envelope
from tests.support.leads import make_lead


def dynamics_env(sandbox: DynamicsSandbox, **extra: str) -> dict[str, str]:
    """The variables of a dynamics stage, pointed at the sandbox (its token endpoint included)."""
    return {**COMMON, "CUSTOMER": "dynamics", "DYNAMICS_ORG_URL": sandbox.base_url, "DYNAMICS_TENANT_ID": TENANT_ID,
            "DYNAMICS_CLIENT_ID": CLIENT_ID, "DYNAMICS_CLIENT_SECRET": CLIENT_SECRET,
            "DYNAMICS_TOKEN_URL": f"{sandbox.base_url}/{TENANT_ID}/oauth2/v2.0/token", **extra}


@pytest.fixture
def dynamics() -> Iterator[DynamicsSandbox]:
    with DynamicsSandbox() as server:
        yield server


def with_tag(tag: str) -> dict[str, Any]:
    lead = make_lead()
    lead["email"] = lead["email"].replace("@", f"+{tag}@")
    return lead


def test_the_fixtures_get_what_expected_json_says(plug_for, dynamics):
    plug = plug_for(dynamics_env(dynamics))
    for name, lead, expected in fixture_cases("dynamics"):
        status, envelope = plug.post(lead)
        assert_envelope(status, envelope)
        assert status == expected["status"], (name, envelope)
        if status == 201:
            assert dynamics.leads[envelope["customer_lead_id"]] == envelope["request_details"]
        else:
            assert (envelope["error"]["state"], envelope["error"]["reason"]) == (expected["state"], expected["reason"])
    creates = dynamics.journal.matching("/api/data/v9.2/leads")
    assert {request.headers["mscrm.suppressduplicatedetection"] for request in creates} == {"false"}
    token_requests = dynamics.journal.matching("/oauth2/v2.0/token")
    assert len(token_requests) == 1  # cached between leads
    assert token_requests[0].form()["scope"] == f"{dynamics.base_url}/.default"
    assert CLIENT_SECRET not in str(envelope)


def test_a_row_asked_with_its_representation_is_read_from_the_body(dynamics):
    from dispatcher.integrations.dynamics import from_env
    from dispatcher.transport import Answer

    integration = from_env(dynamics_env(dynamics))
    answer = Answer(201, b'{"leadid": "6f1c2a2e-8d1b-4c55-9d6e-0a1b2c3d4e5f", "lastname": "X"}', "application/json")
    assert integration.classify(answer).customer_lead_id == "6f1c2a2e-8d1b-4c55-9d6e-0a1b2c3d4e5f"


def test_a_wrong_secret_is_entras_invalid_client_a_401(plug_for, dynamics):
    status, envelope = plug_for(dynamics_env(dynamics, DYNAMICS_CLIENT_SECRET="wrong-secret")).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (401, "unauthorized")
    assert envelope["response_details"]["error"] == "invalid_client"
    assert "wrong-secret" not in str(envelope)
    assert dynamics.leads == {}


@pytest.mark.parametrize(("tag", "customer_status"), [
    pytest.param("error500", 500, id="failing"),
    pytest.param("error503", 503, id="maintenance-page"),
])
def test_a_failing_dataverse_is_a_502_and_the_lead_is_sent_once(plug_for, dynamics, tag, customer_status):
    status, envelope = plug_for(dynamics_env(dynamics)).post(with_tag(tag))
    assert (status, envelope["error"]["reason"]) == (502, "customer_error")
    assert envelope["response_details"]["http_status_code"] == customer_status
    assert len(dynamics.journal.matching("/leads")) == 1


def test_a_service_protection_limit_is_a_502_passing_retry_after_on(plug_for, dynamics):
    status, envelope = plug_for(dynamics_env(dynamics)).post(with_tag("limit"))
    assert (status, envelope["error"]["reason"], envelope["error"]["retry_after_s"]) == (502, "customer_error", 30)
    assert envelope["response_details"]["error"]["code"] == "0x80072322"


def test_a_value_too_long_for_its_column_is_refused_with_dataverses_code(plug_for, dynamics):
    status, envelope = plug_for(dynamics_env(dynamics)).post(make_lead(first_name="Marie-" + "x" * 60))
    assert (status, envelope["error"]["reason"]) == (406, "0x80044331")


def test_an_expired_token_is_refreshed_once_and_the_lead_created(plug_for, dynamics):
    plug = plug_for(dynamics_env(dynamics))
    assert plug.post(make_lead())[0] == 201
    dynamics.expire_tokens()
    status, envelope = plug.post(make_lead())
    assert status == 201, envelope
    assert len(dynamics.journal.matching("/oauth2/v2.0/token")) == 2
    assert len(dynamics.journal.matching("/api/data/v9.2/leads")) == 3  # the 401, then the lead again
    assert len(dynamics.leads) == 2


def test_a_token_is_replaced_before_its_expires_in_runs_out(plug_for):
    with DynamicsSandbox(token_lifetime_s=1) as short_lived:
        plug = plug_for(dynamics_env(short_lived))
        assert plug.post(make_lead())[0] == 201
        time.sleep(1.2)  # the token's whole life: the next lead must not set off with it
        assert plug.post(make_lead())[0] == 201
    assert len(short_lived.journal.matching("/oauth2/v2.0/token")) == 2
    assert len(short_lived.journal.matching("/api/data/v9.2/leads")) == 2  # no 401 on the way


def ledger_env(dynamics: DynamicsSandbox, tmp_path: Any) -> dict[str, str]:
    return dynamics_env(dynamics, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}", CUSTOMER_TIMEOUT_S="1")


def test_in_doubt_then_found_by_email_and_creation_time(plug_for, dynamics, tmp_path):
    plug = plug_for(ledger_env(dynamics, tmp_path))
    lead = with_tag("slowanswer")
    first = plug.post(lead)
    assert (first[0], first[1]["error"]["reason"]) == (502, "customer_timeout")
    status, envelope = plug.post(lead)
    assert status == 201, envelope
    assert envelope["customer_lead_id"] in dynamics.leads and len(dynamics.leads) == 1
    assert envelope["previous_attempt"]["reason"] == "customer_timeout"
    search = dynamics.journal.matching("filter=")[0].path
    assert "emailaddress1+eq+%27" in search and "createdon+ge+" in search  # OData, URL-encoded


def test_in_doubt_and_not_found_is_delivered_again(plug_for, dynamics, tmp_path):
    plug = plug_for(ledger_env(dynamics, tmp_path))
    lead = with_tag("noanswer")
    assert plug.post(lead)[1]["error"]["reason"] == "customer_timeout"
    status, envelope = plug.post(lead)
    assert status == 201, envelope
    assert envelope["previous_attempt"]["trace_id"] and len(dynamics.leads) == 1


def test_a_quote_in_the_email_is_doubled_in_the_search(dynamics, tmp_path):
    from dispatcher.integrations.dynamics import from_env

    request = from_env(dynamics_env(dynamics)).find_request(make_lead(email="o'neil@exemple.fr"),
                                                           since=__import__("datetime").datetime.now().astimezone())
    assert request.params["$filter"].startswith("emailaddress1 eq 'o''neil@exemple.fr' and createdon ge ")
