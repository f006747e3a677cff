"""Never twice across retries, through the app: the platform sends the same lead again.

The plug runs in process with `LEDGER=sqlite:` in the test's folder, against the Salesforce and Zoho
sandboxes, which count what they received and answer their search endpoints (SOQL query, Zoho search).
`+slowanswer` in an email makes the sandbox keep the lead but answer after the plug's deadline (in doubt,
found by the search); `+noanswer` makes its first request answer as late and keep nothing (in doubt, not
found).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from sandbox.salesforce import SalesforceSandbox
from sandbox.server import CrmSandbox, CustomerServer, Handler, Received
from sandbox.zoho import ZohoSandbox
from tests.conftest import salesforce_env
from tests.support.customers import COMMON, zoho_env
from tests.support.leads import make_lead
from tests.support.translog import transition_lines

TIMEOUT_S = "1"  # below the sandboxes' late answer (3 s)


@pytest.fixture
def crm(request: pytest.FixtureRequest) -> Iterator[CrmSandbox]:
    sandbox = {"salesforce": SalesforceSandbox, "zoho": ZohoSandbox}[request.param]()
    with sandbox:
        yield sandbox


def environment(crm: CrmSandbox, ledger: str, **extra: str) -> dict[str, str]:
    if isinstance(crm, ZohoSandbox):
        return zoho_env(crm, LEDGER=ledger, **extra)
    return salesforce_env(crm.base_url, LEDGER=ledger, **extra)


def post(plug: Any, lead: dict[str, Any]) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = plug.client.http.post("/send", headers={"Content-Type": "application/json"},
                                     body=json.dumps(lead).encode())
    return response.status_code, response.headers, json.loads(response.body)


def held(crm: CrmSandbox, lead: dict[str, Any]) -> int:
    """How many leads the customer holds for this person."""
    return sum(str(record.get("Email", "")).lower() == lead["email"].lower() for record in crm.leads.values())


BOTH = pytest.mark.parametrize("crm", ["salesforce", "zoho"], indirect=True)


@BOTH
def test_an_accepted_lead_sent_again_is_replayed_and_the_customer_not_called(plug_for, crm, tmp_path, caplog):
    plug = plug_for(environment(crm, f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
    lead = make_lead()
    first = post(plug, lead)
    posts_after_first = len(crm.journal.requests)
    again = post(plug, lead)
    assert first[0] == again[0] == 201
    assert again[1].get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first[1]
    assert again[2]["customer_lead_id"] == first[2]["customer_lead_id"]
    assert again[2]["request_details"] == first[2]["request_details"]  # translated again
    assert len(crm.journal.requests) == posts_after_first and held(crm, lead) == 1
    replay = transition_lines(caplog, lead["id"])[-1]
    first_trace = transition_lines(caplog, lead["id"])[0]["trace_id"]
    assert (replay["from"], replay["to"], replay["trigger"], replay["replay_of"]) == (
        "translated", "accepted", "replay", first_trace)


@BOTH
def test_the_same_id_with_other_content_is_refused_and_nothing_sent(plug_for, crm, tmp_path):
    plug = plug_for(environment(crm, f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
    lead = make_lead()
    assert post(plug, lead)[0] == 201
    status, _, envelope = post(plug, {**lead, "comment": "another person's request under the same id"})
    assert (status, envelope["error"]["reason"], envelope["error"]["invalid_fields"]) == (400, "lead_id_reused",
                                                                                          ["id"])
    assert len(crm.leads) == 1


@BOTH
def test_in_doubt_and_found_at_the_customer_is_accepted_without_sending_again(plug_for, crm, tmp_path, caplog):
    plug = plug_for(environment(crm, f"sqlite:{tmp_path / 'ledger.sqlite3'}", CUSTOMER_TIMEOUT_S=TIMEOUT_S))
    lead = make_lead(email=f"lead+slowanswer+{make_lead()['id']}@exemple.fr")
    first = post(plug, lead)
    assert (first[0], first[2]["error"]["reason"]) == (502, "customer_timeout")
    creates = len(crm.leads)
    status, _, envelope = post(plug, lead)
    assert status == 201
    assert envelope["customer_lead_id"] in crm.leads  # the id the customer gave the first attempt's lead
    assert envelope["previous_attempt"]["reason"] == "customer_timeout"
    assert len(crm.leads) == creates == 1
    last = transition_lines(caplog, lead["id"])[-1]
    assert (last["trigger"], last["previous_trace_id"]) == ("find", envelope["previous_attempt"]["trace_id"])


@BOTH
def test_in_doubt_and_not_found_is_delivered_again_naming_the_first_attempt(plug_for, crm, tmp_path):
    plug = plug_for(environment(crm, f"sqlite:{tmp_path / 'ledger.sqlite3'}", CUSTOMER_TIMEOUT_S=TIMEOUT_S))
    lead = make_lead(email=f"lead+noanswer+{make_lead()['id']}@exemple.fr")
    first = post(plug, lead)
    assert (first[0], first[2]["error"]["reason"]) == (502, "customer_timeout")
    status, _, envelope = post(plug, lead)
    assert status == 201
    assert envelope["previous_attempt"]["trace_id"]
    assert held(crm, lead) == 1


@pytest.mark.parametrize("crm", ["salesforce"], indirect=True)
def test_an_unreachable_ledger_sends_nothing_and_answers_500(plug_for, crm, tmp_path):
    plug = plug_for(environment(crm, f"sqlite:{tmp_path / 'no-such-folder' / 'ledger.sqlite3'}"))
    status, _, envelope = post(plug, make_lead())
    assert (status, envelope["error"]["reason"]) == (500, "ledger_unavailable")
    assert crm.leads == {}


@pytest.mark.parametrize("crm", ["salesforce"], indirect=True)
def test_without_a_ledger_a_retry_is_delivered_again(plug_for, crm, tmp_path):
    plug = plug_for(environment(crm, "off"))
    lead = make_lead()
    assert post(plug, lead)[0] == 201
    assert post(plug, lead)[0] == 409  # the customer's duplicate rule: what the ledger prevents


@pytest.mark.parametrize(("setting", "on_lambda", "message"), [
    pytest.param("sqlite:/tmp/ledger.sqlite3", True, "refused on Lambda", id="sqlite-on-lambda"),
    pytest.param("", True, "LEDGER must be set on Lambda", id="unset-on-lambda"),
    pytest.param("redis:x", False, "LEDGER must be sqlite:<path>, dynamodb:<table> or off", id="unknown-kind"),
    pytest.param("off", False, "LEDGER_TTL_S must be a whole number", id="ttl-not-a-number-with-the-ledger-off"),
    pytest.param("sqlite:/tmp/ledger.sqlite3", False, "LEDGER_TTL_S must be at least 60", id="ttl-too-short"),
])
def test_a_wrong_ledger_setting_is_refused_naming_the_variable(setting, on_lambda, message):
    from dispatcher.errors import ConfigurationError
    from dispatcher.plug import build_plug

    environ = {**salesforce_env("http://127.0.0.1:9"), "LEDGER": setting}
    if "LEDGER_TTL_S" in message:
        environ["LEDGER_TTL_S"] = "a week" if "number" in message else "30"
    if on_lambda:
        environ["AWS_LAMBDA_FUNCTION_NAME"] = "lead-plug-prod"
    with pytest.raises(ConfigurationError, match=message):
        build_plug(environ)


def test_the_ledger_file_holds_no_personal_data(plug_for, salesforce, tmp_path):
    path: Path = tmp_path / "ledger.sqlite3"
    plug = plug_for(salesforce_env(salesforce.base_url, LEDGER=f"sqlite:{path}"))
    lead = make_lead()
    lead["id"] = lead["email"]  # a platform that uses the email as id
    assert post(plug, lead)[0] == 201
    stored = path.read_bytes() + b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite3-*"))
    for value in (lead["email"], lead["first_name"], lead["last_name"], lead["phone"], lead["address"]["street"]):
        assert value.encode() not in stored, value


class _SlowWebhook(CustomerServer):
    """A JSON webhook that keeps every lead but answers the first one after the plug's deadline, and whose
    `GET /search?email=` finds what it keeps (`find` in the customer's file)."""

    def __init__(self, searchable: bool) -> None:
        super().__init__(0)
        self.searchable = searchable
        self.kept: dict[str, str] = {}

    def route(self, handler: Handler, request: Received) -> None:
        if request.method == "GET" and request.path.startswith("/forbidden"):
            return handler.send_json(403, {"error": "forbidden"})
        if request.method == "GET" and request.path.startswith("/search"):
            email = parse_qs(urlsplit(request.path).query).get("email", [""])[0]
            found = [{"id": self.kept[email]}] if email in self.kept else []
            return handler.send_json(200, {"data": found})
        email = request.json()["email"]
        first = email not in self.kept
        self.kept.setdefault(email, f"W-{len(self.kept) + 1}")
        if first:
            time.sleep(2.5)
        handler.send_json(201, {"id": self.kept[email]})


def slow_webhook_plug(plug_for: Any, tmp_path: Path, customer: _SlowWebhook, search_path: str | None,
                      *extra_answers: dict[str, Any]) -> Any:
    """A plug in front of `customer`, its file declaring a `find` at `search_path` (none when None)."""
    config: dict[str, Any] = {
        "name": "Slow", "url": customer.base_url + "/leads", "body": "json", "fields": {"email": "email"},
        "answers": [{"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "id"}}},
                    *extra_answers],
        "examples": [{"status": 201, "body": {"id": "W-1"}, "state": "accepted"},  # one for each rule
                     *({"status": rule["when"]["status"], "body": "", "state": rule["then"]["state"]}
                       for rule in extra_answers)]}
    if search_path is not None:
        config["find"] = {"url": customer.base_url + search_path, "params": {"email": "email"},
                          "found": {"json": "data.0.id"}}
    path = tmp_path / "slow.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "CUSTOMER_TIMEOUT_S": "1",
                     "LEDGER": f"sqlite:{tmp_path / 'ledger.sqlite3'}"})


