"""The delivery ledger's rules (docs/never-twice.md), the same tests on both stores: a SQLite file, and DynamoDB
through a real HTTP emulator (moto's server mode) that this module starts and stops.

Every row of what the ledger holds for an id (docs/never-twice.md), claims that race, a claim that expires, an
unreachable store, and the rule that nothing personal is stored.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest

from dispatcher.deadline import Deadline
from dispatcher.errors import LeadEnded
from dispatcher.ledger import Claim, Ledger, Replay
from dispatcher.ledger import ledger as ledger_module
from dispatcher.ledger.dynamodb import DynamoStore
from dispatcher.ledger.sqlite import SqliteStore
from dispatcher.ledger.store import Item
from dispatcher.privacy import Masker
from dispatcher.reasons import Outcome, Reason
from tests.support.dynamodb import emulator_client
from tests.support.leads import make_lead

TABLE = "lead-plug-ledger-test"


def deadline_in(seconds: float) -> Deadline:
    now = time.monotonic()
    return Deadline(customer_at=now + seconds, answer_at=now + seconds + 0.5)


ACCEPTED = Outcome.of(Reason.CREATED, customer_lead_id="00Q1")


def envelope_for(lead: dict[str, Any], status: int = 201) -> dict[str, Any]:
    """An envelope as the plug builds it, echoing the person's data as customers do."""
    return {"request_details": {"Email": lead["email"]}, "customer_lead_id": "00Q1",
            "response_details": {"http_status_code": status, "id": "00Q1", "echo": f"{lead['first_name']} "
                                                                                  f"<{lead['email']}>"}}


def deliver_once(ledger: Ledger, lead: dict[str, Any], outcome: Outcome = ACCEPTED, status: int = 201,
                 sent: bool = True) -> Claim:
    claim = ledger.begin(lead, "trace-first", deadline_in(2))
    assert isinstance(claim, Claim)
    ledger.settle(claim, outcome, status, envelope_for(lead, status), sent=sent, masker=Masker(lead))
    return claim


# --- the store's compare-and-set ----------------------------------------------------------------------------

def test_a_store_writes_only_over_the_version_it_read(store):
    item = Item("k", 1, {"a": 1}, int(time.time()) + 60)
    assert store.get("k") is None
    assert store.put(item, None) is True
    assert store.put(item, None) is False  # already there
    assert store.put(Item("k", 2, {"a": 2}, item.expires_at), expected_version=1) is True
    assert store.put(Item("k", 3, {"a": 3}, item.expires_at), expected_version=1) is False  # stale
    assert store.get("k") == Item("k", 2, {"a": 2}, item.expires_at)


# --- every row of what the ledger holds --------------------------------------------------------------------------

def test_nothing_held_claims_the_lead(store):
    begun = Ledger(store, "acme").begin(make_lead(), "trace-1", deadline_in(2))
    assert isinstance(begun, Claim) and begun.previous_attempt is None


def test_an_accepted_delivery_is_replayed_with_its_status_and_envelope(store):
    ledger, lead = Ledger(store, "acme"), make_lead()
    deliver_once(ledger, lead)
    replay = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(replay, Replay)
    assert (replay.status, replay.reason, replay.trace_id) == (201, "created", "trace-first")
    assert replay.envelope["customer_lead_id"] == "00Q1"
    assert "request_details" not in replay.envelope  # rebuilt by translating the lead again


def test_a_delivery_in_flight_is_waited_for_then_in_progress(store):
    ledger, lead = Ledger(store, "acme"), make_lead()
    assert isinstance(ledger.begin(lead, "trace-1", deadline_in(5)), Claim)
    started = time.monotonic()
    with pytest.raises(LeadEnded) as ended:
        ledger.begin(lead, "trace-2", deadline_in(0.6))
    assert ended.value.outcome.reason == "in_progress"
    assert time.monotonic() - started >= 0.4  # it waited for the other delivery


def test_a_delivery_in_flight_that_ends_accepted_while_waiting_is_replayed(store):
    ledger, lead = Ledger(store, "acme"), make_lead()
    claim = ledger.begin(lead, "trace-1", deadline_in(5))
    timer = threading.Timer(0.3, ledger.settle, (claim, ACCEPTED, 201, envelope_for(lead)),
                            {"sent": True, "masker": Masker(lead)})
    timer.start()
    begun = ledger.begin(lead, "trace-2", deadline_in(3))
    timer.join()
    assert isinstance(begun, Replay) and begun.trace_id == "trace-1"


