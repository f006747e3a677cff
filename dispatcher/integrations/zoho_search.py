"""Zoho CRM's search for a lead in doubt (SPEC section 8): a part of `zoho.py` kept apart so that each module
stays short; `Zoho` inherits it. `GET /crm/{version}/Leads/search?email=` answers 200 {"data": [records]} or 204
when nothing matches; a record created since the attempt in doubt is the lead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dispatcher.answer import Answer
from dispatcher.contract import Lead
from dispatcher.integrations.base import CustomerRequest, search_failed
from dispatcher.outcome import Outcome

FIND_CLOCK_SKEW = timedelta(minutes=5)  # our clock and Zoho's may differ: look a little earlier


def created_since(value: Any, after: datetime) -> bool:
    """Whether Zoho's Created_Time ("2026-11-26T10:00:00+01:00") is at or after `after`; unreadable: no."""
    try:
        created = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return created is not None and created.tzinfo is not None and created >= after


class ZohoSearch:
    """`find_request` and `found` of the Zoho integration (its `lead_path` and `classify` are the integration's)."""

    lead_path: str
    classify: Callable[[Answer], Outcome]

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest:
        """Zoho's search API by email (`GET /crm/{version}/Leads/search?email=`)."""
        return CustomerRequest(path=self.lead_path + "/search", method="GET", params={"email": lead["email"]})

    def found(self, answer: Answer, since: datetime) -> str | int | None:
        """The id of a record created since `since` (the search is by email only: an older record of the same
        person is not this lead); 204 (no content) means none; LeadEnded when the search failed."""
        if answer.status == 204:
            return None
        data = answer.json()
        records = data.get("data") if isinstance(data, dict) else None
        if answer.status == 200 and isinstance(records, list):
            after = since - FIND_CLOCK_SKEW
            ids = [record["id"] for record in records if isinstance(record, dict)
                   and isinstance(record.get("id"), (str, int)) and not isinstance(record["id"], bool)
                   and created_since(record.get("Created_Time"), after)]
            return ids[0] if ids else None
        raise search_failed(self.classify(answer), answer, "Zoho CRM")
