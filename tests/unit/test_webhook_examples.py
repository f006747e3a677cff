"""A customer file's examples are checked when it loads: a rule that gets one wrong stops the plug with one line
naming the example and the rule that matched, before a refusal can be sold as a lead."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.webhook import PROJECT_ROOT, from_env, read_config, variables_named
from dispatcher.integrations.webhook_examples import examples_of, run_examples, uncovered
from dispatcher.transport import Answer

SHIPPED = sorted((PROJECT_ROOT / "customers").glob("*.json"))
SECRETS = {"FORM_URL": "https://form.example/lead.php"}


def text_customer(accepting: str, examples: list[dict[str, Any]]) -> dict[str, Any]:
    """An old PHP endpoint answering 200 and plain text: `OK|<id>` or `KO|<code>`."""
    return {
        "name": "Old form", "url": {"env": "FORM_URL"}, "body": "form", "fields": {"email": "email"},
        "answers": [
            {"when": {"status": 200, "body": accepting}, "then": {"state": "accepted", "lead_id": {"group": "id"}}},
            {"when": {"status": 200, "body": r"^KO\|DOUBLON"}, "then": {"state": "duplicate"}},
            {"when": {"status": 200, "body": r"^KO\|(?P<code>[A-Z_]+)"},
             "then": {"state": "refused", "reason": {"group": "code"}}},
        ],
        "examples": examples,
    }


REFUSED = {"status": 200, "body": "KO|HORS_ZONE", "state": "refused"}
ACCEPTED = {"status": 200, "body": "OK|492716", "state": "accepted"}


def load(tmp_path: Path, config: dict[str, Any]) -> Any:
    path = tmp_path / "old-form.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return from_env({"WEBHOOK_CONFIG": str(path), **SECRETS})


def refusal(tmp_path: Path, config: dict[str, Any]) -> str:
    with pytest.raises(ConfigurationError) as refused:
        load(tmp_path, config)
    message = str(refused.value)
    assert "\n" not in message  # one line, for the CLI and the deploy log
    return message


def test_the_unescaped_bar_that_sells_refusals_is_refused_at_load_naming_the_example(tmp_path):
    # `^OK|(?P<id>.+)` is "^OK" or "anything": KO|HORS_ZONE would be a sale with customer id "KO|HORS_ZONE"
    message = refusal(tmp_path, text_customer("^OK|(?P<id>.+)", [REFUSED, ACCEPTED]))
    assert message == ('old-form.json: $.examples[0] (HTTP 200 "KO|HORS_ZONE") must be refused, but answers[0] '
                       'makes it accepted/created id "KO|HORS_ZONE" (and 3 more: scripts/check_customer.py lists '
                       'them)')


def test_a_rule_no_example_reaches_stops_the_plug(tmp_path):
    # the happy path only: the duplicate and refusal rules are never shown to match what they were meant for
    message = refusal(tmp_path, text_customer(r"^OK\|(?P<id>[0-9]+)$", [ACCEPTED]))
    assert message == ("old-form.json: $.answers[1] has no example: add the customer's answer it must match, with the "
                       "outcome it must give (a rule nothing shows right may take a refusal for a sale) (and 1 more: "
                       "scripts/check_customer.py lists them)")


LATIN1_PAGE = "<p>Demande déjà enregistrée</p>".encode("iso-8859-1")


def latin1_customer(example: dict[str, Any]) -> dict[str, Any]:
    """An old PHP form answering HTML in Latin-1: the duplicate's page is the one with "déjà"."""
    return {"name": "Old form", "url": {"env": "FORM_URL"}, "body": "form", "fields": {"email": "email"},
            "answers": [{"when": {"status": 200, "body": "déjà enregistrée"}, "then": {"state": "duplicate"}}],
            "examples": [example]}


def test_an_example_holds_the_customers_exact_bytes_read_in_their_declared_charset(tmp_path):
    example = {"status": 200, "body_base64": base64.b64encode(LATIN1_PAGE).decode(), "state": "duplicate",
               "content_type": "text/html; charset=ISO-8859-1"}
    assert load(tmp_path, latin1_customer(example)).customer == "Old form"
    written = {"status": 200, "body": "<p>Demande déjà enregistrée</p>", "state": "duplicate",
               "content_type": "text/html; charset=ISO-8859-1"}  # the text, written in its charset
    assert load(tmp_path, latin1_customer(written)).customer == "Old form"


def test_a_charset_mistake_is_caught_at_load(tmp_path):
    # the same bytes, but the file forgot the customer's Content-Type: read as UTF-8, "déjà" is not there
    example = {"status": 200, "body_base64": base64.b64encode(LATIN1_PAGE).decode(), "state": "duplicate"}
    assert "$.examples[0] (HTTP 200 \"<p>Demande d\ufffdj\ufffd enregistr\ufffde</p>\") must be duplicate, but no " \
           "rule matches it" in refusal(tmp_path, latin1_customer(example))


@pytest.mark.parametrize(("example", "mistake"), [
    pytest.param({"status": 200, "body_base64": "not base64!", "state": "duplicate"},
                 "$.examples[0].body_base64: not base64", id="not-base64"),
    pytest.param({"status": 200, "body": "Łódź", "state": "duplicate", "content_type": "text/plain; charset=latin1"},
                 "$.examples[0].body: text the charset of its content_type", id="text-its-charset-cannot-write"),
    pytest.param({"status": 200, "body": "x", "body_base64": "eA==", "state": "duplicate"},
                 "at $.examples[0]", id="body-and-bytes"),
])
def test_an_examples_bytes_must_be_what_it_says(tmp_path, example, mistake):
    assert mistake in refusal(tmp_path, latin1_customer(example))


