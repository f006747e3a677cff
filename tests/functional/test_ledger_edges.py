"""The ledger at its edges (docs/never-twice.md), on SQLite and on DynamoDB through moto's
server behind a real HTTP proxy that throttles, hangs, loses answers and counts calls as DynamoDB would
(tests/support/dynamodb.py): settles that land, a store that never makes an answer late, a claim whose answer
was lost, compare-and-sets that keep failing, rows of another shape, a bounded SQLite file, the calls a lead
costs.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dispatcher.deadline import Deadline
from dispatcher.errors import LeadEnded
from dispatcher.health import Health
from dispatcher.ledger import Claim, Ledger, Replay, Store
from dispatcher.ledger import sqlite as sqlite_module
from dispatcher.ledger.dynamodb import MAX_ATTEMPTS, DynamoStore
from dispatcher.ledger.ledger import MAX_CONFLICTS
from dispatcher.ledger.pending import PendingSettles
from dispatcher.ledger.sqlite import SqliteStore
from dispatcher.privacy import Masker
from dispatcher.reasons import Outcome, Reason
from tests.support.dynamodb import (
    FAKE_CREDENTIALS,
    REGION,
    DynamoProxy,
    create_ledger_table,
    emulator_client,
)
from tests.support.leads import make_lead

ACCEPTED = Outcome.of(Reason.CREATED, customer_lead_id="00Q1")


def dynamo_store(emulator: str, proxy: DynamoProxy) -> DynamoStore:
    """The production store (its own clients, timeouts and retries from the deadline), through the proxy."""
    table = f"edges-{time.monotonic_ns()}"
    create_ledger_table(emulator_client(emulator), table)
    return DynamoStore(table, endpoint_url=proxy.endpoint, region_name=REGION,
                       aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                       aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if request.param == "sqlite":
        return SqliteStore(tmp_path / "ledger.sqlite3")
    return dynamo_store(request.getfixturevalue("emulator"), request.getfixturevalue("proxy"))


def deadline_in(seconds: float) -> Deadline:
    now = time.monotonic()
    return Deadline(customer_at=now + seconds, answer_at=now + seconds + 0.75)


def envelope_for(lead: dict[str, Any]) -> dict[str, Any]:
    return {"request_details": {}, "customer_lead_id": "00Q1",
            "response_details": {"http_status_code": 201, "id": "00Q1", "echo": lead["email"]}}


def wait_until(condition: Any, limit_s: float = 30.0) -> None:
    """Poll until `condition()` (the worker's retries take seconds); fail after `limit_s`."""
    give_up = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < give_up, "never happened"
        time.sleep(0.1)


# --- settles that land ----------------------------------------------------------------------------------------

def test_a_throttled_settle_is_retried_within_the_answer_and_lands(emulator, proxy):
    ledger, lead = Ledger(dynamo_store(emulator, proxy), "acme", pending=PendingSettles()), make_lead()
    claim = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(claim, Claim)
    proxy.throttle(3)
    assert ledger.settle(claim, ACCEPTED, 201, envelope_for(lead), sent=True,
                         masker=Masker(lead), within_s=2.0) is True
    proxy.calm()
    assert isinstance(ledger.begin(lead, "trace-2", deadline_in(2)), Replay)


@pytest.mark.parametrize("struggle", ["sqlite-locked", "dynamodb-throttled"])
def test_a_settle_that_fails_for_the_whole_answer_lands_after_it_and_is_never_a_resend(
        emulator, proxy, tmp_path, struggle):
    if struggle == "sqlite-locked":
        path = tmp_path / "ledger.sqlite3"
        store: Store = SqliteStore(path)
    else:
        store = dynamo_store(emulator, proxy)
    pending = PendingSettles()
    ledger, lead = Ledger(store, "acme", pending=pending), make_lead()
    claim = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(claim, Claim)
    blocker = None
    if struggle == "sqlite-locked":
        blocker = sqlite3.connect(path, isolation_level=None)
        blocker.execute("BEGIN IMMEDIATE")  # another process holds the file's write lock
    else:
        proxy.throttle(-1)  # DynamoDB throttles every call
    assert ledger.settle(claim, ACCEPTED, 201, envelope_for(lead), sent=True,
                         masker=Masker(lead), within_s=0.5) is False
    assert len(pending) == 1
    retry = ledger.begin(lead, "trace-2", deadline_in(2))  # the platform retries at once, same container
    assert isinstance(retry, Replay) and retry.envelope["customer_lead_id"] == "00Q1"
    if blocker is not None:
        blocker.execute("COMMIT")
        blocker.close()
    proxy.calm()
    wait_until(lambda: len(pending) == 0)
    elsewhere = Ledger(store, "acme", pending=PendingSettles())  # another container: the store alone
    replay = elsewhere.begin(lead, "trace-3", deadline_in(2))
    assert isinstance(replay, Replay) and replay.trace_id == "trace-1"


def test_sqlite_locked_for_less_than_the_answer_is_waited_for(tmp_path):
    path = tmp_path / "ledger.sqlite3"
    ledger, lead = Ledger(SqliteStore(path), "acme", pending=PendingSettles()), make_lead()
    claim = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(claim, Claim)
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    blocker.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: blocker.execute("COMMIT"))
    release.start()
    assert ledger.settle(claim, ACCEPTED, 201, envelope_for(lead), sent=True,
                         masker=Masker(lead), within_s=5.0) is True
    release.join()
    blocker.close()


