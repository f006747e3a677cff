"""HubSpot CRM: a lead becomes a contact through the CRM v3 objects API, as HubSpot documents it.

Auth: `HUBSPOT_TOKEN`, a private app's (or service key's) token sent as `Authorization: Bearer <token>`; it does
not expire (StaticAuth). Create: `POST {HUBSPOT_API_URL}/crm/v3/objects/contacts` (default
https://api.hubapi.com) with {"properties": {...}}: email, firstname, lastname, phone, company (a B2B lead's
only: a person has none), address, zip, city, country, lifecyclestage "lead".
Answers (every field of HubSpot's error body is optional, its pages say): 201 {"id"}: created; 409 category
CONFLICT "Contact already exists. Existing ID: N": duplicate, naming N; 400 VALIDATION_ERROR, each error's code
in `errors[].code` (or, in older answers, inside the message: "Property values were not valid: [{"error":
"INVALID_EMAIL", "name": "email", ...}]"); 401; 403 MISSING_SCOPES; 423, 429 (errorType RATE_LIMIT), 477. Each
code and category means what `hubspot_codes` says (from HubSpot's error pages), the most telling one decides.

Look-up of a lead in doubt: hubspot_search.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.auth import StaticAuth
from dispatcher.integrations.base import CustomerRequest, crm_record, http_family_outcome, lead_field_names
from dispatcher.integrations.catalog import deciding_code, outcome_of
from dispatcher.integrations.hubspot_codes import CATEGORIES, CODES, ITS_STATE_STATUSES
from dispatcher.integrations.hubspot_search import CONTACTS_PATH, HubSpotSearch
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer

NAME = "HubSpot"
DEFAULT_API_URL = "https://api.hubapi.com"
FIELD_NAMES = {
    "first_name": "firstname", "last_name": "lastname", "email": "email", "phone": "phone", "company": "company",
    "street": "address", "postal_code": "zip", "city": "city", "country": "country",
}
LEAD_FIELD_OF = lead_field_names(FIELD_NAMES)
_EXISTING_ID = re.compile(r"Existing ID: ?([0-9]{1,30})")
_PROPERTY = re.compile(r"[A-Za-z][A-Za-z0-9_]{1,99}")  # a property name worth naming back to the platform
_EMBEDDED = "Property values were not valid: "


def _text(data: Any, key: str) -> str:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, str) else ""


def _names(value: Any) -> list[str]:
    """Property names as HubSpot gives them: `context.propertyName` is a list, an older `name` a string."""
    names = value if isinstance(value, list) else [value]
    return [name for name in names if isinstance(name, str) and _PROPERTY.fullmatch(name)]


def _errors(data: Any) -> list[tuple[str, list[str], str]]:
    """(code, property names, message) of each validation error: from `errors[]`, or else from the list an older
    answer writes in its message."""
    items = data.get("errors") if isinstance(data, dict) else None
    coded = [item for item in items if isinstance(item, dict) and isinstance(item.get("code"), str)] \
        if isinstance(items, list) else []
    if coded:
        return [(item["code"], _names(item["context"].get("propertyName") if isinstance(item.get("context"), dict)
                                      else None), _text(item, "message")) for item in coded]
    message = _text(data, "message")
    try:
        embedded = json.loads(message.removeprefix(_EMBEDDED)) if message.startswith(_EMBEDDED) else None
    except (ValueError, RecursionError):
        return []
    return [(item["error"], _names(item.get("name")), _text(item, "message")) for item in embedded
            if isinstance(item, dict) and isinstance(item.get("error"), str)] if isinstance(embedded, list) else []


class HubSpot(HubSpotSearch):
    name = "hubspot"
    required_fields: tuple[str, ...] = ()  # HubSpot requires no property of a contact sent with an email

    def __init__(self, *, api_url: str, token: str, lead_id_property: str = "") -> None:
        self.auth = StaticAuth.bearer(api_url.rstrip("/"), token)
        self.lead_id_property = lead_id_property

    def translate(self, lead: Lead) -> CustomerRequest:
        properties = {**crm_record(lead, FIELD_NAMES, company_fallback=False), "lifecyclestage": "lead"}
        if self.lead_id_property:
            properties[self.lead_id_property] = lead["id"]
        return CustomerRequest(path=CONTACTS_PATH, json_body={"properties": properties})

    def classify(self, answer: Answer) -> Outcome:
        data = answer.json()
        category, message = _text(data, "category"), _text(data, "message") or f"HTTP {answer.status}"
        if 200 <= answer.status < 300:
            lead_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(lead_id, (str, int)) and not isinstance(lead_id, bool) and str(lead_id):
                return Outcome.of(Reason.CREATED, customer_lead_id=lead_id)
            return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{NAME} answered {answer.status} without an id")
        if answer.status == 409 and CATEGORIES.get(category or "CONFLICT") is Reason.DUPLICATE:
            existing = _EXISTING_ID.search(message)
            details = {"existing_customer_lead_id": existing[1]} if existing else {}
            return Outcome.of(Reason.DUPLICATE, f"{NAME} already has this person: {message}", **details)
        if answer.status == 401:
            return Outcome.of(Reason.UNAUTHORIZED, f"{NAME} rejected our token ({category or 'HTTP 401'}): {message}")
        if answer.status == 429:
            policy = _text(data, "policyName") or "unnamed"
            return Outcome.of(Reason.CUSTOMER_ERROR, f"{NAME} is limiting our rate ({policy} policy): {message}")
        if answer.status in ITS_STATE_STATUSES:
            return Outcome.of(Reason.CUSTOMER_ERROR, f"{NAME} is holding our calls back (HTTP {answer.status}): "
                                                     f"{message}")
        errors = _errors(data) if answer.status == 400 else []
        decided = deciding_code([code for code, _, _ in errors], CODES)
        if decided is not None and decided[1] is Reason.INVALID_LEAD:
            missing = [LEAD_FIELD_OF.get(name, name) for code, names, _ in errors if CODES.get(code) is decided[1]
                       for name in names]
            return Outcome.of(Reason.INVALID_LEAD, f"{NAME} requires more properties ({decided[0]}): {message}",
                              missing_fields=missing)
        if decided is not None:
            text = next((text for code, _, text in errors if code == decided[0] and text), message)
            return outcome_of(NAME, decided[0], decided[1], text, CODES)
        if category in CATEGORIES and answer.status < 500 and answer.status != 404:
            return outcome_of(NAME, category, CATEGORIES[category], message, CATEGORIES)
        return http_family_outcome(answer, NAME)


def from_env(environ: Mapping[str, str]) -> HubSpot:
    """Build the integration from HUBSPOT_TOKEN and the optional HUBSPOT_API_URL (default HubSpot's own)."""
    if not environ.get("HUBSPOT_TOKEN"):
        raise ConfigurationError("CUSTOMER=hubspot needs HUBSPOT_TOKEN (a private app's access token)")
    api_url = environ.get("HUBSPOT_API_URL") or DEFAULT_API_URL
    if not api_url.startswith(("http://", "https://")):
        raise ConfigurationError(f"HUBSPOT_API_URL must be an http(s) URL, not {api_url!r}")
    lead_id_property = (environ.get("HUBSPOT_LEAD_ID_PROPERTY") or "").strip()
    if lead_id_property and not _PROPERTY.fullmatch(lead_id_property):
        raise ConfigurationError(f"HUBSPOT_LEAD_ID_PROPERTY must be a property's internal name, not "
                                 f"{lead_id_property!r}")
    return HubSpot(api_url=api_url, token=environ["HUBSPOT_TOKEN"], lead_id_property=lead_id_property)
