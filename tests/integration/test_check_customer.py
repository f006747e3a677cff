"""`scripts/check_customer.py`, run as a developer runs it: its table, one line per mistake, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.webhook import from_env
from tests.support.example_customer import ExampleCustomer
from tests.support.project import ROOT

CHECK = ROOT / "scripts" / "check_customer.py"
TRAP = {  # an old PHP form answering 200 and text; the accepting rule's `|` is not escaped
    "name": "Old form", "url": {"env": "FORM_URL"}, "auth": {"type": "query", "name": "key", "env": "FORM_KEY"},
    "body": "form", "fields": {"email": "email"},
    "answers": [
        {"when": {"status": 200, "body": "^OK|(?P<id>.+)"}, "then": {"state": "accepted", "lead_id": {"group": "id"}}},
        {"when": {"status": 200, "body": r"^KO\|(?P<code>[A-Z_]+)"},
         "then": {"state": "refused", "reason": {"group": "code"}}},
    ],
    "examples": [{"status": 200, "body": "KO|HORS_ZONE", "state": "refused", "reason": "HORS_ZONE"},
                 {"status": 200, "body": "OK|492716", "state": "accepted", "customer_lead_id": "492716"}],
}


def check(*args: str, env: dict[str, str] | None = None, command: tuple[str, ...] = (sys.executable, str(CHECK)),
          cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([*command, *args], capture_output=True, text=True, encoding="utf-8",
                            timeout=60, env={**os.environ, "NO_COLOR": "1", **(env or {})}, cwd=cwd, check=False)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def rows(stdout: str) -> dict[str, list[str]]:
    """The examples table: `examples[N]` -> the cells after it, split on runs of two spaces."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) == {"-", " "}) + 1
    table = {}
    for line in lines[start:]:
        if not line.startswith(("ok ", "FAIL ")):
            break
        mark, example, *cells = [cell.strip() for cell in line.split("  ") if cell.strip()]
        table[example.split()[0]] = [mark, *cells]
    return table


def write(tmp_path: Path, config: Any) -> str:
    path = tmp_path / "old-form.json"
    path.write_text(config if isinstance(config, str) else json.dumps(config), encoding="utf-8")
    return str(path)


SHIPPED = sorted(path.name for path in (ROOT / "customers").glob("*.json"))


@pytest.mark.parametrize("name", SHIPPED)
def test_a_shipped_file_passes_with_a_row_per_example(name):
    result = check(f"customers/{name}")
    assert result.returncode == 0, result.stdout
    table = rows(result.stdout)
    assert len(table) == len(json.loads((ROOT / "customers" / name).read_text())["examples"])
    assert {row[0] for row in table.values()} == {"ok"}
    assert result.stdout.rstrip().endswith("no mistakes")
    assert "note: variables not checked" in result.stdout


def test_the_trap_is_shown_in_the_table_and_named_in_one_line_per_mistake(tmp_path):
    result = check(write(tmp_path, TRAP))
    assert result.returncode == 1
    table = rows(result.stdout)
    assert table["examples[0]"] == ["FAIL", 'HTTP 200 "KO|HORS_ZONE"', "answers[0]",
                                    'accepted/created id "KO|HORS_ZONE"', "201", "refused/HORS_ZONE"]
    assert table["examples[1]"][0] == "FAIL" and table["examples[1]"][2] == "no rule"
    mistakes = [line for line in result.stdout.splitlines() if line.startswith("old-form.json: ")]
    assert mistakes == [
        'old-form.json: $.examples[0] (HTTP 200 "KO|HORS_ZONE") must be refused/HORS_ZONE, but answers[0] makes it '
        'accepted/created id "KO|HORS_ZONE"',
        'old-form.json: $.examples[1] (HTTP 200 "OK|492716") must be accepted id "492716", but no rule matches it, '
        "which makes it failed/bad_customer_response",
        "old-form.json: $.answers[1] has no example: add the customer's answer it must match, with the outcome it "
        "must give (a rule nothing shows right may take a refusal for a sale)"]
    assert result.stdout.rstrip().endswith("3 mistake(s)")