# --- never late, never without end ------------------------------------------------------------------------------

def test_a_hanging_dynamodb_is_given_up_within_the_lead_deadline(emulator, proxy):
    ledger = Ledger(dynamo_store(emulator, proxy), "acme", pending=PendingSettles())
    proxy.hang()
    with pytest.raises(LeadEnded) as ended:
        ledger.begin(make_lead(), "trace-1", deadline_in(1.0))
    assert ended.value.outcome.reason == "ledger_unavailable"
    assert proxy.hanging >= 1  # answered while DynamoDB still had not: bounded by the deadline, not by DynamoDB
    assert sum(proxy.calls.values()) <= MAX_ATTEMPTS


def test_a_claim_whose_answer_was_lost_is_recognised_as_our_own(emulator, proxy):
    ledger, lead = Ledger(dynamo_store(emulator, proxy), "acme", pending=PendingSettles()), make_lead()
    proxy.lose_answer("PutItem")  # the claim lands; its answer comes after the client's read timeout
    begun = ledger.begin(lead, "trace-1", deadline_in(2.5))
    assert isinstance(begun, Claim) and begun.record["trace_id"] == "trace-1"  # not in_progress behind itself
    assert proxy.calls["PutItem"] == 2
    ledger.settle(begun, ACCEPTED, 201, envelope_for(lead), sent=True, masker=Masker(lead))
    assert isinstance(ledger.begin(lead, "trace-2", deadline_in(2)), Replay)


def test_a_conditional_write_that_keeps_failing_ends_in_progress(emulator, proxy):
    ledger, lead = Ledger(dynamo_store(emulator, proxy), "acme", pending=PendingSettles()), make_lead()
    expired_claim = {"phase": "in_flight", "fingerprint": "other-writer", "trace_id": "t", "at": "2026-01-01T00:00:00",
                     "claim_until": 1.0, "previous_attempt": None}
    proxy.fail_conditions({"pk": {"S": ledger.key_of(lead["id"])}, "version": {"N": "7"},
                           "record": {"S": json.dumps(expired_claim)},
                           "expires_at": {"N": str(int(time.time()) - 5)}})  # another writer always wins
    with pytest.raises(LeadEnded) as ended:
        ledger.begin(lead, "trace-1", deadline_in(3))
    assert ended.value.outcome.reason == "in_progress"
    assert proxy.calls["PutItem"] <= 2 * (MAX_CONFLICTS + 1)  # a claim and a create a round, a bounded number


# --- rows of another shape ------------------------------------------------------------------------------------

def _write_bad_row(store: Store, key: str, shape: str, emulator: str | None) -> None:
    if isinstance(store, SqliteStore):
        store.get("warm-up")  # the file and its table
        with sqlite3.connect(store.path) as connection:
            version, record = ("x", "{}") if shape == "no-version" else (1, "not json {" if shape == "not-json"
                                                                          else "[1, 2]")
            connection.execute("INSERT INTO ledger VALUES (?, ?, ?, ?)", (key, version, record, int(time.time()) + 60))
        return
    assert isinstance(store, DynamoStore) and emulator is not None
    item: dict[str, Any] = {"pk": {"S": key}, "expires_at": {"N": str(int(time.time()) + 60)}}
    if shape != "no-version":
        item["version"] = {"N": "1"}
    item["record"] = {"S": "not json {" if shape == "not-json" else "[1, 2]" if shape == "a-list" else "{}"}
    emulator_client(emulator).put_item(TableName=store.table, Item=item)


