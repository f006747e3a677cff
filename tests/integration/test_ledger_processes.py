"""Never twice across processes, with real `chalice local` processes and real stores.

Ten requests for one lead at once reach the customer once; so do two plugs sharing one SQLite file, and two
sharing one DynamoDB table (a real HTTP emulator); a plug killed mid-delivery leaves a claim that expires,
after which the lead is in doubt and the customer's search is asked before anything is sent again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.dynamodb import create_ledger_table, dynamodb_emulator, emulator_client, emulator_environment
from tests.support.leads import make_lead
from tests.support.project import LocalPlug, running_plug

LATENCY_S = 1.0  # the customer's answer time: long enough for the other requests to arrive meanwhile


@pytest.fixture
def slow_salesforce() -> Iterator[SalesforceSandbox]:
    with SalesforceSandbox(latency_s=LATENCY_S) as sandbox:
        yield sandbox


def send_at_once(urls: list[str], lead: dict, count: int) -> list[requests.Response]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(lambda n: requests.post(urls[n % len(urls)], json=lead, timeout=60), range(count)))


def assert_delivered_once(answers: list[requests.Response], sandbox: SalesforceSandbox, lead: dict) -> None:
    assert {answer.status_code for answer in answers} == {201}, [(answer.status_code, answer.json().get("error"),
                                                                  answer.json().get("error_message"))
                                                                 for answer in answers]
    assert len({answer.json()["customer_lead_id"] for answer in answers}) == 1
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == len(answers) - 1
    assert sum(record["Email"] == lead["email"] for record in sandbox.leads.values()) == 1


def test_ten_requests_for_one_lead_at_once_reach_the_customer_once(slow_salesforce, tmp_path):
    environment = salesforce_env(slow_salesforce.base_url, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}")
    with running_plug(environment, stage="ledger") as plug:
        lead = make_lead()
        assert_delivered_once(send_at_once([plug.url], lead, 10), slow_salesforce, lead)


@pytest.mark.parametrize("backend", ["sqlite", "dynamodb"])
def test_two_plugs_sharing_one_ledger_deliver_once(slow_salesforce, tmp_path, backend, monkeypatch):
    with ExitStack() as stack:
        if backend == "sqlite":
            setting = f"sqlite:{tmp_path / 'shared.sqlite3'}"
        else:
            endpoint = stack.enter_context(dynamodb_emulator())
            for name, value in emulator_environment(endpoint).items():
                monkeypatch.setenv(name, value)  # chalice local passes its own environment to the plug
            create_ledger_table(emulator_client(endpoint), "shared-ledger")
            setting = "dynamodb:shared-ledger"
        environment = salesforce_env(slow_salesforce.base_url, LEDGER=setting)
        plugs: list[LocalPlug] = [stack.enter_context(running_plug(environment, stage=f"plug{n}")) for n in (1, 2)]
        lead = make_lead()
        assert_delivered_once(send_at_once([plug.url for plug in plugs], lead, 6), slow_salesforce, lead)


def test_a_plug_killed_mid_delivery_leaves_a_claim_that_expires_then_the_lead_is_in_doubt(tmp_path: Path):
    with SalesforceSandbox(latency_s=3.0) as sandbox:
        environment = salesforce_env(sandbox.base_url, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}",
                                     CUSTOMER_TIMEOUT_S="20")
        lead = make_lead()
        with running_plug(environment, stage="doomed", lambda_timeout=3) as doomed, ThreadPoolExecutor(1) as pool:
            pending = pool.submit(requests.post, doomed.url, json=lead, timeout=30)
            time.sleep(1.0)  # the lead is claimed and on its way to the customer
            doomed.kill()
            with pytest.raises(requests.ConnectionError):
                pending.result()
        with running_plug(environment, stage="survivor") as survivor:
            # the platform retries at once: the killed request's claim still holds (its Lambda deadline, 3 s),
            # so this request waits for it to expire, then finds the lead in doubt
            answer = requests.post(survivor.url, json=lead, timeout=30)
        created = [lead_id for lead_id, record in sandbox.leads.items() if record["Email"] == lead["email"]]
    assert answer.status_code == 201, answer.text
    envelope = answer.json()
    assert envelope["previous_attempt"]["reason"] == "claim_expired"
    assert [envelope["customer_lead_id"]] == created  # one record: found by the search, or sent once when the
    # killed attempt had not reached the create (the sandbox answers even its token slowly)
    assert json.dumps(envelope).count("claim_expired") == 1


def test_two_plugs_share_one_customers_health(tmp_path):
    """Failures counted by either plug add up; the pause they cause holds for both; nothing sent meanwhile."""
    with SalesforceSandbox() as sandbox, ExitStack() as stack:
        environment = salesforce_env(sandbox.base_url, LEDGER=f"sqlite:{tmp_path / 'shared.sqlite3'}",
                                     HEALTH_FAILURES="3", HEALTH_PAUSE_S="30")
        first, second = (stack.enter_context(running_plug(environment, stage=f"health{n}")) for n in (1, 2))
        for url in (first.url, second.url, first.url):
            lead = make_lead(email=f"lead+error500+{make_lead()['id']}@exemple.fr")
            assert requests.post(url, json=lead, timeout=30).status_code == 502
        received = len(sandbox.journal.requests)
        for plug in (first, second):
            answer = requests.post(plug.url, json=make_lead(), timeout=30)
            assert (answer.status_code, answer.json()["error"]["reason"]) == (502, "customer_paused")
        assert len(sandbox.journal.requests) == received
        pauses = [line for plug in (first, second) for line in plug.log_lines() if line.get("to") == "paused"]
    assert len(pauses) == 1
