"""The metrics' settings and documents (dispatcher/metrics.py), without the app: names, the replay hook, threads."""

from __future__ import annotations

import threading

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings
from tests.support.emf import by_name, datapoints

SETTINGS = MetricsSettings(namespace="LeadPlug", service="lead-plug", customer="salesforce")


def facts(**overrides: object) -> LeadFacts:
    values: dict = {"state": "accepted", "reason": "created", "response_ms": 120.5, "replayed": False,
                    "trace_id": "trace-1"}
    return LeadFacts(**{**values, **overrides})


def test_the_defaults_name_the_deployment_by_its_customer():
    settings = MetricsSettings.from_environ({"CUSTOMER": " Salesforce "})
    assert settings == MetricsSettings(namespace="LeadPlug", service="lead-plug", customer="salesforce")


def test_the_configuration_overrides_every_name():
    settings = MetricsSettings.from_environ({"CUSTOMER": "webhook", "METRICS_CUSTOMER": "Acme Solar",
                                             "METRICS_NAMESPACE": "Sales/LeadPlug", "METRICS_SERVICE": "plug-acme"})
    assert settings == MetricsSettings(namespace="Sales/LeadPlug", service="plug-acme", customer="Acme Solar")


@pytest.mark.parametrize("namespace", [
    pytest.param("AWS/Lambda", id="aws-reserved"),
    pytest.param("Lead Plug", id="space"),
    pytest.param("x" * 256, id="too-long"),
])
def test_a_namespace_cloudwatch_would_refuse_stops_the_plug_naming_the_variable(namespace):
    with pytest.raises(ConfigurationError, match="METRICS_NAMESPACE"):
        MetricsSettings.from_environ({"CUSTOMER": "salesforce", "METRICS_NAMESPACE": namespace})


def test_a_replayed_answer_is_counted_as_a_replay_of_its_customer():
    metrics = LeadMetrics(SETTINGS)
    replayed = by_name(metrics.document(facts(replayed=True), cold_start=False))
    delivered = by_name(metrics.document(facts(), cold_start=False))
    customer = (("Customer", SETTINGS.customer),)
    assert replayed["Replays"][customer].values == (1.0,)
    assert delivered["Replays"][customer].values == (0.0,)


def test_dimensions_are_only_customer_state_and_reason():
    document = LeadMetrics(SETTINGS).document(facts(), cold_start=True)
    names = {name for point in datapoints(document) for name, _ in point.dimensions}
    assert names == {"Customer", "State", "Reason"}
    assert {point.name for point in datapoints(document)} == {"Leads", "ResponseTime", "ColdStart", "Replays"}


def test_a_blank_customer_code_still_makes_a_valid_dimension():
    document = LeadMetrics(SETTINGS).document(facts(state="refused", reason="  "), cold_start=False)
    assert all(value.strip() for point in datapoints(document) for _, value in point.dimensions)


def test_leads_measured_at_once_on_threads_keep_their_own_outcome():
    metrics = LeadMetrics(SETTINGS)
    mixed: list[str] = []
    start = threading.Barrier(4)

    def measure(reason: str) -> None:
        start.wait()
        for _ in range(200):
            document = metrics.document(facts(state="refused", reason=reason), cold_start=False)
            if document["Reason"] != reason or len(document["Leads"]) != 1:
                mixed.append(reason)

    threads = [threading.Thread(target=measure, args=(f"CODE_{index}",)) for index in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert mixed == []


def test_each_lead_writes_its_own_values_into_its_outcomes_directive():
    metrics = LeadMetrics(SETTINGS)
    first = metrics.document(facts(response_ms=10.0), cold_start=False)
    second = metrics.document(facts(response_ms=20.0, trace_id="trace-2"), cold_start=False)
    assert (first["ResponseTime"], second["ResponseTime"]) == ([10.0], [20.0])
    assert (first["trace_id"], second["trace_id"]) == ("trace-1", "trace-2")
    untimed = by_name(metrics.document(facts(state="failed", reason="invalid_lead", response_ms=None),
                                       cold_start=False))
    assert "ResponseTime" not in untimed


def test_a_customer_inventing_codes_is_still_measured_right_past_what_is_kept(monkeypatch):
    monkeypatch.setattr("dispatcher.metrics.MAX_OUTCOMES_KEPT", 3)
    metrics = LeadMetrics(SETTINGS)
    for index in range(10):
        document = metrics.document(facts(state="refused", reason=f"CODE_{index}"), cold_start=False)
        assert by_name(document)["Leads"][(("Customer", "salesforce"), ("Reason", f"CODE_{index}"),
                                           ("State", "refused"))].values == (1.0,)
    assert len(metrics._outcomes) == 3
