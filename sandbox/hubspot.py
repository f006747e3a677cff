"""HubSpot's CRM v3 contacts API as its documentation describes it, with the error bodies its pages show.

- `POST /crm/v3/objects/contacts` with `Authorization: Bearer <private app token>` and {"properties": {...}}:
  201 {"id", "properties", "createdAt", "updatedAt", "archived": false}. Errors share one body ({"status":
  "error", "message", "correlationId", "category", ...}): 401 INVALID_AUTHENTICATION for a missing or unknown
  token; 403 MISSING_SCOPES for a token without `crm.objects.contacts.write`; 409 CONFLICT "Contact already
  exists. Existing ID: N" for an email already there (compared lower-cased, HubSpot's unique key); 400
  VALIDATION_ERROR "Property values were not valid: [...]" with `errors[]` (code, message,
  context.propertyName): INVALID_EMAIL, PROPERTY_DOESNT_EXIST (a property the portal does not have),
  MISSING_REQUIRED_PROPERTY (a property this portal requires, `required=`); 404 for another path.
- Triggers (sandbox/server.py's LeadSandbox), in the email's local part: `+error500` (500), `+error503` (an HTML
  page, as HubSpot's edge answers when it is down), `+limit` (429 RATE_LIMIT, policy TEN_SECONDLY_ROLLING),
  `+locked` (423 LOCKED), `+unknowncode` (a validation code no catalog has).
- `properties`: the portal's contact properties; one the plug sends that the portal lacks gets
  PROPERTY_DOESNT_EXIST (a misconfigured portal).
- `POST /crm/v3/objects/contacts/search` {"filterGroups": [{"filters": [{"propertyName", "operator", "value"}]}],
  "limit", ...}: 200 {"total", "results": [{"id", "properties": {"createdate", ...}, "createdAt", ...}]}; filters
  EQ (any property; email compared lower-cased) and GTE/LT on `createdate` (epoch milliseconds). Its index lags
  as HubSpot's does: a contact younger than `search_lag_s` (default 0) is not found yet.
- `GET /crm/v3/objects/contacts/{id}`: 200 the contact with `properties.createdate`; 404 OBJECT_NOT_FOUND.
- The ledger's slow answers (LeadSandbox): `+slowanswer` keeps the contact and answers after the plug's
  deadline; `+noanswer` answers the first request as late and keeps nothing; `extra_properties`: the
  properties the portal adds to `properties` (e.g. the plug's lead id property).
- Test helper: `GET /_sandbox/leads` lists the contacts created.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from sandbox.server import Handler, LeadSandbox, MakeRun, Received

TOKEN = "pat-eu1-sandbox-hubspot-token"
UNSCOPED_TOKEN = "pat-eu1-sandbox-token-without-contacts-scope"
PROPERTIES = frozenset("email firstname lastname phone company address zip city country lifecyclestage jobtitle "
                       "website mobilephone state".split())
SCOPE = "crm.objects.contacts.write"


# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN: MakeRun = {"hubspot": ("HubSpotSandbox", 8005, {})}


def _error(category: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


def _invalid(errors: list[tuple[str, str, str]]) -> dict[str, Any]:
    """HubSpot's 400 for property values: the list in the message (older clients read it) and in `errors`."""
    listed = [{"isValid": False, "message": text, "error": code, "name": name} for code, name, text in errors]
    return _error("VALIDATION_ERROR", f"Property values were not valid: {json.dumps(listed)}",
                  errors=[{"message": text, "code": code, "context": {"propertyName": [name]}}
                          for code, name, text in errors])


