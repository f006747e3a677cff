#!/usr/bin/env python3
"""Write the alarms (customer failures, a paused customer, our 500s) and the dashboard
into the deploy artifacts' merge files.

    scripts/operations_templates.py            writes deploy/sam-operations.json and deploy/operations.tf.json
    scripts/operations_templates.py --check    exits 1, naming the file, when a committed file is out of date

`make package` merges them into what `chalice package` writes: the SAM file through chalice's
`--merge-template`, the Terraform file by sitting beside chalice.tf.json (Terraform reads every *.tf.json of
its folder; chalice has no merge option for Terraform). Both are written from this one description, so that
their alarms cannot drift apart, and the reasons they watch come from the reason table, never spelled here.

What they hold (docs/operations.md tells how to read them):
- alarm `customer-failures`: a rate, the customer's own failures (the 502 reasons but `in_progress` and
  `customer_paused`, which are the plug's) over the customer's leads, reaches FAILURES_RATE within
  FAILURES_PERIOD_S, once at least FAILURES_MIN_LEADS leads came (one failure of one lead at night is no alarm);
- alarm `customer-paused`: a lead answered `customer_paused` (delivery to the customer is paused);
- alarm `our-500s`: a lead ended with one of our 500 reasons, or the function itself failed (Lambda's Errors:
  a plug that cannot even start answers nothing);
- a dashboard: leads by state, leads by state and reason, the customer's response time (p50/p90/p99), cold
  starts and replays, and the three alarms.
The customer's name is the stack's `CustomerName` parameter in SAM (it also sets the function's
METRICS_CUSTOMER, so the alarms watch what the function writes); Terraform reads it from the function's own
variables (METRICS_CUSTOMER, else CUSTOMER_ID, else CUSTOMER), as the plug does (scripts/package.py sets the
SAM parameter's default to the stage's CUSTOMER_ID).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dispatcher.metrics import (  # noqa: E402
    COLD_START,
    CUSTOMER,
    DEFAULT_NAMESPACE,
    LEADS,
    REASON,
    REPLAYS,
    RESPONSE_TIME,
    STATE,
)
from dispatcher.reasons import ENDINGS, Reason, reasons_with_status  # noqa: E402

SAM_FILE = ROOT / "deploy" / "sam-operations.json"
TERRAFORM_FILE = ROOT / "deploy" / "operations.tf.json"

FAILED = ENDINGS[Reason.CUSTOMER_ERROR].state
# The 502s that are the customer's doing; `in_progress` and `customer_paused` are the plug's own answers.
CUSTOMER_FAILURES = [reason for reason in reasons_with_status(ENDINGS[Reason.CUSTOMER_ERROR].status)
                     if reason not in (Reason.IN_PROGRESS, Reason.CUSTOMER_PAUSED)]
OUR_500S = reasons_with_status(ENDINGS[Reason.INTERNAL_ERROR].status)
FAILURES_RATE, FAILURES_MIN_LEADS, FAILURES_PERIOD_S = 0.2, 5, 300
PAUSED_PERIOD_S = 60
OUR_500S_PERIOD_S = 300
DASHBOARD_PERIOD_S = 300


@dataclass(frozen=True)
class Alarm:
    """One alarm: the sum of some metrics over a period (or that sum over the customer's leads, when
    `rate`), at or above a threshold."""

    key: str  # the resource's name, e.g. customer_failures
    title: str
    description: str
    reasons: list[str]  # Leads{Customer, State=failed, Reason} counted
    period_s: int
    threshold: float
    lambda_errors: bool = False  # also count the function's own failures (AWS/Lambda Errors)
    rate: bool = False  # divided by Leads{Customer}, counted from FAILURES_MIN_LEADS leads on


ALARMS = [
    Alarm("customer_failures", "customer-failures",
          f"The customer failed {FAILURES_RATE:.0%} of its leads or more in {FAILURES_PERIOD_S // 60} minutes, "
          f"at least {FAILURES_MIN_LEADS} leads (502: {', '.join(CUSTOMER_FAILURES)}).", CUSTOMER_FAILURES,
          FAILURES_PERIOD_S, FAILURES_RATE, rate=True),
    Alarm("customer_paused", "customer-paused",
          f"Delivery to the customer is paused: leads answer 502 {Reason.CUSTOMER_PAUSED.value}.",
          [Reason.CUSTOMER_PAUSED.value], PAUSED_PERIOD_S, 1),
    Alarm("our_500s", "our-500s",
          f"The plug answered 500 ({', '.join(OUR_500S)}) or its function failed: our bug, not the customer's.",
          OUR_500S, OUR_500S_PERIOD_S, 1, lambda_errors=True),
]


@dataclass(frozen=True)
class Names:
    """How each format writes the values it knows only at deploy time, inside a string."""

    namespace: str
    customer: str
    region: str
    alarm_arn: Callable[[Alarm], str]


def _camel(key: str) -> str:
    return "".join(part.capitalize() for part in key.split("_"))


def dashboard_body(names: Names) -> str:
    """The dashboard as CloudWatch reads it (JSON text), with each format's placeholders left inside."""
    schema = f'SCHEMA("{names.namespace}", {CUSTOMER}, {REASON}, {STATE})'
    where = f"WHERE {CUSTOMER} = '{names.customer}'"

    def query(group_by: str) -> list[list[dict[str, Any]]]:
        return [[{"expression": f"SELECT SUM({LEADS}) FROM {schema} {where} GROUP BY {group_by}", "id": "q1",
                  "period": DASHBOARD_PERIOD_S, "label": ""}]]

    def widget(x: int, y: int, title: str, metrics: list[Any], **extra: Any) -> dict[str, Any]:
        properties = {"title": title, "region": names.region, "view": "timeSeries", "period": DASHBOARD_PERIOD_S,
                      "metrics": metrics, **extra}
        return {"type": "metric", "x": x, "y": y, "width": 12, "height": 6, "properties": properties}

    response_time = [[names.namespace, RESPONSE_TIME, CUSTOMER, names.customer, {"stat": stat, "label": stat}]
                     for stat in ("p50", "p90", "p99")]
    starts_and_replays = [[names.namespace, COLD_START, CUSTOMER, names.customer, {"stat": "Sum"}],
                          [names.namespace, REPLAYS, CUSTOMER, names.customer, {"stat": "Sum"}]]
    widgets = [
        widget(0, 0, "Leads by state", query(STATE), stacked=True),
        widget(12, 0, "Leads by state and reason", query(f"{STATE}, {REASON}"), stacked=True),
        widget(0, 6, "Customer response time (ms)", response_time, yAxis={"left": {"min": 0}}),
        widget(12, 6, "Cold starts and replays", starts_and_replays, stat="Sum"),
        {"type": "alarm", "x": 0, "y": 12, "width": 24, "height": 3,
         "properties": {"title": "Alarms", "alarms": [names.alarm_arn(alarm) for alarm in ALARMS]}},
    ]
    return json.dumps({"widgets": widgets}, separators=(",", ":"))


