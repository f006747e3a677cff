"""What a customer echoes back never leaks: our credentials (by value) and the person's data, in
no envelope nor log line.

Customers repeat what they were sent: a token error quoting the client secret, a PHP warning printing the
URL with `?key=`, an error quoting the bearer token, a refusal code that is the person's own name. None of it
reaches the envelope (credentials), the transition log or a Rollbar item (credentials and personal data).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sandbox.salesforce import CLIENT_SECRET
from tests.conftest import salesforce_env
from tests.support.customers import COMMON
from tests.support.leads import make_lead
from tests.support.rollbar_catcher import RollbarCatcher
from tests.support.scripted import ScriptedSalesforce

API_KEY = "k3y-0f-the-customer-7f3a9c"
BEARER = "bearer-token-5d8e1b2c"


def webhook_file(tmp_path: Path, url: str, auth: dict[str, str]) -> Path:
    config = {
        "name": "Echo", "url": url, "auth": auth, "body": "json",
        "fields": {"email": "email", "last_name": "last_name", "phone": "phone"},
        "answers": [
            {"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "id"}}},
            {"when": {"status": 422}, "then": {"state": "refused", "reason": {"json": "code"},
                                               "message": {"json": "message"}}},
        ],
        "examples": [{"status": 201, "body": {"id": "E-1"}, "state": "accepted"},
                     {"status": 422, "body": {"code": "NOPE"}, "state": "refused", "reason": "NOPE"}],
    }
    path = tmp_path / "echo.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def post_with_rollbar(plug_for, environment: dict[str, str], lead: dict) -> tuple[int, str, RollbarCatcher]:
    with RollbarCatcher() as rollbar:
        plug = plug_for({**environment, "ROLLBAR_ACCESS_TOKEN": "rollbar-test-token",
                         "ROLLBAR_ENDPOINT": rollbar.endpoint})
        status, envelope = plug.post(lead)
    return status, json.dumps(envelope, ensure_ascii=False), rollbar


@pytest.mark.parametrize(("auth", "secret", "answer"), [
    pytest.param({"type": "query", "name": "key", "env": "ECHO_KEY"}, API_KEY,
                 (500, f"<b>Warning</b>: file_get_contents(https://crm.example/api?key={API_KEY}): failed".encode()),
                 id="php-warning-printing-the-url-with-its-key"),
    pytest.param({"type": "bearer", "env": "ECHO_KEY"}, BEARER,
                 (401, {"error": "invalid_token", "detail": f"token {BEARER} is not valid"}),
                 id="an-error-quoting-the-bearer-token"),
    pytest.param({"type": "header", "name": "X-Api-Key", "env": "ECHO_KEY"}, API_KEY,
                 (422, {"code": "BAD_KEY", "message": f"header X-Api-Key={API_KEY} refused"}),
                 id="a-refusal-quoting-the-api-key"),
])
def test_a_credential_the_customer_echoes_is_masked_everywhere(plug_for, tmp_path, caplog, auth, secret, answer):
    with ScriptedSalesforce(lead=answer) as customer:
        path = webhook_file(tmp_path, customer.base_url + "/leads", auth)
        environment = {**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "ECHO_KEY": secret}
        status, envelope, rollbar = post_with_rollbar(plug_for, environment, make_lead())
        assert len(customer.lead_posts()) == 1
    assert status in (401, 406, 502)
    assert secret not in envelope
    assert "[redacted]" in envelope
    assert secret not in caplog.text
    assert all(secret not in item for item in rollbar.raw)


def test_a_token_error_quoting_the_client_secret_never_shows_it(plug_for, caplog):
    token_error = (400, {"error": "invalid_client",
                         "error_description": f"client_secret {CLIENT_SECRET} does not match"})
    with ScriptedSalesforce(lead=(201, {}), token=token_error) as customer:
        status, envelope, _ = post_with_rollbar(plug_for, salesforce_env(customer.base_url), make_lead())
    assert status == 401
    assert CLIENT_SECRET not in envelope
    assert CLIENT_SECRET not in caplog.text


def test_the_access_token_echoed_by_the_lead_endpoint_is_masked(plug_for):
    token = "00Dscripted-token"  # what ScriptedSalesforce's token endpoint hands out
    with ScriptedSalesforce(lead=(500, {"message": f"session {token} broke"})) as customer:
        status, envelope, rollbar = post_with_rollbar(plug_for, salesforce_env(customer.base_url), make_lead())
    assert status == 502
    assert token not in envelope
    assert rollbar.items and all(token not in item for item in rollbar.raw)


@pytest.mark.parametrize("code_of", [
    pytest.param(lambda lead: lead["last_name"].upper(), id="the-persons-last-name"),
    pytest.param(lambda lead: "NAME_" + lead["first_name"], id="a-code-holding-the-first-name"),
    pytest.param(lambda lead: lead["phone"].lstrip("+"), id="the-persons-phone"),
])
def test_a_refusal_code_made_of_the_persons_data_is_counted_as_plain_refused(plug_for, tmp_path, caplog, code_of):
    lead = make_lead(first_name="Gwendoline", last_name="Kerbrat")
    code = code_of(lead)
    with ScriptedSalesforce(lead=(422, {"code": code, "message": "no"})) as customer:
        path = webhook_file(tmp_path, customer.base_url + "/leads", {"type": "none"})
        status, envelope, _ = post_with_rollbar(
            plug_for, {**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path)}, lead)
    assert status == 406
    assert json.loads(envelope)["error"]["reason"] == "refused"
    assert code not in caplog.text


def test_an_ordinary_refusal_code_is_kept(plug_for, tmp_path):
    with ScriptedSalesforce(lead=(422, {"code": "OUT_OF_AREA", "message": "no"})) as customer:
        path = webhook_file(tmp_path, customer.base_url + "/leads", {"type": "none"})
        status, envelope = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path)}).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (406, "OUT_OF_AREA")
