"""What no ordinary lead does, answered all the same: an envelope, never a 500.

- an answer rule whose regular expression would backtrack for ever in Python's `re` ends at once (RE2);
- a Lambda event whose body string holds a lone surrogate gets the 400 envelope, not Chalice's own 500;
- every id the schema accepts (tabs, line breaks, invisible characters inside) is in the transition log.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from app import create_app
from tests.conftest import salesforce_env
from tests.support.customers import COMMON
from tests.support.lambda_event import LambdaContext, proxy_event
from tests.support.leads import TRACEABLE_IDS, make_lead
from tests.support.scripted import ScriptedSalesforce
from tests.support.translog import transition_lines

BACKTRACKING = r"^ERREUR (?P<code>[A-Z_]+)(?: (?P<text>(?:\w+\s?)+))?$"
TIMEOUT_S = 3
MARGIN_S = 5  # answering before the deadline plus a generous margin: the machine is shared and slow


def text_customer_file(tmp_path: Path, url: str) -> Path:
    config = {
        "name": "Old form", "url": url, "body": "form", "fields": {"email": "email"},
        "answers": [
            {"when": {"status": 200, "body": "^OK (?P<id>[0-9]+)$"},
             "then": {"state": "accepted", "lead_id": {"group": "id"}}},
            {"when": {"status": 200, "body": BACKTRACKING},
             "then": {"state": "refused", "reason": {"group": "code"}}},
        ],
        "examples": [{"status": 200, "body": "OK 1", "state": "accepted"},
                     {"status": 200, "body": "ERREUR HORS_ZONE trop loin", "state": "refused", "reason": "HORS_ZONE"}],
    }
    path = tmp_path / "old-form.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def test_an_answer_rule_prone_to_backtracking_ends_well_before_the_deadline(plug_for, tmp_path):
    answer = b"ERREUR HORS_ZONE aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"  # the text part never ends as the rule wants
    with ScriptedSalesforce(lead=(200, answer)) as customer:
        path = text_customer_file(tmp_path, customer.base_url + "/form")
        plug = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path),
                         "CUSTOMER_TIMEOUT_S": str(TIMEOUT_S)})
        started = time.monotonic()
        status, envelope = plug.post(make_lead())
        elapsed = time.monotonic() - started
    assert (status, envelope["error"]["reason"]) == (502, "bad_customer_response")  # no rule explains it
    assert elapsed < TIMEOUT_S + MARGIN_S


def test_a_lambda_event_whose_body_holds_a_lone_surrogate_gets_the_400_envelope(salesforce, monkeypatch):
    for name, value in salesforce_env(salesforce.base_url).items():
        monkeypatch.setenv(name, value)
    app = create_app()
    answer = app(proxy_event('{"id": "lead-\ud800", "first_name": "A"}'), LambdaContext())
    assert answer["statusCode"] == 400
    envelope = json.loads(answer["body"])
    assert envelope["error"] == {"state": "failed", "reason": "invalid_lead", "missing_fields": [],
                                 "invalid_fields": ["body"]}


@pytest.mark.parametrize("lead_id", [pytest.param(lead_id, id=name) for name, lead_id in TRACEABLE_IDS.items()])
def test_every_id_the_schema_accepts_is_in_the_transition_log(plug, caplog, lead_id):
    status, _ = plug.post(make_lead(id=lead_id))
    assert status == 201
    lines = transition_lines(caplog, lead_id)
    assert [line["to"] for line in lines] == ["validated", "translated", "sent", "accepted"]
