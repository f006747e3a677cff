"""Every lead writes one Embedded Metric Format line, read back here as CloudWatch would read it.

Each outcome of the journey runs through the app in process; its line is parsed into datapoints (name, unit,
dimensions, values) by tests/support/emf.py, which also fails on a line CloudWatch would reject.
"""

from __future__ import annotations

import json

import pytest

from dispatcher import integrations
from dispatcher.metrics import LeadMetrics
from tests.conftest import salesforce_env
from tests.support.emf import by_name, datapoints, metric_documents
from tests.support.faulty import FaultyCustomer
from tests.support.leads import make_lead
from tests.support.project import free_port

NAMESPACE = "LeadPlug"


def one_document(caplog: pytest.LogCaptureFixture) -> dict:
    documents = metric_documents(caplog)
    assert len(documents) == 1, f"one metric line per lead, got {len(documents)}"
    return documents[0]


def outcome_of(document: dict, customer: str = "salesforce", namespace: str = NAMESPACE) -> dict:
    """The lead's Leads count in both of its dimension sets, and what else the line measures."""
    metrics = by_name(document)
    leads = metrics["Leads"]
    assert len(leads) == 2, "Leads by (customer, state, reason) and by customer"
    full = next(point for dims, point in leads.items() if len(dims) == 3)
    assert leads[(("Customer", customer),)].values == (1.0,)
    assert full.values == (1.0,) and full.unit == "Count" and full.namespace == namespace
    dims = dict(full.dimensions)
    assert dims["Customer"] == customer
    return {"state": dims["State"], "reason": dims["Reason"], "metrics": metrics}


def assert_response_time(metrics: dict, customer: str = "salesforce") -> float:
    times = metrics["ResponseTime"]
    assert {len(dims) for dims in times} == {1, 3}, "ResponseTime by customer and by outcome"
    point = times[(("Customer", customer),)]
    assert point.unit == "Milliseconds" and len(point.values) == 1 and point.values[0] > 0
    return point.values[0]


def assert_no_lead_data(document: dict, lead: dict) -> None:
    text = json.dumps(document, ensure_ascii=False)
    for value in (lead["id"], lead["email"], lead["phone"], lead["last_name"]):
        assert value not in text


def test_an_accepted_lead_is_counted_with_the_customers_response_time(plug, caplog):
    lead = make_lead()
    assert plug.post(lead)[0] == 201
    document = one_document(caplog)
    outcome = outcome_of(document)
    assert (outcome["state"], outcome["reason"]) == ("accepted", "created")
    assert 0 < assert_response_time(outcome["metrics"]) < 5000
    replays = (("Customer", "salesforce"),)
    assert outcome["metrics"]["Replays"] == {replays: datapoints(document)[-1]}, "replays name their customer"
    assert outcome["metrics"]["Replays"][replays].values == (0.0,), "a delivered lead is no replay"
    assert_no_lead_data(document, lead)


@pytest.mark.parametrize(("overrides", "status", "state", "reason"), [
    pytest.param({"address": {"street": "1 Main St", "city": "Austin", "country": "US"}}, 406, "refused",
                 "FIELD_CUSTOM_VALIDATION_EXCEPTION", id="refused"),
    pytest.param({"email": "sandbox+error500@exemple.fr"}, 502, "failed", "customer_error", id="customer-5xx"),
])
def test_an_answered_lead_is_counted_by_state_and_reason_with_its_response_time(plug, caplog, overrides, status,
                                                                                state, reason):
    lead = make_lead(**overrides)
    assert plug.post(lead)[0] == status
    outcome = outcome_of(one_document(caplog))
    assert (outcome["state"], outcome["reason"]) == (state, reason)
    assert_response_time(outcome["metrics"])


def test_a_duplicate_is_counted_as_one(plug, caplog):
    first = make_lead()
    assert plug.post(first)[0] == 201
    caplog.clear()
    assert plug.post({**first, "id": first["id"] + "-again"})[0] == 409
    outcome = outcome_of(one_document(caplog))
    assert (outcome["state"], outcome["reason"]) == ("duplicate", "duplicate")
    assert_response_time(outcome["metrics"])


def test_an_invalid_lead_is_counted_without_a_response_time_nothing_was_sent(plug, caplog):
    lead = make_lead(email="not-an-email")
    assert plug.post(lead)[0] == 400
    document = one_document(caplog)
    outcome = outcome_of(document)
    assert (outcome["state"], outcome["reason"]) == ("failed", "invalid_lead")
    assert "ResponseTime" not in outcome["metrics"]
    assert_no_lead_data(document, lead)


