"""The benchmark's baseline: Lead Plug as an engineer would write it by hand from the brief, for Salesforce only.

One route, jsonschema against the same contract, a cached client-credentials token, one shared
`requests.Session`, one JSON log line per lead; no state machine, no fast path, no deadline accounting.
`scripts/bench.py` times the real plug against this file, so it must stay a plain, honest first version.

With PEER_IDEMPOTENCY_TABLE set, "never twice" is added as a user would pick it: AWS Lambda Powertools'
idempotency on DynamoDB (`idempotent_function` keyed on the lead's id, `DynamoDBPersistenceLayer`), the peer
of the plug's `LEDGER=dynamodb:`. The schema is read from `contracts/` beside this file (the Lambda package's
layout, where `bench.py` measures cold starts) or from the repository's.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import requests
from chalice import Chalice, Response
from jsonschema import Draft202012Validator

app = Chalice(app_name="bench-baseline")
_HERE = Path(__file__).resolve().parent
_CONTRACTS = _HERE / "contracts" if (_HERE / "contracts").is_dir() else _HERE.parents[1] / "contracts"
SCHEMA = json.loads((_CONTRACTS / "lead.schema.json").read_text("utf-8"))
VALIDATOR = Draft202012Validator(SCHEMA)
LOGIN_URL = os.environ["SALESFORCE_LOGIN_URL"].rstrip("/")
CLIENT = {"client_id": os.environ["SALESFORCE_CLIENT_ID"], "client_secret": os.environ["SALESFORCE_CLIENT_SECRET"]}
LEAD_PATH = f"/services/data/{os.environ['SALESFORCE_API_VERSION']}/sobjects/Lead/"
TIMEOUT_S = float(os.environ.get("CUSTOMER_TIMEOUT_S") or 20)
session = requests.Session()
token: dict[str, str] = {}  # access_token and instance_url, fetched at the first lead and kept
log = logging.getLogger("bench_baseline")
log.setLevel(logging.INFO)
log.propagate = False
log.addHandler(logging.StreamHandler(sys.stdout))
NO_ANSWER = {"http_status_code": None}


def _record(lead: dict[str, Any]) -> dict[str, str]:
    """The lead as a Salesforce Lead; Company falls back to the full name (B2C leads have none)."""
    address, source = lead.get("address") or {}, lead.get("source") or {}
    origin = " / ".join(filter(None, (source.get("site"), source.get("campaign"))))
    notes = [f"Product: {lead['product'].strip()}", origin and f"Source: {origin}", (lead.get("comment") or "").strip()]
    record = {"FirstName": lead["first_name"], "LastName": lead["last_name"], "Email": lead["email"].lower(),
              "Phone": lead["phone"], "Company": lead.get("company") or f"{lead['first_name']} {lead['last_name']}",
              "Street": address.get("street"), "PostalCode": address.get("postal_code"), "City": address.get("city"),
              "CountryCode": address.get("country"), "LeadSource": "Purchased List",
              "Description": "\n".join(filter(None, notes))}
    return {key: value.strip() for key, value in record.items() if isinstance(value, str) and value.strip()}


def _post(record: dict[str, str]) -> requests.Response:
    """Create the Lead; one new token and one retry if the cached one has expired."""
    for attempt in (1, 2):
        if not token or attempt == 2:
            answer = session.post(f"{LOGIN_URL}/services/oauth2/token", timeout=TIMEOUT_S,
                                  data={"grant_type": "client_credentials", **CLIENT})
            answer.raise_for_status()
            token.update(answer.json())
        response = session.post(token["instance_url"] + LEAD_PATH, json=record, timeout=TIMEOUT_S,
                                headers={"Authorization": f"Bearer {token['access_token']}"})
        if response.status_code != 401:
            break
    return response


def _error(status: int, record: dict[str, Any], answer: dict[str, Any], reason: str, message: str) -> tuple[int, dict]:
    """The error envelope, with what was sent and what came back (nothing, before the call)."""
    return status, {"request_details": record, "error": {"reason": reason}, "error_message": message,
                    "response_details": answer}


def _deliver(lead: Any) -> tuple[int, dict[str, Any]]:
    """Validate, translate, send: 201, 400 for an invalid lead, 502 when Salesforce fails."""
    errors = sorted(VALIDATOR.iter_errors(lead), key=lambda error: list(map(str, error.path)))
    if errors:
        fields = ", ".join(".".join(map(str, error.path)) or error.message for error in errors)
        return _error(400, {}, NO_ANSWER, "invalid_lead", f"Invalid lead: {fields}")
    if IDEMPOTENCY is not None:
        sent = _send_once(lead=lead)  # a lead sent before gets its first answer back, and is not sent again
        return sent["status"], sent["body"]
    return _send(lead)


def _send(lead: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    record = _record(lead)
    try:
        response = _post(record)
        data = response.json() if response.content else {}
    except (requests.RequestException, ValueError) as exc:
        return _error(502, record, NO_ANSWER, "customer_unreachable", str(exc))
    answer = {**data, "http_status_code": response.status_code} if isinstance(data, dict) else {
        "body": data, "http_status_code": response.status_code}
    if response.status_code == 201 and answer.get("id"):
        return 201, {"request_details": record, "customer_lead_id": answer["id"], "response_details": answer}
    return _error(502, record, answer, "customer_error", f"Salesforce answered {response.status_code}")


IDEMPOTENCY_TABLE = os.environ.get("PEER_IDEMPOTENCY_TABLE")
IDEMPOTENCY = None
if IDEMPOTENCY_TABLE:  # Powertools' documented setup: a persistence layer, a config keyed on the lead's id
    from aws_lambda_powertools.utilities.idempotency import (
        DynamoDBPersistenceLayer,
        IdempotencyConfig,
        idempotent_function,
    )

    IDEMPOTENCY = IdempotencyConfig(event_key_jmespath="id", expires_after_seconds=24 * 3600)

    @idempotent_function(data_keyword_argument="lead", config=IDEMPOTENCY,
                         persistence_store=DynamoDBPersistenceLayer(table_name=IDEMPOTENCY_TABLE))
    def _send_once(lead: dict[str, Any]) -> dict[str, Any]:
        status, body = _send(lead)
        return {"status": status, "body": body}


@app.route("/send", methods=["POST"], content_types=["*/*"])
def send() -> Response:
    """One lead in, one envelope and one log line out; the raw body is read as JSON whatever its Content-Type."""
    started, request = time.perf_counter(), app.current_request
    if IDEMPOTENCY is not None:
        IDEMPOTENCY.register_lambda_context(request.lambda_context)  # an in-progress claim expires with the Lambda
    try:
        lead = json.loads(request.raw_body or b"")
    except ValueError as exc:
        lead, (status, body) = None, _error(400, {}, NO_ANSWER, "invalid_lead", f"The body is not JSON: {exc}")
    else:
        status, body = _deliver(lead)
    log.info(json.dumps({"lead_id": lead.get("id") if isinstance(lead, dict) else None, "status": status,
                         "trace_id": getattr(request.lambda_context, "aws_request_id", None),
                         "reason": body.get("error", {}).get("reason", "created"),
                         "customer_lead_id": body.get("customer_lead_id"),
                         "elapsed_ms": round((time.perf_counter() - started) * 1000, 3)}))
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})
