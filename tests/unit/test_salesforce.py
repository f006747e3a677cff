"""Salesforce: translation to a standard Lead, classification of recorded answers, settings."""

from __future__ import annotations

import json

import pytest

from dispatcher.contract import LEAD_FIELDS, validate_lead
from dispatcher.integrations import ConfigurationError, build_integration
from dispatcher.integrations.salesforce import Salesforce, from_env
from dispatcher.transport import Answer
from tests.support.leads import make_lead

ENV = {
    "CUSTOMER": "salesforce",
    "SALESFORCE_LOGIN_URL": "https://login.salesforce.example",
    "SALESFORCE_CLIENT_ID": "client-id",
    "SALESFORCE_CLIENT_SECRET": "client-secret",
    "SALESFORCE_API_VERSION": "v62.0",
}
STANDARD_FIELDS = {"Salutation", "FirstName", "LastName", "Email", "Phone", "Company", "Street", "PostalCode", "City",
                   "CountryCode", "LeadSource", "Description"}


def salesforce(**extra: str) -> Salesforce:
    return from_env({**ENV, **extra})


def translated(lead: dict, **extra: str) -> dict:
    request = salesforce(**extra).translate(validate_lead(lead))
    return request.json_body


def answer(status: int, body: object) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return Answer(status, raw)


def error(code: str, message: str = "a message", fields: list[str] | None = None) -> dict:
    return {"errorCode": code, "message": message, "fields": fields or []}


DUPLICATE = {"duplicateResult": {"allowSave": False, "duplicateRule": "Standard_Lead_Duplicate_Rule",
                                 "duplicateRuleEntityType": "Lead", "matchResults": []},
             "errorCode": "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": []}
HTML = b"<html><body><h1>Service Unavailable</h1></body></html>"


# -- translate -------------------------------------------------------------------------------------------------------

def test_a_b2c_lead_becomes_a_standard_lead_with_its_full_name_as_company():
    lead = make_lead(email="Elodie.Dupre@Exemple.FR", phone="+33612345678")
    body = translated(lead)
    assert body == {
        "Salutation": "Mrs.",
        "FirstName": "Élodie",
        "LastName": "Dupré-Lefèvre",
        "Email": "elodie.dupre@exemple.fr",
        "Phone": "+33612345678",
        "Company": "Élodie Dupré-Lefèvre",
        "Street": "12 rue des Lilas",
        "PostalCode": "69003",
        "City": "Lyon",
        "CountryCode": "FR",
        "LeadSource": "Purchased List",
        "Description": "Product: solar_panels\nSource: panneaux-solaires.example / autumn\n"
                       "Maison de 120 m², toit orienté sud.",
    }


def test_the_request_goes_to_the_configured_api_version():
    request = salesforce(SALESFORCE_API_VERSION="v58.0").translate(validate_lead(make_lead()))
    assert request.path == "/services/data/v58.0/sobjects/Lead/"
    assert request.details == request.json_body


@pytest.mark.parametrize(("company", "expected"), [
    pytest.param("Acme SAS", "Acme SAS", id="b2b"),
    pytest.param("  Acme SAS  ", "Acme SAS", id="b2b-trimmed"),
    pytest.param("   ", "Élodie Dupré-Lefèvre", id="blank-company-falls-back"),
    pytest.param(None, "Élodie Dupré-Lefèvre", id="b2c-falls-back"),
])
def test_company(company, expected):
    assert translated(make_lead(company=company))["Company"] == expected


@pytest.mark.parametrize(("civility", "salutation"), [
    pytest.param("mr", "Mr.", id="mr"),
    pytest.param("mrs", "Mrs.", id="mrs"),
    pytest.param("other", None, id="other"),
    pytest.param(None, None, id="none"),
])
def test_civility_becomes_the_salutation(civility, salutation):
    assert translated(make_lead(civility=civility)).get("Salutation") == salutation


@pytest.mark.parametrize(("address", "expected"), [
    pytest.param({"street": "1 Main St", "postal_code": "D02", "city": "Dublin", "country": "IE"},
                 {"Street": "1 Main St", "PostalCode": "D02", "City": "Dublin", "CountryCode": "IE"}, id="full"),
    pytest.param({"city": "Lyon"}, {"City": "Lyon"}, id="city-only"),
    pytest.param({"street": "", "city": "Lyon", "country": "FR"}, {"City": "Lyon", "CountryCode": "FR"},
                 id="empty-street-not-sent"),
    pytest.param(None, {}, id="no-address"),
])
def test_the_address_maps_to_standard_fields(address, expected):
    body = translated(make_lead(address=address))
    assert {key: body[key] for key in ("Street", "PostalCode", "City", "CountryCode") if key in body} == expected