class HubSpotSandbox(LeadSandbox):
    TRIGGERS = LeadSandbox.TRIGGERS | {"locked", "unknowncode"}

    def __init__(self, port: int = 0, *, token: str = TOKEN, required: tuple[str, ...] = (),
                 properties: frozenset[str] = PROPERTIES, extra_properties: tuple[str, ...] = (),
                 search_lag_s: float = 0.0, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.token, self.required, self.properties = token, required, properties | set(extra_properties)
        self.search_lag_s = search_lag_s
        self._ids = itertools.count(51_001)

    def route(self, handler: Handler, request: Received) -> None:
        path = request.path.split("?")[0]
        if self.sandbox_route(handler, request, path):
            return None
        known = (path.rstrip("/") == "/crm/v3/objects/contacts" and request.method == "POST") \
            or (path.rstrip("/") == "/crm/v3/objects/contacts/search" and request.method == "POST") \
            or (path.startswith("/crm/v3/objects/contacts/") and request.method == "GET")
        if not known:
            return handler.send_json(404, _error("OBJECT_NOT_FOUND", "resource not found"))
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        if token == UNSCOPED_TOKEN:
            return handler.send_json(403, _error(
                "MISSING_SCOPES", "This app hasn't been granted all required scopes to make this call. Read more "
                "about required scopes here: https://developers.hubspot.com/scopes.",
                errors=[{"message": "One or more of the following scopes are required.",
                         "context": {"requiredGranularScopes": [SCOPE]}}],
                links={"scopes": "https://developers.hubspot.com/scopes"}))
        if token != self.token:
            return handler.send_json(401, _error(
                "INVALID_AUTHENTICATION", "Authentication credentials not found. This API supports OAuth 2.0 "
                "authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/"
                "oauth-overview"))
        if request.method == "GET":
            return self._read_contact(handler, path.rsplit("/", 1)[1])
        if path.rstrip("/").endswith("/search"):
            return self._search(handler, request)
        try:
            properties = request.json()["properties"]
        except (ValueError, KeyError, TypeError):
            properties = None
        if not isinstance(properties, dict):
            return handler.send_json(400, _error("VALIDATION_ERROR", "Invalid input JSON: expected "
                                                 '{"properties": {...}}'))
        status, payload = self._create(properties)
        if isinstance(payload, bytes):
            return handler.send_body(status, payload, "text/html; charset=utf-8")
        return handler.send_json(status, payload)

    def _create(self, properties: dict[str, Any]) -> tuple[int, Any]:
        email = properties.get("email")
        trigger = self.trigger(email)
        if trigger == "error500":
            return 500, _error("INTERNAL_ERROR", "internal error")
        if trigger == "error503":
            return 503, b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"
        if trigger == "locked":
            return 423, _error("LOCKED", "The portal is being synced; try again later")
        if trigger == "unknowncode":
            return 400, _invalid([("SOMETHING_HUBSPOT_ADDS_NEXT_YEAR", "email", "a code no catalog documents yet")])
        if trigger == "limit":
            return 429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                         "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                         "policyName": "TEN_SECONDLY_ROLLING", "groupName": "publicapi:private-app:sandbox"}
        errors = [("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist')
                  for name in sorted(set(properties) - self.properties)]
        errors += [("MISSING_REQUIRED_PROPERTY", name, f"{name} is required") for name in self.required
                   if not properties.get(name)]
        if email is not None and not self.email_is_valid(email):
            errors.append(("INVALID_EMAIL", "email", f"Email address {email} is invalid"))
        if errors:
            return 400, _invalid(errors)
        if self.drops_first_request(email):
            return 500, _error("INTERNAL_ERROR", "the request was dropped (sandbox)")
        lead_id, created = self.take(email, properties, lambda: str(next(self._ids)))
        if created:
            self.answer_late_if_asked(email)
        if not created:
            return 409, _error("CONFLICT", f"Contact already exists. Existing ID: {lead_id}")
        return 201, self._contact(lead_id)

    def _contact(self, lead_id: str) -> dict[str, Any]:
        with self._lock:
            properties, created_at = dict(self.leads[lead_id]), self.created_at[lead_id]
        created = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created_at)) + f".{int(created_at * 1000) % 1000:03d}Z"
        return {"id": lead_id, "properties": {**properties, "createdate": created, "lastmodifieddate": created,
                                              "hs_object_id": lead_id},
                "createdAt": created, "updatedAt": created, "archived": False}

    def _read_contact(self, handler: Handler, lead_id: str) -> None:
        with self._lock:
            known = lead_id in self.leads
        if not known:
            return handler.send_json(404, _error("OBJECT_NOT_FOUND", "Object not found.  objectId are usually "
                                                 "numeric."))
        return handler.send_json(200, self._contact(lead_id))

    def _search(self, handler: Handler, request: Received) -> None:
        try:
            groups = request.json()["filterGroups"]
            filters = [(f["propertyName"], f["operator"], str(f["value"])) for group in groups
                       for f in group["filters"]]
        except (ValueError, KeyError, TypeError):
            return handler.send_json(400, _error("VALIDATION_ERROR", "Invalid input JSON: filterGroups"))
        visible_before = time.time() - self.search_lag_s
        with self._lock:
            contacts = [(lead_id, dict(record), self.created_at[lead_id]) for lead_id, record in self.leads.items()
                        if self.created_at[lead_id] <= visible_before]
        matching = sorted((created, lead_id) for lead_id, record, created in contacts
                          if all(_matches(record, created, *item) for item in filters))
        results = [self._contact(lead_id) for _, lead_id in matching[:1]]
        return handler.send_json(200, {"total": len(matching), "results": results})


def _matches(record: dict[str, Any], created: float, name: str, operator: str, value: str) -> bool:
    if name == "createdate":
        millis = created * 1000
        return millis >= float(value) if operator == "GTE" else millis < float(value) if operator == "LT" else False
    stored = str(record.get(name, ""))
    if name == "email":
        stored, value = stored.strip().lower(), value.strip().lower()
    return operator == "EQ" and stored == value