@pytest.mark.parametrize("shape", ["not-json", "no-version", "a-list"])
def test_a_bad_row_puts_its_one_lead_in_doubt_never_a_500(store, shape, request, caplog):
    emulator = request.getfixturevalue("emulator") if isinstance(store, DynamoStore) else None
    ledger, lead, other = Ledger(store, "acme", pending=PendingSettles()), make_lead(), make_lead()
    _write_bad_row(store, ledger.key_of(lead["id"]), shape, emulator)
    begun = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(begun, Claim) and begun.previous_attempt is not None
    assert begun.previous_attempt["reason"] == "unreadable_record"  # in doubt: the customer is asked first
    assert "cannot be read" in caplog.text
    ledger.settle(begun, ACCEPTED, 201, envelope_for(lead), sent=True, masker=Masker(lead))
    assert isinstance(ledger.begin(lead, "trace-2", deadline_in(2)), Replay)  # the row is whole again
    assert isinstance(ledger.begin(other, "trace-3", deadline_in(2)), Claim)  # another lead: untouched


@pytest.mark.parametrize("shape", ["not-json", "no-version"])
def test_a_bad_health_row_lets_leads_through_and_is_replaced(store, shape, request):
    emulator = request.getfixturevalue("emulator") if isinstance(store, DynamoStore) else None
    health = Health(store, "acme", failures=2, pause_s=60)
    _write_bad_row(store, health.key, shape, emulator)
    assert health.admit(2.0) is False  # delivered, not paused, not a crash
    health.record(Reason.CUSTOMER_TIMEOUT, answered=False, probe=False)
    assert health.record(Reason.CUSTOMER_TIMEOUT, answered=False, probe=False) is not None  # counted: paused
    with pytest.raises(LeadEnded):
        Health(store, "acme", failures=2, pause_s=60).admit(2.0)  # shared: another container sees the pause


# --- replays keep the customer's id -------------------------------------------------------------------------------

def test_a_replay_gives_back_the_customers_id_exactly_even_when_it_holds_the_persons_data(store):
    ledger, lead = Ledger(store, "acme", pending=PendingSettles()), make_lead()
    claim = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(claim, Claim)
    customer_id = f"{lead['last_name']}-{lead['email']}"  # a customer whose id is made of the person's data
    envelope = {"customer_lead_id": customer_id,
                "response_details": {"http_status_code": 201, "id": customer_id}}
    ledger.settle(claim, Outcome.of(Reason.CREATED, customer_lead_id=customer_id), 201, envelope, sent=True,
                  masker=Masker(lead))
    replay = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(replay, Replay) and replay.envelope["customer_lead_id"] == customer_id
    assert lead["email"] not in json.dumps(replay.envelope["response_details"])  # masked everywhere else


# --- a bounded SQLite file ------------------------------------------------------------------------------------------

def test_expired_rows_are_deleted_so_a_long_running_local_plug_keeps_a_bounded_file(tmp_path, monkeypatch):
    monkeypatch.setattr(sqlite_module, "CLEAN_EVERY", 10)
    store = SqliteStore(tmp_path / "ledger.sqlite3")
    ledger = Ledger(store, "acme", ttl_s=1, pending=PendingSettles())
    for number in range(10):
        claim = ledger.begin(make_lead(), f"trace-{number}", deadline_in(0))
        assert isinstance(claim, Claim)
    time.sleep(2.1)  # every row of the first ten has expired
    for number in range(10):
        assert isinstance(ledger.begin(make_lead(), f"trace-b{number}", deadline_in(0)), Claim)
    with sqlite3.connect(store.path) as connection:
        rows = connection.execute("SELECT count(*) FROM ledger").fetchone()[0]
    assert rows <= 10  # the expired ten were deleted; the file does not grow with every lead ever seen
