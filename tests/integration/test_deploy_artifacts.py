"""The alarms and the dashboard in what `chalice package` writes, SAM and Terraform alike.

The SAM template is the one `make package` builds (the `package` fixture merges deploy/sam-operations.json) and
cfn-lint must find no error in it. No Terraform binary is at hand here: the Terraform files are checked for
what would break a plan (a reference to nothing, a dashboard that is not JSON).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

CFN_LINT = str(Path(sys.executable).parent / "cfn-lint")
ALARMS = {"CustomerFailuresAlarm", "CustomerPausedAlarm", "Our500sAlarm"}


def cfn_lint(template: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([CFN_LINT, "--format", "parseable", str(template)], capture_output=True, text=True,
                          timeout=300, check=False)


@pytest.fixture(scope="module")
def sam(package: Path) -> dict[str, Any]:
    return json.loads((package.parent / "sam.json").read_text(encoding="utf-8"))


def test_cfn_lint_finds_nothing_wrong_in_the_sam_template(package: Path):
    linted = cfn_lint(package.parent / "sam.json")
    # cfn-lint's exit code is a bit mask: 2 errors, 4 warnings, 8 informational.
    assert linted.returncode & 2 == 0, linted.stdout + linted.stderr
    assert linted.returncode == 0, f"warnings:\n{linted.stdout}"


def test_cfn_lint_reads_the_merged_resources(sam: dict[str, Any], tmp_path: Path):
    """A mistake in a merged alarm is caught: the linter does not skip what the merge added."""
    broken = json.loads(json.dumps(sam))
    broken["Resources"]["Our500sAlarm"]["Properties"]["Threshold"] = "one"
    broken["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"] += "${NoSuchParameter}"
    (tmp_path / "sam.json").write_text(json.dumps(broken))
    linted = cfn_lint(tmp_path / "sam.json")
    assert linted.returncode & 2, linted.stdout
    assert "Our500sAlarm" in linted.stdout and "OperationsDashboard" in linted.stdout


def test_the_merge_adds_alarms_and_a_dashboard_and_keeps_chalices_function(sam: dict[str, Any]):
    resources = sam["Resources"]
    assert ALARMS | {"OperationsDashboard", "APIHandler", "RestAPI"} <= set(resources)
    assert {resources[name]["Type"] for name in ALARMS} == {"AWS::CloudWatch::Alarm"}
    variables = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert variables["CUSTOMER"] == "salesforce", "the stage's own variables are still there"
    assert variables["METRICS_CUSTOMER"] == {"Ref": "CustomerName"}
    assert variables["METRICS_NAMESPACE"] == {"Ref": "MetricsNamespace"}
    assert resources["APIHandler"]["Properties"]["CodeUri"] == "./deployment.zip"


def test_the_dashboard_is_json_once_cloudformation_substituted_its_names(sam: dict[str, Any]):
    body = sam["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    names = set(re.findall(r"\$\{([^}]+)\}", body))
    assert names == {"MetricsNamespace", "CustomerName", "AWS::Region", *(f"{alarm}.Arn" for alarm in ALARMS)}
    for name in names:
        body = body.replace("${" + name + "}", "arn:aws:cloudwatch:x" if name.endswith(".Arn") else "value")
    widgets = json.loads(body)["widgets"]
    titles = [widget["properties"]["title"] for widget in widgets]
    assert titles == ["Leads by state", "Leads by state and reason", "Customer response time (ms)",
                      "Cold starts and replays", "Alarms"]


# --- Terraform --------------------------------------------------------------------------------------------

def terraform_files(folder: Path) -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.tf.json"))}


def test_terraform_gets_the_same_alarms_and_a_dashboard(terraform_package: Path, sam: dict[str, Any]):
    files = terraform_files(terraform_package)
    assert set(files) == {"chalice.tf.json", "operations.tf.json", "stage.tf.json", "chalice_override.tf.json"}
    operations = files["operations.tf.json"]["resource"]
    alarms = operations["aws_cloudwatch_metric_alarm"]
    assert set(alarms) == {"customer_failures", "customer_paused", "our_500s"}
    sam_alarms = {name: sam["Resources"][name]["Properties"] for name in ALARMS}
    for key, alarm in alarms.items():
        twin = sam_alarms["".join(part.capitalize() for part in key.split("_")) + "Alarm"]
        assert alarm["threshold"] == twin["Threshold"]
        assert [query.get("expression") for query in alarm["metric_query"]] == \
            [query.get("Expression") for query in twin["Metrics"]]
        assert [query["metric"]["dimensions"].get("Reason") for query in alarm["metric_query"] if "metric" in query] \
            == [next((d["Value"] for d in query["MetricStat"]["Metric"]["Dimensions"] if d["Name"] == "Reason"), None)
                for query in twin["Metrics"] if "MetricStat" in query]
    assert "aws_cloudwatch_dashboard" in operations


def test_every_terraform_reference_names_something_defined(terraform_package: Path):
    files = terraform_files(terraform_package)
    defined = {f"var.{name}" for tf in files.values() for name in tf.get("variable", {})}
    defined |= {f"local.{name}" for tf in files.values() for name in tf.get("locals", {})}
    defined |= {f"{kind}.{name}" for tf in files.values() for kind, items in tf.get("resource", {}).items()
                for name in items}
    defined |= {f"data.{kind}.{name}" for tf in files.values() for kind, items in tf.get("data", {}).items()
                for name in items}
    text = json.dumps(files["operations.tf.json"])
    references = set(re.findall(r"\b((?:var|local)\.\w+|data\.\w+\.\w+|aws_\w+\.[\w-]+)", text))
    assert references, "the file refers to chalice's function and to its own names"
    assert references <= defined, f"undefined: {sorted(references - defined)}"
    assert "aws_lambda_function.api_handler" in references


def test_terraforms_dashboard_is_json_once_its_names_are_filled(terraform_package: Path):
    operations = terraform_files(terraform_package)["operations.tf.json"]
    body = operations["resource"]["aws_cloudwatch_dashboard"]["operations"]["dashboard_body"]
    assert "%{" not in body, "a Terraform template directive would be read in the body"
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "value", body))["widgets"]
    assert len(widgets) == 5
