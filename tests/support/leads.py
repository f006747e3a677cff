"""Valid leads for tests: unique email and phone per call, so the sandbox's duplicate rule stays out of the way."""

from __future__ import annotations

import copy
import itertools
import os
from typing import Any

_counter = itertools.count(1)


def unique_suffix() -> str:
    return f"{os.getpid()}{next(_counter):05d}"


def make_lead(**overrides: Any) -> dict[str, Any]:
    """A complete valid B2C lead; keyword arguments replace top-level fields (None removes one)."""
    suffix = unique_suffix()
    lead: dict[str, Any] = {
        # The process id and the counter apart: the phone below is made of the same digits, and an id whose digits
        # were the phone's (a process id 6982 gives lead-698200001 and +33698200001) is masked in a report.
        "id": f"lead-{suffix[:-5]}x{suffix[-5:]}",
        "created_at": "2026-11-26T09:30:00Z",
        "first_name": "Élodie",
        "last_name": "Dupré-Lefèvre",
        "email": f"elodie.dupre.{suffix}@exemple.fr",
        "phone": f"+336{suffix[-8:].rjust(8, '0')}",
        "civility": "mrs",
        "address": {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"},
        "product": "solar_panels",
        "consent": {"given": True, "at": "2026-11-26T09:29:00Z", "text": "J'accepte d'être recontactée.",
                    "ip": "203.0.113.7"},
        "source": {"site": "panneaux-solaires.example", "campaign": "autumn", "utm_source": "google"},
        "comment": "Maison de 120 m², toit orienté sud.",
    }
    for key, value in overrides.items():
        if value is None:
            lead.pop(key, None)
        else:
            lead[key] = copy.deepcopy(value)
    return lead


# Ids the schema accepts that a careless log or parser would lose: each must stay traceable by scripts/trace.py.
TRACEABLE_IDS = {
    "tab": "lead\twith-a-tab",
    "line-break": "lead\nwith-a-line-break",
    "soft-hyphen": "lead\u00adsoft-hyphen",
    "zero-width-space": "lead\u200bzero-width-space",
    "quote-at-the-end": 'lead-ending-in-a-quote"',
    "backslash": "lead\\backslash",
}
