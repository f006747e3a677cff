"""The developer's loop, end to end: the two send scripts run as a developer runs them, against the plug
under `chalice local` and the Salesforce sandbox behind it, and their output, tables and exit codes are read.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from sandbox.salesforce import CLIENT_ID, CLIENT_SECRET, SalesforceSandbox
from sandbox.webhook import WebhookSandbox
from scripts import fixtures_lib as lib
from tests.support.customers import acme_env
from tests.support.project import free_port, running_plug

SEND_ONE = lib.ROOT / "scripts" / "send_fixture_to_customer.py"
SEND_ALL = lib.ROOT / "scripts" / "send_all_fixtures_to_customer.py"
EXPECTED = lib.load_expected()
ACME_FIXTURES = str(lib.ROOT / "fixtures" / "webhook" / "acme-json")


def run(script, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(script), *args], capture_output=True, text=True, encoding="utf-8",
                          timeout=120, env={**os.environ, "NO_COLOR": "1"}, check=False)


def table_rows(stdout: str) -> dict[str, list[str]]:
    """The final table of send_all: fixture id -> [mark, status, expected, state/reason, customer id, replayed,
    time]."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if set(line) == {"-", " "}) + 1
    rows = {}
    for line in lines[start:]:
        if not line.strip():
            break
        mark, fixture_id, *rest = line.split()
        rows[fixture_id] = [mark, *rest]
    return rows


