"""Pipedrive's answers and its search (a helper of `pipedrive.py`: no `from_env`, it serves no customer itself).

Pipedrive wraps every answer as {"success": true, "data": ...}. A person is found by `GET /api/v2/persons/search`
(exact email); a lead by that person's leads, `GET /v1/leads?person_id=`, each with its `add_time` in ISO 8601 UTC.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dispatcher.integrations.base import CustomerRequest, FindFurther, search_failed
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer

SEARCH_PATH, LEADS_PATH = "/api/v2/persons/search", "/v1/leads"
# Pipedrive's HTTP status codes (its "HTTP status codes" page), by their meaning for the platform (401 and any
# other 403 are our access; 404 and 5xx the shared rule): the account's state (402 "Company account is not
# open", 422 "Webhooks limit reached", 429 the rate limit), our request not fitting its setup (400 "Request not
# understood", 405 "Incorrect request method", 410 "Old resource permanently unavailable", 415 "Feature is not
# enabled", 501 "Non-existent functionality").
ACCOUNT_STATE = frozenset({402, 422, 429})
NEWEST_PERSONS = 3  # the persons with the lead's email whose leads `find` asks, newest first
NOT_FITTING = frozenset({400, 405, 410, 415, 501})


def data_of(answer: Answer) -> Any:
    """The `data` of a successful answer; None for any other body."""
    body = answer.json()
    return body.get("data") if isinstance(body, dict) and body.get("success") is True else None


def id_of(value: Any, kind: type) -> Any:
    """An id of the type Pipedrive gives it (a person's an integer, a lead's a UUID string), else None."""
    return value if isinstance(value, kind) and not isinstance(value, bool) and str(value) else None


def person_search(email: str) -> CustomerRequest:
    return CustomerRequest(path=SEARCH_PATH, method="GET", params={"term": email, "fields": "email",
                                                                   "exact_match": "true"})


def person_ids(answer: Answer) -> list[int]:
    """The ids of the persons a search found (`data.items[].item.id`)."""
    data = data_of(answer)
    items = data.get("items") if isinstance(data, dict) else None
    return [pid for item in items if isinstance(item, dict) and isinstance(item.get("item"), dict)
            and (pid := id_of(item["item"].get("id"), int)) is not None] if isinstance(items, list) else []


def added_since(value: Any, after: datetime) -> bool:
    """Whether a lead's `add_time` ("2026-11-26T09:30:00.000Z") is at or after `after`; unreadable: no."""
    try:
        added = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return added is not None and added.tzinfo is not None and added >= after


def newest_leads_added(ids: list[int], after: datetime, classify: Callable[[Answer], Outcome]) -> FindFurther | None:
    """`leads_added` over the newest persons only: a lead in doubt went to the newest person with its email (the
    one its attempt created, or reused), and a person who asked many times must not make the search endless
    (more requests than chain.MAX_FIND_REQUESTS end the lead failed, retry after retry)."""
    return leads_added(sorted(ids, reverse=True)[:NEWEST_PERSONS], after, classify)


def leads_added(ids: list[int], after: datetime, classify: Callable[[Answer], Outcome]) -> FindFurther | None:
    """Ask the first person's leads for one added since `after`, then the next person's; None when none has."""
    if not ids:
        return None

    def lead_added(answer: Answer) -> str | FindFurther | None:
        leads = data_of(answer)
        if answer.status != 200 or not isinstance(leads, list):
            raise search_failed(classify(answer), answer, "Pipedrive")
        found = [lead["id"] for lead in leads if isinstance(lead, dict) and id_of(lead.get("id"), str)
                 and added_since(lead.get("add_time"), after)]
        return found[0] if found else leads_added(ids[1:], after, classify)

    return FindFurther(CustomerRequest(path=LEADS_PATH, method="GET", params={"person_id": str(ids[0])}), lead_added)


def capped(body: Any) -> bool:
    """Whether a 403 says the account reached a limit for an entity (its state, not our access): Pipedrive's
    documented body carries a `code` such as "feature_capping_deals_limit"."""
    code = body.get("code") if isinstance(body, dict) else None
    return isinstance(code, str) and code.startswith("feature_capping")