@pytest.mark.parametrize(("body", "line"), [
    pytest.param("KO|HORS_ZONE", 'HTTP 200 "KO|HORS_ZONE": answers[0] makes it accepted/created id "KO|HORS_ZONE" '
                 "(the plug answers 201)", id="the-refusal-sold"),
    pytest.param("<html>503</html>", 'HTTP 200 "<html>503</html>": answers[0] makes it accepted/created id '
                 '"<html>503</html>" (the plug answers 201)', id="even-an-error-page"),
])
def test_one_answer_can_be_tried(tmp_path, body, line):
    result = check(write(tmp_path, TRAP), "--status", "200", "--body", body)
    assert line in result.stdout.splitlines()
    assert result.returncode == 1  # the file's own examples still fail


def test_one_answer_of_a_right_file():
    result = check("customers/solaris-form.json", "--status", "200", "--body", "ERREUR DOUBLON")
    assert result.returncode == 0
    assert 'HTTP 200 "ERREUR DOUBLON": answers[1] makes it duplicate/duplicate (the plug answers 409)' \
        in result.stdout.splitlines()
    assert "examples[0]" not in result.stdout  # the table is for a run without an answer to try


def test_a_stage_is_checked_for_the_variables_the_file_names():
    assert check("customers/acme-json.json", "--stage", "acme-dev").returncode == 0
    wrong = check("customers/acme-json.json", "--stage", "solaris-dev")
    assert wrong.returncode == 1
    assert wrong.stdout.splitlines()[-4:] == [
        "stage solaris-dev: WEBHOOK_CONFIG is 'customers/solaris-form.json', not this file",
        "acme-json.json: $.url names the environment variable ACME_URL, which is not set in this stage (set it in "
        ".chalice/config.json, or from the vault at release)",
        "acme-json.json: $.auth names the environment variable ACME_TOKEN, which is not set in this stage (set it "
        "in .chalice/config.json, or from the vault at release)",
        "3 mistake(s)"]


def test_the_shells_variables_can_be_checked_instead(tmp_path):
    config = write(tmp_path, {**TRAP, "answers": TRAP["answers"][1:], "examples": TRAP["examples"][:1]})
    good = check(config, "--env", env={"FORM_URL": "https://form.example/lead.php", "FORM_KEY": "k"})
    assert good.returncode == 0, good.stdout
    bad = check(config, "--env", env={"FORM_URL": "form.example/lead.php", "FORM_KEY": "k\u00e9"})
    assert bad.returncode == 1
    assert "old-form.json: $.auth: the environment variable FORM_KEY holds a non-ASCII character; HTTP headers and " \
           "query keys carry ASCII only" in bad.stdout.splitlines()


def test_every_schema_mistake_is_one_line(tmp_path):
    config = {**TRAP, "body": "xml", "examples": [{"status": 200, "body": "x", "state": "sold"}]}
    result = check(write(tmp_path, config))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "note: the format is contracts/webhook-config.schema.json",
        "old-form.json: at $.body: 'xml' is not one of ['json', 'form']",
        "old-form.json: at $.examples[0].state: 'sold' is not one of ['accepted', 'refused', 'duplicate', 'failed']",
        "2 mistake(s)"]


@pytest.mark.parametrize(("args", "code", "stream", "text"), [
    pytest.param(["{not json"], 1, "stdout", "old-form.json: not valid JSON (Expecting property name enclosed in "
                 "double quotes: line 1 column 2 (char 1))", id="not-json"),
    pytest.param(["customers/nope.json"], 2, "stderr", "error: cannot read customers/nope.json: No such file or "
                 "directory", id="no-file"),
    pytest.param(["customers/acme-json.json", "--stage", "nope"], 2, "stderr", "error: no stage 'nope' in "
                 ".chalice/config.json", id="no-stage"),
    pytest.param(["customers/acme-json.json", "--status", "99"], 2, "stderr", "'99' is not an HTTP status",
                 id="not-a-status"),
    pytest.param(["customers/acme-json.json", "--lead", "fixtures/nope.json"], 2, "stderr",
                 "error: cannot read the lead fixtures/nope.json: No such file or directory", id="no-lead"),
])
def test_what_cannot_be_checked_says_so_in_one_line(tmp_path, args, code, stream, text):
    if args[0].startswith("{"):
        args = [write(tmp_path, args[0])]
    result = check(*args)
    assert result.returncode == code
    assert text in getattr(result, stream)


