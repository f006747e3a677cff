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
  page, as HubSpot's edge answers when it is down), `+limit` (429 RATE_LIMIT, policy TEN_SECONDLY_ROLLING).
- Test helper: `GET /_sandbox/leads` lists the contacts created.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from typing import Any

from sandbox.server import Handler, LeadSandbox, Received

TOKEN = "pat-eu1-sandbox-hubspot-token"
UNSCOPED_TOKEN = "pat-eu1-sandbox-token-without-contacts-scope"
PROPERTIES = frozenset("email firstname lastname phone company address zip city country lifecyclestage jobtitle "
                       "website mobilephone state".split())
SCOPE = "crm.objects.contacts.write"


# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN = {"hubspot": ("HubSpotSandbox", 8005, {})}


def _error(category: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"status": "error", "message": message, "correlationId": str(uuid.uuid4()), "category": category, **extra}


def _invalid(errors: list[tuple[str, str, str]]) -> dict[str, Any]:
    """HubSpot's 400 for property values: the list in the message (older clients read it) and in `errors`."""
    listed = [{"isValid": False, "message": text, "error": code, "name": name} for code, name, text in errors]
    return _error("VALIDATION_ERROR", f"Property values were not valid: {json.dumps(listed)}",
                  errors=[{"message": text, "code": code, "context": {"propertyName": [name]}}
                          for code, name, text in errors])


class HubSpotSandbox(LeadSandbox):
    def __init__(self, port: int = 0, *, token: str = TOKEN, required: tuple[str, ...] = (),
                 verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.token, self.required = token, required
        self._ids = itertools.count(51_001)

    def route(self, handler: Handler, request: Received) -> None:
        path = request.path.split("?")[0]
        if self.sandbox_route(handler, request, path):
            return None
        if request.method != "POST" or path.rstrip("/") != "/crm/v3/objects/contacts":
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
        if trigger == "limit":
            return 429, {"status": "error", "message": "You have reached your ten_secondly_rolling limit.",
                         "errorType": "RATE_LIMIT", "correlationId": str(uuid.uuid4()),
                         "policyName": "TEN_SECONDLY_ROLLING", "groupName": "publicapi:private-app:sandbox"}
        errors = [("PROPERTY_DOESNT_EXIST", name, f'Property "{name}" does not exist')
                  for name in sorted(set(properties) - PROPERTIES)]
        errors += [("MISSING_REQUIRED_PROPERTY", name, f"{name} is required") for name in self.required
                   if not properties.get(name)]
        if email is not None and not self.email_is_valid(email):
            errors.append(("INVALID_EMAIL", "email", f"Email address {email} is invalid"))
        if errors:
            return 400, _invalid(errors)
        lead_id, created = self.take(email, properties, lambda: str(next(self._ids)))
        if not created:
            return 409, _error("CONFLICT", f"Contact already exists. Existing ID: {lead_id}")
        now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
        return 201, {"id": lead_id, "properties": {**properties, "createdate": now, "lastmodifieddate": now,
                                                   "hs_object_id": lead_id},
                     "createdAt": now, "updatedAt": now, "archived": False}
