"""Zoho CRM's translation and classification, with answers shaped as Zoho documents them (pure, no I/O)."""

from __future__ import annotations

import json

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.zoho import Zoho, from_env
from dispatcher.transport import Answer

ZOHO = Zoho(accounts_url="https://accounts.zoho.eu", client_id="id", client_secret="secret", refresh_token="r")
LEAD = {
    "id": "lead-1", "created_at": "2026-11-26T09:30:00Z", "first_name": "Élodie", "last_name": "Dupré",
    "email": "elodie@exemple.fr", "phone": "+33612345678", "civility": "mrs", "product": "heat_pump",
    "address": {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"},
    "consent": {"given": True}, "source": {"site": "pac.example", "campaign": "winter"}, "comment": "Appeler le soir",
}


def error(code: str, **details: object) -> dict:
    return {"code": code, "details": details, "message": code.lower().replace("_", " "), "status": "error"}


def answer(status: int, body: object) -> Answer:
    return Answer(status=status, body=body.encode() if isinstance(body, str) else json.dumps(body).encode())


SUCCESS = {"data": [{"code": "SUCCESS", "message": "record added", "status": "success",
                     "details": {"id": "5725767000000524001", "Created_Time": "2026-11-26T10:00:00+01:00"}}]}
DUPLICATE = error("DUPLICATE_DATA", api_name="Email", json_path="$.data[0].Email",
                  duplicate_record={"id": "5725767000000411002", "module": {"api_name": "Leads"}})


@pytest.mark.parametrize(("lead", "expected"), [
    pytest.param(LEAD, {"Salutation": "Mrs.", "First_Name": "Élodie", "Last_Name": "Dupré",
                        "Email": "elodie@exemple.fr", "Phone": "+33612345678", "Company": "Élodie Dupré",
                        "Street": "12 rue des Lilas", "Zip_Code": "69003", "City": "Lyon", "Country": "FR",
                        "Description": "Product: heat_pump\nSource: pac.example / winter\nAppeler le soir"},
                 id="b2c-company-falls-back-to-the-full-name"),
    pytest.param({**LEAD, "company": "Dupré SARL", "civility": "other", "address": {}, "source": {}, "comment": ""},
                 {"First_Name": "Élodie", "Last_Name": "Dupré", "Email": "elodie@exemple.fr", "Phone": "+33612345678",
                  "Company": "Dupré SARL", "Description": "Product: heat_pump"}, id="b2b-empty-fields-left-out"),
])
def test_a_lead_becomes_one_record_of_the_leads_module(lead, expected):
    request = ZOHO.translate(lead)
    assert request.path == "/crm/v8/Leads"
    assert request.json_body == {"data": [expected]}


@pytest.mark.parametrize(("status", "body", "state", "reason", "extra"), [
    pytest.param(201, SUCCESS, "accepted", "created", {"customer_lead_id": "5725767000000524001"}, id="success"),
    pytest.param(201, {"data": [{"code": "SUCCESS", "details": {}, "status": "success"}]}, "failed",
                 "bad_customer_response", {}, id="success-without-id"),
    pytest.param(400, {"data": [DUPLICATE]}, "duplicate", "duplicate", {}, id="duplicate"),
    pytest.param(202, {"data": [DUPLICATE]}, "duplicate", "duplicate", {}, id="duplicate-with-202-by-code-not-status"),
    pytest.param(400, {"data": [error("MULTIPLE_OR_MULTI_ERRORS", errors=[
        error("INVALID_DATA", api_name="Phone"), DUPLICATE])]}, "duplicate", "duplicate", {},
        id="duplicate-inside-multiple-errors-wins"),
    pytest.param(400, {"data": [error("MANDATORY_NOT_FOUND", api_name="Last_Name", json_path="$.data[0].Last_Name")]},
                 "failed", "invalid_lead", {"missing_fields": ["last_name"]}, id="mandatory-named-as-a-lead-field"),
    pytest.param(400, {"data": [error("MULTIPLE_OR_MULTI_ERRORS", errors=[
        error("MANDATORY_NOT_FOUND", api_name="Zip_Code"), error("MANDATORY_NOT_FOUND", api_name="Industry")])]},
        "failed", "invalid_lead", {"missing_fields": ["address.postal_code", "Industry"]},
        id="several-mandatory-fields-unknown-ones-by-zoho-name"),
    pytest.param(400, {"data": [error("INVALID_DATA", api_name="Email", expected_data_type="email")]},
                 "refused", "INVALID_DATA", {}, id="invalid-data-is-a-refusal"),
    pytest.param(401, error("INVALID_TOKEN"), "failed", "unauthorized", {}, id="invalid-token-after-refresh"),
    pytest.param(401, error("AUTHENTICATION_FAILURE"), "failed", "unauthorized", {}, id="authentication-failure"),
    pytest.param(404, error("INVALID_URL_PATTERN"), "failed", "customer_api_not_found", {}, id="invalid-url-pattern"),
    pytest.param(400, error("INVALID_MODULE"), "failed", "customer_rejected_request", {}, id="invalid-module"),
    pytest.param(500, error("INTERNAL_ERROR"), "failed", "customer_error", {}, id="internal-error"),
    pytest.param(403, error("NO_PERMISSION"), "failed", "unauthorized", {}, id="no-permission-is-our-access"),
    pytest.param(503, "<html>Maintenance</html>", "failed", "customer_error", {}, id="html-5xx"),
    pytest.param(200, "<html>hello</html>", "failed", "bad_customer_response", {}, id="not-zoho-is-no-success"),
    pytest.param(200, {"data": []}, "failed", "bad_customer_response", {}, id="empty-data"),
])
def test_an_answer_is_classified_by_each_records_code(status, body, state, reason, extra):
    outcome = ZOHO.classify(answer(status, body))
    assert (outcome.state, outcome.reason) == (state, reason)
    if "customer_lead_id" in extra:
        assert outcome.customer_lead_id == extra["customer_lead_id"]
    if "missing_fields" in extra:
        assert outcome.details == {"missing_fields": extra["missing_fields"]}


@pytest.mark.parametrize(("status", "body", "expired"), [
    pytest.param(401, error("INVALID_TOKEN"), True, id="invalid-token"),
    pytest.param(401, error("AUTHENTICATION_FAILURE"), False, id="no-refresh-for-a-missing-header"),
    pytest.param(400, {"data": [error("INVALID_TOKEN")]}, False, id="not-a-401"),
])
def test_only_an_invalid_token_earns_a_refresh(status, body, expired):
    assert ZOHO.auth.is_expired(answer(status, body)) is expired


def test_the_token_is_asked_with_the_refresh_token_in_the_form_body():
    assert ZOHO.auth.token_url == "https://accounts.zoho.eu/oauth/v2/token"
    assert ZOHO.auth._form == {"grant_type": "refresh_token", "client_id": "id", "client_secret": "secret",
                               "refresh_token": "r"}


ENV = {"ZOHO_ACCOUNTS_URL": "https://accounts.zoho.eu", "ZOHO_CLIENT_ID": "id", "ZOHO_CLIENT_SECRET": "s",
       "ZOHO_REFRESH_TOKEN": "r"}


def test_the_api_version_defaults_to_v8():
    assert from_env(ENV).lead_path == "/crm/v8/Leads"
    assert from_env({**ENV, "ZOHO_API_VERSION": "v7"}).lead_path == "/crm/v7/Leads"


@pytest.mark.parametrize(("environ", "mistake"), [
    pytest.param({k: v for k, v in ENV.items() if k != "ZOHO_REFRESH_TOKEN"}, "needs ZOHO_REFRESH_TOKEN",
                 id="missing-refresh-token"),
    pytest.param({}, "needs ZOHO_ACCOUNTS_URL, ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN", id="nothing"),
    pytest.param({**ENV, "ZOHO_API_VERSION": "8"}, "ZOHO_API_VERSION must look like v8", id="bad-version"),
    pytest.param({**ENV, "ZOHO_ACCOUNTS_URL": "accounts.zoho.eu"}, "ZOHO_ACCOUNTS_URL must be an http", id="bad-url"),
])
def test_a_wrong_configuration_is_refused_naming_the_mistake(environ, mistake):
    with pytest.raises(ConfigurationError, match=mistake):
        from_env(environ)


# -- every code of Zoho's API_Exception (OpenAPI spec for CRM v8, v8.0/record.json), by its meaning --------------
# Written from the specification's codes and messages, not from the plug's table.

def meaning(state: str, reason: str | None = None):
    return lambda code: (state, reason or code)


PERSON, DUPLICATE_OF, MISSING = meaning("refused"), meaning("duplicate", "duplicate"), meaning("failed", "invalid_lead")
ITS_STATE, OUR_REQUEST = meaning("failed", "customer_error"), meaning("failed", "customer_rejected_request")
OUR_ACCESS, NOWHERE = meaning("failed", "unauthorized"), meaning("failed", "customer_api_not_found")
ZOHO_CATALOG = [
    ("DUPLICATE_DATA", 400, DUPLICATE_OF), ("MANDATORY_NOT_FOUND", 400, MISSING),
    ("INVALID_DATA", 400, PERSON), ("PATTERN_NOT_MATCHED", 400, PERSON),
    ("LIMIT_EXCEEDED", 400, ITS_STATE), ("LIMIT_REACHED", 400, ITS_STATE), ("STORAGE_SPACE_EXCEEDED", 400, ITS_STATE),
    ("RECORD_LOCKED", 400, ITS_STATE), ("RECORD_IN_BLUEPRINT", 400, ITS_STATE), ("CANNOT_PROCESS", 400, ITS_STATE),
    ("CANNOT_PERFORM_ACTION", 400, ITS_STATE), ("NOT_APPROVED", 400, ITS_STATE), ("CONVERTED_RECORD", 400, ITS_STATE),
    ("ID_ALREADY_CONVERTED", 400, ITS_STATE), ("ALREADY_SCHEDULED", 400, ITS_STATE), ("CANNOT_DELETE", 400, ITS_STATE),
    ("INTERNAL_ERROR", 500, ITS_STATE), ("NO_CONTENT", 400, ITS_STATE), ("NO_RECORDS_FOUND", 400, ITS_STATE),
    ("NOT_FOUND", 400, ITS_STATE), ("Not Modified", 400, ITS_STATE),
    ("INVALID_MODULE", 400, OUR_REQUEST), ("FEATURE_NOT_SUPPORTED", 400, OUR_REQUEST),
    ("NOT_SUPPORTED", 400, OUR_REQUEST),
    ("TERRITORY_NOT_ENABLED", 400, OUR_REQUEST), ("DEPENDENT_FIELD_MISSING", 400, OUR_REQUEST),
    ("EXPECTED_FIELD_MISSING", 400, OUR_REQUEST), ("REQUIRED_PARAM_MISSING", 400, OUR_REQUEST),
    ("MAPPING_MISMATCH", 400, OUR_REQUEST), ("DATA_MISMATCH", 400, OUR_REQUEST), ("NOT_ALLOWED", 400, OUR_REQUEST),
    ("ALREADY_USED", 400, OUR_REQUEST), ("INVALID_QUERY", 400, OUR_REQUEST),
    ("INVALID_REQUEST_METHOD", 400, OUR_REQUEST),
    ("FILE_SIZE_MORE_THAN_ALLOWED_SIZE", 400, OUR_REQUEST), ("INVALID_URL_PATTERN", 404, NOWHERE),
    ("AUTHENTICATION_FAILURE", 401, OUR_ACCESS), ("INVALID_TOKEN", 401, OUR_ACCESS),
    ("OAUTH_SCOPE_MISMATCH", 401, OUR_ACCESS), ("NO_PERMISSION", 403, OUR_ACCESS),
]


@pytest.mark.parametrize(("code", "status", "expected"), [pytest.param(*row, id=row[0]) for row in ZOHO_CATALOG])
def test_every_catalog_code_ends_as_its_meaning(code, status, expected):
    for body in (error(code, api_name="Email"), {"data": [error(code, api_name="Email")]}):  # top-level or per record
        outcome = ZOHO.classify(answer(status, body))
        assert (outcome.state, outcome.reason) == expected(code), body
        assert code in outcome.message or outcome.state == "refused" or status == 401


def test_the_catalog_test_covers_every_code_the_integration_classifies():
    from dispatcher.integrations.zoho_codes import CODES
    assert {code for code, _, _ in ZOHO_CATALOG} == set(CODES)


def test_a_code_zoho_never_documented_is_its_error_naming_it_never_a_refusal():
    outcome = ZOHO.classify(answer(400, {"data": [error("BRAND_NEW_CODE")]}))
    assert (outcome.state, outcome.reason) == ("failed", "customer_error")
    assert "BRAND_NEW_CODE" in outcome.message
