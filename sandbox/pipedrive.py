"""Pipedrive as its API reference describes it: persons through API v2, leads through API v1 (leads have no v2).

- Every call carries the company's API token in the `x-api-token` header; without it: 401 {"success": false,
  "error": "unauthorized access", "errorCode": 401, "error_info": "..."}.
- `POST /api/v2/persons` {"name", "emails": [{"value", "primary", "label"}], "phones": [...]}: 200 {"success":
  true, "data": {"id", "name", "emails", "phones", "add_time", ...}}; without a name: 400. Pipedrive keeps as many
  persons with one email as it is sent (it has no duplicate rule): `persons` records them all.
- `GET /api/v2/persons/search?term=&fields=email&exact_match=true`: {"success": true, "data": {"items":
  [{"result_score", "item": {"id", "type": "person", "name", "emails", ...}}]}, "additional_data": {...}}.
- `POST /v1/leads` {"title", "person_id"}: 201 {"success": true, "data": {"id": "<uuid>", "title", "person_id",
  "add_time": "<ISO 8601 UTC>", ...}}; an unknown person: 400. `GET /v1/leads?person_id=N` lists that person's.
- Triggers, in the email's local part: on the person call, `+error500` (500), `+error503` (an HTML page),
  `+limit` (429 with Retry-After), `+capped` (403 with the `code` Pipedrive documents for an account at its
  limit for an entity, "feature_capping_..."), `+slowanswer`/`+noanswer` (an answer after the plug's deadline,
  the person kept or not); on the lead call (the person exists by then), `+leaderror` (its first call fails with 500),
  `+leadslow` (the lead is kept, the answer comes late), `+leadnoanswer` (its first call answers late, keeps
  nothing).
- Test helpers: `GET /_sandbox/leads` (the leads), `persons` and `leads` in the test's hands.
"""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.server import Handler, LeadSandbox, MakeRun, Received

TOKEN = "sandbox-pipedrive-api-token"
LEAD_TRIGGERS = frozenset({"leaderror", "leadslow", "leadnoanswer"})

# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN: MakeRun = {"pipedrive": ("PipedriveSandbox", 8007, {})}


def _failure(error: str, **extra: Any) -> dict[str, Any]:
    return {"success": False, "error": error, "error_info": "Please check developers.pipedrive.com", "data": None,
            "additional_data": None, **extra}


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class PipedriveSandbox(LeadSandbox):
    TRIGGERS = LeadSandbox.TRIGGERS | {"capped"}

    def __init__(self, port: int = 0, *, token: str = TOKEN, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.token = token
        self.persons: dict[int, dict[str, Any]] = {}
        self._person_ids = itertools.count(101)
        self._failed_once: set[tuple[str, str]] = set()

    def route(self, handler: Handler, request: Received) -> None:
        split = urlsplit(request.path)
        query = {key: values[0] for key, values in parse_qs(split.query).items()}
        if self.sandbox_route(handler, request, split.path):
            return None
        if request.headers.get("x-api-token") != self.token:
            return handler.send_json(401, _failure("unauthorized access", errorCode=401))
        if request.method == "GET" and split.path == "/api/v2/persons/search":
            return handler.send_json(200, self._search(query))
        if request.method == "GET" and split.path == "/v1/leads":
            with self._lock:
                found = [lead for lead in self.leads.values() if str(lead["person_id"]) == query.get("person_id")]
            return handler.send_json(200, {"success": True, "data": found, "additional_data": {}})
        try:
            body = request.json()
        except ValueError:
            body = None
        if request.method == "POST" and split.path == "/api/v2/persons" and isinstance(body, dict):
            return self._person(handler, body)
        if request.method == "POST" and split.path == "/v1/leads" and isinstance(body, dict):
            return self._lead(handler, body)
        return handler.send_json(404, _failure("Unknown method ."))

    def _search(self, query: dict[str, str]) -> dict[str, Any]:
        term = query.get("term", "").strip().lower()
        with self._lock:
            items = [{"result_score": 1.0, "item": {"id": pid, "type": "person", "name": person["name"],
                                                    "emails": [e["value"] for e in person["emails"]]}}
                     for pid, person in self.persons.items()
                     if term in (str(e.get("value", "")).lower() for e in person["emails"])]
        return {"success": True, "data": {"items": items}, "additional_data": {"next_cursor": None}}

    def _person(self, handler: Handler, body: dict[str, Any]) -> None:
        emails = listed if isinstance(listed := body.get("emails"), list) else []
        email = next((e.get("value") for e in emails if isinstance(e, dict)), None)
        trigger = self.trigger(email)
        if trigger == "error500":
            return handler.send_json(500, _failure("Internal server error"))
        if trigger == "error503":
            return handler.send_body(503, b"<html><body>Service Unavailable</body></html>", "text/html")
        if trigger == "limit":
            return handler.send_json(429, _failure("Request over limit", errorCode=429), {"Retry-After": "2"})
        if trigger == "capped":  # the documented 403 of an account at its limit for an entity
            return handler.send_json(403, _failure("Couldn't add the person. Persons limit reached.",
                                                   code="feature_capping_persons_limit"))
        if not isinstance(body.get("name"), str) or not body["name"].strip():
            return handler.send_json(400, _failure("Validation failed: name: Required"))
        if self.drops_first_request(email):
            return handler.send_json(200, _failure("late"))
        with self._lock:
            person_id = next(self._person_ids)
            self.persons[person_id] = {**body, "id": person_id, "add_time": _now()}
        self.answer_late_if_asked(email)
        handler.send_json(200, {"success": True, "data": self.persons[person_id]})

    def _lead(self, handler: Handler, body: dict[str, Any]) -> None:
        person = self.persons.get(body.get("person_id"))  # type: ignore[arg-type]
        if person is None or not isinstance(body.get("title"), str):
            return handler.send_json(400, _failure("Person not found or title missing"))
        email = next((str(e.get("value")) for e in person["emails"] if isinstance(e, dict)), "")
        tags = set(self._tags(email)) & LEAD_TRIGGERS
        first = not any((tag, email) in self._failed_once for tag in tags)
        self._failed_once.update((tag, email) for tag in tags)
        if first and "leaderror" in tags:
            return handler.send_json(500, _failure("Internal server error"))
        if first and "leadnoanswer" in tags:
            time.sleep(self.SLOW_ANSWER_S)
            return handler.send_json(500, _failure("late"))
        lead_id = str(uuid.uuid4())
        lead = {"id": lead_id, "title": body["title"], "person_id": person["id"], "organization_id": None,
                "add_time": _now(), "update_time": _now(), "is_archived": False}
        with self._lock:
            self.leads[lead_id] = lead
            self.created_at[lead_id] = time.time()
        if first and "leadslow" in tags:
            time.sleep(self.SLOW_ANSWER_S)
        handler.send_json(201, {"success": True, "data": lead})