def expression(alarm: Alarm, counted: list[Any]) -> str:
    """The metric math of an alarm: the sum of its counts, or that sum over the customer's leads."""
    total = " + ".join(f"FILL(m{index}, 0)" for index in range(1, len(counted) + 1))
    if not alarm.rate:
        return total
    return f"IF(FILL(leads, 0) >= {FAILURES_MIN_LEADS}, ({total}) / FILL(leads, 0), 0)"


# --- SAM (CloudFormation), merged by `chalice package --merge-template` -----------------------------------

def _sam_alarm(alarm: Alarm) -> dict[str, Any]:
    def leads(reason: str) -> dict[str, Any]:
        dimensions = [{"Name": CUSTOMER, "Value": {"Ref": "CustomerName"}}, {"Name": STATE, "Value": FAILED},
                      {"Name": REASON, "Value": reason}]
        return {"Namespace": {"Ref": "MetricsNamespace"}, "MetricName": LEADS, "Dimensions": dimensions}

    counted = [leads(reason) for reason in alarm.reasons]
    if alarm.lambda_errors:
        counted.append({"Namespace": "AWS/Lambda", "MetricName": "Errors",
                        "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}]})
    queries: list[dict[str, Any]] = [
        {"Id": f"m{index}", "ReturnData": False,
         "MetricStat": {"Metric": metric, "Period": alarm.period_s, "Stat": "Sum"}}
        for index, metric in enumerate(counted, start=1)]
    if alarm.rate:
        queries.append({"Id": "leads", "ReturnData": False, "MetricStat": {"Metric": {
            "Namespace": {"Ref": "MetricsNamespace"}, "MetricName": LEADS,
            "Dimensions": [{"Name": CUSTOMER, "Value": {"Ref": "CustomerName"}}]}, "Period": alarm.period_s,
            "Stat": "Sum"}})
    queries.append({"Id": "total", "Label": alarm.title, "ReturnData": True, "Expression": expression(alarm, counted)})
    actions = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": {"Fn::Sub": f"${{AWS::StackName}}-{alarm.title}"},
        "AlarmDescription": alarm.description,
        "Metrics": queries,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "Threshold": alarm.threshold,
        "EvaluationPeriods": 1,
        "TreatMissingData": "notBreaching",
        "AlarmActions": actions,
        "OKActions": actions,
    }}


