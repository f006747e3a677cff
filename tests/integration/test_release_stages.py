"""The fleet: every shipped release stage packages, cfn-lint accepts it, and the stacks of several customers could
be deployed side by side in one account and region (issue 19: no fixed physical names).

The `releases` fixture (tests/integration/conftest.py) runs scripts/package.py, as `make package STAGE=...`
does, for Salesforce, Zoho and a webhook customer (Acme) in production, and Salesforce's testing stage. No AWS
account is used; no Terraform binary is at hand, so the Terraform files are checked for their shape.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from scripts import stage_templates, stages
from tests.integration.conftest import RELEASES
from tests.support.project import ROOT

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PRODS = [stage for stage in RELEASES if stage.endswith("-prod")]
CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text())
# CloudFormation properties that set a physical name two stacks could both claim
NAME_PROPERTIES = {"TableName", "FunctionName", "LogGroupName", "AlarmName", "DashboardName", "RoleName",
                   "ManagedPolicyName", "Name", "UsagePlanName", "TopicName", "QueueName", "BucketName"}


def sam(out: Path) -> dict[str, Any]:
    return json.loads((out / "package" / "sam.json").read_text())


def terraform(out: Path) -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted((out / "terraform").glob("*.tf.json"))}


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_cfn_lint_accepts_every_release_template_runtime_included(releases: dict[str, Path]):
    paths = [str(out / "package" / "sam.json") for out in releases.values()]
    run = subprocess.run([str(BIN / "cfn-lint"), *paths, "--include-checks", "I"], capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode & (2 | 4) == 0, run.stdout + run.stderr  # bits: 2 error, 4 warning, 8 informational
    for out in releases.values():
        assert sam(out)["Resources"]["APIHandler"]["Properties"]["Runtime"] == "python3.13"


def physical_names(template: dict[str, Any]) -> list[tuple[str, Any]]:
    return [(f"{logical}.{key}", value) for logical, resource in template["Resources"].items()
            for key, value in resource.get("Properties", {}).items() if key in NAME_PROPERTIES]


def stack_local(value: Any) -> bool:
    """A name CloudFormation makes unique per stack: from the stack's name, or from a resource of the stack."""
    text = json.dumps(value)
    return "AWS::StackName" in text or bool(re.search(r'\$\{(?!AWS::)[A-Za-z0-9]+\}|"Ref": "(?!AWS::)', text))


def test_no_sam_stack_claims_a_fixed_physical_name(releases: dict[str, Path]):
    for stage in PRODS:
        fixed = [(where, value) for where, value in physical_names(sam(releases[stage])) if not stack_local(value)]
        assert not fixed, f"{stage}: fixed names {fixed}"
        assert "TableName" not in sam(releases[stage])["Resources"]["LedgerTable"]["Properties"]


def terraform_names(files: dict[str, dict[str, Any]]) -> set[str]:
    """Every `name`-like argument of the Terraform resources, with chalice's function name filled in."""
    function = files["chalice.tf.json"]["resource"]["aws_lambda_function"]["api_handler"]["function_name"]
    reference = "${aws_lambda_function.api_handler.function_name}"
    names = set()
    for content in files.values():
        for kind, blocks in content.get("resource", {}).items():
            for block in blocks.values():
                for key in ("name", "function_name", "alarm_name", "dashboard_name"):
                    value = block.get(key) if key != "function_name" or kind == "aws_lambda_function" else None
                    if isinstance(value, str) and kind not in {"aws_iam_role_policy", "aws_api_gateway_rest_api"}:
                        names.add(f"{kind}:{value.replace(reference, function)}")
    return names


def test_no_two_terraform_stages_claim_the_same_name(releases: dict[str, Path]):
    """Role policies are named within their role, REST APIs may share a name: every other name is the stage's."""
    seen: dict[str, str] = {}
    for stage in PRODS:
        for name in terraform_names(terraform(releases[stage])):
            assert name not in seen, f"{name} is claimed by {seen.get(name)} and {stage}"
            assert stage in name, f"{name}: not derived from the stage"
            seen[name] = stage


