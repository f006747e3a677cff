"""HubSpot's translation and classification, with answers shaped as HubSpot documents them (pure, no I/O)."""

from __future__ import annotations

import json

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.hubspot import HubSpot, from_env
from dispatcher.transport import Answer

HUBSPOT = HubSpot(api_url="https://api.hubapi.com/", token="pat-eu1-t0ken")
LEAD = {
    "id": "lead-1", "created_at": "2026-11-26T09:30:00Z", "first_name": "Élodie", "last_name": "Dupré",
    "email": "elodie@exemple.fr", "phone": "+33612345678", "civility": "mrs", "product": "heat_pump",
    "address": {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"},
    "consent": {"given": True}, "source": {"site": "pac.example", "campaign": "winter"}, "comment": "Appeler le soir",
}


def answer(status: int, body: object) -> Answer:
    return Answer(status=status, body=body.encode() if isinstance(body, str) else json.dumps(body).encode())


def error(category: str, message: str, **extra: object) -> dict:
    return {"status": "error", "message": message, "correlationId": "aeb5f871-7f07-4993-9211-075dc63e7cbf",
            "category": category, **extra}


def invalid(*errors: tuple[str, list[str]]) -> dict:
    """HubSpot's 400 for property values, with `errors[]` (code, context.propertyName)."""
    return error("VALIDATION_ERROR", "Property values were not valid: [...]", errors=[
        {"message": f"{code.lower()}", "code": code, "context": {"propertyName": names}} for code, names in errors])


def older_invalid(code: str, name: str) -> dict:
    """The same 400 as older answers write it: the list only inside the message."""
    listed = [{"isValid": False, "message": "Email address elodie@exemple is invalid", "error": code, "name": name}]
    return error("VALIDATION_ERROR", f"Property values were not valid: {json.dumps(listed)}")


@pytest.mark.parametrize(("lead", "expected"), [
    pytest.param(LEAD, {"firstname": "Élodie", "lastname": "Dupré", "email": "elodie@exemple.fr",
                        "phone": "+33612345678", "address": "12 rue des Lilas", "zip": "69003", "city": "Lyon",
                        "country": "FR", "lifecyclestage": "lead"},
                 id="b2c-a-person-has-no-company"),
    pytest.param({**LEAD, "company": "Dupré SARL", "address": {}},
                 {"firstname": "Élodie", "lastname": "Dupré", "email": "elodie@exemple.fr", "phone": "+33612345678",
                  "company": "Dupré SARL", "lifecyclestage": "lead"}, id="b2b-with-its-company-empty-fields-left-out"),
])
def test_a_lead_becomes_a_contact(lead, expected):
    request = HUBSPOT.translate(lead)
    assert request.path == "/crm/v3/objects/contacts"
    assert request.json_body == {"properties": expected}


@pytest.mark.parametrize(("status", "body", "state", "reason", "extra"), [
    pytest.param(201, {"id": "51001", "properties": {}, "archived": False}, "accepted", "created",
                 {"customer_lead_id": "51001"}, id="created"),
    pytest.param(201, {"properties": {}}, "failed", "bad_customer_response", {}, id="created-without-id"),
    pytest.param(409, error("CONFLICT", "Contact already exists. Existing ID: 51001"), "duplicate", "duplicate",
                 {"existing_customer_lead_id": "51001"}, id="conflict-names-the-existing-contact"),
    pytest.param(409, error("CONFLICT", "Contact already exists"), "duplicate", "duplicate", {},
                 id="conflict-without-its-id"),
    pytest.param(400, invalid(("INVALID_EMAIL", ["email"])), "refused", "INVALID_EMAIL", {},
                 id="invalid-email-refuses-the-lead"),
    pytest.param(400, older_invalid("INVALID_EMAIL", "email"), "refused", "INVALID_EMAIL", {},
                 id="invalid-email-written-in-the-message"),
    pytest.param(400, invalid(("MISSING_REQUIRED_PROPERTY", ["city", "jobtitle"])), "failed", "invalid_lead",
                 {"missing_fields": ["address.city", "jobtitle"]}, id="required-properties-named-as-lead-fields"),
    pytest.param(400, invalid(("INVALID_EMAIL", ["email"]), ("MISSING_REQUIRED_PROPERTY", ["zip"])), "failed",
                 "invalid_lead", {"missing_fields": ["address.postal_code"]}, id="a-missing-field-before-a-refusal"),
    pytest.param(400, invalid(("PROPERTY_DOESNT_EXIST", ["country"])), "failed", "customer_rejected_request", {},
                 id="a-property-the-portal-lacks-is-not-the-persons-refusal"),
    pytest.param(400, error("VALIDATION_ERROR", "Invalid input JSON on line 1"), "failed",
                 "customer_rejected_request", {}, id="validation-error-without-a-code-is-our-body"),
    pytest.param(401, error("INVALID_AUTHENTICATION", "Authentication credentials not found."), "failed",
                 "unauthorized", {}, id="wrong-token"),
    pytest.param(403, error("MISSING_SCOPES", "This app hasn't been granted all required scopes"), "failed",
                 "unauthorized", {}, id="missing-scopes"),
    pytest.param(403, "<html>Forbidden</html>", "failed", "bad_customer_response", {}, id="a-403-not-hubspots"),
    pytest.param(429, {"status": "error", "message": "You have reached your secondly limit.", "errorType":
                       "RATE_LIMIT", "policyName": "SECONDLY"}, "failed", "customer_error", {}, id="rate-limited"),
    pytest.param(500, error("INTERNAL_ERROR", "internal error"), "failed", "customer_error", {}, id="failing"),
    pytest.param(503, "<html>503 Service Temporarily Unavailable</html>", "failed", "customer_error", {},
                 id="html-5xx"),
    pytest.param(404, error("OBJECT_NOT_FOUND", "resource not found"), "failed", "customer_api_not_found", {},
                 id="wrong-url"),
    pytest.param(200, "<html>hello</html>", "failed", "bad_customer_response", {}, id="not-an-api-answer"),
])
def test_an_answer_is_classified_as_hubspot_documents_it(status, body, state, reason, extra):
    outcome = HUBSPOT.classify(answer(status, body))
    assert (outcome.state, outcome.reason) == (state, reason)
    assert outcome.customer_lead_id == extra.pop("customer_lead_id", None)
    assert outcome.details == extra


def test_a_rate_limit_names_its_policy():
    outcome = HUBSPOT.classify(answer(429, {"errorType": "RATE_LIMIT", "policyName": "DAILY",
                                            "message": "You have reached your daily limit."}))
    assert outcome.message == "HubSpot is limiting our rate (DAILY policy): You have reached your daily limit."


def test_the_token_travels_as_a_bearer_header_and_is_masked_as_a_credential():
    session = HUBSPOT.auth.open(None, None)
    assert (session.base_url, dict(session.headers)) == ("https://api.hubapi.com",
                                                         {"Authorization": "Bearer pat-eu1-t0ken"})
    assert HUBSPOT.auth.credentials == ("pat-eu1-t0ken",)


def test_the_api_url_defaults_to_hubspots_own():
    assert from_env({"HUBSPOT_TOKEN": "t"}).auth.open(None, None).base_url == "https://api.hubapi.com"
    assert from_env({"HUBSPOT_TOKEN": "t", "HUBSPOT_API_URL": "http://127.0.0.1:8005/"}).auth.open(
        None, None).base_url == "http://127.0.0.1:8005"


@pytest.mark.parametrize(("environ", "mistake"), [
    pytest.param({}, "CUSTOMER=hubspot needs HUBSPOT_TOKEN", id="no-token"),
    pytest.param({"HUBSPOT_TOKEN": "t", "HUBSPOT_API_URL": "api.hubapi.com"}, "HUBSPOT_API_URL must be an http",
                 id="url-without-scheme"),
    pytest.param({"HUBSPOT_TOKEN": "pat-eu1-t0ken\n"}, "a credential holds a control", id="token-with-a-newline"),
])
def test_a_wrong_configuration_is_refused_naming_the_mistake(environ, mistake):
    with pytest.raises(ConfigurationError, match=mistake):
        from_env(environ)


# -- every code and category of HubSpot's error pages the plug classifies, by its meaning -----------------------
# Written from HubSpot's "Error handling" page and the CRM objects API's validation errors, not from the table.

def meaning(state: str, reason: str | None = None):
    return lambda code: (state, reason or code)


PERSON, DUPLICATE_OF, MISSING = meaning("refused"), meaning("duplicate", "duplicate"), meaning("failed", "invalid_lead")
ITS_STATE, OUR_REQUEST = meaning("failed", "customer_error"), meaning("failed", "customer_rejected_request")
OUR_ACCESS, NOWHERE = meaning("failed", "unauthorized"), meaning("failed", "customer_api_not_found")
HUBSPOT_CODES = [
    ("MISSING_REQUIRED_PROPERTY", MISSING), ("INVALID_EMAIL", PERSON), ("CONTACT_EXISTS", DUPLICATE_OF),
    ("PROPERTY_DOESNT_EXIST", OUR_REQUEST), ("READ_ONLY_VALUE", OUR_REQUEST), ("INVALID_OPTION", OUR_REQUEST),
    ("INVALID_INTEGER", OUR_REQUEST), ("INVALID_LONG", OUR_REQUEST), ("INVALID_FLOAT", OUR_REQUEST),
    ("INVALID_BOOLEAN", OUR_REQUEST), ("INVALID_DATE", OUR_REQUEST), ("INVALID_DATETIME", OUR_REQUEST),
]
HUBSPOT_CATEGORIES = [
    ("CONFLICT", 409, DUPLICATE_OF), ("OBJECT_ALREADY_EXISTS", 409, DUPLICATE_OF),
    ("INVALID_AUTHENTICATION", 401, OUR_ACCESS), ("MISSING_SCOPES", 403, OUR_ACCESS),
    ("RATE_LIMITS", 429, ITS_STATE), ("LOCKED", 423, ITS_STATE), ("OBJECT_NOT_FOUND", 404, NOWHERE),
    ("VALIDATION_ERROR", 400, OUR_REQUEST),
]


@pytest.mark.parametrize(("code", "expected"), [pytest.param(*row, id=row[0]) for row in HUBSPOT_CODES])
def test_every_validation_code_ends_as_its_meaning(code, expected):
    for body in (invalid((code, ["email"])), older_invalid(code, "email")):  # errors[] or the older message list
        outcome = HUBSPOT.classify(answer(400, body))
        assert (outcome.state, outcome.reason) == expected(code), body


@pytest.mark.parametrize(("category", "status", "expected"),
                         [pytest.param(*row, id=row[0]) for row in HUBSPOT_CATEGORIES])
def test_every_category_ends_as_its_meaning(category, status, expected):
    outcome = HUBSPOT.classify(answer(status, error(category, "as HubSpot words it")))
    assert (outcome.state, outcome.reason) == expected(category)


def test_the_catalog_tests_cover_every_code_and_category_the_integration_classifies():
    from dispatcher.integrations.hubspot_codes import CATEGORIES, CODES
    assert {code for code, _ in HUBSPOT_CODES} == set(CODES)
    assert {category for category, _, _ in HUBSPOT_CATEGORIES} == set(CATEGORIES)


def test_a_code_hubspot_never_documented_is_its_error_naming_it_never_a_refusal():
    outcome = HUBSPOT.classify(answer(400, invalid(("SOMETHING_NEW", ["email"]))))
    assert (outcome.state, outcome.reason) == ("failed", "customer_error")
    assert "SOMETHING_NEW" in outcome.message


def test_a_migration_in_progress_is_hubspots_own_state():
    assert HUBSPOT.classify(answer(477, error("MIGRATION_IN_PROGRESS", "Migration in progress"))).reason \
        == "customer_error"
