"""Each CRM's catalog, end to end: one code of every meaning, answered by the customer's sandbox
as the vendor documents it (status and body shape), through the app in process, ends as that meaning.

The person (406 with the customer's code, 409, 400), the customer's own state (502 customer_error), our request
not fitting its setup (502 customer_rejected_request, reported to Rollbar as an error), our access (401). Every
code of each catalog is in the integrations' unit tests; here the whole way is walked for a representative.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from sandbox.hubspot import PROPERTIES, TOKEN, HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from sandbox.server import CustomerServer, Handler, Received
from sandbox.webhook import SOLARIS_KEY
from sandbox.zoho import ZohoSandbox
from tests.conftest import salesforce_env
from tests.support.customers import COMMON, ROOT, zoho_env
from tests.support.envelopes import assert_envelope
from tests.support.leads import make_lead
from tests.support.rollbar_catcher import RollbarCatcher
from tests.support.scripted import ScriptedSalesforce


def lead_with(trigger: str, **fields: object) -> dict:
    """A fresh lead whose email asks the sandbox for `trigger`."""
    lead = make_lead(**fields)
    return {**lead, "email": f"lead+{trigger}+{lead['id'][:8]}@exemple.fr"} if trigger else lead


@pytest.fixture
def rollbar() -> Iterator[RollbarCatcher]:
    with RollbarCatcher() as catcher:
        yield catcher


def rollbar_levels(catcher: RollbarCatcher, reason: str) -> list[str]:
    return [item["data"]["level"] for item in catcher.items if item["data"].get("custom", {}).get("reason") == reason]


def sent(plug, lead) -> tuple[int, dict]:
    status, envelope = plug.post(lead)
    assert_envelope(status, envelope)
    return status, envelope


# -- Salesforce ---------------------------------------------------------------------------------------------------

SALESFORCE_CASES = [
    pytest.param("uniquevalue", {}, 409, "duplicate", "duplicate", id="DUPLICATE_VALUE-is-a-duplicate"),
    pytest.param("industry", {}, 400, "failed", "invalid_lead", id="REQUIRED_FIELD_MISSING-names-the-field"),
    pytest.param("", {"address": {"country": "US"}}, 406, "refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                 id="a-validation-rule-refuses-the-person"),
    pytest.param("lock", {}, 502, "failed", "customer_error", id="UNABLE_TO_LOCK_ROW-is-the-orgs-state"),
    pytest.param("maintenance", {}, 502, "failed", "customer_error", id="maintenance-is-the-orgs-state"),
    pytest.param("limit", {}, 502, "failed", "customer_error", id="REQUEST_LIMIT_EXCEEDED-is-the-orgs-state"),
    pytest.param("unknowncode", {}, 502, "failed", "customer_error", id="an-unknown-code-is-never-a-refusal"),
    pytest.param("inactiveowner", {}, 502, "failed", "customer_rejected_request",
                 id="INACTIVE_OWNER_OR_USER-is-our-request"),
    pytest.param("noaccess", {}, 401, "failed", "unauthorized", id="INSUFFICIENT_ACCESS-is-our-access"),
    pytest.param("apidisabled", {}, 401, "failed", "unauthorized", id="API_DISABLED_FOR_ORG-is-our-access"),
]


@pytest.mark.parametrize(("trigger", "fields", "status", "state", "reason"), SALESFORCE_CASES)
def test_salesforce_codes_end_as_their_meaning(plug_for, trigger, fields, status, state, reason, rollbar):
    with SalesforceSandbox() as sandbox:
        plug = plug_for(salesforce_env(sandbox.base_url, ROLLBAR_ACCESS_TOKEN="t", ROLLBAR_ENDPOINT=rollbar.endpoint))
        got, envelope = sent(plug, lead_with(trigger, **fields))
    assert (got, envelope["error"]["state"], envelope["error"]["reason"]) == (status, state, reason), envelope
    assert envelope["response_details"]["http_status_code"] in (400, 403)
    if reason == "invalid_lead":
        assert envelope["error"]["missing_fields"] == ["Industry"]
    if reason == "customer_error":
        assert rollbar_levels(rollbar, reason) == ["warning"]


def test_a_field_the_org_lacks_is_our_request_reported_as_an_error_for_every_lead(plug_for, rollbar):
    with SalesforceSandbox() as sandbox:
        plug = plug_for(salesforce_env(sandbox.base_url, SALESFORCE_CUSTOM_FIELDS=json.dumps({"Product__c": "product"}),
                                       ROLLBAR_ACCESS_TOKEN="t", ROLLBAR_ENDPOINT=rollbar.endpoint))
        answers = [sent(plug, make_lead()) for _ in range(2)]
    for status, envelope in answers:
        assert (status, envelope["error"]["reason"]) == (502, "customer_rejected_request")
        assert envelope["response_details"]["body"][0]["errorCode"] == "INVALID_FIELD"
        assert "INVALID_FIELD" in envelope["error_message"]
    assert rollbar_levels(rollbar, "customer_rejected_request") == ["error", "error"]


def test_a_retry_after_reaches_the_envelope(plug_for):
    maintenance = (503, b"<html><body>Down for maintenance</body></html>")
    with ScriptedSalesforce(maintenance, lead_headers={"Retry-After": "120"}) as customer:
        status, envelope = sent(plug_for(salesforce_env(customer.base_url)), make_lead())
    assert (status, envelope["error"]["reason"]) == (502, "customer_error")
    assert envelope["error"]["retry_after_s"] == 120


def test_no_retry_after_no_key(plug_for):
    with ScriptedSalesforce((503, b"<html>Down</html>")) as customer:
        _, envelope = sent(plug_for(salesforce_env(customer.base_url)), make_lead())
    assert "retry_after_s" not in envelope["error"]


# -- Zoho ---------------------------------------------------------------------------------------------------------

ZOHO_CASES = [
    pytest.param("", "duplicate", 409, "duplicate", "duplicate", id="DUPLICATE_DATA"),
    pytest.param("", "invalid-email", 406, "refused", "INVALID_DATA", id="INVALID_DATA-refuses-the-person"),
    pytest.param("pattern", "", 406, "refused", "PATTERN_NOT_MATCHED", id="PATTERN_NOT_MATCHED-refuses-the-person"),
    pytest.param("storage", "", 502, "failed", "customer_error", id="STORAGE_SPACE_EXCEEDED-is-the-accounts-state"),
    pytest.param("locked", "", 502, "failed", "customer_error", id="RECORD_LOCKED-is-the-accounts-state"),
    pytest.param("unknowncode", "", 502, "failed", "customer_error", id="an-unknown-code-is-never-a-refusal"),
    pytest.param("dependent", "", 502, "failed", "customer_rejected_request",
                 id="DEPENDENT_FIELD_MISSING-is-our-request"),
    pytest.param("nopermission", "", 401, "failed", "unauthorized", id="NO_PERMISSION-is-our-access"),
]


@pytest.mark.parametrize(("trigger", "shape", "status", "state", "reason"), ZOHO_CASES)
def test_zoho_codes_end_as_their_meaning(plug_for, trigger, shape, status, state, reason):
    with ZohoSandbox() as zoho:
        plug = plug_for(zoho_env(zoho))
        lead = lead_with(trigger)
        if shape == "duplicate":
            assert sent(plug, lead)[0] == 201
            lead = {**lead, "id": lead["id"] + "-again"}
        if shape == "invalid-email":
            lead = {**lead, "email": "lead@exemple.invalid"}
        got, envelope = sent(plug, lead)
    assert (got, envelope["error"]["state"], envelope["error"]["reason"]) == (status, state, reason), envelope


def test_a_field_zoho_requires_is_named_back_in_the_leads_terms(plug_for):
    with ZohoSandbox(mandatory=("Last_Name", "Zip_Code")) as zoho:
        got, envelope = sent(plug_for(zoho_env(zoho)), make_lead(address={"city": "Lyon", "country": "FR"}))
    assert (got, envelope["error"]["reason"], envelope["error"]["missing_fields"]) == \
        (400, "invalid_lead", ["address.postal_code"])


# -- HubSpot ------------------------------------------------------------------------------------------------------

def hubspot_env(sandbox: HubSpotSandbox) -> dict[str, str]:
    return {**COMMON, "CUSTOMER": "hubspot", "HUBSPOT_API_URL": sandbox.base_url, "HUBSPOT_TOKEN": TOKEN}


HUBSPOT_CASES = [
    pytest.param("", PROPERTIES, (), 406, "refused", "INVALID_EMAIL", id="INVALID_EMAIL-refuses-the-person"),
    pytest.param("", PROPERTIES, ("jobtitle",), 400, "failed", "invalid_lead", id="MISSING_REQUIRED_PROPERTY"),
    pytest.param("locked", PROPERTIES, (), 502, "failed", "customer_error", id="423-LOCKED-is-the-portals-state"),
    pytest.param("limit", PROPERTIES, (), 502, "failed", "customer_error", id="429-RATE_LIMIT-is-the-portals-state"),
    pytest.param("unknowncode", PROPERTIES, (), 502, "failed", "customer_error",
                 id="an-unknown-code-is-never-a-refusal"),
    pytest.param("", PROPERTIES - {"country"}, (), 502, "failed", "customer_rejected_request",
                 id="PROPERTY_DOESNT_EXIST-is-our-request"),
]


@pytest.mark.parametrize(("trigger", "properties", "required", "status", "state", "reason"), HUBSPOT_CASES)
def test_hubspot_codes_end_as_their_meaning(plug_for, trigger, properties, required, status, state, reason):
    with HubSpotSandbox(properties=properties, required=required) as hubspot:
        lead = lead_with(trigger)
        if reason == "INVALID_EMAIL":
            lead = {**lead, "email": "lead@exemple.invalid"}
        got, envelope = sent(plug_for(hubspot_env(hubspot)), lead)
    assert (got, envelope["error"]["state"], envelope["error"]["reason"]) == (status, state, reason), envelope


# -- an old form endpoint answering Latin-1: its rules match as the customer wrote them ----------------------------

class Latin1FormEndpoint(CustomerServer):
    """A PHP form endpoint that answers text in ISO-8859-1, declaring it: accepted for Lyon, refused elsewhere."""

    def route(self, handler: Handler, request: Received) -> None:
        form = request.form()
        text = "Demande enregistrée n° 4821" if form.get("ville") == "LYON" else "Département non desservi (hors zone)"
        handler.send_body(200, text.encode("iso-8859-1"), "text/html; charset=ISO-8859-1")


def test_a_latin1_answer_matches_the_rules_written_with_accents(plug_for, tmp_path):
    config = json.loads((ROOT / "customers" / "solaris-form.json").read_text(encoding="utf-8"))
    config.pop("$schema")
    config["answers"] = [
        {"when": {"status": 200, "body": "^Demande enregistrée n° (?P<id>[0-9]+)$"},
         "then": {"state": "accepted", "reason": "created", "lead_id": {"group": "id"}}},
        {"when": {"status": 200, "body": "^Département non desservi"},
         "then": {"state": "refused", "reason": "HORS_ZONE"}},
    ]
    config["examples"] = [
        {"name": "recorded", "status": 200, "body": "Demande enregistrée n° 12", "state": "accepted",
         "customer_lead_id": "12"},
        {"name": "out of area", "status": 200, "body": "Département non desservi", "state": "refused",
         "reason": "HORS_ZONE"},
    ]
    path = tmp_path / "accents.json"
    path.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    with Latin1FormEndpoint() as endpoint:
        plug = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path),
                         "SOLARIS_URL": endpoint.base_url + "/lead.php", "SOLARIS_KEY": SOLARIS_KEY})
        accepted = sent(plug, make_lead(address={"postal_code": "69003", "city": "Lyon", "country": "FR"}))
        refused = sent(plug, make_lead(address={"postal_code": "13001", "city": "Marseille", "country": "FR"}))
    assert (accepted[0], accepted[1]["customer_lead_id"]) == (201, "4821")
    assert (refused[0], refused[1]["error"]["reason"]) == (406, "HORS_ZONE")
    assert refused[1]["response_details"]["body"] == "Département non desservi (hors zone)"