def test_the_ledger_table_is_on_demand_with_ttl_and_point_in_time_recovery_in_prod(releases: dict[str, Path]):
    for stage, out in releases.items():
        table = sam(out)["Resources"]["LedgerTable"]
        properties = table["Properties"]
        prod = stage.endswith("-prod")
        assert properties["BillingMode"] == "PAY_PER_REQUEST"
        assert properties["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
        assert properties["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
        assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": prod}
        assert table["DeletionPolicy"] == ("Retain" if prod else "Delete")
        variables = sam(out)["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
        assert variables["LEDGER"] == {"Fn::Sub": "dynamodb:${LedgerTable}"}, "the function names its own table"
        tf_table = terraform(out)["stage.tf.json"]["resource"]["aws_dynamodb_table"]["ledger"]
        assert tf_table["name"] == f"lead-plug-{stage}-ledger"
        assert tf_table["point_in_time_recovery"] == {"enabled": prod}
        tf_function = terraform(out)["chalice.tf.json"]["resource"]["aws_lambda_function"]["api_handler"]
        assert tf_function["environment"]["variables"]["LEDGER"] == f"dynamodb:{tf_table['name']}"


def account_scoped(resource: Any) -> bool:
    text = json.dumps(resource)
    return all(part in text for part in ("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}")) \
        or "Fn::GetAtt" in text


def test_the_role_grants_its_log_group_its_table_and_exactly_its_ssm_parameters(releases: dict[str, Path]):
    for stage, out in releases.items():
        resources = sam(out)["Resources"]
        assert resources["ApiHandlerRole"]["Properties"]["Policies"] == [], "no inline grant (the placeholder)"
        statements = {statement["Sid"]: statement for statement in
                      resources["ApiHandlerPolicy"]["Properties"]["PolicyDocument"]["Statement"]}
        assert resources["ApiHandlerPolicy"]["Properties"]["Roles"] == [{"Ref": "ApiHandlerRole"}]
        assert statements["OwnLogGroup"]["Resource"] == {"Fn::GetAtt": ["APIHandlerLogGroup", "Arn"]}
        assert statements["LedgerItems"]["Resource"] == {"Fn::GetAtt": ["LedgerTable", "Arn"]}
        assert set(statements["LedgerItems"]["Action"]) == {"dynamodb:GetItem", "dynamodb:PutItem"}
        variables = {**CONFIG["environment_variables"], **CONFIG["stages"][stage]["environment_variables"]}
        wanted = sorted(value.removeprefix("ssm:/") for value in variables.values() if value.startswith("ssm:"))
        assert wanted, f"{stage} keeps its secrets in SSM"
        granted = [resource["Fn::Sub"] for resource in statements["OwnParameters"]["Resource"]]
        assert granted == [f"arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{name}"
                           for name in wanted]
        assert statements["OwnParameters"]["Action"] == ["ssm:GetParameter"]
        assert statements["DecryptThroughSsm"]["Condition"]["StringEquals"]["kms:ViaService"] == {
            "Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}
        for statement in statements.values():
            for resource in as_list(statement["Resource"]):
                assert resource != "*" and account_scoped(resource), (stage, statement)
        log_group = resources["APIHandlerLogGroup"]["Properties"]
        assert log_group["LogGroupName"] == {"Fn::Sub": "/aws/lambda/${APIHandler}"}
        assert log_group["RetentionInDays"] == (90 if stage.endswith("-prod") else 14)


def test_terraforms_role_policy_is_the_stages_own(releases: dict[str, Path]):
    files = terraform(releases["zoho-prod"])
    override = files["chalice_override.tf.json"]["resource"]["aws_iam_role_policy"]
    assert set(override) <= set(files["chalice.tf.json"]["resource"]["aws_iam_role_policy"]), \
        "the override names chalice's role policy"
    document = files["stage.tf.json"]["data"]["aws_iam_policy_document"]["api_handler"]["statement"]
    resources = [resource for statement in document for resource in statement["resources"]]
    assert "${aws_cloudwatch_log_group.api_handler.arn}:*" in resources
    assert "${aws_dynamodb_table.ledger.arn}" in resources
    ssm = [resource for resource in resources if ":ssm:" in resource]
    assert [resource.rsplit("parameter/", 1)[1] for resource in ssm] == [
        "lead-plug/zoho-prod/rollbar-access-token", "lead-plug/zoho-prod/zoho-client-id",
        "lead-plug/zoho-prod/zoho-client-secret", "lead-plug/zoho-prod/zoho-refresh-token"]
    assert all("${data.aws_caller_identity.chalice.account_id}" in resource for resource in ssm)


def test_the_terraform_override_accepts_terraform_1_4_and_later(releases: dict[str, Path]):
    """Chalice writes `required_version >= 0.12.26, < 1.4.0`; Terraform merges a *_override.tf.json over it
    (its required_version replaces the original, required_providers merge provider by provider)."""
    files = terraform(releases["salesforce-prod"])
    assert files["chalice.tf.json"]["terraform"]["required_version"].endswith("< 1.4.0"), "chalice still writes it"
    settings = files["chalice_override.tf.json"]["terraform"]
    minimum = re.fullmatch(r">= (\d+)\.(\d+)\.(\d+)", settings["required_version"])
    assert minimum and (int(minimum[1]), int(minimum[2])) <= (1, 4) and "<" not in settings["required_version"]
    assert set(settings["required_providers"]) == set(files["chalice.tf.json"]["terraform"]["required_providers"])
    assert settings["required_providers"]["aws"]["source"] == "hashicorp/aws"


def test_operations_basics_are_in_both_formats(releases: dict[str, Path]):
    for stage in PRODS:
        resources = sam(releases[stage])["Resources"]
        throttles = resources["ThrottlesAlarm"]["Properties"]
        assert (throttles["Namespace"], throttles["MetricName"]) == ("AWS/Lambda", "Throttles")
        assert {"ApiKey", "UsagePlan", "UsagePlanKey"} <= set(resources)
        assert resources["UsagePlan"]["Properties"]["ApiStages"] == [
            {"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}]
        assert "IF(FILL(leads, 0)" in resources["CustomerFailuresAlarm"]["Properties"]["Metrics"][-1]["Expression"]
        assert sam(releases[stage])["Parameters"]["CustomerName"]["Default"] == stage.removesuffix("-prod")
        tf = terraform(releases[stage])["stage.tf.json"]["resource"]
        assert {"aws_api_gateway_api_key", "aws_api_gateway_usage_plan", "aws_api_gateway_usage_plan_key",
                "aws_cloudwatch_log_group", "aws_cloudwatch_metric_alarm"} <= set(tf)


# --- the stages themselves ----------------------------------------------------------------------------------

def test_config_json_holds_the_stages_the_descriptions_make():
    assert stages.main(["--check"]) == 0, "run scripts/stages.py (make stage CUSTOMER=...)"


def test_the_top_level_configuration_names_no_customer():
    top = CONFIG["environment_variables"]
    assert top.get("CUSTOMER") == "", "set empty: a stage without a customer is refused at start"
    customer_specific = [name for name in top if name.split("_")[0] in
                         ("SALESFORCE", "ZOHO", "HUBSPOT", "WEBHOOK", "ACME", "SOLARIS", "LEDGER")]
    assert not customer_specific
    assert set(top) <= {"ROLLBAR_ACCESS_TOKEN", "ROLLBAR_ENVIRONMENT", "CUSTOMER", "CUSTOMER_TIMEOUT_S"}


def test_release_stages_keep_no_secret_in_config_json():
    for name, stage in CONFIG["stages"].items():
        if stages.is_release(name, stage):
            for variable, value in stage["environment_variables"].items():
                if re.search(r"SECRET|TOKEN|PASSWORD|_KEY$", variable) and variable != "API_KEY_REQUIRED":
                    assert value.startswith("ssm:"), f"{name}: {variable} in plain text"


@pytest.mark.parametrize("stage", ["no-such-stage", "zoho-dev"])
def test_make_package_refuses_a_stage_that_is_not_a_release_with_one_line(stage: str, tmp_path: Path):
    run = subprocess.run([sys.executable, str(ROOT / "scripts" / "package.py"), stage, str(tmp_path / "out")],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 1 and len(run.stderr.splitlines()) == 1, run.stderr
    assert stage in run.stderr
    assert not (tmp_path / "out").exists()


def test_an_unknown_stage_fails_at_start_with_one_line():
    """Chalice gives a stage it does not know the top level's variables: CUSTOMER is there, empty."""
    env = {"PATH": "/usr/bin:/bin", **CONFIG["environment_variables"]}
    run = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        "Lead Plug cannot start: CUSTOMER is not set: this stage is not in .chalice/config.json, or names no "
        "customer"]


def test_a_release_description_is_refused_naming_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "broken.json").write_text(json.dumps({"variables": {"X": "1"}}))
    monkeypatch.setattr(stages, "RELEASES", tmp_path)
    monkeypatch.setattr(stages, "ROOT", tmp_path.parent)
    with pytest.raises(stages.DescriptionError, match=r"broken\.json: needs `customer`"):
        stages.described()
    assert stage_templates.kind_of("acme-prod") == "prod"