@pytest.mark.parametrize(("variables", "command"), [
    pytest.param([], "customers/acme-json.json", id="no-stage-unless-given"),
    pytest.param(["STAGE=acme-dev"], "customers/acme-json.json --stage acme-dev", id="the-stage-given"),
    pytest.param(["LEAD=fixtures/webhook/acme-json/01-created.json"],
                 "customers/acme-json.json --lead fixtures/webhook/acme-json/01-created.json", id="a-lead-to-preview"),
])
def test_make_runs_it_with_the_file_and_what_was_given(variables, command):
    # --no-print-directory: under `make test` this make is a sub-make, which would print its directory; STAGE
    # is a global of the Makefile (prod for the package targets), so the environment's is dropped here
    environment = {key: value for key, value in os.environ.items() if key not in ("STAGE", "LEAD", "MAKEFLAGS")}
    dry = subprocess.run(["make", "--no-print-directory", "-n", "check-customer", "FILE=customers/acme-json.json",
                          *variables], capture_output=True, text=True, cwd=ROOT, timeout=30, check=True,
                         env=environment)
    assert " ".join(dry.stdout.splitlines()[-1].split()) == f".venv/bin/python scripts/check_customer.py {command}"


@pytest.mark.parametrize("python", ["/usr/bin/python3", None], ids=["the-system-python", "its-shebang"])
def test_it_runs_with_the_projects_interpreter_from_any_directory(tmp_path, python):
    assert os.access(CHECK, os.X_OK)
    if python is not None and not Path(python).exists():
        pytest.skip(f"no {python} on this machine")
    command = (python, str(CHECK)) if python else (str(CHECK),)
    result = check(str(ROOT / "customers" / "acme-json.json"), command=command, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("no mistakes")


A_RULE_PER_MISTAKE = {  # the tools refuse each, naming it: (the change to a right file, the line they print)
    "an unescaped metacharacter": (
        lambda config: config["answers"][0]["when"].update(body="^OK|(?P<id>.+)"),
        'old-form.json: $.examples[1] (HTTP 200 "KO|HORS_ZONE") must be refused/HORS_ZONE, but answers[0] makes it '
        'accepted/created id "KO|HORS_ZONE"'),
    "a rule without an example": (
        lambda config: config["examples"].pop(2),
        "old-form.json: $.answers[1] has no example: add the customer's answer it must match, with the outcome it "
        "must give (a rule nothing shows right may take a refusal for a sale)"),
    "an answer matched by no rule": (
        lambda config: config["examples"].append({"status": 200, "body": "KO-DOUBLON", "state": "duplicate"}),
        'old-form.json: $.examples[3] (HTTP 200 "KO-DOUBLON") must be duplicate, but no rule matches it, which makes '
        "it failed/bad_customer_response"),
}


def right_file() -> dict[str, Any]:
    return {**TRAP, "answers": [
        {"when": {"status": 200, "body": r"^OK\|(?P<id>[0-9]+)$"},
         "then": {"state": "accepted", "lead_id": {"group": "id"}}},
        {"when": {"status": 200, "body": r"^KO\|DOUBLON"}, "then": {"state": "duplicate"}},
        TRAP["answers"][1]],
        "examples": [TRAP["examples"][1], TRAP["examples"][0],
                     {"status": 200, "body": "KO|DOUBLON", "state": "duplicate"}]}


@pytest.mark.parametrize("mistake", A_RULE_PER_MISTAKE)
def test_each_mistake_is_refused_by_the_check_and_at_plug_start(tmp_path, mistake):
    assert check(write(tmp_path, right_file())).returncode == 0
    config = right_file()
    config["examples"] = list(config["examples"])
    change, line = A_RULE_PER_MISTAKE[mistake]
    change(config)
    result = check(write(tmp_path, config))
    assert result.returncode == 1
    assert line in result.stdout.splitlines()
    with pytest.raises(ConfigurationError) as refused:  # and the plug does not start
        from_env({"WEBHOOK_CONFIG": str(tmp_path / "old-form.json"), "FORM_URL": "https://form.example/x",
                  "FORM_KEY": "k"})
    assert str(refused.value).split(" (and ")[0] in result.stdout.splitlines()  # the same line, the first of them


def test_a_json_path_to_an_id_the_real_answer_lacks_is_refused(tmp_path):
    api = {"name": "Api", "url": "https://api.example/leads", "body": "json", "fields": {"email": "email"},
           "answers": [{"when": {"status": 201}, "then": {"state": "accepted", "lead_id": {"json": "data.id"}}}],
           "examples": [{"status": 201, "body": {"lead": {"id": 8841}}, "state": "accepted"}]}  # what they really send
    result = check(write(tmp_path, api))
    assert result.returncode == 1
    assert 'old-form.json: $.examples[0] (HTTP 201 {"lead":{"id":8841}}) must be accepted, but no rule matches it, ' \
           "which makes it failed/bad_customer_response" in result.stdout.splitlines()


def test_the_latin1_duplicate_the_happy_path_rule_would_sell_is_caught(tmp_path):
    # `^<p>.*enregistr.e` matches the success and the duplicate alike: the duplicate's example says so
    config = json.loads((ROOT / "customers" / "maison-verte-form.json").read_text(encoding="utf-8"))
    config["answers"][0]["when"]["body"] = "^<html><body><p>.*enregistr.e(?: sous le n° (?P<id>[0-9]+))?"
    config["answers"][0]["then"] = {"state": "accepted"}
    result = check(write(tmp_path, config))
    assert result.returncode == 1
    assert any(line.startswith('old-form.json: $.examples[1] "already there"') and "answers[0] makes it accepted/ok"
               in line for line in result.stdout.splitlines()), result.stdout


def test_a_lead_is_previewed_as_the_exact_request_with_the_secrets_masked_and_nothing_is_sent(tmp_path):
    with ExampleCustomer() as customer:
        result = check("customers/maison-verte-form.json", "--env", "--lead",
                       "fixtures/webhook/maison-verte-form/01-created.json",
                       env={"MAISON_VERTE_URL": customer.base_url + "/formulaire/envoi.php",
                            "MAISON_VERTE_USER": "leadplug", "MAISON_VERTE_PASSWORD": "s3cret-Pa55"})
        assert customer.journal.requests == []  # nothing was sent
    assert result.returncode == 0, result.stdout
    lines = result.stdout.splitlines()
    assert f"POST {customer.base_url}/formulaire/envoi.php" in lines
    assert "Authorization: Basic ****" in lines
    assert "Content-Type: application/x-www-form-urlencoded" in lines
    body = next(line for line in lines if line.startswith("civilite="))
    assert "nom=LEF%C8VRE" in body and "date_demande=27%2F11%2F2026" in body  # Latin-1, the day in Paris
    assert any(line.startswith("(") and "in iso8859-1; nothing was sent" in line for line in lines)
    assert "s3cret-Pa55" not in result.stdout and "bGVhZHBsdWc6czNjcmV0LVBhNTU=" not in result.stdout


def test_a_lead_the_customer_cannot_take_says_so_and_what_the_plug_answers():
    result = check("customers/maison-verte-form.json", "--lead",
                   "fixtures/webhook/maison-verte-form/05-invalid-latin1-cannot-write-the-name.json")
    assert result.returncode == 0
    assert "the plug answers 400 invalid_lead (invalid: last_name, first_name, address.city) and sends nothing" \
        in result.stdout
