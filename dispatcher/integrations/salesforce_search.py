"""Salesforce's look-up of a lead in doubt (sent, no answer), a part of `salesforce.py` kept apart so that each module
stays short; `Salesforce` inherits it. A SOQL query through the REST API finds the Lead whose
SALESFORCE_LEAD_ID_FIELD holds our lead id, else the first Lead with this email created since the claim of the
attempt in doubt; a DUPLICATES_DETECTED names the Lead it matched, and its CreatedDate says whether our attempt in
doubt created it (`delivered_earlier`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatcher.contract import Lead
from dispatcher.integrations.base import CustomerRequest, search_failed
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer

FIND_CLOCK_SKEW = timedelta(seconds=1)  # Salesforce's clock against ours: the window starts at the claim


def errors_of(data: Any) -> list[dict[str, Any]]:
    """Salesforce's error array ({"errorCode", "message", "fields"} items), [] for any other body."""
    if isinstance(data, list) and data and all(isinstance(item, dict) and "errorCode" in item for item in data):
        return data
    return []


def _soql_string(value: str) -> str:
    """A value inside a SOQL string literal: backslashes and quotes escaped, as Salesforce documents."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


class SalesforceSearch:
    """`find_request`, `found` and the in-doubt duplicate's check of the Salesforce integration."""

    lead_path: str
    query_path: str
    lead_id_field: str
    classify: Callable[[Answer], Outcome]

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest:
        """A SOQL query through the REST API: the Lead whose SALESFORCE_LEAD_ID_FIELD holds this lead's id (this
        lead, never the person's other ones), else the first Lead with this email created since the claim of the
        attempt in doubt (`since`, less a clock skew of seconds)."""
        if self.lead_id_field:
            soql = f"SELECT Id FROM Lead WHERE {self.lead_id_field} = '{_soql_string(lead['id'])}' LIMIT 1"
            return CustomerRequest(path=self.query_path, method="GET", params={"q": soql})
        after = (since - FIND_CLOCK_SKEW).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        soql = (f"SELECT Id FROM Lead WHERE Email = '{_soql_string(lead['email'])}' AND CreatedDate >= {after} "
                "ORDER BY CreatedDate ASC LIMIT 1")
        return CustomerRequest(path=self.query_path, method="GET", params={"q": soql})

    def found(self, answer: Answer, since: datetime) -> str | None:
        """The Lead's Id in a query's answer (the query itself asks for leads created since `since`), None when
        it holds no record; LeadEnded when the query failed."""
        data = answer.json()
        records = data.get("records") if isinstance(data, dict) else None
        if answer.status == 200 and isinstance(records, list):
            ids = [record["Id"] for record in records if isinstance(record, dict)
                   and isinstance(record.get("Id"), str) and record["Id"]]
            return ids[0] if ids else None
        raise search_failed(self.classify(answer), answer, "Salesforce")

    def existing_id(self, answer: Answer) -> str | None:
        """The Lead a DUPLICATES_DETECTED matched (`duplicateResult.matchResults[].matchRecords[].record.Id`),
        when the org's duplicate rule reports it."""
        for error in errors_of(answer.json()):
            result = error.get("duplicateResult") if error.get("errorCode") == "DUPLICATES_DETECTED" else None
            matches = result.get("matchResults") if isinstance(result, dict) else None
            for match in matches if isinstance(matches, list) else []:
                records = match.get("matchRecords") if isinstance(match, dict) else None
                for item in records if isinstance(records, list) else []:
                    record = item.get("record") if isinstance(item, dict) else None
                    found = record.get("Id") if isinstance(record, dict) else None
                    if isinstance(found, str) and found:
                        return found
        return None

    def created_request(self, lead_id: str | int) -> CustomerRequest:
        """The Lead a duplicate named, with its CreatedDate."""
        return CustomerRequest(path=f"{self.lead_path}{lead_id}", method="GET", params={"fields": "CreatedDate"})

    def created_at(self, answer: Answer) -> datetime | None:
        """The Lead's CreatedDate ("2026-11-26T10:00:00.000+0000"); None when unreadable."""
        data = answer.json() if answer.status == 200 else None
        value = data.get("CreatedDate") if isinstance(data, dict) else None
        try:
            created = datetime.fromisoformat(value) if isinstance(value, str) else None
        except ValueError:
            return None
        return created if created is not None and created.tzinfo is not None else None
