"""The two envelopes the platform reads (success, error), built from an outcome, the request sent and the answer
received, with the lead's `Masker`: no credential a customer echoes reaches the platform."""

from __future__ import annotations

from typing import Any

from dispatcher.answer import Answer
from dispatcher.outcome import Outcome
from dispatcher.privacy import NO_LEAD, Masker
from dispatcher.reasons import Reason, State, reasons_with_status

_LISTS_FIELDS = frozenset(reasons_with_status(400))  # a 400 always names the missing and the invalid fields
_SAYS_WHEN = (429, 503)  # the statuses whose Retry-After tells when to come back (RFC 9110, section 10.2.3)


def response_details(answer: Answer | None, masker: Masker) -> dict[str, Any]:
    """The customer's raw answer: a JSON object merged beside http_status_code, anything else under `body`."""
    if answer is None:
        return {"http_status_code": None}
    data = masker.without_secrets(answer.json())
    if isinstance(data, dict):
        details = data
    elif data is not None:
        details = {"body": data}
    elif answer.body:
        details = {"body": masker.without_secrets(answer.text())}
        if answer.truncated or len(answer.body) > 10_000:
            details["truncated"] = True
    else:
        details = {}
    details["http_status_code"] = answer.status
    return details


def envelope(outcome: Outcome, request_details: dict[str, Any], answer: Answer | None,
             masker: Masker) -> dict[str, Any]:
    """The success envelope for an accepted lead, the error envelope for any other end."""
    if outcome.state == State.ACCEPTED:
        return {
            "request_details": request_details,
            "customer_lead_id": outcome.customer_lead_id,
            "response_details": response_details(answer, masker),
        }
    error: dict[str, Any] = masker.without_secrets({"state": outcome.state, "reason": outcome.reason,
                                                    **outcome.details})
    if outcome.reason in _LISTS_FIELDS:
        error.setdefault("missing_fields", [])
        error.setdefault("invalid_fields", [])
    if answer is not None and answer.status in _SAYS_WHEN and answer.retry_after_s is not None:
        error["retry_after_s"] = answer.retry_after_s
    return {
        "request_details": request_details,
        "error": error,
        "error_message": masker.mask_credentials(outcome.message
                                                 or f"The lead ended {outcome.state} ({outcome.reason})"),
        "response_details": response_details(answer, masker),
    }


def method_not_allowed_envelope() -> dict[str, Any]:
    """The answer to any method but POST on /send: an error envelope like every other answer."""
    return envelope(Outcome.of(Reason.METHOD_NOT_ALLOWED, "Only POST /send is served: send the lead as the body "
                                                          "of a POST"), {}, None, NO_LEAD)
