"""A release stage's deploy artifacts, derived from the stage alone (its name and its variables in
.chalice/config.json): nothing here is written by hand per stage or per customer.

`sam_merge(stage)` is the merge template `chalice package --merge-template` takes (the alarms and dashboard of
deploy/sam-operations.json included); `terraform_files(stage)` the files that sit beside chalice.tf.json.
What they add to chalice's output (docs/deploying.md):

- the ledger's table: on-demand, key `pk`, TTL on `expires_at`; point-in-time recovery and kept on delete for a
  `-prod` stage. SAM lets CloudFormation name it (the function's LEDGER names it through `Ref`); Terraform names
  it after the stage (`lead-plug-<stage>-ledger`, as config.json's LEDGER says, for `chalice deploy` too);
- the function's log group with a retention (90 days prod, 14 testing);
- the role's only grants, replacing the placeholder .chalice/policy-release.json: its own log group's streams,
  GetItem/PutItem on its table, ssm:GetParameter on exactly the `ssm:` parameters of its variables and
  kms:Decrypt through SSM only, every ARN with the partition, region and account of the stack;
- an alarm on Lambda throttles, the API key and its usage plan (when API_KEY_REQUIRED=true);
- for Terraform, `chalice_override.tf.json`: chalice 1.34 writes `required_version < 1.4.0`, the override
  accepts Terraform 1.4 and later.
Physical names are CloudFormation's or derived from the stack (SAM) or the stage (Terraform), never fixed.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"
SAM_OPERATIONS = ROOT / "deploy" / "sam-operations.json"
TERRAFORM_OPERATIONS = ROOT / "deploy" / "operations.tf.json"
SSM_PREFIX = "ssm:"
LEDGER_ACTIONS = ["dynamodb:GetItem", "dynamodb:PutItem"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
RETENTION_DAYS = {"prod": 90, "testing": 14}
THROTTLES_PERIOD_S = 300
# chalice 1.34's Terraform: `required_version >= 0.12.26, < 1.4.0`; its aws_api_gateway_deployment still sets
# stage_name, which the AWS provider 6 removed: providers stay below 6.
TERRAFORM_VERSION = ">= 1.4.0"
AWS_PROVIDER_VERSION = ">= 3.61.0, < 6.0.0"
NULL_PROVIDER_VERSION = ">= 2, < 4"


class StageError(Exception):
    """The stage cannot be packaged as a release; the message says why."""


def stage_config(stage: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    config = json.loads(CONFIG.read_text(encoding="utf-8")) if config is None else config
    if stage not in config.get("stages", {}):
        raise StageError(f"no stage {stage} in .chalice/config.json (scripts/stages.py writes a customer's)")
    return config["stages"][stage]


def kind_of(stage: str) -> str:
    """`prod` or `testing`: a release stage's last part."""
    kind = stage.rsplit("-", 1)[-1]
    if kind not in RETENTION_DAYS:
        raise StageError(f"{stage} is not a release stage (<customer>-testing or <customer>-prod): it has no "
                         f"ledger table nor alarms to deploy")
    return kind


def variables(stage: str, config: dict[str, Any] | None = None) -> dict[str, str]:
    full = json.loads(CONFIG.read_text(encoding="utf-8")) if config is None else config
    return {**full.get("environment_variables", {}), **stage_config(stage, full)["environment_variables"]}


def ssm_parameters(environ: dict[str, str]) -> list[str]:
    """The SSM parameter names the stage's variables read, without their leading slash (as ARNs spell them)."""
    return sorted({value[len(SSM_PREFIX):].strip().lstrip("/") for value in environ.values()
                   if value.startswith(SSM_PREFIX)})


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# --- SAM ----------------------------------------------------------------------------------------------------

def _arn(service: str, resource: str) -> dict[str, str]:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"}