@pytest.mark.parametrize(("overrides", "description"), [
    pytest.param({"source": None, "comment": None}, "Product: heat_pump", id="product-only"),
    pytest.param({"source": None, "comment": "Call after 6pm"}, "Product: heat_pump\nCall after 6pm",
                 id="product-and-comment"),
    pytest.param({"source": {"campaign": "spring"}, "comment": None}, "Product: heat_pump\nSource: spring",
                 id="campaign-only"),
])
def test_the_description_carries_product_source_and_comment(overrides, description):
    assert translated(make_lead(product="heat_pump", **overrides))["Description"] == description


def test_no_field_is_sent_empty_or_null():
    lead = make_lead(civility=None, company=None, address={"city": "Lyon", "street": " "}, source=None, comment="")
    body = translated(lead)
    assert all(value not in (None, "") for value in body.values())
    assert set(body) <= STANDARD_FIELDS


def test_unknown_lead_keys_and_personal_extras_are_never_sent():
    # Values no generated id, email or phone can contain (they hold digits from a counter): letters only.
    lead = make_lead(score="score-eighty-seven", internal_notes="do not send", extra={"budget": "budget-twelve-k"},
                     address={"city": "Lyon", "country": "FR", "floor": "floor-third"})
    body = translated(lead)
    assert set(body) <= STANDARD_FIELDS
    sent = json.dumps(body)
    for value in ("eighty-seven", "do not send", "twelve-k", "203.0.113.7", "floor", "2026-11-26"):
        assert value not in sent
    assert not set(body) & LEAD_FIELDS


def test_custom_fields_are_sent_only_where_configured():
    mapping = {"Product__c": "product", "Budget__c": "extra.budget", "Campaign__c": "source.utm_campaign"}
    lead = make_lead(extra={"budget": "12000"})
    body = translated(lead, SALESFORCE_CUSTOM_FIELDS=json.dumps(mapping))
    assert body["Product__c"] == "solar_panels"
    assert body["Budget__c"] == "12000"
    assert "Campaign__c" not in body  # the lead has no utm_campaign: nothing empty is sent
    assert not [key for key in translated(lead) if key.endswith("__c")]


def test_the_lead_source_is_configurable():
    assert translated(make_lead(), SALESFORCE_LEAD_SOURCE="Web")["LeadSource"] == "Web"


# -- classify --------------------------------------------------------------------------------------------------------

