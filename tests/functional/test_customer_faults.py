"""Customers misbehave; every fault gets its documented answer, before the deadline, and no lead goes twice.

Each case runs the app in process (chalice.test.Client, a stage of its own) against a real misbehaving
HTTP server on 127.0.0.1 (tests/support/faulty.py). Time bounds here are correctness (the platform's
deadline), with generous margins, not performance.
"""

from __future__ import annotations

import time

import pytest

from tests.conftest import salesforce_env
from tests.support.faulty import FaultyCustomer
from tests.support.leads import make_lead
from tests.support.project import free_port

TIMEOUT_S = 2.0
# An answer due at a deadline must come before the deadline plus this: generous, since a loaded machine may be
# seconds late; a plug that ignored the deadline would wait for the hanging customer (60 s in faulty.py).
DEADLINE_MARGIN_S = 5.0
TOKEN_TIMEOUT_S = 1  # CUSTOMER_TIMEOUT_S when the token endpoint hangs
LAMBDA_TIMEOUT_S = 4  # the Lambda context's whole budget...
LONG_CUSTOMER_TIMEOUT_S = 10  # ...shorter than the customer timeout, so the Lambda's deadline binds


@pytest.mark.parametrize(("fault", "status", "reason"), [
    pytest.param("hang", 502, "customer_timeout", id="hang"),
    pytest.param("drip", 502, "customer_timeout", id="slow-drip-body"),
    pytest.param("slow_headers", 502, "customer_timeout", id="slow-drip-headers"),
    pytest.param("reset", 502, "customer_unreachable", id="reset-mid-answer"),
    pytest.param("html503", 502, "customer_error", id="html-503"),
    pytest.param("not_json", 502, "bad_customer_response", id="non-json-body"),
    pytest.param("huge", 502, "bad_customer_response", id="10MB-body"),
    pytest.param("redirect", 502, "bad_customer_response", id="redirect-loop"),
])
def test_a_customer_fault_gets_its_documented_answer_before_the_deadline(plug_for, fault, status, reason):
    with FaultyCustomer(fault) as customer:
        plug = plug_for(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S=str(TIMEOUT_S)))
        started = time.monotonic()
        answered, envelope = plug.post(make_lead())
        elapsed = time.monotonic() - started
    assert (answered, envelope["error"]["state"], envelope["error"]["reason"]) == (status, "failed", reason)
    assert elapsed < TIMEOUT_S + DEADLINE_MARGIN_S, f"answered after {elapsed:.1f} s"
    assert len(customer.lead_posts) == 1, "the lead reached the customer once, and was not retried"
    assert envelope["request_details"]["LastName"] == "Dupré-Lefèvre"


def test_a_timeout_answers_with_no_customer_status(plug_for):
    with FaultyCustomer("hang") as customer:
        plug = plug_for(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S="1"))
        _, envelope = plug.post(make_lead())
    assert envelope["response_details"] == {"http_status_code": None}
    assert envelope["error_message"] == "The customer did not answer before the deadline"


def test_a_10mb_answer_is_not_read_beyond_the_cap(plug_for):
    with FaultyCustomer("huge") as customer:
        plug = plug_for(salesforce_env(customer.base_url))
        _, envelope = plug.post(make_lead())
    details = envelope["response_details"]
    assert details["http_status_code"] == 200 and details["truncated"] is True
    assert len(details["body"]) <= 10_000


def test_a_hanging_token_endpoint_times_out_and_the_lead_is_never_sent(plug_for):
    with FaultyCustomer("ok", token_fault="hang") as customer:
        plug = plug_for(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S=str(TOKEN_TIMEOUT_S)))
        started = time.monotonic()
        status, envelope = plug.post(make_lead())
        elapsed = time.monotonic() - started
    assert (status, envelope["error"]["reason"]) == (502, "customer_timeout")
    assert elapsed < TOKEN_TIMEOUT_S + DEADLINE_MARGIN_S, f"answered after {elapsed:.1f} s"
    assert customer.lead_posts == []


def test_the_lambda_deadline_binds_before_a_longer_customer_timeout(plug_for):
    """A 4 s Lambda context with CUSTOMER_TIMEOUT_S=10: the plug waits for the customer, then gives up at the
    Lambda's deadline, not the customer's (the exact instant, 4 s less the answer margin, is in
    tests/unit/test_deadline.py)."""
    with FaultyCustomer("hang") as customer:
        plug = plug_for(salesforce_env(customer.base_url, CUSTOMER_TIMEOUT_S=str(LONG_CUSTOMER_TIMEOUT_S)),
                        lambda_timeout=LAMBDA_TIMEOUT_S)
        started = time.monotonic()
        status, envelope = plug.post(make_lead())
        elapsed = time.monotonic() - started
    assert (status, envelope["error"]["reason"]) == (502, "customer_timeout")
    assert 2.0 < elapsed, "the plug gave up before the deadline"
    assert elapsed < LAMBDA_TIMEOUT_S + DEADLINE_MARGIN_S < LONG_CUSTOMER_TIMEOUT_S, f"answered after {elapsed:.1f} s"


def test_connection_refused_is_unreachable_and_nothing_was_sent(plug_for):
    plug = plug_for(salesforce_env(f"http://127.0.0.1:{free_port()}"))
    status, envelope = plug.post(make_lead())
    assert (status, envelope["error"]["reason"]) == (502, "customer_unreachable")
    assert envelope["response_details"] == {"http_status_code": None}


def test_an_unresolvable_host_is_customer_api_not_found(plug_for):
    plug = plug_for(salesforce_env("http://no-such-customer.invalid"))
    status, envelope = plug.post(make_lead())
    assert (status, envelope["error"]["reason"]) == (404, "customer_api_not_found")


def test_an_expired_session_gets_one_refresh_and_the_lead_is_taken_once(plug_for):
    with FaultyCustomer("expire_once") as customer:
        plug = plug_for(salesforce_env(customer.base_url))
        status, envelope = plug.post(make_lead())
    assert (status, envelope["customer_lead_id"]) == (201, "00Qfaulty0000001")
    assert customer.token_requests == 2
    # the first POST was refused with 401 INVALID_SESSION_ID before the lead was taken; the second took it
    assert len(customer.lead_posts) == 2


def test_a_session_that_stays_invalid_is_unauthorized_after_exactly_one_refresh(plug_for):
    with FaultyCustomer("always_expired") as customer:
        plug = plug_for(salesforce_env(customer.base_url))
        status, envelope = plug.post(make_lead())
    assert (status, envelope["error"]["reason"]) == (401, "unauthorized")
    assert customer.token_requests == 2
    assert len(customer.lead_posts) == 2
    assert "tok-" not in str(envelope), "no token in the envelope"
