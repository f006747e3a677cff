"""The lead's deadline: the earliest of CUSTOMER_TIMEOUT_S, Lambda's remaining time and API Gateway's 29 s."""

from __future__ import annotations

import time

import pytest

from dispatcher.deadline import ANSWER_MARGIN_S, API_GATEWAY_LIMIT_S, lead_deadline


class Context:
    def __init__(self, remaining_s: float) -> None:
        self.remaining_s = remaining_s

    def get_remaining_time_in_millis(self) -> int:
        return int(self.remaining_s * 1000)


@pytest.mark.parametrize(("customer_timeout", "context", "spent", "expected"), [
    pytest.param(3.0, Context(60), 0.0, 3.0, id="customer-timeout-binds"),
    pytest.param(3.0, Context(4), 0.0, 3.0, id="4s-lambda-with-3s-customer"),
    pytest.param(10.0, Context(4), 0.0, 4 - ANSWER_MARGIN_S, id="4s-lambda-binds"),
    pytest.param(60.0, Context(60), 0.0, API_GATEWAY_LIMIT_S - ANSWER_MARGIN_S, id="api-gateway-29s-binds"),
    pytest.param(60.0, Context(60), 10.0, API_GATEWAY_LIMIT_S - 10 - ANSWER_MARGIN_S, id="time-spent-before-us"),
    pytest.param(5.0, None, 0.0, 5.0, id="no-lambda-context"),
    pytest.param(5.0, Context(0.5), 0.0, 0.0, id="no-time-left"),
])
def test_the_earliest_limit_wins(customer_timeout, context, spent, expected):
    epoch_ms = (time.time() - spent) * 1000 if spent else None
    deadline = lead_deadline(customer_timeout, context, epoch_ms)
    assert deadline.remaining() == pytest.approx(expected, abs=0.05)
    assert deadline.answer_remaining() >= deadline.remaining()


@pytest.mark.parametrize("epoch_ms", [1428582896000, (time.time() + 3600) * 1000], ids=["2015-sample", "future"])
def test_an_arrival_stamp_that_cannot_be_this_requests_is_ignored(epoch_ms):
    """AWS's sample events carry requestTimeEpoch 1428582896000: a harness built on one must still work."""
    assert lead_deadline(3.0, Context(60), epoch_ms).remaining() == pytest.approx(3.0, abs=0.05)


def test_the_answer_leaves_before_the_lambda_dies():
    deadline = lead_deadline(60.0, Context(4))
    assert deadline.answer_remaining() < 4.0
