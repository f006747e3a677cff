"""The ledger's deploy artifacts (SPEC section 8, issue 12 item 4), proven without an AWS account.

`make package` builds the SAM and Terraform outputs of the prod and testing stages; each must hold the ledger's
table (on-demand, key pk/S, TTL on expires_at) and let the function's role do GetItem and PutItem on that table
and nothing else in DynamoDB; AWS's cfn-lint must find no error in the SAM template. For `chalice deploy`,
scripts/ledger_table.py creates the table: here against moto's DynamoDB server, found by boto3 itself through
AWS_ENDPOINT_URL_DYNAMODB, as a real endpoint would be.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from scripts import ledger_table
from tests.support.dynamodb import dynamodb_emulator, emulator_client, emulator_environment
from tests.support.project import ROOT

STAGES = ("prod", "testing")
LEDGER_ACTIONS = {"dynamodb:GetItem", "dynamodb:PutItem"}
BIN = Path(sys.executable).parent
SCRIPT = ROOT / "scripts" / "ledger_table.py"
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())


def table_name(stage: str) -> str:
    return f"lead-plug-ledger-{stage}"


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The Makefile as a developer runs it, with this interpreter's tools and without reinstalling the venv."""
    return subprocess.run(["make", "--no-print-directory", "-o", ".venv/.installed", f"BIN={BIN}", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=300, check=False)


def as_list(value: str | list[Any]) -> list[Any]:
    return value if isinstance(value, list) else [value]


def dynamodb_statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The statements of a policy document that touch DynamoDB (or any service, through a wildcard)."""
    return [statement for statement in as_list(document["Statement"])
            if any(action == "*" or action.lower().startswith("dynamodb:") for action in as_list(statement["Action"]))]


def assert_ledger_only(statements: list[dict[str, Any]], allowed_resources: list[Any]) -> None:
    """Every DynamoDB grant is GetItem and PutItem on the ledger's table; both actions are granted."""
    assert statements, "no DynamoDB grant at all: the plug could not reach its ledger"
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert set(as_list(statement["Action"])) <= LEDGER_ACTIONS, statement
        for resource in as_list(statement["Resource"]):
            assert resource != "*" and resource in allowed_resources, statement
    assert {action for statement in statements for action in as_list(statement["Action"])} == LEDGER_ACTIONS


@dataclass
class Outputs:
    """What `make package STAGE=<stage>` wrote."""

    sam_path: Path
    sam: dict[str, Any]
    terraform: dict[str, Any]  # chalice.tf.json
    ledger_tf: dict[str, Any]  # ledger.tf.json, copied beside it


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Outputs]:
    built = {}
    for stage in STAGES:
        out = tmp_path_factory.mktemp(f"package-{stage}")
        run = make("package", f"STAGE={stage}", f"OUT={out}")
        assert run.returncode == 0, run.stdout + run.stderr
        built[stage] = Outputs(
            sam_path=out / "package" / "sam.json",
            sam=json.loads((out / "package" / "sam.json").read_text()),
            terraform=json.loads((out / "terraform" / "chalice.tf.json").read_text()),
            ledger_tf=json.loads((out / "terraform" / "ledger.tf.json").read_text()))
        assert (out / "package" / "deployment.zip").is_file() and (out / "terraform" / "deployment.zip").is_file()
    return built


# --- the stages and the files beside them -----------------------------------------------------------------------

