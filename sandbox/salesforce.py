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
- `GET /services/data/vNN.N/sobjects/Lead/{id}?fields=CreatedDate`: {"attributes", "Id", "CreatedDate"}; 404.
  A DUPLICATES_DETECTED names the Lead it matched (`duplicateResult.matchResults[].matchRecords[].record.Id`).
- Sandbox triggers (sandbox/server.py's LeadSandbox), in the email's local part: `+error500` (500
  UNKNOWN_EXCEPTION), `+error503` (an HTML maintenance page), `+limit` (403 REQUEST_LIMIT_EXCEEDED),
  `+slowanswer` and `+noanswer` (an answer after the plug's deadline, the lead kept or not); and one code of
  each meaning of Salesforce's catalog, answered as its error array with HTTP 400 unless said: `+lock`
  (UNABLE_TO_LOCK_ROW), `+maintenance` (INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE), `+uniquevalue`
  (DUPLICATE_VALUE on a unique field), `+industry` (REQUIRED_FIELD_MISSING Industry, a field the org requires),
  `+inactiveowner` (INACTIVE_OWNER_OR_USER), `+noaccess` (INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY),
  `+apidisabled` (403 API_DISABLED_FOR_ORG), `+unknowncode` (a code no catalog has).
- Test helpers: `GET /_sandbox/leads` lists the created leads; `POST /_sandbox/expire-tokens` makes every
  issued token expire (the next create answers 401 INVALID_SESSION_ID).
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from sandbox.server import CrmSandbox, Handler, MakeRun, Received

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
_RECORD_PATH = re.compile(r"^/services/data/v\d+\.\d/sobjects/Lead/(?P<id>\w+)$")
_FIND_QUERY = re.compile(r"SELECT Id FROM Lead WHERE Email = '(?P<email>(?:[^'\\]|\\.)*)' AND CreatedDate >= "
                         r"(?P<since>\S+) ORDER BY CreatedDate ASC LIMIT 1")
_FIND_BY_FIELD = re.compile(r"SELECT Id FROM Lead WHERE (?P<field>\w+__c) = '(?P<value>(?:[^'\\]|\\.)*)' LIMIT 1")


# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN: MakeRun = {"salesforce": ("SalesforceSandbox", 8001, {})}


def _error(code: str, message: str, fields: list[str] | None = None) -> list[dict[str, object]]:
    return [{"message": message, "errorCode": code, "fields": fields or []}]


# One code of each meaning of Salesforce's catalog, on demand: trigger -> (status, errorCode, message, fields).
CATALOG_TRIGGERS: dict[str, tuple[int, str, str, list[str]]] = {
    "lock": (400, "UNABLE_TO_LOCK_ROW", "unable to obtain exclusive access to this record or 1 records", []),
    "maintenance": (400, "INSERT_UPDATE_DELETE_NOT_ALLOWED_DURING_MAINTENANCE",
                    "Updates can't be made during maintenance. Try again later.", []),
    "uniquevalue": (400, "DUPLICATE_VALUE", "duplicate value found: Email__c duplicates value on record with id: "
                                            "00Q5e00000Dup01", ["Email__c"]),
    "industry": (400, "REQUIRED_FIELD_MISSING", "Required fields are missing: [Industry]", ["Industry"]),
    "inactiveowner": (400, "INACTIVE_OWNER_OR_USER", "operation performed with inactive user [005000000000001] as "
                                                      "owner of lead", []),
    "noaccess": (400, "INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY",
                 "insufficient access rights on cross-reference id: 00G000000000001", []),
    "apidisabled": (403, "API_DISABLED_FOR_ORG", "API is not enabled for this Organization or Partner", []),
    "unknowncode": (400, "SOMETHING_SALESFORCE_ADDS_NEXT_YEAR", "a code no catalog documents yet", []),
}


class SalesforceSandbox(CrmSandbox):
    TRIGGERS = CrmSandbox.TRIGGERS | frozenset(CATALOG_TRIGGERS)

    def __init__(self, port: int = 0, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 latency_s: float = 0.0, extra_fields: tuple[str, ...] = (), verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.fields = LEAD_FIELDS | set(extra_fields)  # the org's custom fields (e.g. the plug's lead id)
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
        if request.method == "GET" and (record := _RECORD_PATH.match(path)):
            return self._record(handler, request, record["id"])
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
        soql = parse_qs(query.query).get("q", [""])[0]
        found, by_field = _FIND_QUERY.fullmatch(soql), _FIND_BY_FIELD.fullmatch(soql)
        if by_field is not None and by_field["field"] in self.fields:
            value = re.sub(r"\\(.)", r"\1", by_field["value"])
            with self._lock:
                ids = [lead_id for lead_id, record in self.leads.items() if record.get(by_field["field"]) == value]
            return self._records(handler, query.path, ids[:1])
        if found is None:
            return handler.send_json(400, _error("MALFORMED_QUERY", "unexpected token in the query (sandbox: only "
                                                                    "the plug's lookup by email is served)"))
        email = re.sub(r"\\(.)", r"\1", found.group("email")).lower()
        since = datetime.fromisoformat(found.group("since").replace("Z", "+00:00")).timestamp()
        with self._lock:
            ids = [lead_id for lead_id, record in self.leads.items()
                   if str(record.get("Email", "")).lower() == email and self.created_at[lead_id] >= since]
        self._records(handler, query.path, ids[:1])

    def _records(self, handler: Handler, path: str, ids: list[str]) -> None:
        version = "/".join(path.split("/")[:4])
        records = [{"attributes": {"type": "Lead", "url": f"{version}/sobjects/Lead/{lead_id}"}, "Id": lead_id}
                   for lead_id in ids]
        handler.send_json(200, {"totalSize": len(records), "done": True, "records": records})

    def _record(self, handler: Handler, request: Received, lead_id: str) -> None:
        """One Lead by id with its CreatedDate (`?fields=` is served as if it named CreatedDate)."""
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        with self._lock:
            authorised, created = token in self.tokens, self.created_at.get(lead_id)
        if not authorised:
            return handler.send_json(401, _error("INVALID_SESSION_ID", "Session expired or invalid"))
        if created is None:
            return handler.send_json(404, _error("NOT_FOUND", "The requested resource does not exist"))
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(created * 1000) % 1000:03d}+0000"
        return handler.send_json(200, {"attributes": {"type": "Lead"}, "Id": lead_id, "CreatedDate": stamp})

    def _check(self, record: dict[str, object]) -> tuple[int, object]:
        unknown = sorted(set(record) - self.fields)
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
        if trigger in CATALOG_TRIGGERS:
            status, code, message, fields = CATALOG_TRIGGERS[trigger]
            return status, _error(code, message, fields)
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
            match = {"entityType": "Lead", "errors": [], "matchEngine": "ExactMatchEngine", "size": 1,
                     "rule": "Standard_Lead_Match_Rule_v1_0", "success": True,
                     "matchRecords": [{"additionalInformation": [], "fieldDiffs": [], "matchConfidence": 100.0,
                                       "record": {"attributes": {"type": "Lead"}, "Id": lead_id}}]}
            return 400, [{"duplicateResult": {"allowSave": False, "duplicateRule": "Standard_Lead_Duplicate_Rule",
                                              "duplicateRuleEntityType": "Lead", "matchResults": [match]},
                          "errorCode": "DUPLICATES_DETECTED", "message": "Use one of these records?", "fields": []}]
        return 201, {"id": lead_id, "success": True, "errors": []}
