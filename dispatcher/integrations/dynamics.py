"""Dynamics 365 (Dataverse Web API): a lead becomes a row of the `leads` table, as Microsoft documents it.

Token: Entra ID client credentials, `POST https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token` with
`scope={org}/.default` -> {"access_token", "expires_in"} (no API address: the org URL is configuration); a wrong
secret is Entra's 401 `invalid_client`. Create: `POST {org}/api/data/{version}/leads` with duplicate detection on
(`MSCRM.SuppressDuplicateDetection: false`): 204 with the new row's URL in `OData-EntityId` (201 with the row when
asked `Prefer: return=representation`). Errors are {"error": {"code": "0x8004...", "message"}}, read by code
(Microsoft's web service error codes; the duplicate 0x80040333 comes with HTTP 500); 429 is a service protection
limit with `Retry-After`. Find: `GET .../leads?$filter=emailaddress1 eq '...' and createdon ge ...`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.auth import OAuthToken
from dispatcher.integrations.base import CustomerRequest, crm_record, http_family_outcome, search_failed
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer

NAME = "Dynamics 365"
ENTRA_TOKEN_URL = "https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token"
DEFAULT_API_VERSION = "v9.2"
FIELD_NAMES = {
    "salutation": "salutation", "first_name": "firstname", "last_name": "lastname", "email": "emailaddress1",
    "phone": "telephone1", "company": "companyname", "street": "address1_line1", "postal_code": "address1_postalcode",
    "city": "address1_city", "country": "address1_country", "description": "description",
}
HEADERS = {"MSCRM.SuppressDuplicateDetection": "false", "OData-MaxVersion": "4.0", "OData-Version": "4.0",
           "Accept": "application/json"}
DUPLICATE_CODES = frozenset({"0x80040333", "0x80040237", "0x80060892"})  # detection rule, duplicate key, alt. key
# About the row's data (a plug-in's validation rule, a value too long or out of range): Dataverse refuses the person.
REFUSAL_CODES = frozenset({"0x80040265", "0x80044331", "0x8004432f", "0x80044330"})
ACCESS_CODES = frozenset({"0x80040220", "0x80048405", "0x8005f101", "0x80072560"})  # privileges, not a member
# Our request not fitting the org's setup: a column the table lacks, a bad argument, a missing or disabled owner.
SETUP_CODES = frozenset({"0x80048d19", "0x80040203", "0x80040217", "0x80040225"})
FIND_CLOCK_SKEW = timedelta(seconds=1)  # Dataverse's clock against ours: the window starts at the claim
_GUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ENTITY_ID = re.compile(rf"/leads\(({_GUID})\)$")
_API_VERSION = re.compile(r"v9\.[0-9]")


def _error(answer: Answer) -> tuple[str, str]:
    """(code, message) of Dataverse's error body, lower-cased code; ("", "") when it is not one."""
    data = answer.json()
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code") if isinstance(error, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    return (code.lower() if isinstance(code, str) else "", message if isinstance(message, str) else "")


def _created_id(answer: Answer) -> str | None:
    """The new row's GUID: in `OData-EntityId` (204), or the row's `leadid` (201, return=representation)."""
    found = _ENTITY_ID.search(answer.header("OData-EntityId") or "")
    if found:
        return found[1]
    data = answer.json()
    lead_id = data.get("leadid") if isinstance(data, dict) else None
    return lead_id if isinstance(lead_id, str) and re.fullmatch(_GUID, lead_id) else None


