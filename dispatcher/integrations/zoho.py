"""Zoho CRM: a lead becomes a record of the Leads module through the REST API, as Zoho documents it.

Token: `POST {ZOHO_ACCOUNTS_URL}/oauth/v2/token`, grant_type=refresh_token -> {"access_token", "api_domain"};
bad credentials come back as HTTP 200 {"error": "invalid_client"} (OAuthToken makes that a 401).
Create: `POST {api_domain}/crm/{ZOHO_API_VERSION}/Leads` with `Authorization: Zoho-oauthtoken <token>` and
{"data": [record]}. Zoho answers per record, each with a `code`; the code decides, not the HTTP status
(a duplicate may come with 400, 202 or 207 depending on the version and the batch): each code means what
`zoho_codes.CODES` says (from Zoho's published OpenAPI specification), the most telling one decides.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.auth import OAuthToken
from dispatcher.integrations.base import CustomerRequest, crm_record, http_family_outcome, lead_field_names
from dispatcher.integrations.catalog import deciding_code, outcome_of
from dispatcher.integrations.zoho_codes import CODES
from dispatcher.integrations.zoho_search import ZohoSearch
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer

NAME = "Zoho CRM"
DEFAULT_API_VERSION = "v8"
FIELD_NAMES = {
    "salutation": "Salutation", "first_name": "First_Name", "last_name": "Last_Name", "email": "Email",
    "phone": "Phone", "company": "Company", "street": "Street", "postal_code": "Zip_Code", "city": "City",
    "country": "Country", "description": "Description",
}
LEAD_FIELD_OF = lead_field_names(FIELD_NAMES)
_API_VERSION = re.compile(r"v[1-9][0-9]?")


def _errors(data: Any) -> list[dict[str, Any]]:
    """Every coded item of an answer: the top-level one, each record's, and those inside
    MULTIPLE_OR_MULTI_ERRORS (details.errors), in order."""
    if not isinstance(data, dict):
        return []
    items: list[Any] = [data] if isinstance(data.get("code"), str) else []
    records = data.get("data")
    if isinstance(records, list):
        items.extend(records)
    found: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("code"), str):
            continue
        found.append(item)
        details = item.get("details")
        nested = details.get("errors") if isinstance(details, dict) else None
        if isinstance(nested, list):
            found.extend(e for e in nested if isinstance(e, dict) and isinstance(e.get("code"), str))
    return found


def _details(item: Mapping[str, Any]) -> dict[str, Any]:
    details = item.get("details")
    return details if isinstance(details, dict) else {}


def _describe(error: Mapping[str, Any]) -> str:
    """Zoho's message for one error, with the field it names: "invalid data (Email)"."""
    field = _details(error).get("api_name")
    return str(error.get("message") or error["code"]) + (f" ({field})" if isinstance(field, str) else "")


def _token_expired(answer: Answer) -> bool:
    return answer.status == 401 and any(e["code"] == "INVALID_TOKEN" for e in _errors(answer.json()))


class Zoho(ZohoSearch):
    name = "zoho"
    required_fields: tuple[str, ...] = ()  # Last_Name is the lead's own; Company falls back to the full name

    def __init__(self, *, accounts_url: str, client_id: str, client_secret: str, refresh_token: str,
                 api_version: str = DEFAULT_API_VERSION, lead_source: str = "") -> None:
        self.lead_path = f"/crm/{api_version}/Leads"
        self.lead_source = lead_source
        form = {"grant_type": "refresh_token", "client_id": client_id, "client_secret": client_secret,
                "refresh_token": refresh_token}
        # Some of Zoho's pages show these as query parameters; they go in the form body, as RFC 6749 requires
        # for a secret and as Zoho's token pages advise ("for security reasons"): a URL ends up in logs.
        self.auth = OAuthToken(
            customer=NAME,
            token_url=f"{accounts_url.rstrip('/')}/oauth/v2/token",
            form=form, base_url_key="api_domain", scheme="Zoho-oauthtoken", is_expired=_token_expired,
        )

    def translate(self, lead: Lead) -> CustomerRequest:
        record = crm_record(lead, FIELD_NAMES)
        if self.lead_source:
            record["Lead_Source"] = self.lead_source
        return CustomerRequest(path=self.lead_path, json_body={"data": [record]})

    def classify(self, answer: Answer) -> Outcome:
        errors = _errors(answer.json())
        codes = [error["code"] for error in errors]
        if 200 <= answer.status < 300 and codes and codes[0] == "SUCCESS" and len(codes) == 1:
            lead_id = _details(errors[0]).get("id")
            if isinstance(lead_id, (str, int)) and not isinstance(lead_id, bool) and str(lead_id):
                return Outcome.of(Reason.CREATED, customer_lead_id=lead_id)
            return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{NAME} answered SUCCESS without a record id")
        record_codes = [code for code in codes if code not in ("SUCCESS", "MULTIPLE_OR_MULTI_ERRORS")]
        message = "; ".join(_describe(e) for e in errors if e["code"] in record_codes) or f"HTTP {answer.status}"
        if answer.status == 401:
            return Outcome.of(Reason.UNAUTHORIZED, f"{NAME} rejected our token after one refresh: {message}")
        decided = deciding_code(record_codes, CODES)
        if decided is None:
            return http_family_outcome(answer, NAME)
        code, meaning = decided
        if meaning is Reason.INVALID_LEAD:
            missing = [LEAD_FIELD_OF.get(name, name) for e in errors if CODES.get(e["code"]) is meaning
                       if isinstance(name := _details(e).get("api_name"), str)]
            return Outcome.of(Reason.INVALID_LEAD, f"{NAME} requires more fields ({code}): {message}",
                              missing_fields=missing)
        return outcome_of(NAME, code, meaning, message, CODES)


def from_env(environ: Mapping[str, str]) -> Zoho:
    """Build the integration from ZOHO_ACCOUNTS_URL, ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and
    the optional ZOHO_API_VERSION (default v8) and ZOHO_LEAD_SOURCE."""
    missing = [name for name in ("ZOHO_ACCOUNTS_URL", "ZOHO_CLIENT_ID", "ZOHO_CLIENT_SECRET", "ZOHO_REFRESH_TOKEN")
               if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"CUSTOMER=zoho needs {', '.join(missing)}")
    version = environ.get("ZOHO_API_VERSION") or DEFAULT_API_VERSION
    if not _API_VERSION.fullmatch(version):
        raise ConfigurationError(f"ZOHO_API_VERSION must look like v8, not {version!r}")
    accounts_url = environ["ZOHO_ACCOUNTS_URL"]
    if not accounts_url.startswith(("http://", "https://")):
        raise ConfigurationError("ZOHO_ACCOUNTS_URL must be an http(s) URL, e.g. https://accounts.zoho.eu")
    return Zoho(accounts_url=accounts_url, client_id=environ["ZOHO_CLIENT_ID"],
                client_secret=environ["ZOHO_CLIENT_SECRET"], refresh_token=environ["ZOHO_REFRESH_TOKEN"],
                api_version=version, lead_source=environ.get("ZOHO_LEAD_SOURCE") or "")
