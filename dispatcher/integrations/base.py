"""What an integration is: its stable customer id, required fields, a pure `translate`, a pure `classify`, its
authentication and, where the customer's API can look a lead up, a `Finder`; and what integrations share to write
them: the outcome of an answer no customer rule explains, and the lead as a CRM record (the standard fields every
CRM has, each CRM naming them its own way: an integration for a CRM gives its field names for these concepts; the
values, the B2C company fallback, the salutation and the description are made here once; the same table, read the
other way, names a field the CRM says is missing in the platform's own terms).

Everything else (state machine, deadline, transport, ledger, envelopes, logs, Rollbar) is shared and written once:
an integration never performs HTTP itself, except through the `Auth` it is given the transport for. A lead that
takes several requests (a person, then its lead) is a `Chain` of `Step`s, which `dispatcher/chain.py` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from dispatcher.contract import Lead
from dispatcher.deadline import Deadline
from dispatcher.errors import LeadEnded
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer, Transport


@dataclass(frozen=True)
class CustomerRequest:
    """The customer's request for one lead, before authentication: a path under the session's base URL (or
    an absolute URL: a webhook's `find` request goes where its file says)."""

    path: str
    json_body: dict[str, Any] | None = None
    form: dict[str, str] | bytes | None = None  # bytes: a body already written in the customer's charset
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    params: Mapping[str, str] = field(default_factory=dict)

    def url(self, base_url: str) -> str:
        return self.path if self.path.startswith(("http://", "https://")) else base_url + self.path

    @property
    def details(self) -> dict[str, Any]:
        """What the envelope shows as `request_details`: the body, never a header (they hold credentials)."""
        body = self.json_body if self.json_body is not None else self.form
        return dict(body) if isinstance(body, Mapping) else {}  # bytes: EncodedRequest shows its fields


@dataclass(frozen=True)
class CustomerSession:
    """Where and how to reach the customer once authenticated; never shown in envelopes or logs."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


class Auth(Protocol):
    # Read-only members (properties), so that a class attribute, an instance attribute or a property of any
    # narrower type satisfies them: a protocol's plain attribute is invariant and no integration would type-check.
    @property
    def credentials(self) -> tuple[str, ...]:
        """Every secret value it holds, for masking wherever a customer echoes one."""

    def open(self, transport: Transport, deadline: Deadline, *,
             stale: CustomerSession | None = None) -> CustomerSession:
        """A session to use; with `stale`, replace that session by a fresh one (one token refresh)."""

    def is_expired(self, answer: Answer) -> bool:
        """Whether the answer says the session expired before the lead was taken (worth one refresh)."""


@dataclass(frozen=True)
class ChainState:
    """What a step of a chain sees: the results of the steps before it (this attempt's, or an earlier attempt's
    remembered with the ledger's claim), and since when an earlier attempt left the lead in doubt (None if none)."""

    results: Mapping[str, dict[str, Any]]
    in_doubt_since: datetime | None = None


@dataclass(frozen=True)
class Step:
    """One request of a lead that takes several. `request` builds it from the state (None: not needed this time);
    `read` turns its answer into the result later steps see (a JSON object of ids, never personal data), or into
    the Outcome that ends the lead. The last step always ends it."""

    name: str
    request: Callable[[ChainState], CustomerRequest | None]
    read: Callable[[Answer, ChainState], dict[str, Any] | Outcome]
    remembered: bool = True  # its result is kept with the claim: a retry continues after it, never redoes it
    writes: bool = True  # it may create something at the customer: once it leaves, the lead is `sent`


@dataclass(frozen=True)
class Chain:
    """A lead that takes several requests at the customer, in order, under the lead's one deadline."""

    details: dict[str, Any]  # what the envelope shows as `request_details`
    steps: tuple[Step, ...]


class Integration(Protocol):
    @property
    def name(self) -> str:
        """The stable customer id (a slug, the module's name): the ledger, the health and the metrics know the
        customer by it; never a display name."""

    @property
    def required_fields(self) -> Sequence[str]:
        """The lead's fields this customer requires beyond the contract's own."""

    @property
    def auth(self) -> Auth:
        """How the plug authenticates to the customer."""

    def translate(self, lead: Lead) -> CustomerRequest | Chain:
        """The customer's request for a valid lead (or its chain of requests); pure."""

    def classify(self, answer: Answer) -> Outcome:
        """The terminal state and reason of an answer; pure, and total over any answer."""


@dataclass(frozen=True)
class FindFurther:
    """A search in several requests: send `request`, then read its answer with `then`."""

    request: CustomerRequest
    then: Callable[[Answer], str | int | FindFurther | None]


@runtime_checkable
class Finder(Protocol):
    """What an integration adds where the customer's API can look a lead up: a lead in doubt that it finds is
    answered accepted, not sent again."""

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest | None:
        """The request that looks for a lead like this one created since `since` (None: no search); pure."""

    def found(self, answer: Answer, since: datetime) -> str | int | FindFurther | None:
        """The customer's id of a lead created since `since`, None when not found, or the next request of a search
        in several; raises LeadEnded when the answer says nothing either way (the search failed); pure."""


def search_failed(outcome: Outcome, answer: Answer, customer: str) -> LeadEnded:
    """A search's answer read by the customer's rules ends the lead only as a failure: the lead was not sent
    (a refusal or a duplicate would need the request to have left)."""
    if outcome.state != "failed":
        outcome = Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{customer}'s search answered HTTP {answer.status}")
    return LeadEnded(outcome, answer)


def http_family_outcome(answer: Answer, customer: str) -> Outcome:
    """The outcome every customer shares for an answer its own rules did not explain."""
    if answer.status == 404:
        return Outcome.of(Reason.CUSTOMER_API_NOT_FOUND, f"{customer} answered 404: its API was not found")
    if answer.status >= 500:
        return Outcome.of(Reason.CUSTOMER_ERROR, f"{customer} failed with HTTP {answer.status}")
    if answer.status == 429:  # a rate limit is the customer's state (502 customer_error), a token endpoint's too
        later = {"retry_after_s": answer.retry_after_s} if answer.retry_after_s is not None else {}
        return Outcome.of(Reason.CUSTOMER_ERROR, f"{customer} is limiting our requests (HTTP 429)", **later)
    return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{customer} gave an answer the plug does not understand "
                                                   f"(HTTP {answer.status})")


# The lead as a CRM record

# How CRMs write the lead's civility (Salesforce's Salutation, Zoho's picklist); "other" has none.
SALUTATIONS = {"mr": "Mr.", "mrs": "Mrs."}
# Concept -> the lead field it comes from (for naming a missing field back to the platform).
LEAD_PATH_OF_CONCEPT = {
    "first_name": "first_name", "last_name": "last_name", "email": "email", "phone": "phone",
    "company": "company", "street": "address.street", "postal_code": "address.postal_code",
    "city": "address.city", "country": "address.country", "description": "comment",
}


def lead_description(lead: Lead) -> str:
    """The free-text note a CRM keeps with a lead: the product, where the lead came from, the person's comment."""
    source = lead.get("source") or {}
    lines = [f"Product: {lead['product']}"]
    if source.get("site") or source.get("campaign"):
        lines.append("Source: " + " / ".join(v for v in (source.get("site"), source.get("campaign")) if v))
    if lead.get("comment"):
        lines.append(lead["comment"])
    return "\n".join(lines)


def crm_record(lead: Lead, field_names: Mapping[str, str], *, company_fallback: bool = True) -> dict[str, Any]:
    """The record under the CRM's `field_names` (concept -> field), without empty values.

    `company_fallback`: a B2C lead has no company; CRMs that require one (Salesforce, Zoho) get the person's
    full name, others (HubSpot-like) must leave a person's company empty.
    """
    company = lead.get("company") or (f"{lead['first_name']} {lead['last_name']}" if company_fallback else None)
    address = lead.get("address") or {}
    values = {
        "salutation": SALUTATIONS.get(lead.get("civility", "")),
        "first_name": lead["first_name"],
        "last_name": lead["last_name"],
        "email": lead["email"],
        "phone": lead["phone"],
        "company": company,
        "street": address.get("street"),
        "postal_code": address.get("postal_code"),
        "city": address.get("city"),
        "country": address.get("country"),
        "description": lead_description(lead),
    }
    return {field_names[concept]: value for concept, value in values.items()
            if concept in field_names and value not in (None, "")}


def lead_field_names(field_names: Mapping[str, str]) -> dict[str, str]:
    """The CRM's field -> the lead's field, to name what the CRM says is missing in the platform's terms."""
    return {field: LEAD_PATH_OF_CONCEPT[concept] for concept, field in field_names.items()
            if concept in LEAD_PATH_OF_CONCEPT}