@pytest.fixture(params=["off"])
def fresh_customer(request: pytest.FixtureRequest, tmp_path) -> Iterator[tuple[SalesforceSandbox, str]]:
    """A sandbox that has seen no lead yet, and a plug of its own in front of it (LEDGER: the param)."""
    sandbox = SalesforceSandbox().start()
    ledger = f"sqlite:{tmp_path / 'ledger.sqlite3'}" if request.param == "sqlite" else "off"
    environment = {"CUSTOMER": "salesforce", "SALESFORCE_LOGIN_URL": sandbox.base_url,
                   "SALESFORCE_CLIENT_ID": CLIENT_ID, "SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
                   "SALESFORCE_API_VERSION": "v62.0", "CUSTOMER_TIMEOUT_S": "5",
                   "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "test", "LEDGER": ledger}
    try:
        with running_plug(environment, stage="scripts") as plug:
            yield sandbox, plug.url
    finally:
        sandbox.stop()


def test_send_all_with_unique_passes_twice_in_a_row(local_plug, salesforce):
    for _ in range(2):
        result = run(SEND_ALL, "--unique", "--url", local_plug.url)
        assert result.returncode == 0, result.stdout + result.stderr
        rows = table_rows(result.stdout)
        assert list(rows) == list(EXPECTED)  # sent in expected.json's order, every fixture once
        for fixture_id, (mark, status, expected, state_reason, customer_id, *_time) in rows.items():
            wanted = EXPECTED[fixture_id]
            assert (mark, int(status), int(expected)) == ("ok", wanted["status"], wanted["status"]), fixture_id
            assert state_reason == f"{wanted['state']}/{wanted['reason']}"
            if wanted["status"] == 201:  # the ids in the table are the leads the customer created
                assert customer_id in salesforce.leads
        conflicts = [fixture_id for fixture_id, row in rows.items() if row[1] == "409"]
        assert conflicts == [fixture_id for fixture_id, wanted in EXPECTED.items() if wanted["status"] == 409]
        assert f"[{len(EXPECTED)}/{len(EXPECTED)}]" in result.stdout  # progress while it runs
        assert f"All {len(EXPECTED)} answers are as fixtures/expected.json says." in result.stdout


def test_without_a_ledger_or_unique_the_second_run_meets_the_customers_deduplication(fresh_customer):
    sandbox, url = fresh_customer
    first = run(SEND_ALL, "--url", url)
    assert first.returncode == 0, first.stdout + first.stderr
    created = sum(1 for wanted in EXPECTED.values() if wanted["status"] == 201)
    assert len(sandbox.leads) == created
    emails = {lead["Email"] for lead in sandbox.leads.values()}
    assert "elodie.dupre-lefevre@exemple.fr" in emails  # the fixture's own values, not rewritten

    second = run(SEND_ALL, "--url", url)
    assert second.returncode == 1
    rows = table_rows(second.stdout)
    assert all(rows[fixture_id][:2] == ["DIFF", "409"] for fixture_id, wanted in EXPECTED.items()
               if wanted["status"] == 201)
    assert "Run again with --unique." in second.stdout
    assert len(sandbox.leads) == created


def test_send_one_prints_the_status_and_the_envelope(local_plug, salesforce):
    result = run(SEND_ONE, "fr-b2c-solar-lyon", "--unique", "--url", local_plug.url)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"fr-b2c-solar-lyon -> POST {local_plug.url}"
    assert lines[1].startswith("201 Created  accepted/created  customer id 00Q")
    envelope = json.loads("\n".join(lines[lines.index("{"):]))
    assert envelope["customer_lead_id"] in salesforce.leads
    assert envelope["customer_lead_id"] in lines[1]
    assert envelope["request_details"]["LastName"] == "Dupré-Lefèvre"
    assert "Dupré-Lefèvre" in result.stdout  # readable, not \u00e9
    assert envelope["request_details"]["Email"].startswith("elodie.dupre-lefevre+")  # --unique


def test_send_one_shows_an_error_envelope_and_what_a_full_run_expects(local_plug):
    result = run(SEND_ONE, "ma-b2c-solar-casablanca", "--url", local_plug.url)
    assert result.returncode == 0
    assert "406 Not Acceptable  refused/FIELD_CUSTOM_VALIDATION_EXCEPTION" in result.stdout
    assert '"error_message": "Salesforce refused the lead: We only serve leads located in Europe"' in result.stdout

    duplicate = run(SEND_ONE, "fr-b2c-solar-lyon-again", "--unique", "--url", local_plug.url)
    assert duplicate.returncode == 0
    assert "201 Created" in duplicate.stdout  # alone and fresh, the "duplicate" fixture is new to the customer
    assert "note: a full run expects 409 Conflict" in duplicate.stdout


def test_an_unknown_fixture_is_named_with_the_closest_ones():
    result = run(SEND_ONE, "fr-solar-lyon")
    assert result.returncode == 2
    assert result.stderr.startswith("error: No fixture 'fr-solar-lyon' in fixtures/leads or fixtures/invalid.")
    assert "Did you mean fr-b2c-solar-lyon" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


@pytest.mark.parametrize("script", [SEND_ONE, SEND_ALL], ids=["send_one", "send_all"])
def test_a_plug_that_is_not_running_gets_a_clear_message(script):
    url = f"http://127.0.0.1:{free_port()}/send"
    args = ["fr-b2c-minimal"] if script == SEND_ONE else []
    result = run(script, *args, "--url", url)
    assert result.returncode == 2
    assert f"error: Cannot reach the plug at {url} (connection refused). Is it running? Start it with `make run`" \
        in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("script", [SEND_ONE, SEND_ALL, lib.ROOT / "scripts" / "draw_machine.py"],
                         ids=["send_one", "send_all", "draw_machine"])
def test_the_scripts_run_as_commands(script):
    assert os.access(script, os.X_OK)
    assert script.read_text(encoding="utf-8").startswith("#!/usr/bin/env python3\n")


@pytest.fixture(scope="module")
def acme_plug() -> Iterator[tuple[WebhookSandbox, str]]:
    """A webhook customer's sandbox and a plug of its own stage in front of it, as a new customer's work starts."""
    sandbox = WebhookSandbox(dialect="json").start()
    try:
        with running_plug(acme_env(sandbox), stage="acme-scripts") as plug:
            yield sandbox, plug.url
    finally:
        sandbox.stop()


def test_a_customers_own_fixtures_folder_passes_twice_with_unique(acme_plug):
    sandbox, url = acme_plug
    for _ in range(2):
        result = run(SEND_ALL, "--fixtures", ACME_FIXTURES, "--unique", "--url", url)
        assert result.returncode == 0, result.stdout + result.stderr
        rows = table_rows(result.stdout)
        assert {fixture_id: row[1] for fixture_id, row in rows.items()} == {
            "01-created": "201", "02-duplicate": "409", "03-refused-out-of-area": "406",
            "04-invalid-no-postal-code": "400"}  # expected.json's order: the duplicate comes after its original
        assert rows["01-created"][4] in sandbox.leads
        assert "All 4 answers are as fixtures/webhook/acme-json/expected.json says." in result.stdout
    assert len(sandbox.leads) == 2  # one new person per run


def test_send_one_takes_a_fixture_of_the_folder(acme_plug):
    _, url = acme_plug
    result = run(SEND_ONE, "--fixtures", ACME_FIXTURES, "03-refused-out-of-area", "--unique", "--url", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1].startswith("406 Not Acceptable  refused/OUT_OF_AREA")
    typo = run(SEND_ONE, "--fixtures", ACME_FIXTURES, "03-refused", "--url", url)
    assert typo.returncode == 2
    assert typo.stderr.startswith("error: No fixture '03-refused' in fixtures/webhook/acme-json. Did you mean "
                                  "03-refused-out-of-area")


@pytest.mark.parametrize(("make", "message"), [
    pytest.param(lambda folder: None, "error: --fixtures {folder}: no such folder", id="no-folder"),
    pytest.param(lambda folder: folder.mkdir(), "error: {folder}/expected.json is missing", id="no-expected-json"),
    pytest.param(lambda folder: (folder.mkdir(), (folder / "expected.json").write_text("{}"),
                                 (folder / "01-new.json").write_text("{}")),
                 "error: {folder}/expected.json does not say what to expect of 01-new", id="unlisted-fixture"),
])
def test_a_fixtures_folder_that_cannot_be_used_says_why(tmp_path, make, message):
    folder = tmp_path / "bricotoit"
    make(folder)
    result = run(SEND_ALL, "--fixtures", str(folder), "--url", f"http://127.0.0.1:{free_port()}/send")
    assert result.returncode == 2
    assert result.stderr.startswith(message.format(folder=folder))


@pytest.mark.parametrize("fresh_customer", ["sqlite"], indirect=True)
def test_with_a_ledger_the_second_run_without_unique_is_replayed_and_says_so(fresh_customer):
    sandbox, url = fresh_customer
    assert run(SEND_ALL, "--url", url).returncode == 0
    created = len(sandbox.leads)
    second = run(SEND_ALL, "--url", url)
    assert second.returncode == 0, second.stdout + second.stderr  # the same answers as the first time
    rows = table_rows(second.stdout)
    header = next(line for line in second.stdout.splitlines() if "replayed" in line)
    assert "customer id" in header
    replayed = {fixture_id for fixture_id, row in rows.items() if row[5] == "yes"}  # after customer id
    assert replayed == {fixture_id for fixture_id, wanted in EXPECTED.items() if wanted["status"] == 201}
    assert len(sandbox.leads) == created  # nothing new reached the customer


def test_unique_gives_each_lead_a_fresh_id_that_still_names_its_fixture():
    fresh = lib.Uniquifier("7f3a").lead({"id": "fr-b2c-solar-lyon", "email": "a@b.fr", "phone": "+33612345678"})
    assert fresh["id"] == "fr-b2c-solar-lyon-7f3a"
    assert len(lib.Uniquifier("7f3a").lead_id("x" * 64)) == 64
