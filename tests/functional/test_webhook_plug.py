"""The two example webhook customers through the app: the plug in process (chalice.test.Client) with a stage of
its own, the sandbox customers on 127.0.0.1, and the fixtures sent in order (as docs/adding-a-customer.md says
to do for a new customer)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.webhook import WebhookSandbox
from tests.support.customers import acme_env, fixture_cases, solaris_env
from tests.support.envelopes import assert_envelope
from tests.support.leads import make_lead


@pytest.fixture
def acme() -> Iterator[WebhookSandbox]:
    server = WebhookSandbox(dialect="json").start()
    yield server
    server.stop()


@pytest.fixture
def solaris() -> Iterator[WebhookSandbox]:
    server = WebhookSandbox(dialect="form").start()
    yield server
    server.stop()


def send_fixtures(plug, folder: str) -> list[dict]:
    envelopes = []
    for name, lead, expected in fixture_cases(folder):
        status, envelope = plug.post(lead)
        assert_envelope(status, envelope)
        outcome = (envelope["error"]["state"], envelope["error"]["reason"]) if "error" in envelope else \
            ("accepted", "created" if envelope["customer_lead_id"] is not None else "ok")
        assert (status, *outcome) == (expected["status"], expected["state"], expected["reason"]), name
        envelopes.append(envelope)
    return envelopes


def test_acme_takes_json_with_a_bearer_token(plug_for, acme):
    created, _, refused, invalid = send_fixtures(plug_for(acme_env(acme)), "webhook/acme-json")
    assert created["customer_lead_id"].startswith("ACME-")
    received = acme.journal.matching("/v1/leads")[0]
    assert received.headers["authorization"] == "Bearer sandbox-acme-token"
    assert received.json() == created["request_details"]
    assert received.json()["contact"] == {"civility": "Mrs", "first_name": "Camille", "last_name": "MARTIN",
                                          "email": "camille.martin@exemple.fr", "phone": "+33612345678"}
    assert "Bearer" not in str(created)
    assert refused["error_message"] == "We do not serve this country"
    assert invalid["error"]["missing_fields"] == ["address.postal_code", "address.country"]
    assert len(acme.journal.matching("/v1/leads")) == 3  # the invalid lead never left


def test_solaris_takes_a_form_and_answers_in_plain_text(plug_for, solaris):
    created, _, refused, _ = send_fixtures(plug_for(solaris_env(solaris)), "webhook/solaris-form")
    received = solaris.journal.matching("/api/lead.php")[0]
    assert received.path == "/api/lead.php?key=sandbox-solaris-key"
    assert received.headers["content-type"] == "application/x-www-form-urlencoded"
    assert received.form()["tel"] == "0612345678"
    assert received.form() == created["request_details"]
    assert created["customer_lead_id"] == "48213"
    assert created["response_details"] == {"http_status_code": 200, "body": "OK 48213"}
    assert "sandbox-solaris-key" not in str(created)
    assert refused["error_message"] == "le numero doit avoir 10 chiffres"


@pytest.mark.parametrize(("env", "status", "reason"), [
    pytest.param({"ACME_TOKEN": "wrong"}, 401, "unauthorized", id="wrong-token"),
    pytest.param({"ACME_URL": "http://127.0.0.1:9/v1/leads"}, 502, "customer_unreachable", id="nobody-listening"),
])
def test_acme_failures(plug_for, acme, env, status, reason):
    answered, envelope = plug_for(acme_env(acme, **env)).post(make_lead())
    assert (answered, envelope["error"]["reason"]) == (status, reason)


def test_an_answer_no_rule_explains_is_never_a_success(plug_for, acme):
    # Solaris' rules pointed at Acme's server: a JSON 401 that no rule of that file describes
    answered, envelope = plug_for(solaris_env(acme, SOLARIS_URL=acme.lead_url)).post(make_lead())
    assert (answered, envelope["error"]["reason"]) == (502, "bad_customer_response")
    assert envelope["response_details"]["http_status_code"] == 401


def test_a_customer_failing_is_a_502(plug_for, solaris):
    answered, envelope = plug_for(solaris_env(solaris)).post(make_lead(email="camille+error500@exemple.fr"))
    assert (answered, envelope["error"]["reason"]) == (502, "customer_error")