CLASSIFY_ROWS = [
    pytest.param(answer(201, {"id": "00Q5e00000AbCdE", "success": True, "errors": []}),
                 "accepted", "created", id="201-with-id"),
    pytest.param(answer(400, [DUPLICATE]), "duplicate", "duplicate", id="400-duplicate"),
    pytest.param(answer(400, [error("FIELD_CUSTOM_VALIDATION_EXCEPTION"), DUPLICATE]), "duplicate", "duplicate",
                 id="400-duplicate-after-a-refusal"),
    pytest.param(answer(400, [error("REQUIRED_FIELD_MISSING", fields=["Company"]), DUPLICATE]),
                 "duplicate", "duplicate", id="400-duplicate-with-missing-field"),
    pytest.param(answer(400, [error("REQUIRED_FIELD_MISSING", fields=["LastName", "Company"])]),
                 "failed", "invalid_lead", id="400-required-field-missing"),
    pytest.param(answer(400, [error("FIELD_CUSTOM_VALIDATION_EXCEPTION", "We only serve Europe")]),
                 "refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION", id="400-validation-rule"),
    pytest.param(answer(400, [error("INVALID_EMAIL_ADDRESS", "Email: invalid email address", ["Email"])]),
                 "refused", "INVALID_EMAIL_ADDRESS", id="400-invalid-email"),
    pytest.param(answer(400, [error("STRING_TOO_LONG", fields=["City"])]), "refused", "STRING_TOO_LONG",
                 id="400-string-too-long"),
    pytest.param(answer(400, [error("INVALID_FIELD")]), "failed", "customer_rejected_request",
                 id="400-invalid-field-is-our-request-not-the-person"),
    pytest.param(answer(400, [error("NEVER_DOCUMENTED_CODE")]), "failed", "customer_error",
                 id="400-unknown-code-is-never-a-refusal"),
    pytest.param(answer(401, [error("INVALID_SESSION_ID", "Session expired or invalid")]),
                 "failed", "unauthorized", id="401-after-refresh"),
    pytest.param(answer(404, [error("NOT_FOUND", "The requested resource does not exist")]),
                 "failed", "customer_api_not_found", id="404-salesforce"),
    pytest.param(answer(404, HTML), "failed", "customer_api_not_found", id="404-html"),
    pytest.param(answer(500, [error("UNKNOWN_EXCEPTION")]), "failed", "customer_error", id="500"),
    pytest.param(answer(503, HTML), "failed", "customer_error", id="503-html"),
    pytest.param(answer(502, b""), "failed", "customer_error", id="502-empty"),
    pytest.param(answer(403, [error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")]),
                 "failed", "customer_error", id="403-request-limit"),
    pytest.param(answer(400, HTML), "failed", "bad_customer_response", id="400-html"),
    pytest.param(answer(400, {"message": "bad"}), "failed", "bad_customer_response", id="400-not-salesforce-json"),
    pytest.param(answer(400, []), "failed", "bad_customer_response", id="400-empty-error-list"),
    pytest.param(answer(201, {"success": True, "errors": []}), "failed", "bad_customer_response",
                 id="201-without-id"),
    pytest.param(answer(200, HTML), "failed", "bad_customer_response", id="200-html"),
    pytest.param(answer(201, {"id": "", "success": True}), "failed", "bad_customer_response", id="201-empty-id"),
    pytest.param(answer(201, [{"id": "00Q"}]), "failed", "bad_customer_response", id="201-array"),
    pytest.param(answer(201, {"id": "00Q", "success": False, "errors": [error("X")]}), "failed",
                 "bad_customer_response", id="201-success-false"),
    pytest.param(answer(302, b""), "failed", "bad_customer_response", id="302-redirect"),
]


@pytest.mark.parametrize(("recorded", "state", "reason"), CLASSIFY_ROWS)
def test_classify_follows_the_table_of_spec_section_7(recorded, state, reason):
    outcome = salesforce().classify(recorded)
    assert (outcome.state, outcome.reason) == (state, reason)
    assert outcome.state == "accepted" or outcome.message  # every error envelope has its human sentence


def test_a_created_lead_carries_the_salesforce_id():
    outcome = salesforce().classify(answer(201, {"id": "00Q5e00000AbCdE", "success": True, "errors": []}))
    assert outcome.customer_lead_id == "00Q5e00000AbCdE"


def test_required_fields_missing_are_named_in_the_leads_terms():
    recorded = answer(400, [error("REQUIRED_FIELD_MISSING", "Required fields are missing: [LastName, Company]",
                                  ["LastName", "Company", "Industry"])])
    outcome = salesforce().classify(recorded)
    assert outcome.details == {"missing_fields": ["last_name", "company", "Industry"]}


def test_a_reason_is_a_token_never_the_customers_sentence():
    recorded = answer(400, [error("Email jean@exemple.fr is not valid", "Email jean@exemple.fr is not valid")])
    outcome = salesforce().classify(recorded)
    assert (outcome.state, outcome.reason) == ("failed", "customer_error")  # not a code of the catalog: not a refusal
    assert "@" not in outcome.reason and " " not in outcome.reason


# -- from_env --------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("missing", [
    pytest.param(("SALESFORCE_LOGIN_URL",), id="login-url"),
    pytest.param(("SALESFORCE_CLIENT_ID",), id="client-id"),
    pytest.param(("SALESFORCE_CLIENT_SECRET",), id="client-secret"),
    pytest.param(("SALESFORCE_API_VERSION",), id="api-version"),
    pytest.param(("SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET"), id="both-credentials"),
])
def test_missing_variables_are_named(missing):
    environ = {key: value for key, value in ENV.items() if key not in missing}
    with pytest.raises(ConfigurationError) as caught:
        from_env(environ)
    for name in missing:
        assert name in str(caught.value)


def test_an_empty_variable_counts_as_missing():
    with pytest.raises(ConfigurationError, match="SALESFORCE_CLIENT_SECRET"):
        from_env({**ENV, "SALESFORCE_CLIENT_SECRET": ""})


