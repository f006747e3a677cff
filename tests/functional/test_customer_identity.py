"""One customer identity: the deployment's stable id (`plug.customer_id`, a slug) keys the ledger, the health and
the step memory; the display name (a webhook file's `name`) is for people only. Renaming the customer for people
must never make a lead the ledger delivered look new (it would be sent again on the platform's retry)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from dispatcher.deadline import lead_deadline
from dispatcher.ledger import Claim, Replay
from dispatcher.plug import build_plug
from dispatcher.privacy import Masker
from dispatcher.reasons import Outcome, Reason
from tests.support.leads import make_lead

ACME = Path(__file__).resolve().parents[2] / "customers" / "acme-json.json"


def _plug(tmp_path: Path, display_name: str, **extra: str):
    config = tmp_path / "acme-json.json"
    if not config.exists():
        shutil.copy(ACME, config)
    data = json.loads(config.read_text(encoding="utf-8"))
    config.write_text(json.dumps({**data, "name": display_name}), encoding="utf-8")
    return build_plug({"CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(config), "ACME_URL": "http://127.0.0.1:9",
                       "ACME_TOKEN": "token-for-the-test", "LEDGER": f"sqlite:{tmp_path / 'ledger.sqlite3'}",
                       **extra})


def test_the_ledger_and_the_health_are_keyed_by_the_stable_id_not_the_display_name(tmp_path):
    plug = _plug(tmp_path, "Acme Solar")
    assert plug.customer_id == "webhook-acme-json"
    assert plug.customer_name == "Acme Solar"
    assert plug.ledger is not None and plug.ledger.customer == plug.customer_id
    assert plug.health is not None and plug.health.customer == plug.customer_id


def test_renaming_the_customer_for_people_keeps_its_delivered_leads(tmp_path):
    lead = make_lead()
    before = _plug(tmp_path, "Acme Solar")
    assert before.ledger is not None
    claim = before.ledger.begin(lead, "trace-first", lead_deadline(5.0))
    assert isinstance(claim, Claim)
    before.ledger.settle(claim, Outcome.of(Reason.CREATED, customer_lead_id="A-1"), 201,
                         {"customer_lead_id": "A-1", "response_details": {"http_status_code": 201}}, sent=True,
                         masker=Masker(lead))
    after = _plug(tmp_path, "Acme Solar and Wind")
    assert after.customer_name == "Acme Solar and Wind"
    assert after.ledger is not None
    replay = after.ledger.begin(lead, "trace-retry", lead_deadline(5.0))
    assert isinstance(replay, Replay), "a renamed customer would receive the lead a second time"
    assert replay.envelope["customer_lead_id"] == "A-1"


def test_an_explicit_customer_id_keys_the_ledger(tmp_path):
    plug = _plug(tmp_path, "Acme Solar", CUSTOMER_ID="Acme Solar EU")
    assert plug.customer_id == "acme-solar-eu"
    assert plug.ledger is not None and plug.ledger.customer == "acme-solar-eu"
