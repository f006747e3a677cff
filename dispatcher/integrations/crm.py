"""The lead as a CRM record: the standard fields every CRM has, each CRM naming them its own way.

An integration for a CRM (Salesforce, Zoho...) gives its field names for these concepts; the values, the
B2C company fallback, the salutation and the description are made here once. The same table, read the
other way, names a field the CRM says is missing in the platform's own terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.contract import Lead

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
