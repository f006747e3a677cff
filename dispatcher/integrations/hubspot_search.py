"""HubSpot's look-up of a lead in doubt (sent, no answer), a part of `hubspot.py` kept apart so that each module stays
short; `HubSpot` inherits it.

HubSpot's CRM search, `POST /crm/v3/objects/contacts/search` with one filter group: our lead id in the property
HUBSPOT_LEAD_ID_PROPERTY names (a single-line text property the portal has, written with every contact: it matches
this lead, never the person's other leads), else the email with `createdate` GTE the attempt in doubt's claim.
HubSpot's search index may lag a new contact by seconds: a contact it misses is then created again and answered 409
naming it, and `created_at` (`GET /crm/v3/objects/contacts/{id}?properties=createdate`) tells whether our attempt in
doubt created it (`delivered_earlier`) or it was there before (a true duplicate).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from dispatcher.contract import Lead
from dispatcher.integrations.base import CustomerRequest, search_failed
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer

CONTACTS_PATH = "/crm/v3/objects/contacts"
SEARCH_PATH = CONTACTS_PATH + "/search"
FIND_CLOCK_SKEW = timedelta(seconds=1)  # HubSpot's clock against ours: the window starts at the claim, not before


class HubSpotSearch:
    """`find_request`, `found` and the in-doubt duplicate's check of the HubSpot integration."""

    lead_id_property: str
    classify: Callable[[Answer], Outcome]

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest:
        """HubSpot's search for the contact of this lead: by our lead id where the portal keeps it, else by
        email among the contacts created since the attempt in doubt."""
        if self.lead_id_property:
            filters = [{"propertyName": self.lead_id_property, "operator": "EQ", "value": lead["id"]}]
        else:
            after = int((since - FIND_CLOCK_SKEW).timestamp() * 1000)
            filters = [{"propertyName": "email", "operator": "EQ", "value": lead["email"]},
                       {"propertyName": "createdate", "operator": "GTE", "value": str(after)}]
        return CustomerRequest(path=SEARCH_PATH, json_body={
            "filterGroups": [{"filters": filters}], "properties": ["createdate"], "limit": 1,
            "sorts": [{"propertyName": "createdate", "direction": "ASCENDING"}]})

    def found(self, answer: Answer, since: datetime) -> str | None:
        """The contact's id in a search's answer (200 {"total", "results": [{"id", ...}]}), None when none;
        LeadEnded when the search failed."""
        data = answer.json()
        results = data.get("results") if isinstance(data, dict) else None
        if answer.status == 200 and isinstance(results, list):
            ids = [str(item["id"]) for item in results if isinstance(item, dict)
                   and isinstance(item.get("id"), (str, int)) and not isinstance(item["id"], bool) and item["id"] != ""]
            return ids[0] if ids else None
        raise search_failed(self.classify(answer), answer, "HubSpot")

    def created_request(self, contact_id: str | int) -> CustomerRequest:
        """The contact a 409 named, with its creation date."""
        return CustomerRequest(path=f"{CONTACTS_PATH}/{contact_id}", method="GET",
                               params={"properties": "createdate"})

    def created_at(self, answer: Answer) -> datetime | None:
        """When HubSpot created the contact (`properties.createdate`, else `createdAt`); None when unreadable."""
        data = answer.json() if answer.status == 200 else None
        properties = data.get("properties") if isinstance(data, dict) else None
        for value in (properties.get("createdate") if isinstance(properties, dict) else None,
                      data.get("createdAt") if isinstance(data, dict) else None):
            if isinstance(value, str):
                try:
                    created = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    continue
                return created if created.tzinfo is not None else created.replace(tzinfo=UTC)
        return None
