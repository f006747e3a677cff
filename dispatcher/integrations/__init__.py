"""The registry of customer integrations: `CUSTOMER` names one, and only that module is imported.

Adding a code integration: write `dispatcher/integrations/<name>.py` with a `from_env(environ)` that returns
an object with `name`, `required_fields`, `auth`, `translate` and `classify` (see `base.py`), then add it here.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.base import Integration

MODULES = {
    "hubspot": "dispatcher.integrations.hubspot",
    "salesforce": "dispatcher.integrations.salesforce",
    "webhook": "dispatcher.integrations.webhook",
    "zoho": "dispatcher.integrations.zoho",
}


def build_integration(environ: Mapping[str, str]) -> Integration:
    """The integration this deployment serves; ConfigurationError names what is wrong."""
    name = (environ.get("CUSTOMER") or "").strip().lower()
    if name not in MODULES:
        raise ConfigurationError(f"CUSTOMER must be one of {', '.join(sorted(MODULES))}, not {name or 'unset'!r}")
    return importlib.import_module(MODULES[name]).from_env(environ)


__all__ = ["ConfigurationError", "Integration", "build_integration"]
