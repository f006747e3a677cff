"""The path a lead takes through the machine, as the transition log tells it: one JSON line per move.

`sent` means the lead's request left: a lead that failed before (token refused, connection refused) is logged
`translated -> failed` and certainly never reached the customer; one that failed after (the customer hung, or
reset the connection) is logged `sent -> failed`, in doubt. The lines are read through pytest's `caplog`.
"""

from __future__ import annotations

import json

import pytest
from chalice.test import Client

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.customers import COMMON
from tests.support.faulty import FaultyCustomer
from tests.support.leads import make_lead
from tests.support.project import free_port, make_project
from tests.support.translog import transition_lines

BEFORE_SENDING = ["received", "validated", "translated", "failed"]
AFTER_SENDING = ["received", "validated", "translated", "sent", "failed"]


def path_of(caplog: pytest.LogCaptureFixture, lead_id: str) -> tuple[list[str], str | None]:
    lines = transition_lines(caplog, lead_id)
    return [lines[0]["from"], *(line["to"] for line in lines)], lines[-1]["reason"]


def test_an_accepted_lead_goes_the_whole_way(plug, caplog):
    lead = make_lead()
    assert plug.post(lead)[0] == 201
    assert path_of(caplog, lead["id"]) == (["received", "validated", "translated", "sent", "accepted"], "created")


def test_an_invalid_lead_fails_where_it_was_received(plug, caplog):
    lead = make_lead(email="not-an-email")
    assert plug.post(lead)[0] == 400
    assert path_of(caplog, lead["id"]) == (["received", "failed"], "invalid_lead")


def test_a_refused_token_fails_the_lead_before_it_is_sent(plug_for, salesforce, caplog):
    lead = make_lead()
    status, _ = plug_for(salesforce_env(salesforce.base_url, SALESFORCE_CLIENT_SECRET="wrong")).post(lead)
    assert status == 401
    assert path_of(caplog, lead["id"]) == (BEFORE_SENDING, "unauthorized")


def test_a_refused_connection_fails_the_lead_before_it_is_sent(plug_for, caplog):
    lead = make_lead(address={"street": "1 rue X", "postal_code": "69003", "city": "Lyon", "country": "FR"})
    environment = {**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": "customers/acme-json.json",
                   "ACME_URL": f"http://127.0.0.1:{free_port()}/v1/leads", "ACME_TOKEN": "token"}
    status, envelope = plug_for(environment).post(lead)
    assert (status, envelope["error"]["reason"]) == (502, "customer_unreachable")
    assert path_of(caplog, lead["id"]) == (BEFORE_SENDING, "customer_unreachable")


@pytest.mark.parametrize(("fault", "reason"), [
    pytest.param("hang", "customer_timeout", id="hang-after-the-request"),
    pytest.param("reset", "customer_unreachable", id="reset-after-the-request"),
])
def test_a_failure_after_the_request_left_is_logged_after_sent(plug_for, caplog, fault, reason):
    lead = make_lead()
    with FaultyCustomer(fault) as customer:
        status, _ = plug_for(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S="1")).post(lead)
        assert len(customer.lead_posts) == 1
    assert status == 502
    assert path_of(caplog, lead["id"]) == (AFTER_SENDING, reason)


def test_chalices_own_test_idiom_runs_a_lead_through_a_stage(salesforce: SalesforceSandbox, caplog):
    """`from app import app`, then `Client(app, stage_name=...)`: the app imported with no variable set builds
    its plug from the stage's variables at the first lead."""
    from app import app

    project = make_project("idiom", salesforce_env(salesforce.base_url))
    lead = make_lead()
    with Client(app, stage_name="idiom", project_dir=str(project)) as client:
        response = client.http.post("/send", headers={"Content-Type": "application/json"},
                                    body=json.dumps(lead))
    assert response.status_code == 201
    assert path_of(caplog, lead["id"])[1] == "created"
