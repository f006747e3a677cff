"""How many of our modules one lead goes through, from `app.py` to the customer and back: the path a newcomer
follows. One lead is sent through the app (chalice's test client) to the Salesforce sandbox, a real HTTP server,
while a profiler records each entry into a module of `dispatcher/` from another of ours
(`tests/support/module_path.py`). The second lead of the plug is measured: the first one also builds the plug and
fetches the token, once per container.

The bounds are the path as it is, so that it never grows unnoticed; run with `-s` to print it (module, entries,
and every hop in order). The module map in docs/development.md says, for each module, how many times this lead
enters it: the last test checks that column against the measure, so the map cannot drift from the code.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import salesforce_env
from tests.support.leads import make_lead
from tests.support.module_path import LeadPath, recording

# (modules, entries in all, entries of the most entered module), measured. Before the core became values
# (issue 21): (21, 72, 10) without a ledger, (25, 97, 16) with one; before the modules that were one job split in
# two were merged (outcome and envelopes into reasons, crm into base, the exchange into chain, translog into
# machine, answer into transport): (20, 49, 7) and (24, 75, 12).
WITHOUT_LEDGER = (15, 42, 7)
WITH_LEDGER = (19, 68, 12)
# The core every lead goes through, whatever the customer
CORE = {"app.py", "delivery.py", "contract.py", "machine.py", "privacy.py", "transport.py", "reasons.py",
        "metrics.py", "chain.py"}
MAP = Path(__file__).resolve().parents[2] / "docs" / "development.md"
_SECTION = re.compile(r"<!-- section:modules -->\n(.*?)<!-- /section:modules -->", re.DOTALL)


def _one_lead(plug_for, environment) -> LeadPath:
    plug = plug_for(environment)
    assert plug.post(make_lead())[0] == 201  # builds the plug, fetches the token
    with recording() as path:
        status, envelope = plug.post(make_lead())
    assert (status, envelope["customer_lead_id"] is not None) == (201, True)
    print(path.table())
    return path


def _ledger_env(tmp_path: Path) -> dict[str, str]:
    return {"LEDGER": f"sqlite:{tmp_path / 'ledger.sqlite3'}"}


@pytest.mark.parametrize(("ledger", "bounds"), [
    pytest.param(False, WITHOUT_LEDGER, id="no-ledger"),
    pytest.param(True, WITH_LEDGER, id="sqlite-ledger"),
])
def test_one_lead_goes_through_a_bounded_path(plug_for, salesforce, tmp_path, ledger, bounds):
    extra = _ledger_env(tmp_path) if ledger else {}
    path = _one_lead(plug_for, salesforce_env(salesforce.base_url, **extra))
    entries = path.entries
    assert path.hops[0] == ("platform", "app.py") and path.hops[1] == ("app.py", "delivery.py")
    assert CORE <= set(entries)
    assert len(entries) <= bounds[0] and len(path.hops) <= bounds[1] and max(entries.values()) <= bounds[2], \
        path.table()
    assert entries["delivery.py"] == 1, "delivery.py is the path's spine: entered from app.py only"
    assert "ledger/store.py" in entries if ledger else "ledger/store.py" not in entries


def _column_in_map() -> dict[str, str]:
    """The module map's "one lead" cell of each module of the plug (`delivery.py`, `ledger/store.py`, `app.py`)."""
    section = _SECTION.search(MAP.read_text(encoding="utf-8"))
    assert section is not None
    cells = {}
    for row in section[1].splitlines():
        columns = [cell.strip() for cell in row.split("|")]
        names = re.findall(r"`([^`]+)`", columns[1]) if len(columns) > 3 else []
        if len(names) == 1 and (names[0] == "app.py" or names[0].startswith("dispatcher/")):
            cells[names[0].removeprefix("dispatcher/")] = columns[3]
    return cells


def _cell(without: int, with_ledger: int) -> str:
    """`2`: entered twice, with a ledger or without; `6 (7)`: 6 times without a ledger, 7 with the SQLite ledger;
    `-`: not on the path."""
    if without == with_ledger:
        return str(without) if without else "-"
    return f"{without or '-'} ({with_ledger})"


def test_the_module_map_says_how_many_times_one_lead_enters_each_module(plug_for, salesforce, tmp_path):
    without = _one_lead(plug_for, salesforce_env(salesforce.base_url)).entries
    with_ledger = _one_lead(plug_for, salesforce_env(salesforce.base_url, **_ledger_env(tmp_path))).entries
    documented = _column_in_map()
    assert set(without) | set(with_ledger) <= set(documented), "a module on the path is missing from the map"
    measured = {module: _cell(without.get(module, 0), with_ledger.get(module, 0)) for module in documented}
    differ = {module: f"map says {documented[module]!r}, measured {cell!r}" for module, cell in measured.items()
              if documented[module] != cell}
    assert not differ, f"update the 'one lead' column of docs/development.md's module map: {differ}"
    assert Counter(measured.values())["-"] < len(measured), "the measure found no module at all"
