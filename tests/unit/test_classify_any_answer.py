"""`classify` never raises and never misreads a shape, in every integration: an answer it cannot read
is bad_customer_response (502).

Hypothesis throws answer structures at each integration's `classify`: random JSON, and near misses of each
customer's documented shapes (Salesforce's error array, Zoho's per-record codes, HubSpot's categories and
validation errors, the webhook rules' paths) with every field of the wrong type. Whatever comes back must be
an end of the reason table, with well-typed details, and only a 2xx may ever be accepted.
"""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatcher.integrations.hubspot import HubSpot
from dispatcher.integrations.salesforce import Salesforce
from dispatcher.integrations.webhook import from_env as webhook_from_env
from dispatcher.integrations.zoho import Zoho
from dispatcher.reasons import Outcome, ending_of
from dispatcher.transport import Answer

REASON = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
STATUSES = st.one_of(st.sampled_from([200, 201, 202, 204, 207, 400, 401, 403, 404, 409, 422, 429, 500, 503]),
                     st.integers(100, 599))
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**20, 10**20), st.floats(allow_nan=False),
                    st.text(max_size=20))
ANY_JSON = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=20)
SALESFORCE_CODES = st.sampled_from(["DUPLICATES_DETECTED", "REQUIRED_FIELD_MISSING", "INVALID_SESSION_ID",
                                    "FIELD_CUSTOM_VALIDATION_EXCEPTION", "REQUEST_LIMIT_EXCEEDED", "", "a b"])
ZOHO_CODES = st.sampled_from(["SUCCESS", "DUPLICATE_DATA", "MANDATORY_NOT_FOUND", "INVALID_DATA", "INVALID_TOKEN",
                              "INTERNAL_ERROR", "MULTIPLE_OR_MULTI_ERRORS", "INVALID_MODULE", ""])
SALESFORCE_SHAPES = st.one_of(
    ANY_JSON,
    st.lists(st.fixed_dictionaries({"errorCode": st.one_of(SALESFORCE_CODES, ANY_JSON)},
                                   optional={"fields": ANY_JSON, "message": ANY_JSON}), max_size=3),
    st.fixed_dictionaries({"id": ANY_JSON}, optional={"success": ANY_JSON, "errors": ANY_JSON}),
)
HUBSPOT_CODES = st.sampled_from(["INVALID_EMAIL", "MISSING_REQUIRED_PROPERTY", "PROPERTY_DOESNT_EXIST", ""])
HUBSPOT_CATEGORIES = st.sampled_from(["CONFLICT", "VALIDATION_ERROR", "MISSING_SCOPES", "INVALID_AUTHENTICATION"])
ZOHO_RECORD = st.fixed_dictionaries({"code": st.one_of(ZOHO_CODES, ANY_JSON)},
                                    optional={"details": st.one_of(ANY_JSON, st.fixed_dictionaries(
                                        {}, optional={"id": ANY_JSON, "api_name": ANY_JSON, "errors": ANY_JSON})),
                                              "message": ANY_JSON, "status": ANY_JSON})
ZOHO_SHAPES = st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
    "data": st.one_of(st.lists(ZOHO_RECORD, max_size=3), ANY_JSON), "code": st.one_of(ZOHO_CODES, ANY_JSON)}))
WEBHOOK_SHAPES = st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
    "status": st.one_of(st.just("created"), ANY_JSON),
    "lead": st.one_of(st.fixed_dictionaries({"id": ANY_JSON}), ANY_JSON),
    "error": st.one_of(st.fixed_dictionaries({"code": ANY_JSON, "message": ANY_JSON}), ANY_JSON),
    "message": ANY_JSON}))
BODIES_AS_BYTES = st.one_of(st.binary(max_size=64), st.sampled_from([b"", b"OK|123", b"KO|DOUBLON", b"\xef\xbb\xbf{}",
                                                                    b"<html>503</html>", b"[1e400]", b"{"]))

SALESFORCE = Salesforce(login_url="https://login.example", client_id="id", client_secret="secret",
                        api_version="v62.0")