def sam_template() -> dict[str, Any]:
    names = Names(namespace="${MetricsNamespace}", customer="${CustomerName}", region="${AWS::Region}",
                  alarm_arn=lambda alarm: f"${{{_camel(alarm.key)}Alarm.Arn}}")
    resources: dict[str, Any] = {
        # Merged into chalice's function: its metrics carry the names the alarms watch.
        "APIHandler": {"Properties": {"Environment": {"Variables": {
            "METRICS_NAMESPACE": {"Ref": "MetricsNamespace"}, "METRICS_CUSTOMER": {"Ref": "CustomerName"}}}}},
        **{f"{_camel(alarm.key)}Alarm": _sam_alarm(alarm) for alarm in ALARMS},
        "OperationsDashboard": {"Type": "AWS::CloudWatch::Dashboard", "Properties": {
            "DashboardName": {"Fn::Sub": "${AWS::StackName}-operations"},
            "DashboardBody": {"Fn::Sub": dashboard_body(names)}}},
    }
    return {
        "Parameters": {
            "CustomerName": {"Type": "String", "MinLength": 1, "MaxLength": 255, "Description":
                             "The customer this deployment serves, as its metrics name it (Customer dimension); "
                             "sets the function's METRICS_CUSTOMER."},
            "MetricsNamespace": {"Type": "String", "Default": DEFAULT_NAMESPACE, "Description":
                                 "The CloudWatch namespace of the plug's metrics; sets METRICS_NAMESPACE."},
            "AlarmTopicArn": {"Type": "String", "Default": "", "Description":
                              "An SNS topic the alarms notify (empty: the alarms notify nobody)."},
        },
        "Conditions": {"HasAlarmTopic": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmTopicArn"}, ""]}]}},
        "Resources": resources,
        "Outputs": {"OperationsDashboardName": {"Value": {"Ref": "OperationsDashboard"}}},
    }


# --- Terraform, beside chalice.tf.json ------------------------------------------------------------------

def _terraform_alarm(alarm: Alarm) -> dict[str, Any]:
    def leads(reason: str) -> dict[str, Any]:
        return {"namespace": "${local.metrics_namespace}", "metric_name": LEADS, "period": alarm.period_s,
                "stat": "Sum", "dimensions": {CUSTOMER: "${local.metrics_customer}", STATE: FAILED, REASON: reason}}

    counted = [leads(reason) for reason in alarm.reasons]
    if alarm.lambda_errors:
        function = {"FunctionName": "${aws_lambda_function.api_handler.function_name}"}
        counted.append({"namespace": "AWS/Lambda", "metric_name": "Errors", "period": alarm.period_s,
                        "stat": "Sum", "dimensions": function})
    queries: list[dict[str, Any]] = [{"id": f"m{index}", "return_data": False, "metric": metric}
                                     for index, metric in enumerate(counted, start=1)]
    if alarm.rate:
        queries.append({"id": "leads", "return_data": False, "metric": {
            "namespace": "${local.metrics_namespace}", "metric_name": LEADS, "period": alarm.period_s, "stat": "Sum",
            "dimensions": {CUSTOMER: "${local.metrics_customer}"}}})
    queries.append({"id": "total", "label": alarm.title, "return_data": True, "expression": expression(alarm, counted)})
    return {
        "alarm_name": f"${{aws_lambda_function.api_handler.function_name}}-{alarm.title}",
        "alarm_description": alarm.description,
        "metric_query": queries,
        "comparison_operator": "GreaterThanOrEqualToThreshold",
        "threshold": alarm.threshold,
        "evaluation_periods": 1,
        "treat_missing_data": "notBreaching",
        "alarm_actions": "${local.alarm_actions}",
        "ok_actions": "${local.alarm_actions}",
    }


def terraform_template() -> dict[str, Any]:
    names = Names(namespace="${local.metrics_namespace}", customer="${local.metrics_customer}",
                  region="${data.aws_region.chalice.name}",
                  alarm_arn=lambda alarm: f"${{aws_cloudwatch_metric_alarm.{alarm.key}.arn}}")
    variables = "aws_lambda_function.api_handler.environment[0].variables"
    return {
        "variable": {"alarm_topic_arn": {"type": "string", "default": "",
                                         "description": "An SNS topic the alarms notify (empty: nobody)."}},
        "locals": {
            # The names the function's metrics carry, read from its own variables as dispatcher/metrics.py does.
            "metrics_namespace": f'${{coalesce(trimspace(lookup({variables}, "METRICS_NAMESPACE", "")), '
                                 f'"{DEFAULT_NAMESPACE}")}}',
            "metrics_customer": f'${{coalesce(trimspace(lookup({variables}, "METRICS_CUSTOMER", "")), '
                                f'lower(trimspace(lookup({variables}, "CUSTOMER_ID", ""))), '
                                f'lower(trimspace(lookup({variables}, "CUSTOMER", ""))), "unset")}}',
            "alarm_actions": '${var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]}',
        },
        "resource": {
            "aws_cloudwatch_metric_alarm": {alarm.key: _terraform_alarm(alarm) for alarm in ALARMS},
            "aws_cloudwatch_dashboard": {"operations": {
                "dashboard_name": "${aws_lambda_function.api_handler.function_name}-operations",
                "dashboard_body": dashboard_body(names)}},
        },
        "output": {"OperationsDashboardName": {"value": "${aws_cloudwatch_dashboard.operations.dashboard_name}"}},
    }


def rendered() -> dict[Path, str]:
    """Each file's text as it must be committed."""
    return {path: json.dumps(template, indent=2) + "\n"
            for path, template in ((SAM_FILE, sam_template()), (TERRAFORM_FILE, terraform_template()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = parser.parse_args(argv)
    stale = []
    for path, text in rendered().items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
        else:
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    for path in stale:
        print(f"{path.relative_to(ROOT)} is out of date: run scripts/operations_templates.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
