"""Every webhook customer file of `customers/`, picked up by itself: its stage (whatever its auth kind, whatever
local port it points at) builds it, and its fixtures folder `fixtures/webhook/<name>/` goes through the plug
against a customer made of the file's own examples, each fixture getting what its expected.json says. A new
customer is a file, a stage and a folder: these tests need nothing else (docs/adding-a-customer.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatcher.integrations import build_integration
from dispatcher.integrations.webhook import read_config
from dispatcher.integrations.webhook_examples import example_mistakes, run_examples
from tests.support.customers import COMMON, ROOT, fixture_cases
from tests.support.envelopes import assert_envelope
from tests.support.example_customer import (
    ExampleCustomer,
    customer_examples,
    example_for,
    pointed_at,
    read_request,
    stage_of,
)

FILES = sorted((ROOT / "customers").glob("*.json"))


@pytest.fixture
def customer() -> Iterator[ExampleCustomer]:
    server = ExampleCustomer().start()
    yield server
    server.stop()


@pytest.mark.parametrize("file", FILES, ids=[file.stem for file in FILES])
def test_its_stage_builds_it_and_every_rule_has_a_right_example(file: Path):
    _stage, variables = stage_of(file)
    integration = build_integration(variables)  # every variable its auth names, whatever the kind
    config = read_config(file)
    runs = run_examples(integration.rules, customer_examples(config), integration.customer)
    assert example_mistakes(integration.rules, runs) == []


@pytest.mark.parametrize("file", FILES, ids=[file.stem for file in FILES])
def test_its_fixtures_get_what_expected_json_says(file: Path, plug_for, customer):
    config = read_config(file)
    assert (ROOT / "fixtures" / "webhook" / file.stem / "expected.json").is_file(), \
        f"{file.name}: no fixtures/webhook/{file.stem}/expected.json"
    _stage, variables = stage_of(file)
    url_variable = config["url"]["env"] if isinstance(config["url"], dict) else None
    assert url_variable, f"{file.name}: write its URL in the stage ({{\"env\": ...}}) so that a stage can point it"
    environment = {**variables, **COMMON, "LEDGER": "off",
                   url_variable: pointed_at(variables[url_variable], customer.base_url)}
    plug = plug_for(environment)
    examples = customer_examples(config)
    for name, lead, expected in fixture_cases(f"webhook/{file.stem}"):
        example = example_for(examples, expected)
        customer.answer_with(example)
        customer.journal.clear()
        status, envelope = plug.post(lead)
        assert_envelope(status, envelope)
        sent = customer.journal.requests
        assert example is not None or not sent, f"{name}: no example of {file.name} gives " \
                                                f"{expected['state']}/{expected['reason']}, which expected.json wants"
        error = envelope.get("error", {})
        got = (status, error.get("state", "accepted"), error.get("reason", "created"))
        assert got == (expected["status"], expected["state"], expected["reason"]), (name, envelope)
        for key in ("missing_fields", "invalid_fields"):
            if key in expected:
                assert error[key] == expected[key], (name, key)
        if not sent:  # an invalid lead the plug answered before calling
            continue
        (received,) = sent
        assert read_request(received, config.get("charset"), config["body"]) == envelope["request_details"], name
        if expected["state"] == "accepted":
            assert envelope["customer_lead_id"] == example.customer_lead_id, name


def test_the_latin1_form_gets_latin1_bytes_and_a_date_in_paris(plug_for, customer):
    file = ROOT / "customers" / "maison-verte-form.json"
    _stage, variables = stage_of(file)
    plug = plug_for({**variables, **COMMON, "LEDGER": "off",
                     "MAISON_VERTE_URL": pointed_at(variables["MAISON_VERTE_URL"], customer.base_url)})
    examples = customer_examples(read_config(file))
    customer.answer_with(examples[0])
    (_, lead, _), *_ = fixture_cases("webhook/maison-verte-form")
    status, envelope = plug.post(lead)
    assert status == 201 and envelope["customer_lead_id"] == "10452"
    (received,) = customer.journal.requests
    assert b"nom=LEF%C8VRE" in received.body and b"prenom=H%E9l%E8ne" in received.body  # Latin-1, not UTF-8
    assert received.headers["authorization"].startswith("Basic ")
    details = envelope["request_details"]
    assert (details["date_demande"], details["heure_demande"]) == ("27/11/2026", "00:30")  # 23:30 UTC
    assert details["telephone"] == "0612345678"
    assert envelope["response_details"]["body"].startswith("<html><body><p>Votre demande a été enregistrée")


def test_the_json_api_gets_a_nested_body_with_the_full_name(plug_for, customer):
    file = ROOT / "customers" / "helio-api.json"
    _stage, variables = stage_of(file)
    plug = plug_for({**variables, **COMMON, "LEDGER": "off",
                     "HELIO_URL": pointed_at(variables["HELIO_URL"], customer.base_url)})
    customer.answer_with(customer_examples(read_config(file))[0])
    (_, lead, _), *_ = fixture_cases("webhook/helio-api")
    status, envelope = plug.post(lead)
    assert (status, envelope["customer_lead_id"]) == (201, "7f3c2a10-5b1e-4d0a-9c8e-2b6f1d4e9a01")
    (received,) = customer.journal.requests
    assert received.headers["x-api-key"] == variables["HELIO_KEY"]
    assert json.loads(received.body)["lead"]["person"] == {
        "full_name": "Yasmine El Amrani", "email": "yasmine.elamrani@exemple.ma", "phone": "+212 6 12 34 56 78"}
    assert json.loads(received.body)["lead"]["submitted_at"] == "2026-11-26T10:30:00+0100"
