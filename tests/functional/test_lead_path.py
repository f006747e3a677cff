"""How many of our modules one lead goes through, from `app.py` to the customer and back: the path a newcomer
follows. One lead is sent through the app (chalice's test client) to the Salesforce sandbox, a real HTTP server,
while a profiler records each entry into a module of `dispatcher/` from another of ours
(`tests/support/module_path.py`). The second lead of the plug is measured: the first one also builds the plug and
fetches the token, once per container.

The bounds are the path as it is, so that it never grows unnoticed; run with `-s` to print it (module, entries,
and every hop in order). The issue's aim is at most 12 modules, each entered once or twice: not reached (see the
module map in docs/development.md for which modules a lead enters).
"""

from __future__ import annotations

import pytest

from tests.conftest import salesforce_env
from tests.support.leads import make_lead
from tests.support.module_path import LeadPath, recording

# (modules, entries in all, entries of the most entered module), measured. Before the core became values
# (issue 21): (21, 72, 10) without a ledger, (25, 97, 16) with one.
WITHOUT_LEDGER = (20, 49, 7)
WITH_LEDGER = (24, 75, 12)
# The core every lead goes through, whatever the customer
CORE = {"app.py", "delivery.py", "contract.py", "machine.py", "privacy.py", "transport.py", "reasons.py",
        "metrics.py", "chain.py"}


def _one_lead(plug_for, environment) -> LeadPath:
    plug = plug_for(environment)
    assert plug.post(make_lead())[0] == 201  # builds the plug, fetches the token
    with recording() as path:
        status, envelope = plug.post(make_lead())
    assert (status, envelope["customer_lead_id"] is not None) == (201, True)
    print(path.table())
    return path


@pytest.mark.parametrize(("ledger", "bounds"), [
    pytest.param(False, WITHOUT_LEDGER, id="no-ledger"),
    pytest.param(True, WITH_LEDGER, id="sqlite-ledger"),
])
def test_one_lead_goes_through_a_bounded_path(plug_for, salesforce, tmp_path, ledger, bounds):
    extra = {"LEDGER": f"sqlite:{tmp_path / 'ledger.sqlite3'}"} if ledger else {}
    path = _one_lead(plug_for, salesforce_env(salesforce.base_url, **extra))
    entries = path.entries
    assert path.hops[0] == ("platform", "app.py") and path.hops[1] == ("app.py", "delivery.py")
    assert CORE <= set(entries)
    assert len(entries) <= bounds[0] and len(path.hops) <= bounds[1] and max(entries.values()) <= bounds[2], \
        path.table()
    assert entries["delivery.py"] == 1, "delivery.py is the path's spine: entered from app.py only"
    assert "ledger/store.py" in entries if ledger else "ledger/store.py" not in entries
