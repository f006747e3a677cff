"""A webhook customer's file is checked when the plug starts: a wrong one is refused naming the mistake."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from dispatcher.contract import validate_lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations import build_integration
from dispatcher.integrations.webhook import PROJECT_ROOT, SCHEMA_PATH, build, from_env, variables_named
from tests.support.leads import make_lead

EXAMPLES = sorted((PROJECT_ROOT / "customers").glob("*.json"))
ACME = json.loads((PROJECT_ROOT / "customers" / "acme-json.json").read_text())
SECRETS = {"ACME_URL": "https://acme.example/v1/leads", "ACME_TOKEN": "t0ken"}


def write(tmp_path: Path, config: object) -> str:
    path = tmp_path / "customer.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config))
    return str(path)


def test_the_schema_is_a_valid_json_schema():
    Draft202012Validator.check_schema(json.loads(SCHEMA_PATH.read_text()))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_shipped_customer_file_is_valid(path):
    config = json.loads(path.read_text())
    url = config["url"]["env"] if isinstance(config["url"], dict) else None
    secrets = {name: "https://x.example/" if name == url else "secret" for name in variables_named(config)}
    integration = build_integration({"CUSTOMER": "webhook", "WEBHOOK_CONFIG": f"customers/{path.name}", **secrets})
    assert integration.rules


def test_a_relative_path_starts_at_the_project_root_which_the_package_carries():
    integration = from_env({"WEBHOOK_CONFIG": "customers/acme-json.json", **SECRETS})
    assert integration.customer == "Acme Solar"
    # Chalice packages vendor/'s contents at the top of the zip, beside dispatcher/ and contracts/
    assert (PROJECT_ROOT / "vendor" / "customers").resolve() == (PROJECT_ROOT / "customers").resolve()


def test_secrets_come_from_the_variables_the_file_names():
    session = from_env({"WEBHOOK_CONFIG": "customers/acme-json.json", **SECRETS}).auth.open(None, None)
    assert (session.base_url, dict(session.headers)) == ("https://acme.example/v1/leads",
                                                          {"Authorization": "Bearer t0ken"})


@pytest.mark.parametrize(("auth", "headers", "params"), [
    pytest.param({"type": "header", "name": "X-Api-Key", "env": "KEY"}, {"X-Api-Key": "s3cret"}, {}, id="header"),
    pytest.param({"type": "header", "name": "Authorization", "prefix": "Token ", "env": "KEY"},
                 {"Authorization": "Token s3cret"}, {}, id="header-with-prefix"),
    pytest.param({"type": "basic", "username": "plug", "password_env": "KEY"},
                 {"Authorization": "Basic cGx1ZzpzM2NyZXQ="}, {}, id="basic"),
    pytest.param({"type": "query", "name": "api_key", "env": "KEY"}, {}, {"api_key": "s3cret"}, id="query"),
    pytest.param({"type": "none"}, {}, {}, id="none"),
])
def test_each_kind_of_authentication(tmp_path, auth, headers, params):
    session = from_env({"WEBHOOK_CONFIG": write(tmp_path, {**ACME, "auth": auth}), **SECRETS, "KEY": "s3cret"}
                       ).auth.open(None, None)
    assert (dict(session.headers), dict(session.params)) == (headers, params)


def mutated(change) -> dict:
    config = copy.deepcopy(ACME)
    change(config)
    return config


@pytest.mark.parametrize(("config", "mistake"), [
    pytest.param("{not json", "not valid JSON (line 1, column 2", id="not-json"),
    pytest.param(mutated(lambda c: c.pop("answers")), "at $: 'answers' is a required property", id="no-answers"),
    pytest.param(mutated(lambda c: c.update(colour="red")), "'colour' was unexpected", id="unknown-key"),
    pytest.param(mutated(lambda c: c["fields"].update(city="adress.city")),
                 "at $.fields.city: 'adress.city' is not a field of the lead", id="typo-in-a-lead-path"),
    pytest.param(mutated(lambda c: c["fields"].update(city={"path": "address.city", "transform": "shout"})),
                 "at $.fields.city.transform: 'shout' is not one of", id="unknown-transform"),
    pytest.param(mutated(lambda c: c["fields"].update(city={"path": "address.city", "separator": "-"})),
                 "at $.fields.city: 'separator' is not one of", id="join-key-on-a-path-field"),
    pytest.param(mutated(lambda c: c.update(auth={"type": "bearer", "token": "abc"})),
                 "at $.auth: 'env' is a required property", id="secret-written-in-the-file"),
    pytest.param(mutated(lambda c: c.update(auth={"type": "bearer", "env": "NOT_SET_ANYWHERE"})),
                 "$.auth names the environment variable NOT_SET_ANYWHERE, which is not set", id="secret-not-set"),
    pytest.param(mutated(lambda c: c.update(url={"env": "NOT_SET_ANYWHERE"})),
                 "$.url names the environment variable NOT_SET_ANYWHERE", id="url-variable-not-set"),
    pytest.param(mutated(lambda c: c.update(url="acme.example/leads")), "at $.url: 'acme.example/leads' does not match",
                 id="url-without-scheme"),
    pytest.param(mutated(lambda c: c["answers"][0]["then"].update(reason="creatd")),
                 "at $.answers[0].then.reason: 'creatd' is not one of ['created', 'queued', 'ok']", id="bad-reason"),
    pytest.param(mutated(lambda c: c["answers"][1]["when"].update(body="(unclosed")),
                 "$.answers[1].when.body: invalid regular expression", id="bad-regex"),
    pytest.param(mutated(lambda c: c["answers"][0]["when"].update(status="6xx")),
                 "at $.answers[0].when.status: '6xx' is not one of", id="bad-status-class"),
    pytest.param(mutated(lambda c: c["answers"][2]["then"].update(reason={"group": "code"})),
                 "$.answers[2].then.reason: group 'code' is not a named group", id="group-without-regex"),
    pytest.param(mutated(lambda c: c["answers"].insert(0, {"when": {"body": "ok"}, "then": {"state": "accepted"}})),
                 "$.answers[0].when.status: a rule that accepts the lead must name the 2xx",
                 id="success-by-regex-alone"),
    pytest.param(mutated(lambda c: c["fields"].update(contact="email")),
                 "'contact' is both a field and the parent of another", id="json-nesting-conflict"),
    pytest.param(mutated(lambda c: c.update(required_fields=["address.zip"])),
                 "at $.required_fields[0]: 'address.zip' is not a field of the lead", id="bad-required-field"),
])
def test_a_wrong_file_is_refused_at_start_naming_the_mistake(tmp_path, config, mistake):
    with pytest.raises(ConfigurationError) as refused:
        from_env({"WEBHOOK_CONFIG": write(tmp_path, config), **SECRETS})
    assert mistake in str(refused.value)
    assert "t0ken" not in str(refused.value)


def test_a_secret_that_cannot_travel_in_a_header_is_refused_at_start(tmp_path):
    with pytest.raises(ConfigurationError, match="ACME_TOKEN holds a non-ASCII character"):
        from_env({"WEBHOOK_CONFIG": write(tmp_path, ACME), **SECRETS, "ACME_TOKEN": "t0ken€"})
    with pytest.raises(ConfigurationError, match="a header holds ASCII without control characters only"):
        from_env({"WEBHOOK_CONFIG": write(tmp_path, {**ACME, "headers": {"X-Source": "Lead\u00a0Plug\n"}}),
                  **SECRETS})


@pytest.mark.parametrize(("environ", "mistake"), [
    pytest.param({}, "CUSTOMER=webhook needs WEBHOOK_CONFIG", id="no-variable"),
    pytest.param({"WEBHOOK_CONFIG": "customers/nope.json"}, "no file at", id="no-file"),
])
def test_the_file_itself_must_be_there(environ, mistake):
    with pytest.raises(ConfigurationError, match=mistake):
        from_env(environ)


@pytest.mark.parametrize(("change", "mistake"), [
    pytest.param({"submitted_on": {"path": "created_at", "date": "%d/%Q/%Y"}},
                 "$.fields.submitted_on.date: '%d/%Q/%Y': %Q is not a date directive", id="unknown-directive"),
    pytest.param({"submitted_on": {"path": "created_at", "date": "le jour"}},
                 "$.fields.submitted_on.date: 'le jour': it has no date directive", id="no-directive"),
    pytest.param({"submitted_on": {"path": "created_at", "date": "%d/%m/%Y", "timezone": "Europe/Pariss"}},
                 "$.fields.submitted_on.timezone: 'Europe/Pariss' is not a time zone", id="unknown-zone"),
    pytest.param({"submitted_on": {"path": "created_at", "timezone": "Europe/Paris"}},
                 "at $.fields.submitted_on: 'date' is a dependency of 'timezone'", id="a-zone-without-a-date"),
])
def test_a_date_field_is_checked_at_start(tmp_path, change, mistake):
    config = copy.deepcopy(ACME)
    config["fields"].update(change)
    with pytest.raises(ConfigurationError) as refused:
        from_env({"WEBHOOK_CONFIG": write(tmp_path, config), **SECRETS})
    assert mistake in str(refused.value)


@pytest.mark.parametrize(("change", "mistake"), [
    pytest.param({"charset": "klingon-1"}, "$.charset: 'klingon-1' is not a charset Python knows", id="unknown"),
    pytest.param({"charset": "iso-8859-1", "fields": {**ACME["fields"], "origin": {"value": "Łódź"}}},
                 "$.fields.origin: the file itself writes text iso8859-1 cannot write", id="a-constant"),
])
def test_a_charset_is_checked_at_start(tmp_path, change, mistake):
    with pytest.raises(ConfigurationError) as refused:
        from_env({"WEBHOOK_CONFIG": write(tmp_path, {**ACME, **change}), **SECRETS})
    assert mistake in str(refused.value)


def test_a_json_body_is_written_in_the_customers_charset_and_says_so():
    config = {**ACME, "charset": "iso-8859-1"}
    integration = build(config, SECRETS, "acme.json")
    request = integration.translate(validate_lead(make_lead(last_name="Dupré"), integration.required_fields))
    assert request.headers["Content-Type"] == "application/json; charset=iso8859-1"
    assert "DUPRÉ".encode("iso-8859-1") in request.form  # one byte for É, not UTF-8's two
    assert json.loads(request.form.decode("iso-8859-1")) == request.details
