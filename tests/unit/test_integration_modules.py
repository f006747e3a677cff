"""Integrations are found by their modules and stay small (pure: files and imports, no socket).

Every module of dispatcher/integrations/ that defines `from_env` serves the CUSTOMER of its name, and its
integration says so (`name`, the stable id the ledger, the health and the metrics know it by); every customer's
module is at most 150 lines, its helpers (a search, an error table) in modules of their own. The webhook engine
(webhook*.py) is not a customer's module: it serves every customer described by a file in customers/.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.integrations import MODULES, build_integration, integration_names
from dispatcher.integrations.base import Finder

MAX_LINES = 150
INTEGRATIONS = Path(importlib.import_module("dispatcher.integrations").__file__).parent
CUSTOMER_MODULES = [name for name in integration_names() if name != "webhook"]


@pytest.mark.parametrize("name", CUSTOMER_MODULES)
def test_a_customers_module_is_at_most_150_lines(name):
    lines = len((INTEGRATIONS / f"{name}.py").read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name}.py has {lines} lines: move a part (its search, its error table) out"


def test_every_module_defining_from_env_is_a_customer_and_only_those():
    assert {"dynamics", "hubspot", "pipedrive", "salesforce", "webhook", "zoho"} <= set(integration_names())
    assert not {"auth", "base", "catalog", "pipedrive_search", "zoho_search"} & set(integration_names())
    assert set(integration_names()) <= set(MODULES)


@pytest.mark.parametrize(("name", "finds"), [("dynamics", True), ("pipedrive", True), ("salesforce", True),
                                             ("zoho", True)])
def test_an_integration_that_can_look_leads_up_is_a_finder(name, finds):
    module = importlib.import_module(MODULES[name])
    cls = next(value for value in vars(module).values()
               if isinstance(value, type) and getattr(value, "name", "") == name)
    assert issubclass(cls, Finder) is finds


@pytest.mark.parametrize("value", ["auth", "catalog", "pipedrive_search", "nosuchcrm", ""])
def test_a_customer_no_module_serves_is_refused_naming_those_that_do(value):
    # every customer served, whatever its name sorts between (a test that listed them broke at each new CRM)
    served = ", ".join(integration_names())
    with pytest.raises(ConfigurationError, match=f"^CUSTOMER must be one of {re.escape(served)}, not "):
        build_integration({"CUSTOMER": value})
