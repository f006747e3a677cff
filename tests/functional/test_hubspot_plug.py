"""HubSpot through the app in process (chalice.test.Client), against its sandbox on 127.0.0.1 answering as
HubSpot documents (sandbox/hubspot.py); the fixtures are its own folder, fixtures/hubspot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.hubspot import TOKEN, UNSCOPED_TOKEN, HubSpotSandbox
from tests.support.customers import COMMON, fixture_cases
from tests.support.envelopes import assert_envelope
from tests.support.leads import make_lead


def hubspot_env(sandbox: HubSpotSandbox, **extra: str) -> dict[str, str]:
    """The variables of a hubspot stage, pointed at the sandbox on its test port."""
    return {**COMMON, "CUSTOMER": "hubspot", "HUBSPOT_API_URL": sandbox.base_url, "HUBSPOT_TOKEN": TOKEN, **extra}


@pytest.fixture
def hubspot() -> Iterator[HubSpotSandbox]:
    server = HubSpotSandbox().start()
    yield server
    server.stop()


def test_the_fixtures_get_what_expected_json_says(plug_for, hubspot):
    plug = plug_for(hubspot_env(hubspot))
    envelopes = {}
    for name, lead, expected in fixture_cases("hubspot"):
        status, envelope = plug.post(lead)
        assert_envelope(status, envelope)
        assert status == expected["status"], (name, envelope)
        if status == 201:
            assert hubspot.leads[envelope["customer_lead_id"]] == envelope["request_details"]["properties"]
        else:
            assert (envelope["error"]["state"], envelope["error"]["reason"]) == (expected["state"], expected["reason"])
        envelopes[name] = envelope
    person, business = envelopes["01-created.json"], envelopes["04-created-b2b.json"]
    assert "company" not in person["request_details"]["properties"]  # a person's name is not a company
    assert business["request_details"]["properties"]["company"] == "Boulangerie Perrot & Fils SARL"
    assert person["request_details"]["properties"]["lifecyclestage"] == "lead"
    assert envelopes["02-duplicate.json"]["error"]["existing_customer_lead_id"] == person["customer_lead_id"]
    assert envelopes["03-refused-invalid-email.json"]["error_message"] == \
        "HubSpot refused the lead: Email address camille.martin@exemple.invalid is invalid"
    posted = hubspot.journal.matching("/crm/v3/objects/contacts")
    assert {request.headers["authorization"] for request in posted} == {f"Bearer {TOKEN}"}
    assert TOKEN not in str(envelopes)


def test_a_duplicate_names_the_contact_hubspot_already_has(plug_for, hubspot):
    plug = plug_for(hubspot_env(hubspot))
    lead = make_lead()
    created = plug.post(lead)[1]
    status, envelope = plug.post({**lead, "id": lead["id"] + "-again", "email": lead["email"].upper()})
    assert status == 409
    assert envelope["error"] == {"state": "duplicate", "reason": "duplicate",
                                 "existing_customer_lead_id": created["customer_lead_id"]}
    assert envelope["response_details"]["category"] == "CONFLICT"


@pytest.mark.parametrize("token", [pytest.param("pat-eu1-wrong", id="wrong-token"),
                                   pytest.param(UNSCOPED_TOKEN, id="token-without-the-contacts-scope")])
def test_a_token_hubspot_does_not_take_is_a_401(plug_for, hubspot, token):
    status, envelope = plug_for(hubspot_env(hubspot, HUBSPOT_TOKEN=token)).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (401, "unauthorized")
    assert token not in str(envelope)


@pytest.mark.parametrize(("trigger", "customer_status"), [
    pytest.param("+error500", 500, id="failing"),
    pytest.param("+error503", 503, id="maintenance-page"),
    pytest.param("+limit", 429, id="rate-limited-never-retried"),
])
def test_a_failing_hubspot_is_a_502_and_the_lead_is_sent_once(plug_for, hubspot, trigger, customer_status):
    lead = make_lead()
    lead["email"] = lead["email"].replace("@", f"{trigger}@")
    status, envelope = plug_for(hubspot_env(hubspot)).post(lead)
    assert (status, envelope["error"]["reason"]) == (502, "customer_error")
    assert envelope["response_details"]["http_status_code"] == customer_status
    assert len(hubspot.journal.requests) == 1


def test_a_property_the_portal_requires_is_named_as_a_lead_field(plug_for):
    sandbox = HubSpotSandbox(required=("email", "city")).start()
    try:
        status, envelope = plug_for(hubspot_env(sandbox)).post(make_lead(address=None))
    finally:
        sandbox.stop()
    assert status == 400
    assert envelope["error"] == {"state": "failed", "reason": "invalid_lead", "missing_fields": ["address.city"],
                                 "invalid_fields": []}
