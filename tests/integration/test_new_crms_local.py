"""Dynamics 365 and Pipedrive through `chalice local` (real HTTP both ways) against their sandboxes: created,
duplicate, refused, failing, an expired token, and a lead in doubt found on the platform's retry."""

from __future__ import annotations

import requests

from sandbox.dynamics import DynamicsSandbox
from sandbox.pipedrive import PipedriveSandbox
from tests.functional.test_dynamics_plug import dynamics_env
from tests.functional.test_pipedrive_plug import held, pipedrive_env, with_tag
from tests.support.leads import make_lead
from tests.support.project import running_plug


def test_dynamics_end_to_end(tmp_path):
    with DynamicsSandbox() as dynamics, running_plug(dynamics_env(
            dynamics, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}", CUSTOMER_TIMEOUT_S="2"), stage="dyn-e2e") as plug:
        lead = make_lead()
        created = requests.post(plug.url, json=lead, timeout=10)
        duplicate = requests.post(plug.url, json={**lead, "id": lead["id"] + "-again"}, timeout=10)
        refused = requests.post(plug.url, json=with_tag("refused"), timeout=10)
        failing = requests.post(plug.url, json=with_tag("error500"), timeout=10)
        dynamics.expire_tokens()
        after_expiry = requests.post(plug.url, json=make_lead(), timeout=10)
        slow = with_tag("slowanswer")
        in_doubt = requests.post(plug.url, json=slow, timeout=10)
        found = requests.post(plug.url, json=slow, timeout=10)
    assert (created.status_code, duplicate.status_code, refused.status_code) == (201, 409, 406)
    assert created.json()["customer_lead_id"] in dynamics.leads
    assert (failing.status_code, failing.json()["error"]["reason"]) == (502, "customer_error")
    assert after_expiry.status_code == 201
    assert (in_doubt.status_code, in_doubt.json()["error"]["reason"]) == (502, "customer_timeout")
    assert found.status_code == 201 and found.json()["previous_attempt"]["reason"] == "customer_timeout"
    assert sum(row["emailaddress1"] == slow["email"] for row in dynamics.leads.values()) == 1


def test_pipedrive_end_to_end_one_person_one_lead(tmp_path):
    with PipedriveSandbox() as pipedrive, running_plug(pipedrive_env(
            pipedrive, LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}", CUSTOMER_TIMEOUT_S="2",
            PIPEDRIVE_REFUSE_DUPLICATES="true"), stage="pipe-e2e") as plug:
        lead = make_lead()
        created = requests.post(plug.url, json=lead, timeout=10)
        duplicate = requests.post(plug.url, json={**lead, "id": lead["id"] + "-again"}, timeout=10)
        failing = requests.post(plug.url, json=with_tag("error500"), timeout=10)
        between = with_tag("leaderror")
        first, retry = (requests.post(plug.url, json=between, timeout=10) for _ in range(2))
        slow = with_tag("leadslow")
        in_doubt, found = (requests.post(plug.url, json=slow, timeout=10) for _ in range(2))
    assert (created.status_code, duplicate.status_code) == (201, 409)
    assert (failing.status_code, failing.json()["error"]["reason"]) == (502, "customer_error")
    assert (first.status_code, retry.status_code) == (502, 201)
    assert held(pipedrive, between) == (1, 1)
    assert (in_doubt.status_code, found.status_code) == (502, 201)
    assert found.json()["customer_lead_id"] == next(iter(k for k, v in pipedrive.leads.items()
                                                         if v["person_id"] in pipedrive.persons
                                                         and pipedrive.persons[v["person_id"]]["emails"][0]["value"]
                                                         == slow["email"]))
    assert held(pipedrive, slow) == (1, 1)