@pytest.mark.parametrize("reason", [Reason.CUSTOMER_TIMEOUT, Reason.CUSTOMER_UNREACHABLE,
                                    Reason.BAD_CUSTOMER_RESPONSE, Reason.INTERNAL_ERROR])
def test_an_end_in_doubt_after_sending_claims_again_naming_the_previous_attempt(store, reason):
    ledger, lead = Ledger(store, "acme"), make_lead()
    deliver_once(ledger, lead, Outcome.of(reason), 502, sent=True)
    begun = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(begun, Claim)
    assert begun.previous_attempt is not None
    assert (begun.previous_attempt["trace_id"], begun.previous_attempt["reason"]) == ("trace-first", reason)


@pytest.mark.parametrize(("outcome", "sent"), [
    pytest.param(Outcome.refused("OUT_OF_AREA", "no"), True, id="refused"),
    pytest.param(Outcome.of(Reason.DUPLICATE), True, id="duplicate"),
    pytest.param(Outcome.of(Reason.UNAUTHORIZED), False, id="unauthorized"),
    pytest.param(Outcome.of(Reason.CUSTOMER_API_NOT_FOUND), True, id="not-found"),
    pytest.param(Outcome.of(Reason.CUSTOMER_UNREACHABLE), False, id="unreachable-before-sending"),
    pytest.param(Outcome.of(Reason.CUSTOMER_TIMEOUT), False, id="timeout-before-sending"),
    pytest.param(Outcome.of(Reason.CUSTOMER_ERROR), True, id="customer-5xx"),
])
def test_an_end_where_the_customer_does_not_hold_the_lead_delivers_again(store, outcome, sent):
    ledger, lead = Ledger(store, "acme"), make_lead()
    deliver_once(ledger, lead, outcome, 406, sent=sent)
    begun = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(begun, Claim) and begun.previous_attempt is None


def test_an_in_doubt_lead_whose_next_attempt_never_left_stays_in_doubt(store):
    ledger, lead = Ledger(store, "acme"), make_lead()
    deliver_once(ledger, lead, Outcome.of(Reason.CUSTOMER_TIMEOUT), 502, sent=True)
    second = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(second, Claim)
    ledger.settle(second, Outcome.of(Reason.CUSTOMER_UNREACHABLE), 502, {}, sent=False,
                  masker=Masker(lead))  # the find failed
    third = ledger.begin(lead, "trace-3", deadline_in(2))
    assert isinstance(third, Claim) and third.previous_attempt is not None
    assert third.previous_attempt["trace_id"] == "trace-first"


@pytest.mark.parametrize(("first", "reused"), [
    pytest.param((ACCEPTED, True), True, id="after-accepted"),
    pytest.param((Outcome.of(Reason.CUSTOMER_TIMEOUT), True), True, id="after-in-doubt"),
    pytest.param((Outcome.refused("OUT_OF_AREA", "no"), True), False, id="after-refused-it-is-fine"),
])
def test_the_same_id_with_other_content(store, first, reused):
    ledger, lead = Ledger(store, "acme"), make_lead()
    deliver_once(ledger, lead, first[0], 201, sent=first[1])
    other = {**lead, "comment": "another lead under the same id"}
    if reused:
        with pytest.raises(LeadEnded) as ended:
            ledger.begin(other, "trace-2", deadline_in(2))
        assert ended.value.outcome.reason == "lead_id_reused"
        assert ended.value.outcome.details["invalid_fields"] == ["id"]
    else:
        assert isinstance(ledger.begin(other, "trace-2", deadline_in(2)), Claim)


def test_a_claim_whose_request_died_expires_and_leaves_the_lead_in_doubt(store, monkeypatch):
    monkeypatch.setattr(ledger_module, "SETTLE_MARGIN_S", 0.0)  # the claim ends with its request's deadline
    ledger, lead = Ledger(store, "acme"), make_lead()
    assert isinstance(ledger.begin(lead, "trace-killed", deadline_in(0.0)), Claim)  # its deadline: now
    time.sleep(0.6)
    begun = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(begun, Claim)
    assert begun.previous_attempt is not None
    assert (begun.previous_attempt["trace_id"], begun.previous_attempt["reason"]) == ("trace-killed",
                                                                                       "claim_expired")


