"""The (terminal state, reason) -> HTTP status table of SPEC section 3."""

from __future__ import annotations

import pytest

from dispatcher import statuses
from dispatcher.statuses import status_for

SPEC_ROWS = [
    pytest.param("accepted", "created", 201, id="accepted-created"),
    pytest.param("accepted", "queued", 202, id="accepted-queued"),
    pytest.param("accepted", "ok", 200, id="accepted-ok"),
    pytest.param("failed", "invalid_lead", 400, id="failed-invalid_lead"),
    pytest.param("failed", "unauthorized", 401, id="failed-unauthorized"),
    pytest.param("failed", "customer_api_not_found", 404, id="failed-customer_api_not_found"),
    pytest.param("refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION", 406, id="refused-validation-rule"),
    pytest.param("refused", "INVALID_EMAIL_ADDRESS", 406, id="refused-bad-email"),
    pytest.param("refused", "out_of_area", 406, id="refused-any-customer-reason"),
    pytest.param("duplicate", "duplicate", 409, id="duplicate"),
    pytest.param("failed", "internal_error", 500, id="failed-internal_error"),
    pytest.param("failed", "customer_error", 502, id="failed-customer_error"),
    pytest.param("failed", "customer_timeout", 502, id="failed-customer_timeout"),
    pytest.param("failed", "customer_unreachable", 502, id="failed-customer_unreachable"),
    pytest.param("failed", "bad_customer_response", 502, id="failed-bad_customer_response"),
]


@pytest.mark.parametrize(("state", "reason", "status"), SPEC_ROWS)
def test_every_row_of_the_spec_has_its_status(state, reason, status):
    assert status_for(state, reason) == status


@pytest.mark.parametrize(("state", "reason"), [
    pytest.param("accepted", "duplicate", id="accepted-with-a-failure-reason"),
    pytest.param("accepted", "", id="accepted-without-reason"),
    pytest.param("failed", "FIELD_CUSTOM_VALIDATION_EXCEPTION", id="failed-with-a-customer-code"),
    pytest.param("failed", "timeout", id="failed-unknown-reason"),
    pytest.param("sent", "created", id="not-a-terminal-state"),
    pytest.param("received", "invalid_lead", id="initial-state"),
    pytest.param("bogus", "duplicate", id="unknown-state"),
])
def test_an_unknown_pair_is_a_bug_of_ours_hence_500(state, reason):
    assert status_for(state, reason) == 500


def test_no_row_yields_504():
    pairs = [("accepted", reason) for reason in statuses.ACCEPTED_REASON_STATUS]
    pairs += [("failed", reason) for reason in statuses.FAILED_REASON_STATUS]
    pairs += [(state, "any_reason") for state in statuses.STATE_STATUS]
    produced = {status_for(state, reason) for state, reason in pairs}
    assert 504 not in produced
    assert produced == {200, 201, 202, 400, 401, 404, 406, 409, 500, 502}
