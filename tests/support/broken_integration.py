"""An integration with a bug in its translation: the honest way to reach failed/internal_error (500).

Registered by the tests under CUSTOMER=broken; its exception message carries the lead's email, as a
careless bug would, so the tests can prove the Rollbar item masks it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.integrations.salesforce import from_env as salesforce_from_env


class BrokenTranslation:
    name = "broken"
    required_fields: tuple[str, ...] = ()

    def __init__(self, environ: Mapping[str, str]) -> None:
        self._salesforce = salesforce_from_env(environ)
        self.auth = self._salesforce.auth
        self.classify = self._salesforce.classify

    def translate(self, lead: dict[str, Any]) -> Any:
        raise KeyError(f"no mapping for {lead['email']} ({lead['first_name']} {lead['last_name']})")


def from_env(environ: Mapping[str, str]) -> BrokenTranslation:
    return BrokenTranslation(environ)
