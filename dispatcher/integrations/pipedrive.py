"""Pipedrive: a lead is a person (API v2) then a lead linked to it (API v1: leads have no v2), a chain of requests.

Auth: `PIPEDRIVE_API_TOKEN` in the `x-api-token` header (StaticAuth), at `PIPEDRIVE_API_URL`, the company domain.
Steps: with `PIPEDRIVE_REFUSE_DUPLICATES=true`, or after an attempt left the lead in doubt, `GET /api/v2/persons/
search?term=<email>&fields=email&exact_match=true` first; `POST /api/v2/persons` {"name", "emails", "phones"} ->
{"success": true, "data": {"id"}}; `POST /v1/leads` {"title", "person_id"} -> 201 {"data": {"id": "<uuid>"}}.
The person's id is remembered with the ledger's claim: a retry after any failure between the two calls creates
the lead for that same person. Pipedrive documents HTTP statuses, no error codes: read by their meaning in
`pipedrive_search.py` (a 403 is our access, or the account's limit for an entity when its body says so).
Find: the person search, then each person's leads (`GET /v1/leads?person_id=`), one added since the attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.auth import StaticAuth
from dispatcher.integrations.base import (
    Chain,
    ChainState,
    CustomerRequest,
    FindFurther,
    Step,
    http_family_outcome,
    search_failed,
)
from dispatcher.integrations.pipedrive_search import (
    ACCOUNT_STATE,
    LEADS_PATH,
    NOT_FITTING,
    capped,
    data_of,
    id_of,
    newest_leads_added,
    person_ids,
    person_search,
)
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer

NAME = "Pipedrive"
PERSONS_PATH = "/api/v2/persons"
FIND_CLOCK_SKEW = timedelta(seconds=1)  # Pipedrive's clock against ours: the window starts at the claim


class Pipedrive:
    name = "pipedrive"
    required_fields: tuple[str, ...] = ()

    def __init__(self, *, api_url: str, token: str, refuse_duplicates: bool = False) -> None:
        self.auth = StaticAuth.header(api_url.rstrip("/"), "x-api-token", token)
        self.refuse_duplicates = refuse_duplicates

    def translate(self, lead: Lead) -> Chain:
        person = {"name": f"{lead['first_name']} {lead['last_name']}",
                  "emails": [{"value": lead["email"], "primary": True, "label": "work"}],
                  "phones": [{"value": lead["phone"], "primary": True, "label": "mobile"}]}
        title = f"{lead['product']}: {person['name']}" + (f" ({lead['company']})" if lead.get("company") else "")
        search = person_search(lead["email"])

        def search_request(state: ChainState) -> CustomerRequest | None:
            wanted = self.refuse_duplicates or state.in_doubt_since is not None
            return search if wanted and _person(state) is None else None  # a person of this lead: never 409

        def found_person(answer: Answer, state: ChainState) -> dict[str, Any] | Outcome:
            if answer.status != 200 or data_of(answer) is None:
                return _failed(self.classify(answer), answer)
            ids = person_ids(answer)
            if ids and state.in_doubt_since is None:  # the customer wants no second person for this email
                return Outcome.of(Reason.DUPLICATE, f"{NAME} already has this person",
                                  existing_customer_lead_id=ids[0])
            return {"person_id": max(ids, default=None)}  # in doubt: the newest, our attempt's (ids only grow)

        def person_request(state: ChainState) -> CustomerRequest | None:
            return None if _person(state) is not None else CustomerRequest(path=PERSONS_PATH, json_body=person)

        def created_person(answer: Answer, state: ChainState) -> dict[str, Any] | Outcome:
            data = data_of(answer)
            person_id = id_of(data.get("id"), int) if isinstance(data, dict) and 200 <= answer.status < 300 else None
            return {"person_id": person_id} if person_id is not None else _failed(self.classify(answer), answer)

        def lead_request(state: ChainState) -> CustomerRequest:
            return CustomerRequest(path=LEADS_PATH, json_body={"title": title, "person_id": _person(state)})

        return Chain(details={"person": person, "lead": {"title": title}}, steps=(
            Step("search", search_request, found_person, remembered=False, writes=False),
            Step("person", person_request, created_person),
            Step("lead", lead_request, lambda answer, _: self.classify(answer))))

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest:
        return person_search(lead["email"])

    def found(self, answer: Answer, since: datetime) -> FindFurther | None:
        """The person search's answer: ask each person's leads in turn; LeadEnded when a search failed."""
        if answer.status != 200 or data_of(answer) is None:
            raise search_failed(self.classify(answer), answer, NAME)
        return newest_leads_added(person_ids(answer), since - FIND_CLOCK_SKEW, self.classify)

    def classify(self, answer: Answer) -> Outcome:
        body = answer.json()
        error = body.get("error") if isinstance(body, dict) else None
        said = error if isinstance(error, str) and error else f"HTTP {answer.status}"
        if 200 <= answer.status < 300:
            data = data_of(answer)
            lead_id = id_of(data.get("id"), str) if isinstance(data, dict) else None
            if lead_id is None:
                return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{NAME} answered {answer.status} without an id")
            return Outcome.of(Reason.CREATED, customer_lead_id=lead_id)
        if answer.status in ACCOUNT_STATE or (answer.status == 403 and capped(body)):
            later = {"retry_after_s": answer.retry_after_s} if answer.retry_after_s is not None else {}
            return Outcome.of(Reason.CUSTOMER_ERROR, f"{NAME} does not take requests now: {said}", **later)
        if answer.status in (401, 403):
            return Outcome.of(Reason.UNAUTHORIZED, f"{NAME} refused our API token: {said}")
        if answer.status in NOT_FITTING:
            return Outcome.of(Reason.CUSTOMER_REJECTED_REQUEST,
                              f"{NAME} does not take our request as the account is set up: {said}")
        return http_family_outcome(answer, NAME)


def _person(state: ChainState) -> int | None:
    """The person's id: the one this lead's person step created, or the one its search found (in doubt)."""
    return (state.results.get("person") or {}).get("person_id") or (state.results.get("search") or {}).get(
        "person_id")


def _failed(outcome: Outcome, answer: Answer) -> Outcome:
    """A step that is not the lead's own: a success without what it needs is an answer we cannot read."""
    if outcome.state == "accepted":
        return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{NAME} answered {answer.status} without a person's id")
    return outcome


def from_env(environ: Mapping[str, str]) -> Pipedrive:
    """Build the integration from PIPEDRIVE_API_URL, PIPEDRIVE_API_TOKEN and PIPEDRIVE_REFUSE_DUPLICATES."""
    missing = [name for name in ("PIPEDRIVE_API_URL", "PIPEDRIVE_API_TOKEN") if not environ.get(name)]
    if missing:
        raise ConfigurationError(f"CUSTOMER=pipedrive needs {', '.join(missing)}")
    if not environ["PIPEDRIVE_API_URL"].startswith(("http://", "https://")):
        raise ConfigurationError("PIPEDRIVE_API_URL must be an http(s) URL, e.g. https://acme.pipedrive.com")
    refuse = (environ.get("PIPEDRIVE_REFUSE_DUPLICATES") or "false").strip().lower()
    if refuse not in ("true", "false"):
        raise ConfigurationError(f"PIPEDRIVE_REFUSE_DUPLICATES must be true or false, not {refuse!r}")
    return Pipedrive(api_url=environ["PIPEDRIVE_API_URL"], token=environ["PIPEDRIVE_API_TOKEN"],
                     refuse_duplicates=refuse == "true")