class Dynamics:
    name = "dynamics"
    required_fields: tuple[str, ...] = ()  # lastname is the lead's own; Dataverse requires no other column

    def __init__(self, *, org_url: str, tenant_id: str, client_id: str, client_secret: str,
                 api_version: str = DEFAULT_API_VERSION, token_url: str = "") -> None:
        org_url = org_url.rstrip("/")
        self.leads_path = f"/api/data/{api_version}/leads"
        self.auth = OAuthToken(
            customer=NAME, token_url=token_url or ENTRA_TOKEN_URL.format(tenant=tenant_id), base_url=org_url,
            form={"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret,
                  "scope": f"{org_url}/.default"},
            scheme="Bearer", is_expired=lambda answer: answer.status == 401)

    def translate(self, lead: Lead) -> CustomerRequest:
        record = {"subject": f"Lead {lead['product']}", **crm_record(lead, FIELD_NAMES, company_fallback=False)}
        return CustomerRequest(path=self.leads_path, json_body=record, headers=HEADERS)

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest:
        """The leads with this email created since `since` (minus clock skew), newest first: OData's $filter,
        the quote doubled inside the string literal; the transport URL-encodes the values."""
        after = (since - FIND_CLOCK_SKEW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        email = lead["email"].replace("'", "''")
        return CustomerRequest(path=self.leads_path, method="GET", headers=HEADERS, params={
            "$select": "leadid,createdon", "$filter": f"emailaddress1 eq '{email}' and createdon ge {after}",
            "$orderby": "createdon desc", "$top": "1"})

    def found(self, answer: Answer, since: datetime) -> str | None:
        """The GUID of the newest row the search returned, None when none; LeadEnded when the search failed."""
        data = answer.json()
        rows = data.get("value") if isinstance(data, dict) else None
        if answer.status == 200 and isinstance(rows, list):
            ids = [row["leadid"] for row in rows if isinstance(row, dict) and isinstance(row.get("leadid"), str)
                   and re.fullmatch(_GUID, row["leadid"])]
            return ids[0] if ids else None
        raise search_failed(self.classify(answer), answer, NAME)

    def classify(self, answer: Answer) -> Outcome:
        if 200 <= answer.status < 300:
            lead_id = _created_id(answer)
            if lead_id is None:
                return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{NAME} answered {answer.status} without the "
                                                                "new row's id")
            return Outcome.of(Reason.CREATED, customer_lead_id=lead_id)
        code, message = _error(answer)
        said = f"{message} ({code})" if code else f"HTTP {answer.status}"
        if code in DUPLICATE_CODES:
            return Outcome.of(Reason.DUPLICATE, f"{NAME} already has this person: {said}")
        if answer.status in (401, 403) or code in ACCESS_CODES:
            return Outcome.of(Reason.UNAUTHORIZED, f"{NAME} refused our access: {said}")
        if answer.status == 429:
            later = {"retry_after_s": answer.retry_after_s} if answer.retry_after_s is not None else {}
            return Outcome.of(Reason.CUSTOMER_ERROR, f"{NAME} is limiting our requests: {said}", **later)
        if code in REFUSAL_CODES:
            return Outcome.refused(code, f"{NAME} refused the lead: {said}")
        if code in SETUP_CODES:
            return Outcome.of(Reason.CUSTOMER_REJECTED_REQUEST,
                              f"{NAME} does not take our request as its org is set up: {said}")
        if code and answer.status != 404:
            return Outcome.of(Reason.CUSTOMER_ERROR, f"{NAME} failed (HTTP {answer.status}): {said}")
        return http_family_outcome(answer, NAME)


def from_env(environ: Mapping[str, str]) -> Dynamics:
    """Build the integration from DYNAMICS_ORG_URL, DYNAMICS_TENANT_ID, DYNAMICS_CLIENT_ID, DYNAMICS_CLIENT_SECRET
    and the optional DYNAMICS_API_VERSION (default v9.2) and DYNAMICS_TOKEN_URL (default Entra ID's)."""
    missing = [name for name in ("DYNAMICS_ORG_URL", "DYNAMICS_TENANT_ID", "DYNAMICS_CLIENT_ID",
                                 "DYNAMICS_CLIENT_SECRET") if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"CUSTOMER=dynamics needs {', '.join(missing)}")
    version = environ.get("DYNAMICS_API_VERSION") or DEFAULT_API_VERSION
    if not _API_VERSION.fullmatch(version):
        raise ConfigurationError(f"DYNAMICS_API_VERSION must look like v9.2, not {version!r}")
    for name in ("DYNAMICS_ORG_URL", "DYNAMICS_TOKEN_URL"):
        if environ.get(name) and not environ[name].startswith(("http://", "https://")):
            raise ConfigurationError(f"{name} must be an http(s) URL, e.g. https://contoso.crm4.dynamics.com")
    return Dynamics(org_url=environ["DYNAMICS_ORG_URL"], tenant_id=environ["DYNAMICS_TENANT_ID"],
                    client_id=environ["DYNAMICS_CLIENT_ID"], client_secret=environ["DYNAMICS_CLIENT_SECRET"],
                    api_version=version, token_url=environ.get("DYNAMICS_TOKEN_URL") or "")
