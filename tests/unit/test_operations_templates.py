"""The deploy artifacts' alarms (scripts/operations_templates.py): up to date, and watching what the plug writes."""

from __future__ import annotations

from typing import Any

import pytest

from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings
from dispatcher.reasons import Reason, reasons_with_status
from scripts import operations_templates
from tests.support.emf import datapoints

WATCHED = {
    "CustomerFailuresAlarm": set(reasons_with_status(502)) - {Reason.IN_PROGRESS, Reason.CUSTOMER_PAUSED},
    "CustomerPausedAlarm": {Reason.CUSTOMER_PAUSED},
    "Our500sAlarm": set(reasons_with_status(500)),
}


def test_the_committed_merge_files_are_what_the_generator_writes():
    assert operations_templates.main(["--check"]) == 0, "run scripts/operations_templates.py and commit"


def watched_metrics(alarm: dict[str, Any]) -> list[dict[str, Any]]:
    return [query["MetricStat"]["Metric"] for query in alarm["Properties"]["Metrics"] if "MetricStat" in query]


@pytest.mark.parametrize(("name", "reasons"), list(WATCHED.items()))
def test_each_alarm_counts_the_reasons_of_the_reason_table(name, reasons):
    alarm = operations_templates.sam_template()["Resources"][name]
    counted = {dimension["Value"] for metric in watched_metrics(alarm) for dimension in metric["Dimensions"]
               if dimension["Name"] == "Reason"}
    assert counted == {str(reason) for reason in reasons}
    expression = alarm["Properties"]["Metrics"][-1]
    assert expression["ReturnData"] is True
    summed = [query["Id"] for query in alarm["Properties"]["Metrics"] if query["Id"].startswith("m")]
    assert all(f"FILL({query_id}, 0)" in expression["Expression"] for query_id in summed)


def test_the_customer_failures_alarm_is_a_rate_of_the_customers_leads():
    """Failures over leads (from a minimum of leads on), not an absolute count: a busy customer's few failures
    are no alarm, a quiet customer's every lead failing is."""
    alarm = operations_templates.sam_template()["Resources"]["CustomerFailuresAlarm"]["Properties"]
    leads = next(query for query in alarm["Metrics"] if query["Id"] == "leads")["MetricStat"]["Metric"]
    assert leads["MetricName"] == "Leads" and leads["Dimensions"] == [
        {"Name": "Customer", "Value": {"Ref": "CustomerName"}}]
    expression = alarm["Metrics"][-1]["Expression"]
    assert expression.startswith(f"IF(FILL(leads, 0) >= {operations_templates.FAILURES_MIN_LEADS}, (")
    assert expression.endswith(") / FILL(leads, 0), 0)")
    assert 0 < alarm["Threshold"] < 1


def test_our_500s_also_count_the_functions_own_failures():
    alarm = operations_templates.sam_template()["Resources"]["Our500sAlarm"]
    assert {"Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": "APIHandler"}}]} in watched_metrics(alarm)


@pytest.mark.parametrize("reason", sorted(set().union(*WATCHED.values())))
def test_the_alarms_watch_a_metric_the_plug_writes_for_that_end(reason):
    """The alarm's (namespace, name, dimensions) with the stack's parameters filled in is a datapoint of the
    plug's own line for a lead that ends so: a renamed metric or dimension would leave the alarm blind."""
    settings = MetricsSettings(namespace="LeadPlug", service="lead-plug", customer="acme")
    document = LeadMetrics(settings).document(LeadFacts("failed", reason, None, False, "t"), cold_start=False)
    written = {(point.namespace, point.name, point.dimensions) for point in datapoints(document)}
    parameters = {"MetricsNamespace": "LeadPlug", "CustomerName": "acme"}

    def filled(value: Any) -> Any:
        return parameters[value["Ref"]] if isinstance(value, dict) else value

    resources = operations_templates.sam_template()["Resources"]
    watching = [metric for name in WATCHED for metric in watched_metrics(resources[name])
                if {"Name": "Reason", "Value": reason} in metric["Dimensions"]]
    assert watching
    for metric in watching:
        dimensions = tuple(sorted((item["Name"], filled(item["Value"])) for item in metric["Dimensions"]))
        assert (filled(metric["Namespace"]), metric["MetricName"], dimensions) in written
