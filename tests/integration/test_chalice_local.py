"""`chalice local` with its own stage, a sandbox customer behind it, real HTTP both ways: the brief's curl, a lead
and its duplicate, the transition log, other methods, concurrent leads, a Zoho stage."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from sandbox.zoho import ZohoSandbox
from tests.support.customers import zoho_env
from tests.support.leads import make_lead
from tests.support.project import running_plug


def test_the_briefs_curl_gets_the_400_envelope_listing_every_missing_field(local_plug):
    # curl -XPOST http://localhost:8000/send -d '{}' sends a form content type
    response = requests.post(local_plug.url, data="{}",
                             headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert response.status_code == 400
    assert response.json() == {
        "request_details": {},
        "error": {"state": "failed", "reason": "invalid_lead",
                  "missing_fields": ["id", "created_at", "first_name", "last_name", "email", "phone", "product",
                                     "consent"],
                  "invalid_fields": []},
        "error_message": "Invalid lead: missing id, created_at, first_name, last_name, email, phone, product, consent",
        "response_details": {"http_status_code": None},
    }


def test_a_lead_is_created_then_the_same_person_is_a_duplicate(local_plug, salesforce):
    lead = make_lead()
    first = requests.post(local_plug.url, json=lead, timeout=10)
    assert first.status_code == 201, first.text
    envelope = first.json()
    assert envelope["customer_lead_id"].startswith("00Q")
    assert salesforce.leads[envelope["customer_lead_id"]]["Email"] == lead["email"]

    again = requests.post(local_plug.url, json={**lead, "id": lead["id"] + "-again"}, timeout=10)
    assert again.status_code == 409
    assert again.json()["error"] == {"state": "duplicate", "reason": "duplicate"}


def test_every_transition_is_one_json_line_and_tells_the_leads_path(local_plug):
    lead = make_lead()
    assert requests.post(local_plug.url, json=lead, timeout=10).status_code == 201
    lines = [line for line in local_plug.log_lines() if line.get("lead_id") == lead["id"]]
    assert [(line["from"], line["to"]) for line in lines] == [
        ("received", "validated"), ("validated", "translated"), ("translated", "sent"), ("sent", "accepted")]
    assert lines[-1]["reason"] == "created"
    assert len({line["trace_id"] for line in lines}) == 1
    assert set(lines[0]) == {"lead_id", "trace_id", "from", "to", "trigger", "reason", "elapsed_ms", "ts"}


def test_any_other_method_gets_a_405_envelope_naming_post(local_plug):
    for method in ("GET", "PUT", "PATCH", "DELETE", "OPTIONS"):
        response = requests.request(method, local_plug.url, timeout=10)
        assert response.status_code == 405, method
        assert response.headers["Allow"] == "POST"
        assert response.json()["error"] == {"state": "failed", "reason": "method_not_allowed"}


def test_concurrent_leads_never_mix_their_envelopes(local_plug, salesforce):
    leads = [make_lead(first_name=f"Prénom{n}", last_name=f"Nom{n}") for n in range(24)]

    def send(lead: dict) -> tuple[dict, requests.Response]:
        return lead, requests.post(local_plug.url, json=lead, timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, leads))
    ids = set()
    for lead, response in results:
        assert response.status_code == 201, response.text
        envelope = response.json()
        assert envelope["request_details"]["Email"] == lead["email"]
        assert envelope["request_details"]["LastName"] == lead["last_name"]
        assert salesforce.leads[envelope["customer_lead_id"]]["Email"] == lead["email"]
        ids.add(envelope["customer_lead_id"])
    assert len(ids) == len(leads)
    by_lead = {}
    for line in local_plug.log_lines():
        by_lead.setdefault(line["lead_id"], []).append(line)
    for lead in leads:
        path = [line["to"] for line in by_lead[lead["id"]]]
        assert path == ["validated", "translated", "sent", "accepted"]
        assert len({line["trace_id"] for line in by_lead[lead["id"]]}) == 1


@pytest.fixture
def zoho() -> Iterator[ZohoSandbox]:
    server = ZohoSandbox().start()
    yield server
    server.stop()


def test_a_zoho_stage_creates_a_lead_then_finds_its_duplicate(zoho):
    with running_plug(zoho_env(zoho), stage="zoho-e2e") as plug:
        lead = make_lead()
        first = requests.post(plug.url, json=lead, timeout=10)
        again = requests.post(plug.url, json={**lead, "id": lead["id"] + "-again"}, timeout=10)
    assert first.status_code == 201, first.text
    assert again.status_code == 409, again.text
    assert again.json()["error"] == {"state": "duplicate", "reason": "duplicate"}
