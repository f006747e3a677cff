"""One lead's journey, start to end: the orchestrating function over the state machine (SPEC section 1).

received -> validated -> translated -> sent -> accepted | refused | duplicate | failed.
Whatever happens, the caller gets a status and an envelope: a bug of ours becomes failed/internal_error
(500, reported with its traceback), a customer failure becomes 502 (reported as a warning).
"""

from __future__ import annotations

import sys
import uuid
from dataclasses import dataclass
from typing import Any

from dispatcher import privacy
from dispatcher.contract import InvalidLead, lead_id_of, read_body, validate_lead
from dispatcher.deadline import Deadline, lead_deadline
from dispatcher.envelopes import envelope
from dispatcher.integrations.base import AnsweredFailure, CustomerRequest
from dispatcher.machine import TERMINAL, Journey, journey
from dispatcher.outcome import Outcome
from dispatcher.plug import Plug, current_plug
from dispatcher.statuses import status_for
from dispatcher.transport import Answer, CustomerFailure

INTERNAL_ERROR_MESSAGE = "Internal error in the plug; it has been reported"


@dataclass(frozen=True)
class Delivery:
    """What the platform gets back for one lead."""

    status: int
    envelope: dict[str, Any]
    state: str
    reason: str


def _exchange(plug: Plug, request: CustomerRequest, deadline: Deadline) -> Answer:
    """Send the lead once; only an answer saying the session expired earns one refresh and one resend."""
    auth, transport = plug.integration.auth, plug.transport
    session = auth.open(transport, deadline)
    for attempt in (1, 2):
        answer = transport.post(session.base_url + request.path, deadline,
                                headers={**session.headers, **request.headers}, json_body=request.json_body,
                                form=request.form, params=dict(session.params) or None)
        if attempt == 2 or not auth.is_expired(answer):
            return answer
        session = auth.open(transport, deadline, stale=session)
    raise AssertionError("unreachable")  # pragma: no cover


def _journey_outcome(lead_journey: Journey, plug: Plug, body: Any, unreadable: InvalidLead | None,
                     deadline: Deadline, shown: dict[str, Any]) -> tuple[Outcome, Answer | None]:
    """Walk the machine; `shown` receives request_details as soon as the lead is translated."""
    try:
        if unreadable is not None:
            raise unreadable
        lead = validate_lead(body, plug.integration.required_fields)
    except InvalidLead as invalid:
        lead_journey.end("failed", "invalid_lead")
        return Outcome.failed("invalid_lead", invalid.message, missing_fields=invalid.missing_fields,
                              invalid_fields=invalid.invalid_fields), None
    lead_journey.validate()
    request = plug.integration.translate(lead)
    shown.update(request.details)
    lead_journey.translate()
    answer: Answer | None = None
    try:
        answer = _exchange(plug, request, deadline)
        outcome = None
    except CustomerFailure as failure:
        outcome = Outcome.failed(failure.reason, failure.message)
    except AnsweredFailure as failure:
        answer, outcome = failure.answer, failure.outcome
    lead_journey.send()
    if outcome is None:
        outcome = plug.integration.classify(answer)
    if status_for(outcome.state, outcome.reason) == 500:  # an end the status table does not know
        raise ValueError(f"{plug.integration.name} classified an answer as {outcome.state}/{outcome.reason}")
    lead_journey.end(outcome.state, outcome.reason)
    return outcome, answer


def deliver(raw_body: bytes | str | None, lambda_context: Any = None,
            request_epoch_ms: float | None = None) -> Delivery:
    """Take one raw body to its terminal state and answer; never raises."""
    trace_id = str(getattr(lambda_context, "aws_request_id", "") or uuid.uuid4())
    try:
        body: Any = read_body(raw_body)
        unreadable: InvalidLead | None = None
    except InvalidLead as invalid:
        body, unreadable = None, invalid
    privacy_token = privacy.remember(body)
    try:
        with journey(lead_id_of(body), trace_id) as lead_journey:
            return _deliver(lead_journey, body, unreadable, lambda_context, request_epoch_ms)
    finally:
        privacy.forget(privacy_token)


def _deliver(lead_journey: Journey, body: Any, unreadable: InvalidLead | None, lambda_context: Any,
             request_epoch_ms: float | None) -> Delivery:
    shown: dict[str, Any] = {}
    plug: Plug | None = None
    deadline: Deadline | None = None
    exc_info = None
    try:
        plug = current_plug()
        deadline = lead_deadline(plug.customer_timeout_s, lambda_context, request_epoch_ms)
        outcome, answer = _journey_outcome(lead_journey, plug, body, unreadable, deadline, shown)
        status = status_for(outcome.state, outcome.reason)
        delivery = Delivery(status, envelope(outcome, shown, answer), outcome.state, outcome.reason)
    except Exception:  # noqa: BLE001 - any bug of ours ends the lead as internal_error, reported
        exc_info = sys.exc_info()
        outcome = Outcome.failed("internal_error", INTERNAL_ERROR_MESSAGE)
        if lead_journey.state not in TERMINAL:
            lead_journey.end("failed", "internal_error")
        delivery = Delivery(500, envelope(outcome, shown, None), "failed", "internal_error")
    if plug is not None and deadline is not None:
        _report(plug, deadline, lead_journey, outcome, delivery.status, exc_info)
    return delivery


def _report(plug: Plug, deadline: Deadline, lead_journey: Journey, outcome: Outcome, status: int,
            exc_info: Any) -> None:
    """A 500 goes to Rollbar as an error with its traceback, a 502 as a warning; within the answer's time."""
    if status not in (500, 502):
        return
    facts = {"lead_id": lead_journey.lead_id, "trace_id": lead_journey.trace_id, "state": outcome.state,
             "reason": outcome.reason, "status": status}
    budget = deadline.answer_remaining()
    if status == 500:
        plug.reporter.report("error", INTERNAL_ERROR_MESSAGE, facts, exc_info=exc_info, timeout_s=budget)
    else:
        plug.reporter.report("warning", f"Lead failed at the customer: {outcome.reason}", facts, timeout_s=budget)