@pytest.mark.parametrize("stage", STAGES)
def test_a_deployed_stage_names_its_table_and_its_own_policy_file(stage: str):
    config = CONFIG["stages"][stage]
    assert config["environment_variables"]["LEDGER"] == f"dynamodb:{table_name(stage)}"
    assert config["autogen_policy"] is False, "chalice's generated policy would grant more than the ledger needs"
    policy = json.loads((ROOT / ".chalice" / config["iam_policy_file"]).read_text())
    arn = f"arn:aws:dynamodb:*:*:table/{table_name(stage)}"
    assert_ledger_only(dynamodb_statements(policy), [arn])
    actions = {action for statement in policy["Statement"] for action in as_list(statement["Action"])}
    assert actions == LEDGER_ACTIONS | {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"}


def test_local_stages_keep_the_ledger_in_a_git_ignored_sqlite_file():
    local = {name: stage for name, stage in CONFIG["stages"].items() if name not in STAGES}
    assert local and all(stage["environment_variables"]["LEDGER"] == "sqlite:.ledger.sqlite3"
                         for stage in local.values())
    for name in (".ledger.sqlite3", ".ledger.sqlite3-wal", ".ledger.sqlite3-journal"):
        assert subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False).returncode == 0, name


def test_the_stages_templates_and_policies_differ_by_the_stage_name_only():
    """Two copies per artifact (one per stage) drift apart unnoticed unless something compares them."""
    def without_retention(text: str) -> str:  # testing's table may go with its stack; prod's stays
        return re.sub(r'\s*"(DeletionPolicy|UpdateReplacePolicy)": "\w+",', "", text)

    for prod, testing in ((ROOT / "deploy" / "sam-ledger-prod.json", ROOT / "deploy" / "sam-ledger-testing.json"),
                          (ROOT / ".chalice" / "policy-prod.json", ROOT / ".chalice" / "policy-testing.json")):
        assert without_retention(prod.read_text()).replace("prod", "testing") == without_retention(testing.read_text())
    resources = json.loads((ROOT / "deploy" / "sam-ledger-prod.json").read_text())["Resources"]
    assert resources["LedgerTable"]["DeletionPolicy"] == resources["LedgerTable"]["UpdateReplacePolicy"] == "Retain"


def test_make_package_refuses_a_stage_without_a_ledger(tmp_path: Path):
    run = make("package", "STAGE=dev", f"OUT={tmp_path}")
    assert run.returncode != 0 and "no deploy/sam-ledger-dev.json" in run.stdout + run.stderr
    assert not list(tmp_path.iterdir())


