"""Zoho CRM as its documentation describes it: Zoho Accounts' token endpoint, then the Leads module.

- `POST /oauth/v2/token` (parameters in the form body or the query string, as Zoho's pages show both),
  grant_type=refresh_token: the configured client and refresh token get HTTP 200 {"access_token",
  "api_domain", "token_type": "Bearer", "expires_in": 3600}; anything else gets HTTP 200 {"error":
  "invalid_client"} (or "invalid_code" for an unknown refresh token), as Zoho Accounts answers.
- `POST /crm/v{2..8}/Leads` with `Authorization: Zoho-oauthtoken <token>` and {"data": [records]}:
  201 {"data": [{"code": "SUCCESS", "details": {"id", "Created_Time", ...}, "message": "record added",
  "status": "success"}]}; a record in error makes HTTP 400 (every record failed) or 207 (some did), each
  record with its own code: MANDATORY_NOT_FOUND (Last_Name), INVALID_DATA (a bad email, a value too long),
  DUPLICATE_DATA (the Email of a lead already there, with `duplicate_record`), and MULTIPLE_OR_MULTI_ERRORS
  (details.errors) when one record has several. No or an unknown token: 401 AUTHENTICATION_FAILURE or
  INVALID_TOKEN; another path: 404 INVALID_URL_PATTERN.
- `GET /crm/v{2..8}/Leads/search?email=`: 200 {"data": [records], "info": {...}}, or 204 with no content.
- `GET /crm/v{2..8}/Leads/{id}`: 200 {"data": [record with id and Created_Time]}; 204 for an unknown id.
- Sandbox triggers (sandbox/server.py's LeadSandbox), in the email's local part: `+error500` answers 500
  INTERNAL_ERROR; one code of each meaning of Zoho's API_Exception catalog: `+storage` (the record fails with
  STORAGE_SPACE_EXCEEDED), `+locked` (RECORD_LOCKED), `+dependent` (DEPENDENT_FIELD_MISSING, a field the
  account's layout makes depend on another), `+pattern` (PATTERN_NOT_MATCHED on Phone), `+nopermission` (403
  NO_PERMISSION for the whole call, with the permission missing), `+unknowncode` (a code no catalog has).
- Test helpers: `GET /_sandbox/leads`, `POST /_sandbox/expire-tokens` (or `expire_tokens()`): every issued
  token expires, the next create answers 401 INVALID_TOKEN.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.server import CrmSandbox, Handler, MakeRun, Received

CLIENT_ID = "1000.SANDBOXCLIENTID"
CLIENT_SECRET = "sandbox-zoho-client-secret"
REFRESH_TOKEN = "1000.sandbox.refresh-token"
OWNER = {"name": "Sandbox Owner", "id": "5725767000000411001"}
MAX_LENGTHS = {"First_Name": 40, "Last_Name": 80, "Email": 100, "Phone": 30, "Company": 200, "Street": 250,
               "Zip_Code": 30, "City": 100, "Country": 100, "Description": 32000}
_LEADS_PATH = re.compile(r"^/crm/v[2-8]/Leads$")
_SEARCH_PATH = re.compile(r"^/crm/v[2-8]/Leads/search$")
_RECORD_PATH = re.compile(r"^/crm/v[2-8]/Leads/(?P<id>[^/]+)$")


# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN: MakeRun = {"zoho": ("ZohoSandbox", 8002, {})}


def _error(code: str, message: str, **details: Any) -> dict[str, Any]:
    return {"code": code, "details": details, "message": message, "status": "error"}


# One record-level code of each meaning of Zoho's catalog, on demand: trigger -> (code, message, details).
RECORD_TRIGGERS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "storage": ("STORAGE_SPACE_EXCEEDED", "storage space exceeded", {}),
    "locked": ("RECORD_LOCKED", "The record under merge is locked", {}),
    "dependent": ("DEPENDENT_FIELD_MISSING", "Dependent Fields missing", {"api_name": "Lead_Status"}),
    "pattern": ("PATTERN_NOT_MATCHED", "Please check whether the input values are correct", {"api_name": "Phone"}),
    "unknowncode": ("SOMETHING_ZOHO_ADDS_NEXT_YEAR", "a code no catalog documents yet", {}),
}


class ZohoSandbox(CrmSandbox):
    TRIGGERS = CrmSandbox.TRIGGERS | frozenset(RECORD_TRIGGERS) | {"nopermission"}

    def __init__(self, port: int = 0, *, client_id: str = CLIENT_ID, client_secret: str = CLIENT_SECRET,
                 refresh_token: str = REFRESH_TOKEN, mandatory: tuple[str, ...] = ("Last_Name",),
                 verbose: bool = False) -> None:
        super().__init__(port, verbose)
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.mandatory = mandatory

    def route(self, handler: Handler, request: Received) -> None:
        path = urlsplit(request.path).path
        if request.method == "POST" and path == "/oauth/v2/token":
            return self._token(handler, request)
        if request.method == "POST" and _LEADS_PATH.match(path):
            return self._insert(handler, request)
        if request.method == "GET" and _SEARCH_PATH.match(path):
            return self._search(handler, request)
        if request.method == "GET" and (record := _RECORD_PATH.match(path)):
            return self._record(handler, request, record["id"])
        if self.sandbox_route(handler, request, path):
            return None
        return handler.send_json(404, _error("INVALID_URL_PATTERN",
                                             "Please check if the URL trying to access is a correct one"))

    def _token(self, handler: Handler, request: Received) -> None:
        params = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query).items()}
        params.update(request.form())
        if params.get("grant_type") != "refresh_token":
            return handler.send_json(200, {"error": "unsupported_grant_type"})
        if params.get("client_id") != self.client_id or params.get("client_secret") != self.client_secret:
            return handler.send_json(200, {"error": "invalid_client"})
        if params.get("refresh_token") != self.refresh_token:
            return handler.send_json(200, {"error": "invalid_code"})
        token = "1000." + secrets.token_hex(16) + "." + secrets.token_hex(16)
        with self._lock:
            self.tokens.add(token)
        handler.send_json(200, {"access_token": token, "scope": "ZohoCRM.modules.leads.CREATE",
                                "api_domain": self.base_url, "token_type": "Bearer", "expires_in": 3600})

    def _insert(self, handler: Handler, request: Received) -> None:
        authorization = request.headers.get("authorization", "")
        if not authorization.startswith("Zoho-oauthtoken "):
            return handler.send_json(401, _error("AUTHENTICATION_FAILURE", "Authentication failed"))
        with self._lock:
            known = authorization.removeprefix("Zoho-oauthtoken ") in self.tokens
        if not known:
            return handler.send_json(401, _error("INVALID_TOKEN", "invalid oauth token"))
        try:
            body = request.json()
        except ValueError:
            return handler.send_json(400, _error("INVALID_DATA", "the given body is not valid JSON"))
        records = body.get("data") if isinstance(body, dict) else None
        if not isinstance(records, list) or not records or not all(isinstance(r, dict) for r in records):
            return handler.send_json(400, _error("REQUIRED_PARAM_MISSING", "required param missing", param="data"))
        if len(records) > 100:
            return handler.send_json(400, _error("LIMIT_EXCEEDED", "the number of records exceeds 100"))
        if any(self.trigger(r.get("Email")) == "error500" for r in records):
            return handler.send_json(500, _error("INTERNAL_ERROR", "Internal Server Error"))
        if any(self.trigger(r.get("Email")) == "nopermission" for r in records):
            return handler.send_json(403, _error("NO_PERMISSION", "permission denied",
                                                 permissions=["Crm_Implied_Create_Leads"]))
        if self.drops_first_request(records[0].get("Email")):
            return handler.send_json(500, _error("INTERNAL_ERROR", "the request was dropped (sandbox)"))
        results = [self._insert_one(index, record) for index, record in enumerate(records)]
        self.answer_late_if_asked(records[0].get("Email"))
        failed = sum(result["status"] == "error" for result in results)
        status = 201 if not failed else 400 if failed == len(results) else 207
        handler.send_json(status, {"data": results})

    def _search(self, handler: Handler, request: Received) -> None:
        """Zoho's search by email: 200 with the records, or 204 with no content."""
        with self._lock:
            known = request.headers.get("authorization", "").removeprefix("Zoho-oauthtoken ") in self.tokens
        if not known:
            return handler.send_json(401, _error("INVALID_TOKEN", "invalid oauth token"))
        email = parse_qs(urlsplit(request.path).query).get("email", [""])[0]
        lead_id = self.existing(email) if email else None
        if lead_id is None:
            return handler.send_body(204, b"", "application/json")
        with self._lock:
            record, created = self.leads[lead_id], self.created_at.get(lead_id, 0.0)
        created_time = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(created))
        handler.send_json(200, {"data": [{**record, "id": lead_id, "Created_Time": created_time}],
                                "info": {"per_page": 200, "count": 1, "page": 1, "more_records": False}})

    def _record(self, handler: Handler, request: Received, lead_id: str) -> None:
        """One record by id, with its Created_Time; 204 when there is none."""
        with self._lock:
            known = request.headers.get("authorization", "").removeprefix("Zoho-oauthtoken ") in self.tokens
            record, created = self.leads.get(lead_id), self.created_at.get(lead_id, 0.0)
        if not known:
            return handler.send_json(401, _error("INVALID_TOKEN", "invalid oauth token"))
        if record is None:
            return handler.send_body(204, b"", "application/json")
        created_time = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(created))
        return handler.send_json(200, {"data": [{**record, "id": lead_id, "Created_Time": created_time}]})

    def _insert_one(self, index: int, record: dict[str, Any]) -> dict[str, Any]:
        trigger = self.trigger(record.get("Email"))
        if trigger in RECORD_TRIGGERS:
            code, message, details = RECORD_TRIGGERS[trigger]
            return _error(code, message, **details, **({"json_path": f"$.data[{index}].{details['api_name']}"}
                                                      if "api_name" in details else {}))
        errors = [_error("MANDATORY_NOT_FOUND", "required field not found", api_name=name,
                         json_path=f"$.data[{index}].{name}")
                  for name in self.mandatory if record.get(name) in (None, "")]
        for name, limit in MAX_LENGTHS.items():
            value = record.get(name)
            if isinstance(value, str) and len(value) > limit:
                errors.append(_error("INVALID_DATA", "invalid data", maximum_length=limit, api_name=name,
                                     json_path=f"$.data[{index}].{name}"))
        email = record.get("Email")
        if email is not None and not self.email_is_valid(email):
            errors.append(_error("INVALID_DATA", "invalid data", expected_data_type="email", api_name="Email",
                                 json_path=f"$.data[{index}].Email"))
        if errors:  # Zoho reports a duplicate beside the record's other errors
            existing = self.existing(email) if email else None
        else:
            lead_id, created = self.take(email, record, lambda: str(5725767000000000000 + secrets.randbelow(10**12)))
            existing = None if created else lead_id
        if existing:
            errors.append(_error("DUPLICATE_DATA", "duplicate data", api_name="Email",
                                 json_path=f"$.data[{index}].Email", more_records=False,
                                 duplicate_record={"id": existing, "Owner": OWNER,
                                                   "module": {"api_name": "Leads", "id": "5725767000000002175"}}))
        if len(errors) > 1:
            return _error("MULTIPLE_OR_MULTI_ERRORS", "multiple errors occurred", errors=errors)
        if errors:
            return errors[0]
        now = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
        return {"code": "SUCCESS", "details": {"Modified_Time": now, "Modified_By": OWNER, "Created_Time": now,
                                               "id": lead_id, "Created_By": OWNER},
                "message": "record added", "status": "success"}
