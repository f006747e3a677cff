"""No credential in envelopes, no personal data in the transition log: the app in process, its log read through
pytest's `caplog`. (Every path through `chalice local`, with Rollbar: tests/integration/test_privacy.py.)
"""

from __future__ import annotations

import json

from sandbox.salesforce import CLIENT_SECRET
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
