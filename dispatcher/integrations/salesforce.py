"""Salesforce: a lead becomes a standard Lead record through the REST API.

Token: OAuth 2.0 client credentials at {SALESFORCE_LOGIN_URL}/services/oauth2/token.
Create: POST {instance_url}/services/data/{SALESFORCE_API_VERSION}/sobjects/Lead/.
Errors come as a JSON array of {"errorCode", "message", "fields"}; each code means what `salesforce_codes.CODES`
says (from Salesforce's published catalog), and the most telling one decides (`catalog.PRECEDENCE`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.auth import OAuthToken
from dispatcher.integrations.base import CustomerRequest, crm_record, http_family_outcome, lead_field_names
from dispatcher.integrations.catalog import deciding_code, outcome_of
from dispatcher.integrations.salesforce_codes import CODES
from dispatcher.integrations.salesforce_search import SalesforceSearch, errors_of
from dispatcher.jsonpath import lookup
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer

NAME = "Salesforce"
FIELD_NAMES = {
    "salutation": "Salutation", "first_name": "FirstName", "last_name": "LastName", "email": "Email",
    "phone": "Phone", "company": "Company", "street": "Street", "postal_code": "PostalCode", "city": "City",
    "country": "CountryCode", "description": "Description",
}
LEAD_FIELD_OF = lead_field_names(FIELD_NAMES)
DEFAULT_LEAD_SOURCE = "Purchased List"
_API_VERSION = re.compile(r"v\d{2,3}\.\d")


def _field_names(fields: Any) -> list[str]:
    """An error's `fields`: a list of names as documented; a lone name is one field, any other shape none."""
    if isinstance(fields, str):
        return [fields] if fields else []
    return [name for name in fields if isinstance(name, str) and name] if isinstance(fields, list) else []


def _session_expired(answer: Answer) -> bool:
    return answer.status == 401 and any(e.get("errorCode") == "INVALID_SESSION_ID" for e in errors_of(answer.json()))


class Salesforce(SalesforceSearch):
    name = "salesforce"
    required_fields: tuple[str, ...] = ()  # Company falls back to the person's full name

    def __init__(self, *, login_url: str, client_id: str, client_secret: str, api_version: str,
                 lead_source: str = DEFAULT_LEAD_SOURCE, custom_fields: Mapping[str, str] | None = None,
                 lead_id_field: str = "") -> None:
        self.lead_id_field = lead_id_field  # a custom text field (External ID) that keeps our lead id
        self.lead_path = f"/services/data/{api_version}/sobjects/Lead/"
        self.query_path = f"/services/data/{api_version}/query/"
        self.lead_source = lead_source
        self.custom_fields = dict(custom_fields or {})
        self.auth = OAuthToken(
            customer=NAME,
            token_url=f"{login_url.rstrip('/')}/services/oauth2/token",
            form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret},
            base_url_key="instance_url", scheme="Bearer", is_expired=_session_expired,
        )

    def translate(self, lead: Lead) -> CustomerRequest:
        record = {**crm_record(lead, FIELD_NAMES), "LeadSource": self.lead_source}
        record.update({field: lookup(lead, path) for field, path in self.custom_fields.items()})
        if self.lead_id_field:
            record[self.lead_id_field] = lead["id"]
        return CustomerRequest(path=self.lead_path, json_body={k: v for k, v in record.items() if v not in (None, "")})

    def classify(self, answer: Answer) -> Outcome:
        data = answer.json()
        if 200 <= answer.status < 300:
            lead_id = data.get("id") if isinstance(data, dict) else None
            if isinstance(lead_id, str) and lead_id and data.get("success") is not False:
                return Outcome.of(Reason.CREATED, customer_lead_id=lead_id)
            return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{NAME} answered {answer.status} without a Lead id")
        errors = errors_of(data)
        if answer.status == 401:
            named = ", ".join(str(error.get("errorCode")) for error in errors) or "HTTP 401"
            return Outcome.of(Reason.UNAUTHORIZED, f"{NAME} rejected our session after one token refresh ({named})")
        if answer.status == 404 or not errors:
            return http_family_outcome(answer, NAME)
        message = "; ".join(str(error.get("message", "")) for error in errors if error.get("message"))
        code, meaning = deciding_code([str(error.get("errorCode")) for error in errors], CODES) \
            or ("", Reason.CUSTOMER_ERROR)
        if meaning is Reason.INVALID_LEAD:
            missing = [LEAD_FIELD_OF.get(f, f) for e in errors if CODES.get(str(e.get("errorCode"))) is meaning
                       for f in _field_names(e.get("fields"))]
            return Outcome.of(Reason.INVALID_LEAD, f"{NAME} requires more fields ({code}): {message}",
                              missing_fields=missing)
        return outcome_of(NAME, code, meaning, message, CODES)


def from_env(environ: Mapping[str, str]) -> Salesforce:
    """Build the integration from the SALESFORCE_* variables (login URL, client id and secret, API version)."""
    missing = [name for name in ("SALESFORCE_LOGIN_URL", "SALESFORCE_CLIENT_ID", "SALESFORCE_CLIENT_SECRET",
                                 "SALESFORCE_API_VERSION") if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"CUSTOMER=salesforce needs {', '.join(missing)}")
    version = environ["SALESFORCE_API_VERSION"]
    if not _API_VERSION.fullmatch(version):
        raise ConfigurationError(f"SALESFORCE_API_VERSION must look like v62.0, not {version!r}")
    login_url = environ["SALESFORCE_LOGIN_URL"]
    if not login_url.startswith(("http://", "https://")):
        raise ConfigurationError("SALESFORCE_LOGIN_URL must be an http(s) URL")
    try:
        custom = json.loads(environ.get("SALESFORCE_CUSTOM_FIELDS") or "{}")
    except ValueError as exc:
        raise ConfigurationError(f"SALESFORCE_CUSTOM_FIELDS is not JSON: {exc}") from None
    if not isinstance(custom, dict) or not all(isinstance(k, str) and k.endswith("__c") and isinstance(v, str)
                                               for k, v in custom.items()):
        raise ConfigurationError('SALESFORCE_CUSTOM_FIELDS maps custom fields to lead paths: {"Product__c": "product"}')
    return Salesforce(login_url=login_url, client_id=environ["SALESFORCE_CLIENT_ID"],
                      client_secret=environ["SALESFORCE_CLIENT_SECRET"], api_version=version,
                      lead_source=environ.get("SALESFORCE_LEAD_SOURCE") or DEFAULT_LEAD_SOURCE, custom_fields=custom,
                      lead_id_field=_lead_id_field(environ.get("SALESFORCE_LEAD_ID_FIELD") or ""))


def _lead_id_field(name: str) -> str:
    """SALESFORCE_LEAD_ID_FIELD: a custom field's API name (`LeadPlug_Id__c`), or empty (look up by email)."""
    if name and not re.fullmatch(r"[A-Za-z]\w{0,36}__c", name):
        raise ConfigurationError(f"SALESFORCE_LEAD_ID_FIELD must be a custom field's API name ending in __c, "
                                 f"not {name!r}")
    return name