def sam_statements(environ: dict[str, str]) -> list[dict[str, Any]]:
    statements: list[dict[str, Any]] = [
        {"Sid": "OwnLogGroup", "Effect": "Allow", "Action": LOG_ACTIONS,
         "Resource": {"Fn::GetAtt": ["APIHandlerLogGroup", "Arn"]}},  # its ARN ends in :*, the group's streams
        {"Sid": "LedgerItems", "Effect": "Allow", "Action": LEDGER_ACTIONS,
         "Resource": {"Fn::GetAtt": ["LedgerTable", "Arn"]}},
    ]
    names = ssm_parameters(environ)
    if names:
        statements += [
            {"Sid": "OwnParameters", "Effect": "Allow", "Action": ["ssm:GetParameter"],
             "Resource": [_arn("ssm", f"parameter/{name}") for name in names]},
            {"Sid": "DecryptThroughSsm", "Effect": "Allow", "Action": ["kms:Decrypt"],
             "Resource": _arn("kms", "key/*"),
             "Condition": {"StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}}}},
        ]
    return statements


def sam_merge(stage: str, config: dict[str, Any] | None = None) -> dict[str, Any]:
    """The merge template of this stage: the operations' (alarms, dashboard) and the stage's own resources."""
    kind = kind_of(stage)
    environ = variables(stage, config)
    customer_id = environ.get("CUSTOMER_ID") or environ.get("CUSTOMER", "")
    prod = kind == "prod"
    retain = "Retain" if prod else "Delete"
    table: dict[str, Any] = {
        "Type": "AWS::DynamoDB::Table", "DeletionPolicy": retain, "UpdateReplacePolicy": retain,
        "Properties": {
            "BillingMode": "PAY_PER_REQUEST",
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": prod},
        }}
    resources: dict[str, Any] = {
        "LedgerTable": table,
        "APIHandlerLogGroup": {
            "Type": "AWS::Logs::LogGroup", "DeletionPolicy": "Delete", "UpdateReplacePolicy": "Delete",
            "Properties": {"LogGroupName": {"Fn::Sub": "/aws/lambda/${APIHandler}"},
                           "RetentionInDays": RETENTION_DAYS[kind]}},
        # chalice's role keeps no inline grant: the policy below, which may name the log group (that names the
        # function, that names the role: inline, it would be a circular dependency)
        "ApiHandlerRole": {"Properties": {"Policies": []}},
        "ApiHandlerPolicy": {"Type": "AWS::IAM::Policy", "Properties": {
            "PolicyName": "LeadPlug", "Roles": [{"Ref": "ApiHandlerRole"}],
            "PolicyDocument": {"Version": "2012-10-17", "Statement": sam_statements(environ)}}},
        "APIHandler": {"Properties": {"Environment": {"Variables": {
            "LEDGER": {"Fn::Sub": "dynamodb:${LedgerTable}"}}}}},
        "ThrottlesAlarm": {"Type": "AWS::CloudWatch::Alarm", "Properties": {
            "AlarmName": {"Fn::Sub": "${AWS::StackName}-throttles"},
            "AlarmDescription": "Lambda throttled the plug's function (account or reserved concurrency reached): "
                                "API Gateway answered 502/429 without the plug.",
            "Namespace": "AWS/Lambda", "MetricName": "Throttles", "Statistic": "Sum",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}],
            "Period": THROTTLES_PERIOD_S, "EvaluationPeriods": 1, "Threshold": 1,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold", "TreatMissingData": "notBreaching",
            "AlarmActions": {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]},
            "OKActions": {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}}},
    }
    outputs: dict[str, Any] = {
        "LedgerTableName": {"Value": {"Ref": "LedgerTable"}},
        "LedgerTableArn": {"Value": {"Fn::GetAtt": ["LedgerTable", "Arn"]}},
        "LogGroupName": {"Value": {"Ref": "APIHandlerLogGroup"}},
    }
    if environ.get("API_KEY_REQUIRED", "").lower() == "true":
        resources |= {
            "ApiKey": {"Type": "AWS::ApiGateway::ApiKey", "Properties": {
                "Enabled": True, "Description": {"Fn::Sub": "${AWS::StackName}: the platform's key"}}},
            "UsagePlan": {"Type": "AWS::ApiGateway::UsagePlan", "Properties": {
                "Description": {"Fn::Sub": "${AWS::StackName}: the platform's usage plan"},
                "ApiStages": [{"ApiId": {"Ref": "RestAPI"}, "Stage": {"Ref": "RestAPI.Stage"}}]}},
            "UsagePlanKey": {"Type": "AWS::ApiGateway::UsagePlanKey", "Properties": {
                "KeyId": {"Ref": "ApiKey"}, "KeyType": "API_KEY", "UsagePlanId": {"Ref": "UsagePlan"}}},
        }
        outputs["ApiKeyId"] = {"Value": {"Ref": "ApiKey"},
                               "Description": "aws apigateway get-api-key --include-value --api-key <id>"}
    own = {"Parameters": {"CustomerName": {"Default": customer_id}}, "Resources": resources, "Outputs": outputs}
    operations = json.loads(SAM_OPERATIONS.read_text(encoding="utf-8"))
    return _deep_merge(operations, own)


# --- Terraform ------------------------------------------------------------------------------------------------

