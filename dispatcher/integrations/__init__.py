"""The registry of customer integrations: `CUSTOMER` names a module of this package, and only that one is imported.

An integration is found by its module, never by a list to edit: `dispatcher/integrations/<name>.py` that defines
`from_env(environ)` serves `CUSTOMER=<name>`, returning an object with `name` (that same stable id),
`required_fields`, `auth`, `translate` and `classify`, and a `Finder`'s `find_request`/`found` where the
customer's API can look a lead up (see `base.py`). The package's other modules (`auth`, `base`, `crm`, a
customer's helpers) define no `from_env` and serve no customer.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Mapping

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.base import Integration

# name -> module, for every module of this package (listed, not imported). Tests add modules of their own here.
# The folder's `.py` files are the modules (the package ships its sources: pkgutil's finder walk, and its import,
# would be paid by every cold start for the same list).
MODULES = {entry.name[:-3]: f"{__name__}.{entry.name[:-3]}" for folder in __path__ for entry in os.scandir(folder)
           if entry.name.endswith(".py") and not entry.name.startswith("_") and "." not in entry.name[:-3]
           and entry.is_file()}


def integration_names() -> list[str]:
    """Every CUSTOMER value this code base serves (imports every module: for messages and checks, not per lead)."""
    return sorted(name for name, module in MODULES.items()
                  if callable(getattr(importlib.import_module(module), "from_env", None)))


def build_integration(environ: Mapping[str, str]) -> Integration:
    """The integration this deployment serves; ConfigurationError names what is wrong."""
    name = (environ.get("CUSTOMER") or "").strip().lower()
    from_env = getattr(importlib.import_module(MODULES[name]), "from_env", None) if name in MODULES else None
    if not callable(from_env):
        raise ConfigurationError(f"CUSTOMER must be one of {', '.join(integration_names())}, "
                                 f"not {name or 'unset'!r}")
    return from_env(environ)


__all__ = ["ConfigurationError", "Integration", "build_integration", "integration_names"]
