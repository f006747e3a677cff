"""The success and the error envelopes, built from an outcome, the request shown and the customer's answer."""

from __future__ import annotations

import json

import pytest

from dispatcher.privacy import NO_LEAD
from dispatcher.reasons import Outcome, envelope, response_details
from dispatcher.transport import Answer

REQUEST = {"LastName": "Dupré", "Company": "Dupré"}
SUCCESS_KEYS = {"request_details", "customer_lead_id", "response_details"}
ERROR_KEYS = {"request_details", "error", "error_message", "response_details"}


def answer(status: int, body: object, **kwargs) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
    return Answer(status, raw, **kwargs)


@pytest.mark.parametrize(("recorded", "details"), [
    pytest.param(None, {"http_status_code": None}, id="no-answer"),
    pytest.param(answer(201, {"id": "00Q1", "success": True, "errors": []}),
                 {"http_status_code": 201, "id": "00Q1", "success": True, "errors": []}, id="object-merged"),
    pytest.param(answer(400, {"http_status_code": 999, "error": "x"}), {"http_status_code": 400, "error": "x"},
                 id="our-status-wins-over-a-customer-key"),
    pytest.param(answer(400, [{"errorCode": "DUPLICATES_DETECTED", "message": "m"}]),
                 {"http_status_code": 400, "body": [{"errorCode": "DUPLICATES_DETECTED", "message": "m"}]},
                 id="array-under-body"),
    pytest.param(answer(503, b"<html><body>Down</body></html>"),
                 {"http_status_code": 503, "body": "<html><body>Down</body></html>"}, id="html-under-body"),
    pytest.param(answer(200, b"OK"), {"http_status_code": 200, "body": "OK"}, id="text-under-body"),
    pytest.param(answer(200, "queued"), {"http_status_code": 200, "body": "queued"}, id="json-string-under-body"),
    pytest.param(answer(200, 17), {"http_status_code": 200, "body": 17}, id="json-number-under-body"),
    pytest.param(answer(502, b""), {"http_status_code": 502}, id="empty-body"),
    pytest.param(answer(500, b"\xff\xfe broken"), {"http_status_code": 500, "body": "\ufffd\ufffd broken"},
                 id="undecodable-bytes-replaced"),
])
def test_response_details_carry_the_raw_answer(recorded, details):
    assert response_details(recorded, NO_LEAD) == details


def test_a_long_text_answer_is_cut_and_says_so():
    details = response_details(answer(502, b"x" * 50_000), NO_LEAD)
    assert details["body"] == "x" * 10_000
    assert details["truncated"] is True


def test_an_answer_cut_at_the_size_cap_is_not_parsed_as_json_and_says_so():
    details = response_details(answer(200, b'{"id": "00Q1", "pad": "' + b"x" * 100, truncated=True), NO_LEAD)
    assert details["truncated"] is True
    assert "id" not in details


@pytest.mark.parametrize("key", [
    pytest.param(key, id=key) for key in ("access_token", "refresh_token", "id_token", "signature", "client_secret")
])
def test_secrets_in_an_answer_are_never_echoed(key):
    recorded = answer(200, {key: "00Dsecret-value", "instance_url": "https://example.my.salesforce.com",
                            "token_type": "Bearer"})
    details = response_details(recorded, NO_LEAD)
    assert key not in details
    assert "00Dsecret-value" not in json.dumps(details)
    assert details["instance_url"] == "https://example.my.salesforce.com"


def test_a_token_answer_keeps_its_error_code_without_secrets():
    failure = Outcome.of("unauthorized", "Salesforce rejected our credentials (invalid_client)")
    token_answer = answer(400, {"error": "invalid_client", "error_description": "invalid client credentials"})
    built = envelope(failure, dict(REQUEST), token_answer, NO_LEAD)
    assert built["response_details"] == {"http_status_code": 400, "error": "invalid_client",
                                         "error_description": "invalid client credentials"}