def test_a_rule_names_the_leads_invalid_fields(tmp_path):
    config = text_customer(r"^OK\|(?P<id>[0-9]+)$", [])
    config["answers"].insert(1, {"when": {"status": 200, "body": r"^KO\|TEL_INVALIDE"},
                                 "then": {"state": "failed", "reason": "invalid_lead", "invalid_fields": ["phone"]}})
    config["examples"] = [ACCEPTED, {"status": 200, "body": "KO|TEL_INVALIDE", "state": "failed",
                                     "reason": "invalid_lead"}, {"status": 200, "body": "KO|DOUBLON",
                                                                 "state": "duplicate"}, REFUSED]
    integration = load(tmp_path, config)
    outcome = integration.classify(Answer(status=200, body=b"KO|TEL_INVALIDE"))
    assert (outcome.reason, outcome.details) == ("invalid_lead", {"invalid_fields": ["phone"]})
    config["answers"][1]["then"]["state"], config["examples"][1]["state"] = "refused", "refused"
    del config["examples"][1]["reason"], config["answers"][1]["then"]["reason"]
    assert "invalid_fields name the lead's fields of an invalid lead" in refusal(tmp_path, config)


def test_the_escaped_rule_loads_and_reads_the_id(tmp_path):
    integration = load(tmp_path, text_customer(r"^OK\|(?P<id>[0-9]+)$", [
        REFUSED, {**ACCEPTED, "reason": "created", "customer_lead_id": "492716"},
        {"status": 200, "body": "KO|DOUBLON", "state": "duplicate"}]))
    runs = run_examples(integration.rules, examples_of(json.loads((tmp_path / "old-form.json").read_text())),
                        "Old form")
    assert [(run.rule, run.got) for run in runs] == [("answers[2]", "refused/HORS_ZONE"),
                                                      ("answers[0]", 'accepted/created id "492716"'),
                                                      ("answers[1]", "duplicate/duplicate")]


@pytest.mark.parametrize(("example", "mistake"), [
    pytest.param({**ACCEPTED, "body": "OK|"}, '$.examples[0] (HTTP 200 "OK|") must be accepted, but no rule '
                 "matches it, which makes it failed/bad_customer_response", id="no-rule-matches"),
    pytest.param({**REFUSED, "reason": "OUT_OF_AREA"}, "must be refused/OUT_OF_AREA, but answers[2] makes it "
                 "refused/HORS_ZONE", id="another-refusal-code"),
    pytest.param({**ACCEPTED, "customer_lead_id": 492716}, 'must be accepted id 492716, but answers[0] makes it '
                 'accepted/created id "492716"', id="the-id-is-text-not-a-number"),
    pytest.param({**REFUSED, "name": "out of zone", "body": "KO|DOUBLON"},
                 '$.examples[0] "out of zone" (HTTP 200 "KO|DOUBLON") must be refused, but answers[1] makes it '
                 "duplicate/duplicate", id="named-example"),
    pytest.param({"status": 503, "body": {"error": "maintenance"}, "state": "failed", "reason": "unauthorized"},
                 '(HTTP 503 {"error":"maintenance"}) must be failed/unauthorized, but no rule matches '
                 "it, which makes it failed/customer_error", id="json-body"),
])
def test_a_wrong_example_names_itself_and_what_the_rules_made_of_it(tmp_path, example, mistake):
    assert mistake in refusal(tmp_path, text_customer(r"^OK\|(?P<id>[0-9]+)$", [example]))


@pytest.mark.parametrize(("example", "mistake"), [
    pytest.param({"status": 200, "body": "OK|1", "state": "accepted", "reason": "duplicate"},
                 "at $.examples[0].reason: 'duplicate' is not one of ['created', 'queued', 'ok']",
                 id="reason-of-another-state"),
    pytest.param({"status": 200, "body": "OK|1"}, "at $.examples[0]: 'state' is a required property",
                 id="no-state"),
    pytest.param({"status": 200, "body": "OK|1", "state": "sold"}, "at $.examples[0].state: 'sold' is not one of",
                 id="unknown-state"),
    pytest.param({"status": 200, "body": "x", "state": "failed", "headers": {"X": "y"}},
                 "'headers' was unexpected", id="the-rules-read-status-and-body-only"),
])
def test_an_example_is_checked_against_the_schema(tmp_path, example, mistake):
    assert mistake in refusal(tmp_path, text_customer(r"^OK\|(?P<id>[0-9]+)$", [example]))


@pytest.mark.parametrize("path", SHIPPED, ids=[path.name for path in SHIPPED])
def test_every_shipped_customer_file_has_a_right_example_for_each_rule(path):
    config = read_config(path)
    variables = {name: "https://customer.example/leads" for name in variables_named(config)}  # a URL, or a secret
    integration = from_env({"WEBHOOK_CONFIG": str(path), **variables})
    runs = run_examples(integration.rules, examples_of(config), integration.customer)
    assert [run.mistake for run in runs if run.mistake] == []
    assert uncovered(integration.rules, runs) == []
    assert {run.example.state for run in runs} >= {"accepted", "refused", "duplicate", "failed"}
