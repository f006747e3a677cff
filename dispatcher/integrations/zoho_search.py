"""Zoho CRM's search for a lead in doubt (sent, no decisive answer): a part of `zoho.py` kept apart so that each module
stays short; `Zoho` inherits it. `GET /crm/{version}/Leads/search?email=` answers 200 {"data": [records]} or 204
when nothing matches; a record created since the claim of the attempt in doubt (less a second for the clocks) is
the lead. A re-delivery answered DUPLICATE_DATA names the record (`duplicate_record.id`), and `GET
/crm/{version}/Leads/{id}` its Created_Time: whether our attempt in doubt created it (`delivered_earlier`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from dispatcher.contract import Lead
from dispatcher.integrations.base import CustomerRequest, search_failed
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer

FIND_CLOCK_SKEW = timedelta(seconds=1)  # Zoho's clock against ours: the window starts at the claim, not before


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

    def existing_id(self, answer: Answer) -> str | int | None:
        """The record a DUPLICATE_DATA names (`details.duplicate_record.id`, nested errors included)."""
        data = answer.json()
        pending = list(data.get("data") or []) if isinstance(data, dict) and isinstance(data.get("data"), list) else []
        while pending:
            item = pending.pop(0)
            details = item.get("details") if isinstance(item, dict) else None
            if not isinstance(details, dict):
                continue
            nested = details.get("errors")
            pending.extend(nested if isinstance(nested, list) else [])
            record = details.get("duplicate_record") if item.get("code") == "DUPLICATE_DATA" else None
            found = record.get("id") if isinstance(record, dict) else None
            if isinstance(found, (str, int)) and not isinstance(found, bool) and str(found):
                return found
        return None

    def created_request(self, record_id: str | int) -> CustomerRequest:
        """The record a duplicate named, with its creation time (`GET /crm/{version}/Leads/{id}`)."""
        return CustomerRequest(path=f"{self.lead_path}/{record_id}", method="GET", params={"fields": "Created_Time"})

    def created_at(self, answer: Answer) -> datetime | None:
        """The record's Created_Time in a 200 {"data": [record]}; None when unreadable."""
        data = answer.json() if answer.status == 200 else None
        records = data.get("data") if isinstance(data, dict) else None
        value = records[0].get("Created_Time") if isinstance(records, list) and records \
            and isinstance(records[0], dict) else None
        try:
            created = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
        return created if created is not None and created.tzinfo is not None else None
