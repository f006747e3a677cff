"""The customer zoo under `chalice local`: real HTTP on both sides, one warm plug serving every framing.

One zoo server, one `chalice local`; each lead's email names the framing the server answers it with, and a
plain lead follows each, through the same warm plug (threads, connection pool, cookies and all).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.functional.test_customer_zoo import EXPECTED, FRAMINGS, KINDS, customer_file
from tests.support.customers import COMMON
from tests.support.leads import make_lead
from tests.support.project import LocalPlug, running_plug
from tests.support.zoo import Zoo, email_for


@pytest.fixture(scope="module")
def zoo_and_plug(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Zoo, LocalPlug]]:
    with Zoo("keepalive") as zoo:
        path: Path = tmp_path_factory.mktemp("zoo") / "zoo.json"
        path.write_text(json.dumps(customer_file(zoo.url)), encoding="utf-8")
        with running_plug({**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path)}, stage="zoo") as plug:
            yield zoo, plug


@pytest.mark.parametrize("kind", [pytest.param(kind, id=kind) for kind in KINDS])
@pytest.mark.parametrize("framing", [pytest.param(name, id=name) for name in FRAMINGS])
def test_every_framing_under_chalice_local(zoo_and_plug, framing, kind):
    zoo, plug = zoo_and_plug
    lead = make_lead(email=email_for(framing, *KINDS[kind]))
    response = requests.post(plug.url, json=lead, timeout=30)
    want_status, want_state, want_reason, _ = EXPECTED[kind]
    assert response.status_code == want_status, response.text
    envelope = json.loads(response.text, parse_constant=lambda name: pytest.fail(f"{name} in the envelope"))
    if kind == "accepted":
        assert envelope["customer_lead_id"] == zoo.received(lead["email"])[0].answered_id
    else:
        assert (envelope["error"]["state"], envelope["error"]["reason"]) == (want_state, want_reason)
    assert zoo.count(lead["email"]) == 1
    plain = make_lead(email=email_for("keepalive"))
    after = requests.post(plug.url, json=plain, timeout=30)
    assert after.status_code == 201, after.text
    assert after.json()["customer_lead_id"] == zoo.received(plain["email"])[0].answered_id
    assert lead["email"] not in (zoo.received(plain["email"])[0].cookie or "")