def test_an_expired_delivery_is_forgotten(store):
    ledger, lead = Ledger(store, "acme", ttl_s=60), make_lead()
    claim = deliver_once(ledger, lead)
    stale = store.get(claim.key)
    assert stale is not None
    store.put(Item(stale.key, stale.version + 1, stale.record, int(time.time()) - 1), stale.version)
    begun = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(begun, Claim) and begun.previous_attempt is None


def test_ten_requests_at_once_exactly_one_claims(store):
    ledger, lead = Ledger(store, "acme"), make_lead()
    results: list[Any] = []
    lock = threading.Lock()
    gate = threading.Barrier(10)

    def attempt(number: int) -> None:
        gate.wait()
        try:
            begun: Any = ledger.begin(lead, f"trace-{number}", deadline_in(1.0))
        except LeadEnded as ended:
            begun = ended.outcome.reason
        with lock:
            results.append(begun)

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(isinstance(result, Claim) for result in results) == 1
    assert results.count("in_progress") == 9


def test_an_unreachable_store_sends_nothing(tmp_path):
    for store in (SqliteStore(tmp_path / "no-such-folder" / "ledger.sqlite3"),
                  DynamoStore(TABLE, emulator_client("http://127.0.0.1:9"))):
        with pytest.raises(LeadEnded) as ended:
            Ledger(store, "acme").begin(make_lead(), "trace-1", deadline_in(2))
        assert ended.value.outcome.reason == "ledger_unavailable"


def test_nothing_personal_is_stored(store):
    ledger, lead = Ledger(store, "acme"), make_lead(id="elodie.dupre@exemple.fr")
    claim = deliver_once(ledger, lead)  # its envelope masked with the lead's own masker, as the plug does
    stored = json.dumps(store.get(claim.key).__dict__, ensure_ascii=False)  # type: ignore[union-attr]
    for value in (lead["email"], lead["first_name"], lead["last_name"], lead["phone"], lead["id"],
                  lead["address"]["street"], lead["consent"]["ip"]):
        assert value not in stored, value


@pytest.mark.parametrize("record", [
    pytest.param({"holds": "yes"}, id="no-phase"),
    pytest.param({"phase": "settled", "fingerprint": "x", "trace_id": "t", "at": "2026-11-26T10:00:00+00:00"},
                 id="settled-without-holds"),
    pytest.param("not an object", id="not-an-object"),
])
def test_a_record_of_another_shape_is_in_doubt_never_a_crash(store, record):
    ledger, lead = Ledger(store, "acme"), make_lead()
    store.put(Item(ledger.key_of(lead["id"]), 1, record, int(time.time()) + 60), None)  # type: ignore[arg-type]
    begun = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(begun, Claim)
    assert begun.previous_attempt is not None and begun.previous_attempt["reason"] == "unreadable_record"
    assert begun.since  # a date to search from, whatever the old record held


def test_a_huge_customer_answer_is_stored_without_its_body(store):
    ledger, lead = Ledger(store, "acme"), make_lead()
    claim = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(claim, Claim)
    envelope = {**envelope_for(lead), "response_details": {"http_status_code": 201, "id": "00Q1",
                                                           "blob": "x" * 600_000}}
    ledger.settle(claim, ACCEPTED, 201, envelope, sent=True, masker=Masker(lead))
    replay = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(replay, Replay)  # recorded (DynamoDB refuses items over 400 KB)
    assert replay.envelope["customer_lead_id"] == "00Q1"
    assert replay.envelope["response_details"] == {"http_status_code": 201, "truncated": True}


def test_a_replay_keeps_ids_that_happen_to_hold_a_short_name(store):
    ledger, lead = Ledger(store, "acme"), make_lead(first_name="Ed", last_name="Li")
    claim = ledger.begin(lead, "trace-1", deadline_in(2))
    assert isinstance(claim, Claim)
    envelope = {"customer_lead_id": "00Q5e00000EdbLiAAO",
                "response_details": {"http_status_code": 201, "id": "00Q5e00000EdbLiAAO",
                                     "note": "created for Ed LI"}}
    ledger.settle(claim, ACCEPTED, 201, envelope, sent=True, masker=Masker(lead))
    replay = ledger.begin(lead, "trace-2", deadline_in(2))
    assert isinstance(replay, Replay)
    assert replay.envelope["customer_lead_id"] == replay.envelope["response_details"]["id"] == "00Q5e00000EdbLiAAO"
    assert replay.envelope["response_details"]["note"] == "created for [masked] [masked]"  # whole words, any case
