"""A webhook customer's answer rules: ordered, first match wins, no match is never a success (pure, no I/O)."""

from __future__ import annotations

import json

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.webhook_rules import classify, compile_rule
from dispatcher.privacy import NO_LEAD
from dispatcher.reasons import envelope
from dispatcher.transport import Answer

RULES = [
    {"when": {"status": [200, 201], "json": {"path": "result", "equals": "ok"}},
     "then": {"state": "accepted", "lead_id": {"json": "data.0.id"}}},
    {"when": {"status": "2xx", "json": {"path": "result", "equals": "queued"}}, "then": {"state": "accepted",
                                                                                          "reason": "queued"}},
    {"when": {"status": 200, "json": [{"path": "result", "equals": "ok"}, {"path": "data", "exists": False}]},
     "then": {"state": "accepted", "reason": "ok"}},
    {"when": {"json": {"path": "error.code", "in": ["DUPLICATE", "ALREADY_EXISTS"]}}, "then": {"state": "duplicate"}},
    {"when": {"status": "4xx", "json": {"path": "error.code", "matches": "^[A-Z_]+$"}},
     "then": {"state": "refused", "reason": {"json": "error.code"}, "message": {"json": "error.message"}}},
    {"when": {"status": 401}, "then": {"state": "failed", "reason": "unauthorized"}},
    {"when": {"status": 200, "body": r"^OK (?P<id>\d+)$"}, "then": {"state": "accepted", "lead_id": {"group": "id"}}},
    {"when": {"status": 200, "body": r"^KO (?P<code>\S+)"}, "then": {"state": "refused", "reason": {"group": "code"}}},
]
COMPILED = tuple(compile_rule(rule, index) for index, rule in enumerate(RULES))


def answer(status: int, body: object) -> Answer:
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    return Answer(status=status, body=raw)


@pytest.mark.parametrize(("status", "body", "state", "reason", "lead_id"), [
    pytest.param(201, {"result": "ok", "data": [{"id": "A-1"}]}, "accepted", "created", "A-1", id="created-with-id"),
    pytest.param(200, {"result": "ok", "data": [{"id": 7}]}, "accepted", "created", 7, id="integer-id-as-given"),
    pytest.param(200, {"result": "ok"}, "accepted", "ok", None, id="no-id-falls-to-the-next-rule"),
    pytest.param(202, {"result": "queued"}, "accepted", "queued", None, id="status-class"),
    pytest.param(409, {"error": {"code": "ALREADY_EXISTS"}}, "duplicate", "duplicate", None, id="json-in"),
    pytest.param(200, {"error": {"code": "DUPLICATE"}}, "duplicate", "duplicate", None, id="duplicate-with-200"),
    pytest.param(422, {"error": {"code": "OUT_OF_AREA", "message": "no"}}, "refused", "OUT_OF_AREA", None,
                 id="customer-code-as-reason"),
    pytest.param(401, {"error": {"code": "bad token!"}}, "failed", "unauthorized", None,
                 id="regex-on-json-value-must-match"),
    pytest.param(200, "OK 4821", "accepted", "created", "4821", id="text-id-from-group"),
    pytest.param(200, "KO TEL_INVALIDE", "refused", "TEL_INVALIDE", None, id="text-code-from-group"),
    pytest.param(200, "KO elodie@exemple.fr", "refused", "refused", None, id="a-code-that-is-not-a-token-is-not-kept"),
    pytest.param(500, "OK 4821", "failed", "customer_error", None, id="unmatched-5xx"),
    pytest.param(404, "<html>Not Found</html>", "failed", "customer_api_not_found", None, id="unmatched-404"),
    pytest.param(200, {"result": "maybe"}, "failed", "bad_customer_response", None, id="unmatched-200-is-no-success"),
    pytest.param(200, "", "failed", "bad_customer_response", None, id="empty-200-is-no-success"),
    pytest.param(302, "", "failed", "bad_customer_response", None, id="redirect"),
])
def test_the_first_matching_rule_decides(status, body, state, reason, lead_id):
    outcome = classify(COMPILED, answer(status, body), "Acme")
    assert (outcome.state, outcome.reason, outcome.customer_lead_id) == (state, reason, lead_id)


def test_a_refusal_carries_the_customers_message():
    outcome = classify(COMPILED, answer(422, {"error": {"code": "OUT_OF_AREA", "message": "Not in our area"}}), "Acme")
    assert outcome.message == "Not in our area"


def test_an_invalid_lead_rule_lists_its_fields_in_the_envelope_shape():
    rule = compile_rule({"when": {"status": 400}, "then": {"state": "failed", "reason": "invalid_lead"}}, 0)
    outcome = classify((rule,), answer(400, {}), "Acme")
    error = envelope(outcome, {}, answer(400, {}), NO_LEAD)["error"]
    assert error == {"state": "failed", "reason": "invalid_lead", "missing_fields": [], "invalid_fields": []}


@pytest.mark.parametrize(("rule", "mistake"), [
    pytest.param({"when": {"body": "OK"}, "then": {"state": "accepted"}}, "answers[0].when.status",
                 id="accepting-without-a-status"),
    pytest.param({"when": {"status": ["2xx", 500]}, "then": {"state": "accepted"}}, "must name the 2xx",
                 id="accepting-a-5xx"),
    pytest.param({"when": {"status": 200, "body": "(?P<id>"}, "then": {"state": "refused"}},
                 "invalid regular expression", id="bad-regex"),
    pytest.param({"when": {"status": 200, "json": {"path": "a", "matches": "*"}}, "then": {"state": "refused"}},
                 "answers[0].when.json.matches", id="bad-regex-in-json-test"),
    pytest.param({"when": {"status": 200, "body": "OK (?P<ref>.*)"},
                  "then": {"state": "accepted", "lead_id": {"group": "id"}}}, "group 'id'", id="unknown-group"),
    pytest.param({"when": {"status": 200}, "then": {"state": "refused", "reason": {"group": "code"}}},
                 "group 'code'", id="group-without-body-regex"),
])
def test_a_rule_that_cannot_work_is_refused_when_compiled(rule, mistake):
    with pytest.raises(ConfigurationError, match=mistake.replace("[", r"\[").replace("]", r"\]")):
        compile_rule(rule, 0)
