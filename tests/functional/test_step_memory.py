"""A chained lead's remembered steps (dispatcher/step_memory.py), the same tests on both stores: a SQLite file, and
DynamoDB through a real HTTP emulator (moto's server mode). What one attempt remembers, the platform's retry (a
new request, maybe in another container) recalls; another content, an expired item or another shape recalls
nothing; an unreachable store sends nothing."""

from __future__ import annotations

import json
import logging
import time

import pytest

from dispatcher.errors import LeadEnded
from dispatcher.ledger import Store
from dispatcher.ledger.dynamodb import DynamoStore
from dispatcher.ledger.sqlite import SqliteStore
from dispatcher.ledger.store import Item
from dispatcher.step_memory import StepMemory
from tests.support.dynamodb import emulator_client

TTL_S = 600


def memory(store: Store, lead_id: str = "lead-1", fingerprint: str = "f1", customer: str = "pipedrive",
           ttl_s: int = TTL_S) -> StepMemory:
    return StepMemory(store, customer, lead_id, fingerprint, ttl_s)


def test_what_an_attempt_remembers_the_retry_recalls(store):
    first = memory(store)
    assert first.recall() == {}
    first.remember("person", {"person_id": 42})
    first.remember("organization", {"org_id": 7})  # a second step adds to the first
    assert memory(store).recall() == {"person": {"person_id": 42}, "organization": {"org_id": 7}}


@pytest.mark.parametrize("other", [
    pytest.param({"fingerprint": "f2"}, id="same-id-other-content-starts-afresh"),
    pytest.param({"lead_id": "lead-2"}, id="another-lead"),
    pytest.param({"customer": "zoho"}, id="another-customer"),
])
def test_another_lead_or_content_recalls_nothing(store, other):
    memory(store).remember("person", {"person_id": 42})
    assert memory(store, **other).recall() == {}


def test_an_expired_memory_recalls_nothing(store):
    memory(store, ttl_s=0).remember("person", {"person_id": 42})
    assert memory(store).recall() == {}


def test_an_item_of_another_shape_recalls_nothing_never_a_crash(store):
    remembered = memory(store)
    store.put(Item(remembered.key, 1, {"fingerprint": "f1", "steps": ["not", "a", "map"]},
                   int(time.time()) + TTL_S), None)
    assert remembered.recall() == {}
    remembered.remember("person", {"person_id": 42})  # written over it, by its version
    assert memory(store).recall() == {"person": {"person_id": 42}}


def test_the_item_holds_ids_and_no_lead_id_in_clear(store):
    remembered = memory(store, lead_id="elodie.dupre@exemple.fr")
    remembered.remember("person", {"person_id": 42})
    stored = json.dumps(store.get(remembered.key).__dict__)  # type: ignore[union-attr]
    assert "elodie" not in stored and "42" in stored


def test_an_unreachable_store_sends_nothing_and_a_lost_write_is_logged(tmp_path, caplog):
    for unreachable in (SqliteStore(tmp_path / "no-such-folder" / "ledger.sqlite3"),
                        DynamoStore("steps", emulator_client("http://127.0.0.1:9"))):
        with pytest.raises(LeadEnded) as ended:
            memory(unreachable).recall()
        assert ended.value.outcome.reason == "ledger_unavailable"
        with caplog.at_level(logging.ERROR, logger="leadplug"):
            memory(unreachable).remember("person", {"person_id": 42})
        assert "step person not remembered" in caplog.text
