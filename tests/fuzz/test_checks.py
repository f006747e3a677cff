"""Our schemathesis checks catch what they are meant to catch (unit tests: no server, no fuzzing)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import schemathesis

from sandbox.salesforce import CLIENT_SECRET
from tests.fuzz import checks

CREATED = {"request_details": {"LastName": "Dupré"}, "customer_lead_id": "00Q1",
           "response_details": {"http_status_code": 201, "id": "00Q1", "success": True, "errors": []}}
INVALID = {"request_details": {}, "error": {"state": "failed", "reason": "invalid_lead", "missing_fields": ["email"],
                                            "invalid_fields": []},
           "error_message": "Invalid lead: missing email", "response_details": {"http_status_code": None}}


def answer(status: int, body: Any, content_type: str = "application/json", method: str = "POST"
           ) -> schemathesis.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return schemathesis.Response(status_code=status, headers={"Content-Type": [content_type]}, content=content,
                                 request=requests.Request(method, "http://127.0.0.1/send").prepare(),
                                 elapsed=0.01, verify=True)


def test_documented_envelopes_pass_every_check():
    for response in (answer(201, CREATED), answer(400, INVALID), answer(405, {"Code": "x"}, method="GET")):
        for check in (checks.never_504, checks.envelope_for_status, checks.no_credential_in_envelope):
            check(None, response, None)


@pytest.mark.parametrize(("check", "response"), [
    pytest.param(checks.never_504, answer(504, INVALID), id="504"),
    pytest.param(checks.envelope_for_status, answer(418, INVALID), id="status-spec-does-not-list"),
    pytest.param(checks.envelope_for_status, answer(201, INVALID), id="error-envelope-for-a-success"),
    pytest.param(checks.envelope_for_status, answer(409, INVALID), id="invalid-lead-envelope-for-a-duplicate"),
    pytest.param(checks.envelope_for_status, answer(201, {**CREATED, "debug": 1}), id="unknown-key"),
    pytest.param(checks.envelope_for_status, answer(500, b"<html>oops</html>", "text/html"), id="framework-page"),
    pytest.param(checks.envelope_for_status, answer(400, b"{oops", "application/json"), id="not-json"),
    pytest.param(checks.no_credential_in_envelope,
                 answer(201, {**CREATED, "response_details": {"http_status_code": 201, "access_token": "x"}}),
                 id="access-token-key"),
    pytest.param(checks.no_credential_in_envelope,
                 answer(400, {**INVALID, "request_details": {"Description": f"secret {CLIENT_SECRET}"}}),
                 id="client-secret-value"),
])
def test_a_broken_answer_fails_its_check(check, response, monkeypatch):
    monkeypatch.setattr(checks, "_known_secrets", lambda: (CLIENT_SECRET,))
    with pytest.raises(AssertionError):
        check(None, response, None)
