"""Zoho CRM through the app in process (chalice.test.Client), against an emulator on 127.0.0.1 answering as Zoho
documents (sandbox/zoho.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.zoho import ZohoSandbox
from tests.support.customers import fixture_cases, zoho_env
from tests.support.envelopes import assert_envelope
from tests.support.leads import make_lead


@pytest.fixture
def zoho() -> Iterator[ZohoSandbox]:
    server = ZohoSandbox().start()
    yield server
    server.stop()


def test_the_fixtures_answer_201_409_406(plug_for, zoho):
    plug = plug_for(zoho_env(zoho))
    for name, lead, expected in fixture_cases("zoho"):
        status, envelope = plug.post(lead)
        assert_envelope(status, envelope)
        assert status == expected["status"], (name, envelope)
        if status == 201:
            assert zoho.leads[envelope["customer_lead_id"]]["Email"] == lead["email"]
            assert envelope["response_details"]["data"][0]["code"] == "SUCCESS"
        else:
            assert (envelope["error"]["state"], envelope["error"]["reason"]) == (expected["state"], expected["reason"])
    posted = zoho.journal.matching("/crm/v8/Leads")
    assert posted[0].headers["authorization"].startswith("Zoho-oauthtoken 1000.")
    assert len(zoho.journal.matching("/oauth/v2/token")) == 1  # the token is cached between leads


def test_an_expired_token_is_refreshed_once_and_the_lead_sent_again(plug_for, zoho):
    plug = plug_for(zoho_env(zoho))
    assert plug.post(make_lead())[0] == 201
    zoho.expire_tokens()
    status, envelope = plug.post(make_lead())
    assert status == 201, envelope
    assert len(zoho.journal.matching("/oauth/v2/token")) == 2
    assert len(zoho.journal.matching("/crm/v8/Leads")) == 3


@pytest.mark.parametrize(("env", "status", "reason"), [
    pytest.param({"ZOHO_CLIENT_SECRET": "wrong"}, 401, "unauthorized", id="invalid-client-answered-200"),
    pytest.param({"ZOHO_REFRESH_TOKEN": "1000.revoked"}, 401, "unauthorized", id="unknown-refresh-token"),
    pytest.param({"ZOHO_API_VERSION": "v9"}, 404, "customer_api_not_found", id="invalid-url-pattern"),
])
def test_configuration_mistakes_answer_with_their_status(plug_for, zoho, env, status, reason):
    answered, envelope = plug_for(zoho_env(zoho, **env)).post(make_lead())
    assert (answered, envelope["error"]["reason"]) == (status, reason)
    assert "sandbox-zoho-client-secret" not in str(envelope)


def test_a_field_zoho_makes_mandatory_is_named_as_a_lead_field(plug_for):
    zoho = ZohoSandbox(mandatory=("Last_Name", "Street")).start()
    try:
        status, envelope = plug_for(zoho_env(zoho)).post(make_lead(address={"city": "Lyon", "country": "FR"}))
    finally:
        zoho.stop()
    assert status == 400
    assert envelope["error"] == {"state": "failed", "reason": "invalid_lead", "missing_fields": ["address.street"],
                                 "invalid_fields": []}


def test_zoho_failing_is_a_502(plug_for, zoho):
    status, envelope = plug_for(zoho_env(zoho)).post(make_lead(email="elodie+error500@exemple.fr"))
    assert (status, envelope["error"]["reason"]) == (502, "customer_error")