@pytest.mark.parametrize(("name", "value"), [
    pytest.param("SALESFORCE_API_VERSION", "62.0", id="version-without-v"),
    pytest.param("SALESFORCE_API_VERSION", "v62", id="version-without-minor"),
    pytest.param("SALESFORCE_LOGIN_URL", "login.salesforce.com", id="login-url-without-scheme"),
    pytest.param("SALESFORCE_CUSTOM_FIELDS", "{not json", id="custom-fields-not-json"),
    pytest.param("SALESFORCE_CUSTOM_FIELDS", '{"Product": "product"}', id="custom-field-without-__c"),
    pytest.param("SALESFORCE_CUSTOM_FIELDS", '{"Email": "email"}', id="custom-field-overriding-a-standard-one"),
    pytest.param("SALESFORCE_CUSTOM_FIELDS", '["Product__c"]', id="custom-fields-not-an-object"),
])
def test_a_wrong_setting_is_refused_with_its_name(name, value):
    with pytest.raises(ConfigurationError, match=name):
        from_env({**ENV, name: value})


def test_the_secret_never_appears_in_a_configuration_error():
    with pytest.raises(ConfigurationError) as caught:
        from_env({**ENV, "SALESFORCE_API_VERSION": "", "SALESFORCE_CUSTOM_FIELDS": "{"})
    assert "client-secret" not in str(caught.value)


@pytest.mark.parametrize("customer", [pytest.param("salesforce", id="lower"), pytest.param(" Salesforce ", id="odd")])
def test_customer_selects_the_salesforce_integration(customer):
    assert build_integration({**ENV, "CUSTOMER": customer}).name == "salesforce"


@pytest.mark.parametrize("customer", [pytest.param("", id="unset"), pytest.param("hubspot", id="unknown")])
def test_an_unknown_customer_is_refused(customer):
    with pytest.raises(ConfigurationError, match="CUSTOMER"):
        build_integration({**ENV, "CUSTOMER": customer})


# -- every code of Salesforce's catalog that a Lead create can meet, by its meaning for the platform ---------
# Written from Salesforce's StatusCode list and the REST API's error pages, not from the plug's table.

