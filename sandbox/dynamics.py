"""Dynamics 365 (Dataverse Web API) and its Entra ID token endpoint, as Microsoft documents them.

- `POST /{tenant}/oauth2/v2.0/token` (form, grant_type=client_credentials, client_id, client_secret,
  scope=<org>/.default): {"token_type": "Bearer", "expires_in", "ext_expires_in", "access_token"}; a wrong client
  or secret: 401 {"error": "invalid_client", "error_description": "AADSTS7000215: ..."}; another scope: 400
  invalid_scope. A token expires after `token_lifetime_s`: the API then answers 401 with an empty body and
  `WWW-Authenticate: Bearer error="invalid_token"`.
- `POST /api/data/v9.N/leads` (Bearer token): 204 with `OData-EntityId: <org>/api/data/v9.N/leads(<guid>)`, or 201
  with the row under `Prefer: return=representation`. Errors are {"error": {"code", "message"}}: a duplicate
  (email, its default rule) with `MSCRM.SuppressDuplicateDetection: false` is HTTP 500 0x80040333; a column the
  table lacks 400 0x80048d19; firstname/lastname over 50 characters 400 0x80044331.
- `GET /api/data/v9.N/leads?$filter=emailaddress1 eq '...' and createdon ge <datetime>`: {"value": [{"leadid",
  "createdon"}]}; another filter: 400 0x80060888.
- Triggers (sandbox/server.py's LeadSandbox), in the email's local part: `+error500` (500 0x80040216), `+error503`
  (an HTML page), `+limit` (429 0x80072322 with Retry-After), `+refused` (a plug-in's validation rule: 400
  0x80040265), `+slowanswer` and `+noanswer` (an answer after the plug's deadline, the row kept or not).
- Test helpers: `GET /_sandbox/leads`, `POST /_sandbox/expire-tokens`.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.server import CrmSandbox, Handler, MakeRun, Received

TENANT_ID = "00000000-0000-0000-0000-00000000d365"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "sandbox-dynamics-client-secret"
COLUMNS = frozenset("subject salutation firstname lastname emailaddress1 telephone1 mobilephone companyname "
                    "address1_line1 address1_postalcode address1_city address1_country description jobtitle".split())
MAX_LENGTHS = {"firstname": 50, "lastname": 50}
_LEADS = re.compile(r"^/api/data/v9\.[0-9]/leads$")
_FILTER = re.compile(r"^emailaddress1 eq '(?P<email>(?:[^']|'')*)' and createdon ge (?P<since>\S+)$")

# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN: MakeRun = {"dynamics": ("DynamicsSandbox", 8006, {})}


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}


class DynamicsSandbox(CrmSandbox):
    TRIGGERS = CrmSandbox.TRIGGERS | {"refused"}

    def __init__(self, port: int = 0, *, token_lifetime_s: float = 3599, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.token_lifetime_s = token_lifetime_s
        self.expiry: dict[str, float] = {}

    def route(self, handler: Handler, request: Received) -> None:
        path = request.path.split("?")[0]
        if request.method == "POST" and path == f"/{TENANT_ID}/oauth2/v2.0/token":
            return self._token(handler, request)
        if self.sandbox_route(handler, request, path):
            return None
        if not _LEADS.match(path):
            return handler.send_json(404, _error("0x8006088a", f"Resource not found for the segment '{path}'."))
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            live = token in self.tokens and self.expiry.get(token, 0) > time.monotonic()
        if not live:
            return handler.send_body(401, b"", "text/plain", {
                "WWW-Authenticate": 'Bearer error="invalid_token", error_description="The access token has expired"'})
        if request.method == "GET":
            return self._query(handler, request)
        return self._create(handler, request, path)

    def _token(self, handler: Handler, request: Received) -> None:
        form = request.form()
        if form.get("client_id") != CLIENT_ID or form.get("client_secret") != CLIENT_SECRET:
            return handler.send_json(401, {"error": "invalid_client", "error_codes": [7000215],
                                           "error_description": "AADSTS7000215: Invalid client secret provided. "
                                           "Ensure the secret being sent in the request is the client secret "
                                           "value, not the client secret ID."})
        if form.get("grant_type") != "client_credentials" or form.get("scope") != f"{self.base_url}/.default":
            return handler.send_json(400, {"error": "invalid_scope", "error_description": "AADSTS70011: The "
                                           "provided value for the input parameter 'scope' is not valid."})
        token = "eyJ0eXAiOiJKV1Qi." + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
            self.expiry[token] = time.monotonic() + self.token_lifetime_s
        lifetime = round(self.token_lifetime_s)
        handler.send_json(200, {"token_type": "Bearer", "expires_in": lifetime, "ext_expires_in": lifetime,
                                "access_token": token})

    def _create(self, handler: Handler, request: Received, path: str) -> None:
        try:
            row = request.json()
        except ValueError:
            row = None
        if not isinstance(row, dict):
            return handler.send_json(400, _error("0x80048d19", "Error identified in Payload provided by the user "
                                                 "for Entity :'leads'"))
        unknown = sorted(set(row) - COLUMNS)
        if unknown:
            return handler.send_json(400, _error("0x80048d19", "Error identified in Payload provided by the user "
                                                 f"for Entity :'leads': an undeclared property '{unknown[0]}'"))
        email = row.get("emailaddress1")
        status, payload, headers = self._outcome(row, email)
        if status is not None:
            return handler.send_json(status, payload, headers) if isinstance(payload, dict) \
                else handler.send_body(status, payload, "text/html; charset=utf-8")
        if self.drops_first_request(email):
            return handler.send_body(204, b"", "text/plain")
        duplicate_check = request.headers.get("mscrm.suppressduplicatedetection", "").lower() == "false"
        if duplicate_check and self.existing(email):
            return handler.send_json(500, _error("0x80040333", "A record was not created or updated because a "
                                                 "duplicate of the current record already exists."))
        lead_id = self.take(None if not duplicate_check and self.existing(email) else email, row,
                            lambda: str(uuid.uuid4()))[0]
        self.answer_late_if_asked(email)
        if "return=representation" in request.headers.get("prefer", ""):
            created = datetime.fromtimestamp(self.created_at[lead_id], UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            return handler.send_json(201, {**row, "leadid": lead_id, "createdon": created})
        handler.send_body(204, b"", "text/plain", {"OData-EntityId": f"{self.base_url}{path}({lead_id})",
                                                   "OData-Version": "4.0"})

    def _outcome(self, row: dict[str, Any], email: Any) -> tuple[int | None, Any, dict[str, str]]:
        """The error a trigger or a too-long value asks for: (None, ...) when the row is to be created."""
        trigger = self.trigger(email)
        if trigger == "error500":
            return 500, _error("0x80040216", "An unexpected error occurred."), {}
        if trigger == "error503":
            return 503, b"<html><body><h1>Service Unavailable</h1></body></html>", {}
        if trigger == "limit":
            return 429, _error("0x80072322", "Number of requests exceeded the limit of 6000 over time window of "
                                             "300 seconds."), {"Retry-After": "30"}
        if trigger == "refused":
            return 400, _error("0x80040265", "This lead is outside our service area (validation plug-in)."), {}
        too_long = [name for name, limit in MAX_LENGTHS.items() if len(str(row.get(name) or "")) > limit]
        if too_long:
            return 400, _error("0x80044331", f"A validation error occurred. The length of the '{too_long[0]}' "
                                             "attribute of the 'lead' entity exceeded the maximum allowed length "
                                             f"of '{MAX_LENGTHS[too_long[0]]}'."), {}
        return None, None, {}

    def _query(self, handler: Handler, request: Received) -> None:
        query = {key: values[0] for key, values in parse_qs(urlsplit(request.path).query).items()}
        found = _FILTER.match(query.get("$filter", ""))
        if found is None:
            return handler.send_json(400, _error("0x80060888", "Syntax error at position 0 in the $filter."))
        email, since = found["email"].replace("''", "'").strip().lower(), datetime.fromisoformat(found["since"])
        with self._lock:
            rows = [{"leadid": lead_id, "createdon": datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
                    for lead_id, at in sorted(self.created_at.items(), key=lambda item: -item[1])
                    if str(self.leads[lead_id].get("emailaddress1", "")).lower() == email
                    and datetime.fromtimestamp(at, UTC) >= since]
        handler.send_json(200, {"@odata.context": f"{self.base_url}/api/data/v9.2/$metadata#leads(leadid,createdon)",
                                "value": rows[: int(query.get("$top", "50"))]})
