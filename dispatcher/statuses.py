"""The one table from a terminal (state, reason) to the HTTP status the platform receives (SPEC section 3).

Never 504: the platform keeps that status for its own timeout handling, so no row can produce it.
"""

from __future__ import annotations

# Reasons whose status does not follow from the state alone.
FAILED_REASON_STATUS: dict[str, int] = {
    "invalid_lead": 400,
    "unauthorized": 401,
    "customer_api_not_found": 404,
    "internal_error": 500,
    "customer_error": 502,
    "customer_timeout": 502,
    "customer_unreachable": 502,
    "bad_customer_response": 502,
}

ACCEPTED_REASON_STATUS: dict[str, int] = {"created": 201, "queued": 202, "ok": 200}

# Every reason of these states maps to one status: the customer's own reason codes are open-ended.
STATE_STATUS: dict[str, int] = {"refused": 406, "duplicate": 409}


def status_for(state: str, reason: str) -> int:
    """HTTP status of a terminal state; an unknown pair is a bug of ours, hence 500."""
    if state == "accepted":
        return ACCEPTED_REASON_STATUS.get(reason, 500)
    if state == "failed":
        return FAILED_REASON_STATUS.get(reason, 500)
    return STATE_STATUS.get(state, 500)
