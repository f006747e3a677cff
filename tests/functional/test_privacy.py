"""No credential in envelopes, no personal data in the transition log: the app in process, its log read through
pytest's `caplog`. (Every path through `chalice local`, with Rollbar: tests/integration/test_privacy.py.)
"""

from __future__ import annotations

import json
import sqlite3

import pytest

from sandbox.salesforce import CLIENT_SECRET
from sandbox.server import CustomerServer, Handler, Received
from sandbox.webhook import ACME_TOKEN
from tests.support.customers import COMMON
from tests.support.emf import metric_documents
from tests.support.leads import make_lead
from tests.support.translog import transition_lines


def test_credentials_and_tokens_never_reach_an_envelope(plug, salesforce):
    envelopes = [plug.post(make_lead())[1], plug.post(make_lead(address={"country": "US"}))[1]]
    text = json.dumps(envelopes)
    assert CLIENT_SECRET not in text
    assert not any(token in text for token in salesforce.tokens)
    assert "access_token" not in text and "Authorization" not in text


def test_an_id_holding_a_short_name_stays_whole_in_the_log(plug, caplog):
    lead = make_lead(id="7c1ed0a4-0abe-11c0ffee", first_name="Ed", last_name="Abe")
    assert plug.post(lead)[0] == 201
    assert [line["lead_id"] for line in transition_lines(caplog)] == ["7c1ed0a4-0abe-11c0ffee"] * 4


def test_an_id_that_is_the_persons_email_is_masked_in_the_log(plug, caplog):
    lead = make_lead()
    lead["id"] = lead["email"]
    plug.post(lead)
    assert {line["lead_id"] for line in transition_lines(caplog)} == {"[masked]"}
    assert lead["email"] not in caplog.text


# -- a customer's refusal code or message made of the person's data, in a form the plug derived -------------------

class RefusingCustomer(CustomerServer):
    """A JSON customer (customers/acme-json.json's dialect) that refuses every lead with 422 and the given code,
    its message repeating the person's phone in the national, spaced forms and the name upper-cased."""

    def __init__(self, code: str) -> None:
        super().__init__(0)
        self.code = code

    def route(self, handler: Handler, request: Received) -> None:
        handler.send_json(422, {"status": "rejected", "error": {
            "code": self.code, "message": "MARTIN: le 06 98 76 54 32 (0698765432, 33698765432) ne répond pas"}})


PERSON = {"id": "pilot-7f3a9c", "first_name": "Élodie", "last_name": "Martin", "phone": "+33698765432"}
DERIVED = ["0698765432", "06 98 76 54 32", "33698765432", "+33698765432", "MARTIN", "Martin", "Élodie"]


@pytest.mark.parametrize("code", [
    pytest.param("TEL_0698765432", id="a-per-lead-code-holding-the-national-phone"),
    pytest.param("MARTIN_REFUSED", id="a-code-holding-the-upper-cased-name"),
    pytest.param("PILOT_7F3A9C_REJECTED", id="a-code-holding-our-lead-id"),
])
def test_a_refusal_code_made_of_the_lead_is_grouped_and_no_form_of_the_person_leaves(
        plug_for, caplog, tmp_path, code):
    with RefusingCustomer(code) as customer:
        plug = plug_for({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": "customers/acme-json.json",
                         "ACME_URL": customer.base_url + "/leads", "ACME_TOKEN": ACME_TOKEN,
                         "LEDGER": f"sqlite:{tmp_path / 'ledger.sqlite3'}"})
        status, envelope = plug.post(make_lead(**PERSON))
    assert (status, envelope["error"]) == (406, {"state": "refused", "reason": "refused"})
    assert envelope["response_details"]["error"]["code"] == code  # the platform still sees the customer's answer
    metrics = [json.dumps(document) for document in metric_documents(caplog)]
    assert metrics and all('"Reason": "refused"' in document for document in metrics)
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as connection:
        rows = connection.execute("SELECT * FROM ledger").fetchall()
    ledger = json.dumps(rows, ensure_ascii=False)
    record = json.loads(next(value for value in rows[0] if isinstance(value, str) and value.startswith("{")))
    assert (record["state"], record["reason"]) == ("refused", "refused")
    assert "response_details" in record["envelope"]  # the customer's answer is kept, masked
    for text, where in ((caplog.text, "log"), ("".join(metrics), "metrics"), (ledger, "ledger")):
        for form in DERIVED:
            assert form not in text, f"{form!r} reached the {where}"
    assert code not in caplog.text and code not in "".join(metrics)  # the reason was grouped everywhere