PERSON, DUPLICATE_OF, MISSING = "about the person", "already there", "a required field"
ITS_STATE, OUR_REQUEST, OUR_ACCESS = "the org's own state", "our request", "our access"
EXPECTED_STATE_AND_REASON = {
    DUPLICATE_OF: lambda code: ("duplicate", "duplicate"),
    MISSING: lambda code: ("failed", "invalid_lead"),
    PERSON: lambda code: ("refused", code),
    ITS_STATE: lambda code: ("failed", "customer_error"),
    OUR_REQUEST: lambda code: ("failed", "customer_rejected_request"),
    OUR_ACCESS: lambda code: ("failed", "unauthorized"),
}
SALESFORCE_CATALOG = [
    ("DUPLICATES_DETECTED", 400, DUPLICATE_OF), ("DUPLICATE_VALUE", 400, DUPLICATE_OF),
    ("DUPLICATE_EXTERNAL_ID", 400, DUPLICATE_OF),
    ("REQUIRED_FIELD_MISSING", 400, MISSING),
    ("FIELD_CUSTOM_VALIDATION_EXCEPTION", 400, PERSON), ("INVALID_EMAIL_ADDRESS", 400, PERSON),
    ("FIELD_FILTER_VALIDATION_EXCEPTION", 400, PERSON), ("FIELD_INTEGRITY_EXCEPTION", 400, PERSON),
    ("STRING_TOO_LONG", 400, PERSON), ("TEXT_DATA_OUTSIDE_SUPPORTED_CHARSET", 400, PERSON),
    ("NUMBER_OUTSIDE_VALID_RANGE", 400, PERSON), ("EMAIL_OPTED_OUT", 400, PERSON),
    ("UNABLE_TO_LOCK_ROW", 400, ITS_STATE), ("STORAGE_LIMIT_EXCEEDED", 400, ITS_STATE),
    ("LICENSE_LIMIT_EXCEEDED", 400, ITS_STATE), ("LIMIT_EXCEEDED", 400, ITS_STATE),
    ("REQUEST_LIMIT_EXCEEDED", 403, ITS_STATE), ("TOO_MANY_APEX_REQUESTS", 400, ITS_STATE),
    ("INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE", 400, ITS_STATE), ("SERVER_UNAVAILABLE", 503, ITS_STATE),
    ("UNKNOWN_EXCEPTION", 500, ITS_STATE), ("INTERNAL_ERROR", 500, ITS_STATE),
    ("REQUEST_RUNNING_TOO_LONG", 400, ITS_STATE), ("QUERY_TIMEOUT", 400, ITS_STATE),
    ("TERRITORY_REALIGN_IN_PROGRESS", 400, ITS_STATE), ("ENTITY_IS_LOCKED", 400, ITS_STATE),
    ("ALL_OR_NONE_OPERATION_ROLLED_BACK", 400, ITS_STATE), ("CANNOT_INSERT_UPDATE_ACTIVATE_ENTITY", 400, ITS_STATE),
    ("CANNOT_EXECUTE_FLOW_TRIGGER", 400, ITS_STATE), ("MAX_DEPTH_IN_FLOW_EXECUTION", 400, ITS_STATE),
    ("SELF_REFERENCE_FROM_TRIGGER", 400, ITS_STATE),
    ("INVALID_FIELD", 400, OUR_REQUEST), ("INVALID_FIELD_FOR_INSERT_UPDATE", 400, OUR_REQUEST),
    ("INVALID_TYPE", 400, OUR_REQUEST), ("INVALID_TYPE_ON_FIELD_IN_RECORD", 400, OUR_REQUEST),
    ("JSON_PARSER_ERROR", 400, OUR_REQUEST), ("MALFORMED_ID", 400, OUR_REQUEST), ("INVALID_ID_FIELD", 400, OUR_REQUEST),
    ("INVALID_CROSS_REFERENCE_KEY", 400, OUR_REQUEST), ("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST", 400, OUR_REQUEST),
    ("UNAVAILABLE_RECORDTYPE_EXCEPTION", 400, OUR_REQUEST), ("INACTIVE_OWNER_OR_USER", 400, OUR_REQUEST),
    ("INVALID_ASSIGNMENT_RULE", 400, OUR_REQUEST), ("INACTIVE_RULE_ERROR", 400, OUR_REQUEST),
    ("INVALID_CURRENCY_ISO", 400, OUR_REQUEST), ("FUNCTIONALITY_NOT_ENABLED", 400, OUR_REQUEST),
    ("REQUIRED_FEATURE_MISSING", 400, OUR_REQUEST), ("METHOD_NOT_ALLOWED", 405, OUR_REQUEST),
    ("INVALID_SESSION_ID", 401, OUR_ACCESS), ("INVALID_AUTH_HEADER", 401, OUR_ACCESS),
    ("INSUFFICIENT_ACCESS", 403, OUR_ACCESS), ("INSUFFICIENT_ACCESS_OR_READONLY", 400, OUR_ACCESS),
    ("INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY", 400, OUR_ACCESS), ("INVALID_READ_ONLY_USER_DML", 400, OUR_ACCESS),
    ("API_DISABLED_FOR_ORG", 403, OUR_ACCESS), ("API_CURRENTLY_DISABLED", 403, OUR_ACCESS),
]


@pytest.mark.parametrize(("code", "status", "meaning"), [pytest.param(*row, id=row[0]) for row in SALESFORCE_CATALOG])
def test_every_catalog_code_ends_as_its_meaning(code, status, meaning):
    outcome = salesforce().classify(answer(status, [error(code, "as Salesforce words it", ["Email"])]))
    assert (outcome.state, outcome.reason) == EXPECTED_STATE_AND_REASON[meaning](code)
    assert code in outcome.message or outcome.state == "refused"  # the code is named for whoever reads the envelope


def test_the_catalog_test_covers_every_code_the_integration_classifies():
    from dispatcher.integrations.salesforce_codes import CODES
    assert {code for code, _, _ in SALESFORCE_CATALOG} == set(CODES)


@pytest.mark.parametrize("code", ["SOME_CODE_FROM_A_NEWER_RELEASE", "weird code with spaces", "E"])
def test_a_code_salesforce_never_documented_is_the_customers_error_naming_it(code):
    outcome = salesforce().classify(answer(400, [error(code)]))
    assert (outcome.state, outcome.reason) == ("failed", "customer_error")
    assert code in outcome.message


def test_a_lock_beside_a_validation_rule_is_the_orgs_state_not_a_refusal():
    both = [error("FIELD_CUSTOM_VALIDATION_EXCEPTION"), error("UNABLE_TO_LOCK_ROW")]
    outcome = salesforce().classify(answer(400, both))
    assert (outcome.state, outcome.reason) == ("failed", "customer_error")
