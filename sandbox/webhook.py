"""Webhook customers: small systems that take a lead as a JSON or form POST, each answering its own way.

One server, two dialects (the two example configurations in `customers/` speak to them):

- `json` (customers/acme-json.json): `POST /v1/leads` with `Authorization: Bearer <token>` and a JSON body
  {"contact": {"first_name", "last_name", "email", "phone"}, "address": {"zip", "country"}, "product", ...}.
  201 {"status": "created", "lead": {"id": "ACME-..."}}; 409 {"status": "duplicate", ...} for an email
  already there; 422 {"status": "rejected", "error": {"code": "OUT_OF_AREA" | "INVALID_EMAIL", ...}};
  400 {"status": "invalid", "error": {"code": "MISSING_FIELD", "field": ...}}; 401 without the token.
- `form` (customers/solaris-form.json): `POST /api/lead.php?key=<key>`, form-encoded (nom, prenom, email,
  tel in national form, cp, ...), answering HTTP 200 and plain text whatever happens, like many PHP
  endpoints: `OK 48213`, `ERREUR DOUBLON`, `ERREUR TEL_INVALIDE ...`, `ERREUR CLE_INVALIDE`.

Both (sandbox/server.py's LeadSandbox): `+error500` in the email's local part answers 500; `GET /_sandbox/leads`
lists what was taken.
"""

from __future__ import annotations

import itertools
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.server import Handler, LeadSandbox, MakeRun, Received

ACME_TOKEN = "sandbox-acme-token"
SOLARIS_KEY = "sandbox-solaris-key"
_FRENCH_PHONE = re.compile(r"^0[1-9][0-9]{8}$")


# Under `make run` (sandbox/__main__.py finds it here): name -> (class, port, keyword arguments).
MAKE_RUN: MakeRun = {"acme-json": ("WebhookSandbox", 8003, {"dialect": "json"}),
                     "solaris-form": ("WebhookSandbox", 8004, {"dialect": "form"})}


class WebhookSandbox(LeadSandbox):
    def __init__(self, port: int = 0, *, dialect: str = "json", secret: str | None = None,
                 served_countries: frozenset[str] = frozenset({"FR", "BE", "LU", "CH"}), verbose: bool = False) -> None:
        if dialect not in ("json", "form"):
            raise ValueError("dialect is json or form")
        super().__init__(port, verbose)
        self.dialect = dialect
        self.secret = secret or (ACME_TOKEN if dialect == "json" else SOLARIS_KEY)
        self.served_countries = served_countries
        self._ids = itertools.count(48213)

    @property
    def lead_url(self) -> str:
        return self.base_url + ("/v1/leads" if self.dialect == "json" else "/api/lead.php")

    def route(self, handler: Handler, request: Received) -> None:
        path = urlsplit(request.path).path
        if self.sandbox_route(handler, request, path):
            return None
        if request.method == "POST" and self.dialect == "json" and path == "/v1/leads":
            return self._json_lead(handler, request)
        if request.method == "POST" and self.dialect == "form" and path == "/api/lead.php":
            return self._form_lead(handler, request)
        return handler.send_body(404, b"Not Found", "text/plain")

    def _take(self, email: str, record: dict[str, Any], prefix: str) -> str | None:
        """The new lead's id, or None when the email is already there (the duplicate rule)."""
        lead_id, created = self.take(email, record, lambda: f"{prefix}{next(self._ids)}")
        return lead_id if created else None

    def _json_lead(self, handler: Handler, request: Received) -> None:
        if request.headers.get("authorization") != f"Bearer {self.secret}":
            return handler.send_json(401, {"status": "unauthorized", "error": {"code": "BAD_TOKEN"}})
        try:
            body = request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return handler.send_json(400, {"status": "invalid", "error": {"code": "BAD_JSON"}})
        contact, address = (part if isinstance(part := body.get(key), dict) else {} for key in ("contact", "address"))
        for name, value in (("contact.last_name", contact.get("last_name")), ("contact.email", contact.get("email")),
                            ("address.zip", address.get("zip"))):
            if not value:
                return handler.send_json(400, {"status": "invalid", "error": {"code": "MISSING_FIELD", "field": name}})
        email = str(contact["email"])
        if self.trigger(email) == "error500":
            return handler.send_json(500, {"status": "error", "error": {"code": "INTERNAL"}})
        if not self.email_is_valid(email):
            return handler.send_json(422, {"status": "rejected", "error": {"code": "INVALID_EMAIL",
                                                                           "message": "The email is not valid"}})
        if address.get("country") not in self.served_countries:
            return handler.send_json(422, {"status": "rejected", "error": {
                "code": "OUT_OF_AREA", "message": "We do not serve this country"}})
        lead_id = self._take(email, body, "ACME-")
        if lead_id is None:
            return handler.send_json(409, {"status": "duplicate", "message": "A lead with this email exists"})
        handler.send_json(201, {"status": "created", "lead": {"id": lead_id}})

    def _form_lead(self, handler: Handler, request: Received) -> None:
        query = parse_qs(urlsplit(request.path).query)
        if query.get("key", [""])[0] != self.secret:
            return self._text(handler, "ERREUR CLE_INVALIDE")
        form = request.form()
        missing = [name for name in ("nom", "email", "tel", "cp") if not form.get(name)]
        if missing:
            return self._text(handler, f"ERREUR CHAMP_MANQUANT {missing[0]}")
        if self.trigger(form["email"]) == "error500":
            return handler.send_body(500, b"<html><body>Internal Server Error</body></html>", "text/html")
        if not _FRENCH_PHONE.match(form["tel"]):
            return self._text(handler, "ERREUR TEL_INVALIDE le numero doit avoir 10 chiffres")
        lead_id = self._take(form["email"], form, "")
        if lead_id is None:
            return self._text(handler, "ERREUR DOUBLON")
        self._text(handler, f"OK {lead_id}")

    @staticmethod
    def _text(handler: Handler, text: str) -> None:
        handler.send_body(200, text.encode("utf-8"), "text/plain; charset=utf-8")