# --- SAM ----------------------------------------------------------------------------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_the_sam_template_holds_the_ledger_table(outputs: dict[str, Outputs], stage: str):
    resources = outputs[stage].sam["Resources"]
    table = resources["LedgerTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    properties = table["Properties"]
    assert properties["TableName"] == table_name(stage)
    assert properties["BillingMode"] == "PAY_PER_REQUEST" and "ProvisionedThroughput" not in properties
    assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert properties["AttributeDefinitions"] == [{"AttributeName": "pk", "AttributeType": "S"}]
    assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert {key: properties[key] for key in ledger_table.TABLE_DEFINITION} == ledger_table.TABLE_DEFINITION
    assert ledger_table.TTL_ATTRIBUTE == "expires_at"
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["LEDGER"] == f"dynamodb:{properties['TableName']}"
    assert set(outputs[stage].sam["Outputs"]) >= {"EndpointURL", "LedgerTableName", "LedgerTableArn"}


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_the_functions_role_may_only_get_and_put_items_of_that_table(outputs: dict[str, Outputs], stage: str):
    resources = outputs[stage].sam["Resources"]
    role_name = resources["APIHandler"]["Properties"]["Role"]["Fn::GetAtt"][0]
    role = resources[role_name]
    assert role["Type"] == "AWS::IAM::Role" and "ManagedPolicyArns" not in role["Properties"]
    ledger_policy = resources["LedgerItemsPolicy"]
    assert ledger_policy["Properties"]["Roles"] == [{"Ref": role_name}], "the merge must attach to the function's role"

    documents = [policy["PolicyDocument"] for policy in role["Properties"]["Policies"]]
    documents += [resource["Properties"]["PolicyDocument"] for resource in resources.values()
                  if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]
    roles = [name for name, resource in resources.items() if resource["Type"] == "AWS::IAM::Role"]
    assert roles == [role_name], "one role, the function's"
    allowed = [{"Fn::GetAtt": ["LedgerTable", "Arn"]}, f"arn:aws:dynamodb:*:*:table/{table_name(stage)}"]
    assert_ledger_only([statement for document in documents for statement in dynamodb_statements(document)], allowed)
    assert {statement["Resource"]["Fn::GetAtt"][0] for statement in dynamodb_statements(
        ledger_policy["Properties"]["PolicyDocument"])} == {"LedgerTable"}


@pytest.mark.slow
def test_cfn_lint_finds_no_error_nor_warning_in_the_sam_templates(outputs: dict[str, Outputs]):
    """Exit code bits of cfn-lint: 2 an error, 4 a warning, 8 an informational finding (asked for, shown only)."""
    paths = [str(outputs[stage].sam_path) for stage in STAGES]
    run = subprocess.run([str(BIN / "cfn-lint"), *paths, "--include-checks", "I"], capture_output=True, text=True,
                         timeout=240, check=False)
    print(run.stdout, run.stderr)
    assert run.returncode & (2 | 4) == 0, run.stdout + run.stderr


# --- Terraform ----------------------------------------------------------------------------------------------------

def references(value: Any) -> set[str]:
    """The `${...}` addresses a Terraform JSON value uses: `type.name` of resources, `data.type.name` of data."""
    found = re.findall(r"\$\{((?:data\.)?[a-z0-9_]+\.[a-z0-9_]+)", json.dumps(value))
    return set(found) - {"path.module"}


def defined(terraform: dict[str, Any]) -> set[str]:
    names = {f"{kind}.{name}" for kind, blocks in terraform.get("resource", {}).items() for name in blocks}
    return names | {f"data.{kind}.{name}" for kind, blocks in terraform.get("data", {}).items() for name in blocks}


@pytest.mark.slow
@pytest.mark.parametrize("stage", STAGES)
def test_the_terraform_output_holds_the_table_and_the_policy(outputs: dict[str, Outputs], stage: str):
    chalice, ledger = outputs[stage].terraform, outputs[stage].ledger_tf
    assert not defined(chalice) & defined(ledger), "terraform refuses a name declared twice"
    assert not set(chalice.get("output", {})) & set(ledger.get("output", {}))
    assert references(ledger) <= defined(chalice) | defined(ledger), "ledger.tf.json names what does not exist"

    table = ledger["resource"]["aws_dynamodb_table"]["ledger"]
    names = chalice["data"]["null_data_source"]["chalice"]["inputs"]
    name = re.sub(r"\$\{data\.null_data_source\.chalice\.outputs\.(\w+)\}", lambda match: names[match[1]],
                  table["name"])
    assert name == table_name(stage)
    function = chalice["resource"]["aws_lambda_function"]["api_handler"]
    assert function["environment"]["variables"]["LEDGER"] == f"dynamodb:{name}"
    assert table["billing_mode"] == "PAY_PER_REQUEST" and "read_capacity" not in table
    assert table["hash_key"] == "pk" and "range_key" not in table
    assert table["attribute"] == [{"name": "pk", "type": "S"}]
    assert table["ttl"] == {"attribute_name": "expires_at", "enabled": True}

    role = re.fullmatch(r"\$\{aws_iam_role\.(\w+)\.arn\}", function["role"])[1]
    assert ledger["resource"]["aws_iam_role_policy"]["ledger_items"]["role"] == f"${{aws_iam_role.{role}.id}}"
    document = ledger["data"]["aws_iam_policy_document"]["ledger_items"]
    statements = [{"Effect": statement["effect"], "Action": statement["actions"], "Resource": statement["resources"]}
                  for statement in document["statement"]]
    assert_ledger_only(statements, ["${aws_dynamodb_table.ledger.arn}"])
    chalice_documents = [json.loads(policy["policy"])
                         for policy in chalice["resource"]["aws_iam_role_policy"].values()]
    assert_ledger_only([statement for doc in chalice_documents for statement in dynamodb_statements(doc)],
                       [f"arn:aws:dynamodb:*:*:table/{name}"])
    assert list(chalice["resource"]["aws_iam_role"]) == [role]


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
