"""A Salesforce org as its REST API documentation describes it: OAuth token, then Lead creation.

- `POST /services/oauth2/token` (form, grant_type=client_credentials): the configured client id and secret
  get {"access_token", "instance_url", "token_type": "Bearer", ...}; others get HTTP 400 invalid_client.
- `POST /services/data/vNN.N/sobjects/Lead/` with `Authorization: Bearer <token>`:
  201 {"id": "00Q...", "success": true, "errors": []}, or errors as a JSON array of
  {"message", "errorCode", "fields"}: INVALID_SESSION_ID (401), REQUIRED_FIELD_MISSING (LastName, Company),
  DUPLICATES_DETECTED (a duplicate rule on Email, case-insensitive), INVALID_EMAIL_ADDRESS,
  STRING_TOO_LONG, INVALID_FIELD, FIELD_CUSTOM_VALIDATION_EXCEPTION (a validation rule: we serve
  Europe only, so a CountryCode outside it is refused), JSON_PARSER_ERROR.
- `GET /services/data/vNN.N/query/?q=SELECT Id FROM Lead WHERE Email = '...' AND CreatedDate >= <datetime> ...`:
  {"totalSize", "done": true, "records": [{"attributes": {...}, "Id"}]}; another query: 400 MALFORMED_QUERY.
- Sandbox triggers (sandbox/server.py's LeadSandbox), in the email's local part: `+error500` (500
  UNKNOWN_EXCEPTION), `+error503` (an HTML maintenance page), `+limit` (403 REQUEST_LIMIT_EXCEEDED),
  `+slowanswer` and `+noanswer` (an answer after the plug's deadline, the lead kept or not).
- Test helpers: `GET /_sandbox/leads` lists the created leads; `POST /_sandbox/expire-tokens` makes every
  issued token expire (the next create answers 401 INVALID_SESSION_ID).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sandbox.server import CrmSandbox, Handler, Received

CLIENT_ID = "sandbox-client-id"
CLIENT_SECRET = "sandbox-client-secret"
SERVED_COUNTRIES = frozenset("AT BE CH DE DK ES FI FR GB IE IT LU NL NO PL PT SE".split())
LEAD_FIELDS = frozenset(
    "Salutation FirstName LastName Email Phone Company Street PostalCode City CountryCode LeadSource "
    "Description Title MobilePhone Website Industry Status Rating".split())
MAX_LENGTHS = {"FirstName": 40, "LastName": 80, "Email": 80, "Phone": 40, "Company": 255, "Street": 255,
               "PostalCode": 20, "City": 40, "Description": 32000}
_LEAD_PATH = re.compile(r"^/services/data/v\d+\.\d/sobjects/Lead/?$")
_QUERY_PATH = re.compile(r"^/services/data/v\d+\.\d/query/?$")
_FIND_QUERY = re.compile(r"SELECT Id FROM Lead WHERE Email = '(?P<email>(?:[^'\\]|\\.)*)' AND CreatedDate >= "
                         r"(?P<since>\S+) ORDER BY CreatedDate DESC LIMIT 1")


# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN = {"salesforce": ("SalesforceSandbox", 8001, {})}


def _error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, object]]:
    return [{"message": message, "errorCode": code, "fields": fields or []}]


class SalesforceSandbox(CrmSandbox):
    def __init__(self, port: int = 0, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 latency_s: float = 0.0, verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.client_id, self.client_secret, self.latency_s = client_id, client_secret, latency_s

    def route(self, handler: Handler, request: Received) -> None:
        if self.latency_s:
            time.sleep(self.latency_s)
        path = request.path.split("?")[0]
        if request.method == "POST" and path == "/services/oauth2/token":
            return self._token(handler, request)
        if request.method == "POST" and _LEAD_PATH.match(path):
            return self._create_lead(handler, request)
        if request.method == "GET" and _QUERY_PATH.match(path):
            return self._query(handler, request)
        if self.sandbox_route(handler, request, path):
            return None
        return handler.send_json(404, _error("NOT_FOUND", "The requested resource does not exist"))

    def _token(self, handler: Handler, request: Received) -> None:
        form = request.form()
        if form.get("grant_type") != "client_credentials":
            return handler.send_json(400, {"error": "unsupported_grant_type",
                                           "error_description": "grant type not supported"})
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return handler.send_json(400, {"error": "invalid_client",
                                           "error_description": "invalid client credentials"})
        token = "00D" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
        handler.send_json(200, {"access_token": token, "instance_url": self.base_url, "token_type": "Bearer",
                                "id": f"{self.base_url}/id/00Dsandbox/005sandbox", "scope": "api",
                                "issued_at": str(int(time.time() * 1000)), "signature": secrets.token_urlsafe(16)})

    def _create_lead(self, handler: Handler, request: Received) -> None:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            authorised = token in self.tokens
        if not authorised:
            return handler.send_json(401, _error("INVALID_SESSION_ID", "Session expired or invalid"))
        try:
            record = request.json()
        except ValueError:
            return handler.send_json(400, _error("JSON_PARSER_ERROR", "Unexpected character in the request body"))
        if not isinstance(record, dict):
            return handler.send_json(400, _error("JSON_PARSER_ERROR", "Cannot deserialize instance of Lead"))
        if self.drops_first_request(record.get("Email")):
            return handler.send_json(500, _error("UNKNOWN_EXCEPTION", "the request was dropped (sandbox)"))
        status, payload = self._check(record)
        self.answer_late_if_asked(record.get("Email"))
        if isinstance(payload, bytes):
            return handler.send_body(status, payload, "text/html; charset=utf-8")
        handler.send_json(status, payload)

    def _query(self, handler: Handler, request: Received) -> None:
        """The one SOQL query the plug asks: Leads by email, created since a date-time."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            authorised = token in self.tokens
        if not authorised:
            return handler.send_json(401, _error("INVALID_SESSION_ID", "Session expired or invalid"))
        query = urlsplit(request.path)
        found = _FIND_QUERY.fullmatch(parse_qs(query.query).get("q", [""])[0])
        if found is None:
            return handler.send_json(400, _error("MALFORMED_QUERY", "unexpected token in the query (sandbox: only "
                                                                    "the plug's lookup by email is served)"))
        email = re.sub(r"\\(.)", r"\1", found.group("email")).lower()
        since = datetime.fromisoformat(found.group("since").replace("Z", "+00:00")).timestamp()
        with self._lock:
            ids = [lead_id for lead_id, record in self.leads.items()
                   if str(record.get("Email", "")).lower() == email and self.created_at[lead_id] >= since]
        version = "/".join(query.path.split("/")[:4])
        records = [{"attributes": {"type": "Lead", "url": f"{version}/sobjects/Lead/{lead_id}"}, "Id": lead_id}
                   for lead_id in ids[-1:]]
        handler.send_json(200, {"totalSize": len(records), "done": True, "records": records})

    def _check(self, record: dict[str, object]) -> tuple[int, object]:
        unknown = sorted(set(record) - LEAD_FIELDS)
        if unknown:
            return 400, _error("INVALID_FIELD", f"No such column '{unknown[0]}' on sobject of type Lead")
        missing = [name for name in ("LastName", "Company") if not record.get(name)]
        if missing:
            return 400, _error("REQUIRED_FIELD_MISSING", f"Required fields are missing: [{', '.join(missing)}]",
                               missing)
        email = str(record.get("Email") or "")
        trigger = self.trigger(email)
        if trigger == "error500":
            return 500, _error("UNKNOWN_EXCEPTION", "An unexpected error occurred. Please include this ErrorId "
                                                    "if you contact support: 1234567-8910 (sandbox)")
        if trigger == "error503":
            return 503, b"<html><body><h1>Service Unavailable</h1><p>Down for maintenance.</p></body></html>"
        if trigger == "limit":
            return 403, _error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        for name, limit in MAX_LENGTHS.items():
            value = record.get(name)
            if isinstance(value, str) and len(value) > limit:
                return 400, _error("STRING_TOO_LONG", f"{name}: data value too large (max length={limit})", [name])
        if email and not self.email_is_valid(email):
            return 400, _error("INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {email}", ["Email"])
        country = record.get("CountryCode")
        if country and country not in SERVED_COUNTRIES:
            return 400, _error("FIELD_CUSTOM_VALIDATION_EXCEPTION", "We only serve leads located in Europe")
        lead_id, created = self.take(email, record, lambda: "00Q" + secrets.token_hex(8)[:15])
        if not created:
            return 400, [{"duplicateResult": {"allowSave": False, "duplicateRule": "Standard_Lead_Duplicate_Rule",
                                              "duplicateRuleEntityType": "Lead", "matchResults": []},
                          "errorCode": "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": []}]
        return 201, {"id": lead_id, "success": True, "errors": []}
