"""Exactly once at the edges, through the app: the platform sends a lead again, and the
customer (a sandbox speaking its documented API) must hold it exactly once while the platform is told the truth.
The ledger is a SQLite file or DynamoDB (moto's server behind tests/support/dynamodb.py's proxy, which counts
calls and throttles on demand).

`+slowanswer` in an email: the customer keeps the lead and answers after the plug's deadline (in doubt);
`+noanswer`: its first request answers as late and keeps nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from dispatcher.ledger.ledger import PENDING
from sandbox.hubspot import TOKEN, HubSpotSandbox
from sandbox.salesforce import SalesforceSandbox
from sandbox.server import CustomerServer, Handler, Received
from tests.conftest import salesforce_env
from tests.support.customers import COMMON
from tests.support.dynamodb import (
    create_ledger_table,
    emulator_client,
    emulator_environment,
)
from tests.support.leads import make_lead

TIMEOUT_S = "1"  # below the sandboxes' late answer (3 s)

# every rule of a customer file earns an example (checked when the file loads)
CREATED_EXAMPLE = {"name": "created", "status": 201, "body": {"id": "W-1"}, "state": "accepted", "reason": "created",
                   "customer_lead_id": "W-1"}


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The LEDGER setting of one backend (DynamoDB: through the proxy, boto3 finding it by its environment)."""
    if request.param == "sqlite":
        return f"sqlite:{tmp_path / 'ledger.sqlite3'}"
    emulator, proxy = request.getfixturevalue("emulator"), request.getfixturevalue("proxy")
    for name, value in emulator_environment(proxy.endpoint).items():
        monkeypatch.setenv(name, value)
    table = f"plug-edges-{time.monotonic_ns()}"
    create_ledger_table(emulator_client(emulator), table)
    return f"dynamodb:{table}"


def warm(plug: Any, **fields: Any) -> None:
    """One lead first (whatever its end): boto3's import and clients, the token, the connection are made, so that
    the lead under test meets its 1 s customer deadline on a busy machine."""
    plug.post(make_lead(**fields))


def hubspot_env(sandbox: HubSpotSandbox, ledger: str, **extra: str) -> dict[str, str]:
    return {**COMMON, "CUSTOMER": "hubspot", "HUBSPOT_API_URL": sandbox.base_url, "HUBSPOT_TOKEN": TOKEN,
            "LEDGER": ledger, "CUSTOMER_TIMEOUT_S": TIMEOUT_S, **extra}


def creates(sandbox: CustomerServer, path_end: str) -> int:
    return sum(1 for r in sandbox.journal.requests if r.method == "POST" and r.path.split("?")[0].endswith(path_end))


# --- in doubt, then duplicate --------------------------------------------------------------------------------------

def test_hubspot_in_doubt_then_409_naming_our_contact_is_delivered_earlier(plug_for, ledger):
    with HubSpotSandbox(search_lag_s=60) as hubspot:  # its search index has not seen the new contact yet
        plug = plug_for(hubspot_env(hubspot, ledger))
        warm(plug)
        lead = make_lead(email=f"lead+slowanswer+{make_lead()['id']}@exemple.fr")
        first = plug.post(lead)
        assert (first[0], first[1]["error"]["reason"]) == (502, "customer_timeout")
        status, envelope = plug.post(lead)
        again = plug.post(lead)
    contact_id, = (key for key, contact in hubspot.leads.items() if contact["email"] == lead["email"])  # one
    assert (status, envelope["customer_lead_id"]) == (200, contact_id)  # accepted: never 409, never sold twice
    assert envelope["previous_attempt"]["trace_id"] and "error" not in envelope
    assert again == (200, {**envelope, "request_details": again[1]["request_details"]})  # replayed


