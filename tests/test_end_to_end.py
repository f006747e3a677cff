"""End to end: `chalice local` with its own stage, the Salesforce sandbox behind it, real HTTP both ways."""

from __future__ import annotations

import requests

from tests.support.leads import make_lead


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
