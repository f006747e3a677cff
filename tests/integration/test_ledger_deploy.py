"""The ledger's table for `chalice deploy`, proven without an AWS account.

(What `make package` writes for the table is tested with every release stage in test_release_stages.py.)
scripts/ledger_table.py creates the table: here against moto's DynamoDB server, found by boto3 itself through
AWS_ENDPOINT_URL_DYNAMODB, as a real endpoint would be.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scripts import ledger_table
from tests.support.dynamodb import dynamodb_emulator, emulator_client, emulator_environment
from tests.support.project import ROOT

BIN = Path(sys.executable).parent
SCRIPT = ROOT / "scripts" / "ledger_table.py"


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The Makefile as a developer runs it, with this interpreter's tools and without reinstalling the venv."""
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={BIN}", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def test_local_stages_keep_the_ledger_in_a_git_ignored_sqlite_file():
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    local = {name: stage for name, stage in config["stages"].items() if name.endswith("-dev") or name == "dev"}
    assert local and all(stage["environment_variables"]["LEDGER"] == "sqlite:.ledger.sqlite3"
                         for stage in local.values())
    for name in (".ledger.sqlite3", ".ledger.sqlite3-wal", ".ledger.sqlite3-journal"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False).returncode == 0, name


# --- scripts/ledger_table.py, against moto's DynamoDB server ------------------------------------------------------

@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with dynamodb_emulator() as url:
        yield url


class RefusingHandler(BaseHTTPRequestHandler):
    """DynamoDB's answer to a caller whose IAM user may not create tables, the likeliest error of a first deploy."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"__type": "com.amazon.coral.service#AccessDeniedException",
                           "message": "User: arn:aws:iam::123456789012:user/deployer is not authorized to perform: "
                                      "dynamodb:CreateTable"}).encode()
        self.send_response(400)
        self.send_header("Content-Type", "application/x-amz-json-1.0")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base class names it so)
        pass


@pytest.fixture(scope="module")
def refusing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), RefusingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def ledger_table_script(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_create_makes_an_active_on_demand_table_with_ttl_and_says_so_the_second_time(endpoint: str):
    env = emulator_environment(endpoint)
    first = ledger_table_script("create", "--table", "lead-plug-ledger-prod", env=env)
    assert first.returncode == 0, first.stderr
    assert "lead-plug-ledger-prod created" in first.stdout and endpoint in first.stdout

    client = emulator_client(endpoint)
    table = client.describe_table(TableName="lead-plug-ledger-prod")["Table"]
    assert table["TableStatus"] == "ACTIVE"
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    ttl = client.describe_time_to_live(TableName="lead-plug-ledger-prod")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

    second = ledger_table_script("create", "--table", "lead-plug-ledger-prod", env=env)
    assert second.returncode == 0, second.stderr
    assert second.stdout.splitlines() == [
        f"lead-plug-ledger-prod exists already (eu-west-3, {endpoint}): ACTIVE, on-demand, key pk (S), "
        "TTL on expires_at"]
    assert client.list_tables()["TableNames"].count("lead-plug-ledger-prod") == 1


def test_make_ledger_table_runs_the_script_in_the_callers_environment(endpoint: str):
    run = make("ledger-table", "TABLE=lead-plug-ledger-make", env=emulator_environment(endpoint))
    assert run.returncode == 0, run.stdout + run.stderr
    assert "lead-plug-ledger-make created" in run.stdout
    assert emulator_client(endpoint).describe_table(TableName="lead-plug-ledger-make")["Table"]["TableStatus"] == \
        "ACTIVE"
    usage = make("ledger-table", env=emulator_environment(endpoint))
    assert usage.returncode != 0 and "usage: make ledger-table TABLE=" in usage.stdout


def test_create_switches_on_the_ttl_of_an_existing_table_and_refuses_another_key(endpoint: str):
    client = emulator_client(endpoint)
    client.create_table(TableName="ledger-without-ttl", **ledger_table.TABLE_DEFINITION)
    run = ledger_table_script("create", "--table", "ledger-without-ttl", env=emulator_environment(endpoint))
    assert run.returncode == 0, run.stderr
    assert "exists already" in run.stdout and "TTL on expires_at switched on" in run.stdout
    assert client.describe_time_to_live(TableName="ledger-without-ttl")["TimeToLiveDescription"][
        "TimeToLiveStatus"] == "ENABLED"

    client.create_table(TableName="someone-elses", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    refused = ledger_table_script("create", "--table", "someone-elses", env=emulator_environment(endpoint))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.splitlines() == ["ledger_table: table someone-elses exists with key id (HASH, N); the ledger "
                                           "needs pk (HASH, S) alone: delete it or choose another name"]


def test_describe_and_delete(endpoint: str):
    env = emulator_environment(endpoint)
    assert ledger_table_script("create", "--table", "ledger-to-delete", env=env).returncode == 0
    described = ledger_table_script("describe", "--table", "ledger-to-delete", env=env)
    assert described.returncode == 0, described.stderr
    assert "status: ACTIVE, on-demand" in described.stdout and "ttl:    ENABLED on expires_at" in described.stdout

    unconfirmed = ledger_table_script("delete", "--table", "ledger-to-delete", env=env)
    assert unconfirmed.returncode == 2 and "--yes" in unconfirmed.stderr
    deleted = ledger_table_script("delete", "--table", "ledger-to-delete", "--yes", env=env)
    assert deleted.returncode == 0 and "ledger-to-delete deleted" in deleted.stdout
    assert "ledger-to-delete" not in emulator_client(endpoint).list_tables()["TableNames"]
    again = ledger_table_script("delete", "--table", "ledger-to-delete", "--yes", env=env)
    assert again.returncode == 0 and "nothing to delete" in again.stdout
    missing = ledger_table_script("describe", "--table", "ledger-to-delete", env=env)
    assert missing.returncode == 1 and missing.stderr.startswith("ledger_table: no table ledger-to-delete")


@pytest.mark.parametrize(("server", "change", "message"), [
    pytest.param("endpoint", {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}, "no AWS credentials",
                 id="no-credentials"),
    pytest.param("endpoint", {"AWS_DEFAULT_REGION": ""}, "no AWS region", id="no-region"),
    pytest.param("endpoint", {"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:9", "AWS_MAX_ATTEMPTS": "1"},
                 "cannot reach DynamoDB at http://127.0.0.1:9", id="unreachable"),
    pytest.param("refusing", {}, "(AccessDeniedException) when calling the CreateTable operation: User: "
                 "arn:aws:iam::123456789012:user/deployer is not authorized", id="access-denied"),
])
def test_an_error_is_one_line_without_a_traceback(request: pytest.FixtureRequest, server: str,
                                                  change: dict[str, str], message: str):
    env = {name: value for name, value in emulator_environment(request.getfixturevalue(server), **change).items()
           if value}
    run = ledger_table_script("create", "--table", "lead-plug-ledger-errors", env=env)
    assert run.returncode == 1 and run.stdout == ""
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr
    assert run.stderr.startswith("ledger_table: ") and message in run.stderr
