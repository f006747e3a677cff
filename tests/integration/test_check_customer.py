"""`scripts/check_customer.py`, run as a developer runs it: its table, one line per mistake, exit 0 / 1 / 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

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


def check(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True, encoding="utf-8",
                            timeout=60, env={**os.environ, "NO_COLOR": "1", **(env or {})}, cwd=ROOT, check=False)
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


@pytest.mark.parametrize("name", ["acme-json.json", "solaris-form.json"])
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
        "which makes it failed/bad_customer_response"]
    assert result.stdout.rstrip().endswith("2 mistake(s)")


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
])
def test_what_cannot_be_checked_says_so_in_one_line(tmp_path, args, code, stream, text):
    if args[0].startswith("{"):
        args = [write(tmp_path, args[0])]
    result = check(*args)
    assert result.returncode == code
    assert text in getattr(result, stream)


def test_make_runs_it_with_the_file_and_the_stage():
    # --no-print-directory: under `make test` this make is a sub-make, which would print its directory
    dry = subprocess.run(["make", "--no-print-directory", "-n", "check-customer", "FILE=customers/acme-json.json",
                          "STAGE=acme-dev"], capture_output=True, text=True, cwd=ROOT, timeout=30, check=True)
    assert dry.stdout.splitlines()[-1] == ".venv/bin/python scripts/check_customer.py customers/acme-json.json " \
                                          "--stage acme-dev"
    assert os.access(CHECK, os.X_OK)
