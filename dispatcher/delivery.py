"""One lead's journey, start to end (SPEC section 1): straight-line steps over the state machine.

read -> validate -> translate -> exchange -> classify; a step that ends the lead early raises `LeadEnded`.
Whatever happens, the caller gets a status and an envelope: a bug of ours becomes failed/internal_error
(500, reported with its traceback); the reason table says which ends are reported and how.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from dispatcher import privacy
from dispatcher.answer import Answer
from dispatcher.contract import lead_id_of, read_body, validate_lead
from dispatcher.deadline import Deadline, lead_deadline
from dispatcher.envelopes import envelope
from dispatcher.errors import LeadEnded
from dispatcher.integrations.base import CustomerRequest
from dispatcher.machine import Journey, journey
from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings
from dispatcher.outcome import Outcome
from dispatcher.plug import Plug
from dispatcher.reasons import ENDINGS, Reason, ending_of

INTERNAL_ERROR_MESSAGE = "Internal error in the plug; it has been reported"


@dataclass(frozen=True)
class Delivery:
    """What the platform gets back for one lead."""

    status: int
    envelope: dict[str, Any]
    state: str
    reason: str
    replayed: bool = False  # the delivery ledger's hook: an answer replayed, not delivered (metric `Replays`)


def exchange(plug: Plug, request: CustomerRequest, deadline: Deadline, on_sent: Callable[[], None]) -> Answer:
    """Send the lead once; only an answer saying the session expired earns one refresh and one resend."""
    auth, transport = plug.integration.auth, plug.transport

    def post(session: Any) -> Answer:
        return transport.post(session.base_url + request.path, deadline,
                              headers={**session.headers, **request.headers}, json_body=request.json_body,
                              form=request.form, params=dict(session.params) or None, on_sent=on_sent)

    session = auth.open(transport, deadline)
    answer = post(session)
    if auth.is_expired(answer):
        answer = post(auth.open(transport, deadline, stale=session))
    return answer


def journey_steps(lead: Journey, plug: Plug, raw_body: bytes | str | None,
                  deadline: Deadline) -> tuple[Outcome, Answer | None]:
    """Walk the lead to the outcome that ends it, with the customer's answer if one came."""
    try:
        body = read_body(raw_body)
        lead.lead_id = lead_id_of(body)
        privacy.learn(body)
        valid_lead = validate_lead(body, plug.integration.required_fields)
        lead.validate()
        request = plug.integration.translate(valid_lead)
        lead.request_details = request.details
        lead.translate()
        try:
            answer = exchange(plug, request, deadline, on_sent=lead.request_left)
        finally:
            lead.exchange_ended()
        return plug.integration.classify(answer), answer
    except LeadEnded as ended:
        return ended.outcome, ended.answer


def deliver(raw_body: bytes | str | None, plug_of: Callable[[], Plug], lambda_context: Any = None,
            request_epoch_ms: float | None = None) -> Delivery:
    """Take one raw body to its terminal state and answer; never raises."""
    trace_id = str(getattr(lambda_context, "aws_request_id", "") or uuid.uuid4())
    with privacy.masking(), journey(trace_id) as lead:
        plug: Plug | None = None
        deadline: Deadline | None = None
        exc_info = None
        try:
            plug = plug_of()
            privacy.learn_credentials(plug.credentials)
            deadline = lead_deadline(plug.customer_timeout_s, lambda_context, request_epoch_ms)
            outcome, answer = journey_steps(lead, plug, raw_body, deadline)
            privacy.learn_credentials(plug.credentials)
            if outcome.state == "refused" and privacy.reveals(outcome.reason):  # a code made of the person's data
                outcome = replace(outcome, reason=Reason.REFUSED)
            status = ending_of(outcome.state, outcome.reason).status  # UnknownEnding: a bug of ours
            lead.end(outcome.state, outcome.reason)
            delivery = Delivery(status, envelope(outcome, lead.request_details, answer), outcome.state,
                                outcome.reason)
        except Exception as exc:  # noqa: BLE001 - any bug of ours ends the lead as internal_error, reported
            exc_info = sys.exc_info()
            if plug is None:  # no reporter to tell: the deployment's own log must say why
                logging.getLogger("leadplug").error("The plug cannot start: %s", exc)
            outcome = Outcome.of(Reason.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE)
            if not lead.ended:
                lead.end(outcome.state, outcome.reason)
            delivery = Delivery(ENDINGS[Reason.INTERNAL_ERROR].status, envelope(outcome, lead.request_details, None),
                                outcome.state, outcome.reason)
        if plug is not None and deadline is not None:
            _report(plug, deadline, lead, delivery, exc_info)
        _measure(plug, lead, delivery)
        return delivery


def _measure(plug: Plug | None, lead: Journey, delivery: Delivery) -> None:
    """The lead's metrics, once it has ended: the one place they are written (a plug that cannot start still
    counts its 500, never as a cold start)."""
    metrics = plug.metrics if plug is not None else LeadMetrics(MetricsSettings.of_a_plug_that_cannot_start(),
                                                                counts_cold_start=False)
    metrics.lead_ended(LeadFacts(state=delivery.state, reason=delivery.reason, response_ms=lead.response_ms,
                                 replayed=delivery.replayed, trace_id=lead.trace_id))


def _report(plug: Plug, deadline: Deadline, lead: Journey, delivery: Delivery, exc_info: Any) -> None:
    """Report the end as the reason table says (a bug as an error with its traceback), within the answer's time."""
    level = ending_of(delivery.state, delivery.reason).rollbar_level
    if level is None:
        return
    facts = {"lead_id": lead.lead_id, "trace_id": lead.trace_id, "state": delivery.state,
             "reason": delivery.reason, "status": delivery.status}
    message = INTERNAL_ERROR_MESSAGE if exc_info else f"Lead ended {delivery.state}/{delivery.reason}"
    plug.reporter.report(level, message, facts, exc_info=exc_info, timeout_s=deadline.answer_remaining())