ZOHO = Zoho(accounts_url="https://accounts.example", client_id="id", client_secret="secret", refresh_token="r")
HUBSPOT = HubSpot(api_url="https://api.hubapi.example", token="t")
ACME = webhook_from_env({"WEBHOOK_CONFIG": "customers/acme-json.json", "ACME_URL": "https://acme.example/leads",
                         "ACME_TOKEN": "token"})
SOLARIS = webhook_from_env({"WEBHOOK_CONFIG": "customers/solaris-form.json",
                            "SOLARIS_URL": "https://solaris.example/form", "SOLARIS_KEY": "key"})
CHECKS = settings(max_examples=300, derandomize=True, database=None, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow])


def answer_of(status: int, body: Any) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status=status, body=raw, content_type="application/json")


def assert_readable_end(outcome: Outcome, status: int) -> None:
    ending = ending_of(outcome.state, outcome.reason)  # raises on an end the table does not hold
    assert REASON.fullmatch(outcome.reason), outcome.reason
    assert ending.status != 500, "a customer's answer is never our bug"
    if outcome.state == "accepted":
        assert 200 <= status < 300
        assert outcome.customer_lead_id is None or (isinstance(outcome.customer_lead_id, (str, int))
                                                    and not isinstance(outcome.customer_lead_id, bool))
    for key in ("missing_fields", "invalid_fields"):
        if key in outcome.details:
            assert all(isinstance(name, str) and len(name) > 1 for name in outcome.details[key]), outcome.details
    json.dumps(outcome.details, allow_nan=False)


@CHECKS
@given(STATUSES, st.one_of(SALESFORCE_SHAPES, BODIES_AS_BYTES))
def test_salesforce_reads_any_answer(status, body):
    assert_readable_end(SALESFORCE.classify(answer_of(status, body)), status)


@CHECKS
@given(STATUSES, st.one_of(ZOHO_SHAPES, BODIES_AS_BYTES))
def test_zoho_reads_any_answer(status, body):
    assert_readable_end(ZOHO.classify(answer_of(status, body)), status)


@CHECKS
@given(STATUSES, st.one_of(WEBHOOK_SHAPES, BODIES_AS_BYTES))
def test_a_json_webhook_reads_any_answer(status, body):
    assert_readable_end(ACME.classify(answer_of(status, body)), status)


@CHECKS
@given(STATUSES, st.one_of(ANY_JSON, BODIES_AS_BYTES))
def test_a_text_webhook_reads_any_answer(status, body):
    assert_readable_end(SOLARIS.classify(answer_of(status, body)), status)


def test_salesforce_required_field_missing_with_fields_of_any_shape():
    def missing(fields: Any) -> list[str]:
        body = [{"errorCode": "REQUIRED_FIELD_MISSING", "message": "Required fields are missing", "fields": fields}]
        return SALESFORCE.classify(answer_of(400, body)).details["missing_fields"]

    assert missing(["Company", "LastName"]) == ["company", "last_name"]
    assert missing("Company") == ["company"]  # one name, not its letters
    assert missing(5) == missing(True) == missing(None) == missing({"a": 1}) == []



HUBSPOT_ERROR = st.fixed_dictionaries({}, optional={"code": st.one_of(HUBSPOT_CODES, ANY_JSON), "message": ANY_JSON,
                                                    "context": st.one_of(ANY_JSON, st.fixed_dictionaries(
                                                        {"propertyName": ANY_JSON}))})
HUBSPOT_SHAPES = st.one_of(ANY_JSON, st.fixed_dictionaries({}, optional={
    "id": ANY_JSON, "category": st.one_of(HUBSPOT_CATEGORIES, ANY_JSON), "policyName": ANY_JSON,
    "errors": st.one_of(st.lists(HUBSPOT_ERROR, max_size=3), ANY_JSON),
    "message": st.one_of(st.just("Contact already exists. Existing ID: 51001"), ANY_JSON, st.builds(
        lambda items: "Property values were not valid: " + json.dumps(items),
        st.lists(st.fixed_dictionaries({"error": st.one_of(HUBSPOT_CODES, ANY_JSON), "name": ANY_JSON}),
                 max_size=3)))}))


@CHECKS
@given(STATUSES, st.one_of(HUBSPOT_SHAPES, BODIES_AS_BYTES))
def test_hubspot_reads_any_answer(status, body):
    assert_readable_end(HUBSPOT.classify(answer_of(status, body)), status)