def test_hubspot_in_doubt_then_409_naming_an_older_contact_is_a_true_duplicate(plug_for, tmp_path):
    with HubSpotSandbox() as hubspot:
        lead = make_lead(email=f"lead+noanswer+{make_lead()['id']}@exemple.fr")
        old_id, _ = hubspot.take(lead["email"], {"email": lead["email"]}, lambda: "90001")
        hubspot.created_at[old_id] = time.time() - 365 * 24 * 3600
        plug = plug_for(hubspot_env(hubspot, f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
        assert plug.post(lead)[0] == 502
        status, envelope = plug.post(lead)
    assert (status, envelope["error"]["reason"]) == (409, "duplicate")


def test_hubspot_in_doubt_and_found_by_its_search_is_not_sent_again(plug_for, tmp_path):
    with HubSpotSandbox() as hubspot:
        plug = plug_for(hubspot_env(hubspot, f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
        lead = make_lead(email=f"lead+slowanswer+{make_lead()['id']}@exemple.fr")
        assert plug.post(lead)[0] == 502
        status, envelope = plug.post(lead)
        searches = hubspot.journal.matching("/search")
    assert (status, envelope["customer_lead_id"]) == (201, next(iter(hubspot.leads)))
    assert creates(hubspot, "/contacts") == 1 and len(searches) == 1


class _DedupingWebhook(CustomerServer):
    """A JSON webhook that keeps leads by email, answers the first one after the plug's deadline, and answers
    a known email 409 {"error": "duplicate", "id"} (its own dedupe)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.kept: dict[str, str] = {}

    def route(self, handler: Handler, request: Received) -> None:
        email = request.json()["email"]
        if email.startswith("warm"):
            return handler.send_json(201, {"id": "warm"})
        if email in self.kept:
            return handler.send_json(409, {"error": "duplicate", "id": self.kept[email]})
        self.kept[email] = f"W-{len(self.kept) + 1}"
        time.sleep(2.5)
        handler.send_json(201, {"id": self.kept[email]})


def test_a_webhook_in_doubt_whose_dedupe_answers_duplicate_is_delivered_earlier(plug_for, tmp_path, ledger):
    with _DedupingWebhook() as customer:
        config = {"name": "Dedupe", "url": customer.base_url + "/leads", "body": "json", "fields": {"email": "email"},
                  "answers": [{"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "id"}}},
                              {"when": {"status": 409}, "then": {"state": "duplicate", "lead_id": {"json": "id"}}}],
                  "examples": [CREATED_EXAMPLE, {"name": "duplicate", "status": 409, "body": {"id": "W-1"},
                                                 "state": "duplicate"}]}
        path = tmp_path / "dedupe.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        plug = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "CUSTOMER_TIMEOUT_S": "1",
                         "LEDGER": ledger})
        warm(plug, email=f"warm.{make_lead()['id']}@exemple.fr")
        lead = make_lead()
        assert plug.post(lead)[0] == 502
        status, envelope = plug.post(lead)
        other = plug.post({**make_lead(), "email": lead["email"]})  # another lead of the same person
    assert (status, envelope["customer_lead_id"], len(customer.kept)) == (200, "W-1", 1)
    assert (other[0], other[1]["error"]["reason"]) == (409, "duplicate")  # not in doubt: a true duplicate


# --- a look-up matches this lead, not this person ---------------------------------------------------------------

def test_a_salesforce_look_up_never_takes_the_persons_other_lead_sent_just_before(plug_for, ledger):
    with SalesforceSandbox() as salesforce:
        plug = plug_for(salesforce_env(salesforce.base_url, LEDGER=ledger, CUSTOMER_TIMEOUT_S=TIMEOUT_S))
        warm(plug)
        email = f"lead+noanswer+{make_lead()['id']}@exemple.fr"
        salesforce._dropped.add(email)  # the person's first lead is served at once
        first_lead = make_lead(email=email)
        assert plug.post(first_lead)[0] == 201
        time.sleep(2.5)  # the other lead comes a moment later (beyond 1 s for the clocks and SOQL's whole seconds)
        salesforce._dropped.discard(email)  # and its first request answers late, keeping nothing: in doubt
        lead = make_lead(email=email)
        assert plug.post(lead)[0] == 502
        status, envelope = plug.post(lead)
    assert (status, envelope["error"]["reason"]) == (409, "duplicate")  # the truth: the customer had this person
    assert sum(record.get("Email") == email for record in salesforce.leads.values()) == 1


def test_a_look_up_never_takes_a_record_another_lead_of_ours_created_meanwhile(plug_for, ledger):
    """The person's other lead is delivered while this one is in flight: its record is in the look-up's window,
    but the ledger knows our other lead created it (its marker)."""
    with SalesforceSandbox() as salesforce:
        plug = plug_for(salesforce_env(salesforce.base_url, LEDGER=ledger, CUSTOMER_TIMEOUT_S=TIMEOUT_S))
        warm(plug)
        email = f"lead+noanswer+{make_lead()['id']}@exemple.fr"
        lead, other = make_lead(email=email), make_lead(email=email)
        answers: list[tuple[int, dict[str, Any]]] = []
        environ = os.environ  # chalice's test client swaps os.environ per request: two at once leave it swapped
        try:
            in_flight = threading.Thread(target=lambda: answers.append(plug.post(lead)))  # answered late, kept nothing
            in_flight.start()
            give_up = time.monotonic() + 10
            while not [r for r in salesforce.journal.matching("/sobjects/Lead") if email.encode() in r.body] \
                    and time.monotonic() < give_up:
                time.sleep(0.05)  # until the first lead reached the customer (which holds it without answering)
            assert plug.post(other)[0] == 201  # the other lead's record, created after this lead's claim
            in_flight.join()
        finally:
            os.environ = environ  # noqa: B003 - putting back the very object chalice replaced
        assert answers[0][0] == 502
        status, envelope = plug.post(lead)
    assert (status, envelope["error"]["reason"]) == (409, "duplicate")  # never "created" with the other's record
    assert sum(record.get("Email") == email for record in salesforce.leads.values()) == 1


def test_a_salesforce_look_up_by_our_lead_id_finds_this_lead(plug_for, tmp_path):
    with SalesforceSandbox(extra_fields=("LeadPlug_Id__c",)) as salesforce:
        plug = plug_for(salesforce_env(salesforce.base_url, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}",
                                       CUSTOMER_TIMEOUT_S=TIMEOUT_S, SALESFORCE_LEAD_ID_FIELD="LeadPlug_Id__c"))
        lead = make_lead(email=f"lead+slowanswer+{make_lead()['id']}@exemple.fr")
        assert plug.post(lead)[0] == 502
        status, envelope = plug.post(lead)
        query = salesforce.journal.matching("/query")[-1].path
    record_id, = salesforce.leads
    assert (status, envelope["customer_lead_id"]) == (201, record_id)
    assert salesforce.leads[record_id]["LeadPlug_Id__c"] == lead["id"] and "LeadPlug_Id__c" in query


# --- copies ---------------------------------------------------------------------------------------------------------

class _SlowKeeper(CustomerServer):
    """A webhook that keeps every lead it receives and answers after 2.5 s (beyond the plug's 1 s)."""

    def __init__(self) -> None:
        super().__init__(0)
        self.received: list[str] = []

    def route(self, handler: Handler, request: Received) -> None:
        self.received.append(request.json()["email"])
        time.sleep(2.5)
        handler.send_json(201, {"id": f"K-{len(self.received)}"})


def test_a_waiting_copy_whose_first_attempt_ended_in_doubt_does_not_send_with_too_little_time(
        plug_for, tmp_path, ledger):
    with _SlowKeeper() as customer:
        config = {"name": "Slow", "url": customer.base_url + "/leads", "body": "json", "fields": {"email": "email"},
                  "answers": [{"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "id"}}}],
              "examples": [CREATED_EXAMPLE]}
        path = tmp_path / "slow.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        plug = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "CUSTOMER_TIMEOUT_S": "1",
                         "LEDGER": ledger})
        lead = make_lead()
        answers: list[tuple[int, dict[str, Any]]] = []
        gate = threading.Barrier(2)

        def copy() -> None:
            gate.wait()
            answers.append(plug.post(lead))

        threads = [threading.Thread(target=copy) for _ in range(2)]
        environ = os.environ  # chalice's test client swaps os.environ per request: two at once leave it swapped
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        finally:
            os.environ = environ  # noqa: B003 - putting back the very object chalice replaced
        time.sleep(2)  # whatever was sent has reached the customer
    assert customer.received == [lead["email"]], answers  # exactly one copy reached the customer
    assert sorted(answer[1]["error"]["reason"] for answer in answers) == ["customer_timeout", "in_progress"]


# --- settles that land, through the app ------------------------------------------------------------------------------

class _Accepting(CustomerServer):
    """A webhook that accepts every lead; `on_lead` runs while it holds the request (the test's hook)."""

    def __init__(self, on_lead: Callable[[], None]) -> None:
        super().__init__(0)
        self.on_lead, self.received = on_lead, 0

    def route(self, handler: Handler, request: Received) -> None:
        self.received += 1
        self.on_lead()
        handler.send_json(201, {"id": f"A-{self.received}"})


def _accepting_plug(plug_for: Any, tmp_path: Path, customer: _Accepting, ledger: str) -> Any:
    config = {"name": "Accepting", "url": customer.base_url + "/leads", "body": "json", "fields": {"email": "email"},
              "answers": [{"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "id"}}}],
              "examples": [CREATED_EXAMPLE]}
    path = tmp_path / "accepting.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    # the customer answers at once: 2 s is room for the ledger's first calls on a loaded machine, not a wait
    return plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "CUSTOMER_TIMEOUT_S": "2",
                     "LEDGER": ledger, "HEALTH_FAILURES": "0"}, lambda_timeout=3)


def test_an_accepted_lead_whose_settle_meets_a_locked_sqlite_file_is_replayed_not_sent_again(plug_for, tmp_path):
    path = tmp_path / "ledger.sqlite3"
    blocker = sqlite3.connect(path, isolation_level=None, check_same_thread=False)

    def lock_the_file() -> None:  # another process takes the write lock while the customer answers
        blocker.execute("BEGIN IMMEDIATE")

    with _Accepting(lock_the_file) as customer:
        plug = _accepting_plug(plug_for, tmp_path, customer, f"sqlite:{path}")
        lead = make_lead()
        first = plug.post(lead)
        again = plug.post(lead)  # at once: the settle is still waiting for the file
        blocker.execute("COMMIT")  # the other process lets go only once both answers are out
        blocker.close()
        deadline = time.monotonic() + 30
        while len(PENDING) and time.monotonic() < deadline:
            time.sleep(0.1)
        later = plug.post(lead)
    assert first[0] == again[0] == later[0] == 201 and customer.received == 1
    assert again[1]["customer_lead_id"] == later[1]["customer_lead_id"] == first[1]["customer_lead_id"]


def test_an_accepted_lead_whose_settle_meets_a_throttling_dynamodb_is_replayed_not_sent_again(
        plug_for, tmp_path, emulator, proxy, monkeypatch):
    for name, value in emulator_environment(proxy.endpoint).items():
        monkeypatch.setenv(name, value)
    table = f"throttled-{time.monotonic_ns()}"
    create_ledger_table(emulator_client(emulator), table)
    with _Accepting(lambda: proxy.throttle(-1)) as customer:
        plug = _accepting_plug(plug_for, tmp_path, customer, f"dynamodb:{table}")
        lead = make_lead()
        first = plug.post(lead)
        again = plug.post(lead)
        proxy.calm()
        deadline = time.monotonic() + 30
        while len(PENDING) and time.monotonic() < deadline:
            time.sleep(0.1)
        later = plug.post(lead)
    assert first[0] == again[0] == later[0] == 201 and customer.received == 1
    assert proxy.calls["TransactWriteItems"] > 2  # the settle was throttled, retried, and landed


# --- DynamoDB at Powertools' price ----------------------------------------------------------------------------------

def test_dynamodb_calls_per_lead_at_most_three_for_a_new_lead_and_one_for_a_replay(
        plug_for, tmp_path, emulator, proxy, monkeypatch):
    for name, value in emulator_environment(proxy.endpoint).items():
        monkeypatch.setenv(name, value)
    table = f"counted-{time.monotonic_ns()}"
    create_ledger_table(emulator_client(emulator), table)
    with _Accepting(lambda: None) as customer:
        config = {"name": "Counted", "url": customer.base_url + "/leads", "body": "json", "fields": {"email": "email"},
                  "answers": [{"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "id"}}}],
              "examples": [CREATED_EXAMPLE]}
        path = tmp_path / "counted.json"
        path.write_text(json.dumps(config), encoding="utf-8")
        plug = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "LEDGER": f"dynamodb:{table}"})
        per_new_lead, per_replay = [], []
        for _ in range(3):
            lead = make_lead()
            proxy.reset_counts()
            assert plug.post(lead)[0] == 201
            per_new_lead.append(sum(proxy.calls.values()))
            proxy.reset_counts()
            assert plug.post(lead)[0] == 201
            per_replay.append(sum(proxy.calls.values()))
    assert max(per_new_lead) <= 3 and per_replay == [1, 1, 1], (per_new_lead, per_replay)
