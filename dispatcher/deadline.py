"""One deadline per lead: the plug answers before API Gateway or Lambda give up, never with a 504.

The customer exchange may last until `customer_at`: the earliest of CUSTOMER_TIMEOUT_S, the Lambda's
remaining time and API Gateway's 29 s, each minus a margin kept for answering (envelope, log, Rollbar).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

API_GATEWAY_LIMIT_S = 29.0
ANSWER_MARGIN_S = 1.0  # what building the answer and a Rollbar report may take after the customer gave up
DEFAULT_CUSTOMER_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class Deadline:
    """Monotonic instants: when the customer exchange must end, and when the answer must have left."""

    customer_at: float
    answer_at: float

    def remaining(self) -> float:
        """Seconds left for the customer exchange (never negative)."""
        return max(0.0, self.customer_at - time.monotonic())

    def answer_remaining(self) -> float:
        return max(0.0, self.answer_at - time.monotonic())


def lead_deadline(customer_timeout_s: float, lambda_context: Any = None,
                  request_epoch_ms: float | None = None) -> Deadline:
    """The deadline of a lead that arrived now (or at `request_epoch_ms`, API Gateway's requestTimeEpoch)."""
    now = time.monotonic()
    spent = 0.0
    if request_epoch_ms:
        since_arrival = time.time() - float(request_epoch_ms) / 1000.0
        # Beyond API Gateway's limit (or in the future) the stamp cannot be this request's: a sample event's
        # fixed value, or clock skew. Ignoring it is safe: the Lambda context still bounds the deadline.
        if 0.0 <= since_arrival < API_GATEWAY_LIMIT_S:
            spent = since_arrival
    hard_limits = [API_GATEWAY_LIMIT_S - spent]
    remaining_ms = getattr(lambda_context, "get_remaining_time_in_millis", None)
    if callable(remaining_ms):
        hard_limits.append(float(remaining_ms()) / 1000.0)
    hard = min(hard_limits)
    answer_at = now + max(0.0, hard - ANSWER_MARGIN_S / 4)
    customer_at = now + max(0.0, min(customer_timeout_s, hard - ANSWER_MARGIN_S))
    return Deadline(customer_at=customer_at, answer_at=answer_at)