def terraform_statements(environ: dict[str, str]) -> list[dict[str, Any]]:
    def arn(service: str, resource: str) -> str:
        return (f"arn:${{data.aws_partition.chalice.partition}}:{service}:${{data.aws_region.chalice.name}}:"
                f"${{data.aws_caller_identity.chalice.account_id}}:{resource}")

    statements: list[dict[str, Any]] = [
        {"sid": "OwnLogGroup", "effect": "Allow", "actions": LOG_ACTIONS,
         "resources": ["${aws_cloudwatch_log_group.api_handler.arn}:*"]},
        {"sid": "LedgerItems", "effect": "Allow", "actions": LEDGER_ACTIONS,
         "resources": ["${aws_dynamodb_table.ledger.arn}"]},
    ]
    names = ssm_parameters(environ)
    if names:
        statements += [
            {"sid": "OwnParameters", "effect": "Allow", "actions": ["ssm:GetParameter"],
             "resources": [arn("ssm", f"parameter/{name}") for name in names]},
            {"sid": "DecryptThroughSsm", "effect": "Allow", "actions": ["kms:Decrypt"],
             "resources": [arn("kms", "key/*")],
             "condition": [{"test": "StringEquals", "variable": "kms:ViaService",
                            "values": ["ssm.${data.aws_region.chalice.name}.amazonaws.com"]}]},
        ]
    return statements


def terraform_files(stage: str, config: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    """{file name: content} to write beside chalice.tf.json (operations.tf.json is copied as it is)."""
    kind = kind_of(stage)
    environ = variables(stage, config)
    prod = kind == "prod"
    ledger_setting = environ.get("LEDGER", "")
    if not ledger_setting.startswith("dynamodb:"):
        raise StageError(f"{stage}: LEDGER must be dynamodb:<table> in a release stage, not {ledger_setting!r}")
    table: dict[str, Any] = {
        "name": ledger_setting.removeprefix("dynamodb:"),
        "billing_mode": "PAY_PER_REQUEST", "hash_key": "pk",
        "attribute": [{"name": "pk", "type": "S"}],
        "ttl": {"attribute_name": "expires_at", "enabled": True},
        "point_in_time_recovery": {"enabled": prod},
        "lifecycle": {"prevent_destroy": prod},
    }
    resources: dict[str, Any] = {
        "aws_dynamodb_table": {"ledger": table},
        "aws_cloudwatch_log_group": {"api_handler": {
            "name": "/aws/lambda/${aws_lambda_function.api_handler.function_name}",
            "retention_in_days": RETENTION_DAYS[kind]}},
        "aws_cloudwatch_metric_alarm": {"throttles": {
            "alarm_name": "${aws_lambda_function.api_handler.function_name}-throttles",
            "alarm_description": "Lambda throttled the plug's function (account or reserved concurrency reached): "
                                 "API Gateway answered 502/429 without the plug.",
            "namespace": "AWS/Lambda", "metric_name": "Throttles", "statistic": "Sum",
            "dimensions": {"FunctionName": "${aws_lambda_function.api_handler.function_name}"},
            "period": THROTTLES_PERIOD_S, "evaluation_periods": 1, "threshold": 1,
            "comparison_operator": "GreaterThanOrEqualToThreshold", "treat_missing_data": "notBreaching",
            "alarm_actions": "${local.alarm_actions}", "ok_actions": "${local.alarm_actions}"}},
    }
    outputs: dict[str, Any] = {"LedgerTableName": {"value": "${aws_dynamodb_table.ledger.name}"},
                               "LedgerTableArn": {"value": "${aws_dynamodb_table.ledger.arn}"}}
    if environ.get("API_KEY_REQUIRED", "").lower() == "true":
        resources |= {
            "aws_api_gateway_api_key": {"platform": {
                "name": "${aws_lambda_function.api_handler.function_name}", "enabled": True}},
            "aws_api_gateway_usage_plan": {"platform": {
                "name": "${aws_lambda_function.api_handler.function_name}",
                "api_stages": [{"api_id": "${aws_api_gateway_rest_api.rest_api.id}",
                                "stage": "${aws_api_gateway_deployment.rest_api.stage_name}"}]}},
            "aws_api_gateway_usage_plan_key": {"platform": {
                "key_id": "${aws_api_gateway_api_key.platform.id}", "key_type": "API_KEY",
                "usage_plan_id": "${aws_api_gateway_usage_plan.platform.id}"}},
        }
        outputs["ApiKeyId"] = {"value": "${aws_api_gateway_api_key.platform.id}"}
    stage_file = {
        "resource": resources,
        "data": {"aws_iam_policy_document": {"api_handler": {"statement": terraform_statements(environ)}}},
        "output": outputs,
    }
    override = {
        "terraform": {"required_version": TERRAFORM_VERSION, "required_providers": {
            "aws": {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION},
            "null": {"source": "hashicorp/null", "version": NULL_PROVIDER_VERSION}}},
        # chalice's role policy (the placeholder policy file) becomes the stage's own grants
        "resource": {"aws_iam_role_policy": {"api_handler_role": {
            "policy": "${data.aws_iam_policy_document.api_handler.json}"}}},
    }
    return {"stage.tf.json": stage_file, "chalice_override.tf.json": override}
