"""Salesforce (SPEC section 7): translation to a standard Lead, classification of recorded answers, settings."""

from __future__ import annotations

import json

import pytest

from dispatcher.answer import Answer
from dispatcher.contract import LEAD_FIELDS, validate_lead
from dispatcher.integrations import ConfigurationError, build_integration
from dispatcher.integrations.salesforce import Salesforce, from_env
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
    pytest.param(answer(400, [error("INVALID_FIELD")]), "refused", "INVALID_FIELD", id="400-invalid-field"),
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


def test_a_refusal_reason_is_a_token_never_the_customers_sentence():
    recorded = answer(400, [error("Email jean@exemple.fr is not valid", "Email jean@exemple.fr is not valid")])
    outcome = salesforce().classify(recorded)
    assert outcome.state == "refused"
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