def test_a_success_envelope():
    created = Outcome("accepted", "created", customer_lead_id="00Q5e00000AbCdE")
    recorded = answer(201, {"id": "00Q5e00000AbCdE", "success": True, "errors": []})
    assert envelope(created, dict(REQUEST), recorded, NO_LEAD) == {
        "request_details": REQUEST,
        "customer_lead_id": "00Q5e00000AbCdE",
        "response_details": {"http_status_code": 201, "id": "00Q5e00000AbCdE", "success": True, "errors": []},
    }


@pytest.mark.parametrize("reason", [pytest.param("ok", id="ok"), pytest.param("queued", id="queued")])
def test_an_accepted_lead_without_id_has_a_null_customer_lead_id(reason):
    built = envelope(Outcome("accepted", reason), {}, answer(202, b""), NO_LEAD)
    assert set(built) == SUCCESS_KEYS
    assert built["customer_lead_id"] is None


def test_an_integer_customer_id_is_kept_as_given():
    built = envelope(Outcome("accepted", "created", customer_lead_id=4711), {}, None, NO_LEAD)
    assert built["customer_lead_id"] == 4711


@pytest.mark.parametrize("outcome", [
    pytest.param(Outcome.of("invalid_lead", "Invalid lead: missing email", missing_fields=["email"]),
                 id="only-missing"),
    pytest.param(Outcome.of("invalid_lead", "Invalid lead: invalid phone", invalid_fields=["phone"]),
                 id="only-invalid"),
    pytest.param(Outcome.of("invalid_lead", "Invalid lead"), id="neither"),
    pytest.param(Outcome("failed", "invalid_lead", "Salesforce requires more fields",
                         details={"missing_fields": ["company"], "invalid_fields": []}), id="from-the-customer"),
])
def test_an_invalid_lead_always_has_both_lists(outcome):
    error = envelope(outcome, {}, None, NO_LEAD)["error"]
    assert isinstance(error["missing_fields"], list)
    assert isinstance(error["invalid_fields"], list)
    assert error["missing_fields"] == outcome.details.get("missing_fields", [])
    assert error["invalid_fields"] == outcome.details.get("invalid_fields", [])


def test_the_spec_example_of_an_error_envelope():
    outcome = Outcome.of("invalid_lead", "Invalid lead: missing email", missing_fields=["email"],
                             invalid_fields=[])
    assert envelope(outcome, {}, None, NO_LEAD) == {
        "request_details": {},
        "error": {"state": "failed", "reason": "invalid_lead", "missing_fields": ["email"], "invalid_fields": []},
        "error_message": "Invalid lead: missing email",
        "response_details": {"http_status_code": None},
    }


@pytest.mark.parametrize("outcome", [
    pytest.param(Outcome("refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION", "Salesforce refused the lead"), id="refused"),
    pytest.param(Outcome("duplicate", "duplicate", "Salesforce already has this person"), id="duplicate"),
    pytest.param(Outcome.of("customer_timeout", "The customer did not answer"), id="customer-timeout"),
    pytest.param(Outcome.of("internal_error", ""), id="internal-error-without-message"),
])
def test_an_error_envelope_has_the_state_reason_and_one_sentence(outcome):
    built = envelope(outcome, dict(REQUEST), None, NO_LEAD)
    assert set(built) == ERROR_KEYS
    assert built["error"]["state"] == outcome.state
    assert built["error"]["reason"] == outcome.reason
    assert "missing_fields" not in built["error"]
    assert isinstance(built["error_message"], str) and built["error_message"]
    assert built["request_details"] == REQUEST


@pytest.mark.parametrize("recorded", [
    pytest.param(answer(200, {"result": {"access_token": "00Dsecret-value"}}), id="nested-in-an-object"),
    pytest.param(answer(500, [{"access_token": "00Dsecret-value"}]), id="inside-an-array"),
    pytest.param(answer(200, b"access_token=00Dsecret-value&instance_url=https%3A%2F%2Fx&token_type=Bearer"),
                 id="form-encoded-text"),
])
def test_secrets_anywhere_in_an_answer_are_never_echoed(recorded):
    assert "00Dsecret-value" not in json.dumps(response_details(recorded, NO_LEAD))