def test_a_customer_that_hangs_is_timed_until_the_deadline_cut_it(plug_for, caplog):
    with FaultyCustomer("hang") as customer:
        assert plug_for(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S="1")).post(make_lead())[0] == 502
    outcome = outcome_of(one_document(caplog))
    assert (outcome["state"], outcome["reason"]) == ("failed", "customer_timeout")
    assert 500 < assert_response_time(outcome["metrics"]) < 5000


def test_a_customer_that_cannot_be_reached_has_no_response_time(plug_for, caplog):
    environment = salesforce_env(f"http://127.0.0.1:{free_port()}")
    assert plug_for(environment).post(make_lead())[0] == 502
    outcome = outcome_of(one_document(caplog))
    assert (outcome["state"], outcome["reason"]) == ("failed", "customer_unreachable")
    assert "ResponseTime" not in outcome["metrics"]


def test_our_own_500_before_sending_is_counted(plug_for, salesforce, caplog, monkeypatch):
    monkeypatch.setitem(integrations.MODULES, "broken", "tests.support.broken_integration")
    lead = make_lead()
    assert plug_for(salesforce_env(salesforce.base_url, CUSTOMER="broken")).post(lead)[0] == 500
    document = one_document(caplog)
    outcome = outcome_of(document, customer="broken")
    assert (outcome["state"], outcome["reason"]) == ("failed", "internal_error")
    assert "ResponseTime" not in outcome["metrics"]
    assert_no_lead_data(document, lead)


def test_our_own_500_after_sending_keeps_the_customers_response_time(plug_for, salesforce, caplog, monkeypatch):
    monkeypatch.setitem(integrations.MODULES, "unknown_outcome", "tests.support.unknown_outcome_integration")
    plug = plug_for(salesforce_env(salesforce.base_url, CUSTOMER="unknown_outcome", METRICS_CUSTOMER="acme"))
    assert plug.post(make_lead())[0] == 500
    outcome = outcome_of(one_document(caplog), customer="acme")
    assert (outcome["state"], outcome["reason"]) == ("failed", "internal_error")
    assert_response_time(outcome["metrics"], customer="acme")


def test_a_plug_that_cannot_start_still_counts_its_500_but_no_cold_start(plug_for, salesforce, caplog):
    plug = plug_for(salesforce_env(salesforce.base_url, CUSTOMER="", METRICS_CUSTOMER="acme"))  # CUSTOMER is required
    assert plug.post(make_lead())[0] == 500
    outcome = outcome_of(one_document(caplog), customer="acme")
    assert (outcome["state"], outcome["reason"]) == ("failed", "internal_error")
    assert "ColdStart" not in outcome["metrics"]


def test_the_first_lead_of_a_plug_counts_its_cold_start_and_no_other_does(plug, caplog):
    for _ in range(3):
        assert plug.post(make_lead())[0] == 201
    documents = metric_documents(caplog)
    assert len(documents) == 3
    cold = [by_name(document).get("ColdStart") for document in documents]
    assert cold[0] == {(("Customer", "salesforce"),): cold[0][(("Customer", "salesforce"),)]}
    assert cold[0][(("Customer", "salesforce"),)].values == (1.0,)
    assert cold[1:] == [None, None]


def test_the_namespace_and_the_customers_name_come_from_the_configuration(plug_for, salesforce, caplog):
    environment = salesforce_env(salesforce.base_url, METRICS_NAMESPACE="Sales/Plugs", METRICS_CUSTOMER="Acme-SF",
                                 METRICS_SERVICE="acme-plug")
    assert plug_for(environment).post(make_lead())[0] == 201
    document = one_document(caplog)
    assert {point.namespace for point in datapoints(document)} == {"Sales/Plugs"}
    outcome_of(document, customer="Acme-SF", namespace="Sales/Plugs")
    assert document["service"] == "acme-plug"


def test_a_metric_that_cannot_be_written_never_changes_the_answer(plug, caplog, monkeypatch):
    def broken(*_args, **_kwargs):
        raise ValueError("metrics broke")

    monkeypatch.setattr(LeadMetrics, "document", broken)
    assert plug.post(make_lead())[0] == 201
    assert metric_documents(caplog) == []
    assert any("metrics could not be written" in record.getMessage() for record in caplog.records)


def test_the_line_names_the_trace_not_the_lead(plug, caplog):
    lead = make_lead()
    assert plug.post(lead)[0] == 201
    transitions = [record for record in caplog.records if record.name == "leadplug.transitions"]
    trace_ids = {record.fields["trace_id"] for record in transitions}
    document = one_document(caplog)
    assert document["trace_id"] in trace_ids
    assert lead["id"] not in json.dumps(document)