@pytest.mark.parametrize("searchable", [pytest.param(True, id="with-find"), pytest.param(False, id="without-find")])
def test_a_webhook_customer_in_doubt_with_and_without_a_find_request(plug_for, tmp_path, searchable):
    with _SlowWebhook(searchable) as customer:
        plug = slow_webhook_plug(plug_for, tmp_path, customer, "/search" if searchable else None)
        lead = make_lead()
        assert post(plug, lead)[0] == 502
        status, _, envelope = post(plug, lead)
        lead_posts = [r for r in customer.journal.requests if r.method == "POST"]
    assert (status, envelope["customer_lead_id"]) == (201, "W-1")
    assert envelope["previous_attempt"]["reason"] == "customer_timeout"
    assert len(lead_posts) == (1 if searchable else 2)  # found: not sent again; no find: delivered again


def test_zoho_in_doubt_never_takes_an_older_record_of_the_same_person_for_this_lead(plug_for, tmp_path):
    with ZohoSandbox() as zoho:
        lead = make_lead(email=f"lead+noanswer+{make_lead()['id']}@exemple.fr")
        old_id, _ = zoho.take(lead["email"], {"Email": lead["email"], "Last_Name": "Old"}, lambda: "OLD-RECORD-2025")
        zoho.created_at[old_id] = time.time() - 365 * 24 * 3600  # a year ago
        plug = plug_for(environment(zoho, f"sqlite:{tmp_path / 'ledger.sqlite3'}", CUSTOMER_TIMEOUT_S=TIMEOUT_S))
        assert post(plug, lead)[0] == 502
        status, _, envelope = post(plug, lead)
    assert envelope.get("customer_lead_id") != "OLD-RECORD-2025"
    assert (status, envelope["error"]["reason"]) == (409, "duplicate")  # delivered again; the CRM's own rule


def test_a_webhook_search_answered_with_a_refusal_rule_ends_the_lead_as_a_failure_not_a_500(plug_for, tmp_path):
    with _SlowWebhook(searchable=True) as customer:
        plug = slow_webhook_plug(plug_for, tmp_path, customer, "/forbidden",
                                 {"when": {"status": 403}, "then": {"state": "refused", "reason": "FORBIDDEN"}})
        lead = make_lead()
        assert post(plug, lead)[0] == 502
        status, _, envelope = post(plug, lead)
    assert (status, envelope["error"]["reason"]) == (502, "bad_customer_response")
