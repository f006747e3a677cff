"""No personal data in logs or Rollbar items, whatever path a lead takes.

Leads carrying known personal values go through `chalice local` on every path (accepted, duplicate,
refused, invalid, customer error, timeout); then everything captured (the plug's whole standard output
and every Rollbar item as sent) is searched for those values. (Through the app in process, with the
transition log read line by line: tests/functional/test_privacy.py.)
"""

from __future__ import annotations

import json
from typing import Any

import requests

from tests.conftest import salesforce_env
from tests.support.faulty import FaultyCustomer
from tests.support.leads import make_lead
from tests.support.project import running_plug
from tests.support.rollbar_catcher import RollbarCatcher


def personal_lead(**overrides: Any) -> dict[str, Any]:
    lead = make_lead(first_name="Zéphyrine", last_name="Quatrebarbe-Ulm",
                     address={"street": "7 impasse des Glycines", "postal_code": "35000", "city": "Rennes",
                              "country": "FR"},
                     consent={"given": True, "at": "2026-11-26T09:29:00Z", "ip": "198.51.100.23"})
    lead.update(overrides)
    return lead


def personal_values(lead: dict[str, Any]) -> set[str]:
    phone = lead["phone"]
    return {lead["first_name"], lead["last_name"], lead["email"], lead["email"].lower(), phone, phone.lstrip("+"),
            lead["address"]["street"], lead["consent"]["ip"]}


def test_no_personal_data_reaches_logs_or_rollbar_on_any_path(salesforce):
    sent: list[dict[str, Any]] = []
    answers: list[int] = []
    with RollbarCatcher() as catcher:
        rollbar = {"ROLLBAR_ACCESS_TOKEN": "test-token", "ROLLBAR_ENDPOINT": catcher.endpoint}
        with running_plug(salesforce_env(salesforce.base_url, **rollbar)) as plug:
            accepted = personal_lead()
            email_local, domain = accepted["email"].split("@")
            cases = [
                accepted,                                                      # accepted
                {**accepted, "id": accepted["id"] + "-bis"},                   # duplicate
                personal_lead(address={"street": "1 Main St", "country": "US"}),  # refused
                personal_lead(phone="06 12 34 56 78"),                         # invalid
                personal_lead(email=f"{email_local}+error500@{domain}"),       # customer error
            ]
            cases[2]["address"]["street"] = "7 impasse des Glycines"
            for lead in cases:
                sent.append(lead)
                answers.append(requests.post(plug.url, json=lead, timeout=10).status_code)
            broken_json = json.dumps(personal_lead())[:-5]                     # invalid JSON holding personal data
            answers.append(requests.post(plug.url, data=broken_json.encode(), timeout=10).status_code)
            logs = plug.log()
        with FaultyCustomer("hang") as customer, \
                running_plug(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S="1", **rollbar)) as plug:
            timeout_lead = personal_lead()
            sent.append(timeout_lead)
            answers.append(requests.post(plug.url, json=timeout_lead, timeout=10).status_code)
            logs += plug.log()
        items = "\n".join(catcher.raw)
    assert answers == [201, 409, 406, 400, 502, 400, 502]
    assert len(catcher.raw) == 2, "the customer error and the timeout were reported"
    assert logs.count('"to": "validated"') >= 5, "the transition log was captured"
    captured = logs + items
    for lead in sent:
        for value in personal_values(lead):
            assert value not in captured, f"personal value found in logs or Rollbar: {value[:3]}..."
            assert json.dumps(value)[1:-1] not in captured

