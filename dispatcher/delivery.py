"""One lead's journey, start to end (SPEC section 1): straight-line steps over the state machine.

read -> validate -> translate -> (ledger) -> exchange -> classify; a step that ends the lead early raises
`LeadEnded`. Whatever happens, the caller gets a status and an envelope: a bug of ours becomes
failed/internal_error (500, reported with its traceback); the reason table says which ends are reported and
how. With a ledger (SPEC section 8), an accepted lead sent again is replayed, a lead in doubt is looked up
at the customer first, and every attempt that claimed the lead settles in the ledger how it ended.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from dispatcher import chain, privacy
from dispatcher.answer import Answer
from dispatcher.contract import Lead, lead_id_of, read_body, validate_lead
from dispatcher.deadline import Deadline, lead_deadline
from dispatcher.envelopes import envelope
from dispatcher.errors import CustomerFailure, InvalidLead, LeadEnded
from dispatcher.integrations.base import CustomerRequest, CustomerSession, Finder
from dispatcher.ledger import Claim, Replay, StoreUnavailable
from dispatcher.ledger.store import within
from dispatcher.machine import Journey, journey
from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings
from dispatcher.outcome import Outcome
from dispatcher.plug import Plug
from dispatcher.reasons import ENDINGS, Reason, ending_of
from dispatcher.reporting import log_failure

INTERNAL_ERROR_MESSAGE = "Internal error in the plug; it has been reported"
REPLAYED_HEADER = "Idempotent-Replayed"
ANSWER_RESERVE_S = 0.3  # kept for the Rollbar report and the answer itself after the ledger's steps
UNKNOWN_ROUND_TRIP_SHARE = 0.5  # before the first answer: a send needs half the customer timeout left
CREATED_CLOCK_SKEW = timedelta(seconds=2)  # the customer's clock against ours, when comparing creation times


@dataclass(frozen=True)
class Delivery:
    """What the platform gets back for one lead."""

    status: int
    envelope: dict[str, Any]
    state: str
    reason: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def replayed(self) -> bool:
        """The ledger's answer to a lead it had delivered already, not a new delivery (metric `Replays`)."""
        return self.headers.get(REPLAYED_HEADER) == "true"


def _send(plug: Plug, request: CustomerRequest, deadline: Deadline,
          on_sent: Callable[[], None] | None = None) -> Answer:
    """One request under the customer's session; only an answer saying the session expired earns one
    refresh and one resend."""
    auth, transport = plug.integration.auth, plug.transport

    def send(session: CustomerSession) -> Answer:
        return transport.post(request.url(session.base_url), deadline, method=request.method,
                              headers={**session.headers, **request.headers}, json_body=request.json_body,
                              form=request.form, params={**session.params, **request.params} or None,
                              on_sent=on_sent)

    session = auth.open(transport, deadline)
    answer = send(session)
    if auth.is_expired(answer):
        answer = send(auth.open(transport, deadline, stale=session))
    return answer


def look_up(plug: Plug, lead: Lead, claim: Claim, deadline: Deadline) -> tuple[str | int, Answer] | None:
    """Ask the customer whether it holds a lead an earlier attempt left in doubt: its id, or None when it
    does not or the integration cannot look leads up. A failed search ends the lead (LeadEnded)."""
    if not isinstance(plug.integration, Finder):
        return None
    started = time.monotonic()
    found = chain.find(plug.integration, lead, claim.since, lambda request, _: _send(plug, request, deadline))
    if plug.ledger is not None:  # the search's round trip (a token included) tells how long a send needs
        plug.ledger.round_trips.observe(time.monotonic() - started)
    if found is not None and plug.ledger is not None and plug.ledger.created_by_another(found[0], claim, deadline):
        return None  # the person's other lead, delivered by us: not this one
    return found


def delivered_earlier(plug: Plug, duplicate: Outcome, answer: Answer, claim: Claim, deadline: Deadline) -> Outcome:
    """A lead in doubt whose re-delivery the customer answered "duplicate": the record is, unless shown
    otherwise, the one our own earlier attempt created (SPEC section 8). Where the integration can read the
    record's creation time (`created_at`), a record older than that attempt is a true duplicate."""
    existing = duplicate.customer_lead_id if duplicate.customer_lead_id is not None \
        else duplicate.details.get("existing_customer_lead_id")
    existing_id = getattr(plug.integration, "existing_id", None)
    if existing is None and existing_id is not None:
        existing = existing_id(answer)
    if existing is not None and plug.ledger is not None and plug.ledger.created_by_another(existing, claim, deadline):
        return duplicate  # the record of another lead of ours (the person's): a true duplicate for this one
    created_request = getattr(plug.integration, "created_request", None)
    if existing is not None and created_request is not None:
        try:
            record = _send(plug, created_request(existing), deadline)
            created = plug.integration.created_at(record)  # type: ignore[attr-defined]
        except (LeadEnded, CustomerFailure) as exc:  # the check failed: "unless shown otherwise", ours
            logging.getLogger("leadplug").warning("The creation time of the customer's record could not be read "
                                                  "(%s); taken as delivered by the attempt in doubt",
                                                  type(exc).__name__)
            created = None
        if created is not None and created < claim.since - CREATED_CLOCK_SKEW:
            return duplicate  # the customer held this person before our first attempt: a true duplicate
    return Outcome.of(Reason.DELIVERED_EARLIER, "The customer already holds this lead: our own earlier attempt, "
                                                "in doubt, delivered it", customer_lead_id=existing)


def journey_steps(lead: Journey, plug: Plug, raw_body: bytes | str | None,
                  deadline: Deadline) -> tuple[Outcome, Answer | None]:
    """Walk the lead to the outcome that ends it, with the customer's answer if one came."""
    try:
        body = read_body(raw_body)
        privacy.learn(body)
        try:
            valid_lead = validate_lead(body, plug.integration.required_fields)
        except InvalidLead:
            lead.lead_id = lead_id_of(body)  # the id, if valid, of a lead that is not (checked on its own)
            raise
        lead.lead_id = valid_lead["id"]  # required, validated and trimmed: what lead_id_of would give
        lead.validate()
        request = plug.integration.translate(valid_lead)
        lead.request_details = request.details
        lead.translate()
        if plug.ledger is not None:
            begun = plug.ledger.begin(valid_lead, lead.trace_id, deadline)
            if isinstance(begun, Replay):
                lead.replayed, lead.ended_by, lead.log_extra = begun, "replay", {"replay_of": begun.trace_id}
                return Outcome("accepted", begun.reason, customer_lead_id=begun.envelope.get("customer_lead_id")), None
            lead.claim = begun
            if begun.previous_attempt is not None:
                lead.log_extra = {"previous_trace_id": begun.previous_attempt["trace_id"]}
                found = look_up(plug, valid_lead, begun, deadline)
                if found is not None:
                    lead.ended_by = "find"
                    return Outcome.of(Reason.CREATED, "The customer already holds this lead, delivered by an "
                                                      "earlier attempt", customer_lead_id=found[0]), found[1]
            if begun.waited and begun.in_doubt and not plug.ledger.time_to_send(deadline, UNKNOWN_ROUND_TRIP_SHARE
                                                                                 * plug.customer_timeout_s):
                raise LeadEnded(Outcome.of(Reason.IN_PROGRESS, "Another request's attempt at this lead ended in "
                                                               "doubt too late to send it again now; retry later"))
        if plug.health is not None:
            with within(deadline.remaining()):
                lead.probe = plug.health.admit(deadline.answer_remaining())
        try:
            with within(deadline.remaining()):  # a chain's step memory writes to the store: bounded too
                outcome, answer = chain.exchange(
                    plug.integration, request, lambda step, on_sent: _send(plug, step, deadline, on_sent),
                    on_sent=lead.request_left, **chain.memory_of(plug.ledger, valid_lead, lead.claim))
        finally:
            lead.exchange_ended()
        lead.answered = True
        if plug.ledger is not None and lead.response_ms is not None:
            plug.ledger.round_trips.observe(lead.response_ms / 1000)
        if lead.claim is not None and lead.claim.in_doubt and outcome.state == Reason.DUPLICATE.value:
            outcome = delivered_earlier(plug, outcome, answer, lead.claim, deadline)
        return outcome, answer
    except LeadEnded as ended:
        if ENDINGS[Reason.INTERNAL_ERROR].status == ending_of(ended.outcome.state, ended.outcome.reason).status:
            # one of our own 500s (the ledger unreachable): its cause, chained, on the deployment's log
            log_failure(ended.outcome.reason, (type(ended), ended, ended.__traceback__), customer=plug.customer_id,
                        trace_id=lead.trace_id, lead_id=lead.lead_id)
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
            lead.end(outcome.state, outcome.reason, by=lead.ended_by)
            delivery = _answer(lead, outcome, status, answer)
        except Exception:  # noqa: BLE001 - any bug of ours ends the lead as internal_error, reported and logged
            exc_info = sys.exc_info()
            # the cause, on the deployment's own log too (masked), whether or not Rollbar is set up
            log_failure("plug_cannot_start" if plug is None else Reason.INTERNAL_ERROR.value, exc_info,
                        customer=plug.customer_id if plug is not None else "unset", trace_id=trace_id,
                        lead_id=lead.lead_id)
            outcome = Outcome.of(Reason.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE)
            if not lead.ended:
                lead.end(outcome.state, outcome.reason)
            delivery = _answer(lead, outcome, ENDINGS[Reason.INTERNAL_ERROR].status, None)
        if plug is not None and deadline is not None:
            _after_the_answer(plug, deadline, lead, outcome, delivery)
            _report(plug, deadline, lead, delivery, exc_info)
        _measure(plug, lead, delivery)
        return delivery


def _after_the_answer(plug: Plug, deadline: Deadline, lead: Journey, outcome: Outcome, delivery: Delivery) -> None:
    """Settle the ledger and count the customer's health, never making the answer late (never 504) nor failing
    it: each store call is bounded by the answer's time left (DynamoDB's retries and timeouts included; SQLite's
    busy timeout), in this thread: no thread per lead. A settle that does not land in that time is retried
    after the answer by the pending settles' one worker (dispatcher/ledger/pending.py)."""
    budget = max(0.0, deadline.answer_remaining() - ANSWER_RESERVE_S)
    for name, step in (("ledger", lambda: _settle(plug, lead, outcome, delivery, budget)),
                       ("health", lambda: _watch_health(plug, deadline, lead, delivery, outcome))):
        try:
            with within(max(0.0, deadline.answer_remaining() - ANSWER_RESERVE_S)):
                step()
        except Exception as exc:  # noqa: BLE001 - the lead has its answer; the log says what was not recorded
            logging.getLogger("leadplug").error("%s not recorded for trace %s: %s", name, lead.trace_id,
                                                type(exc).__name__)


def _answer(lead: Journey, outcome: Outcome, status: int, answer: Answer | None) -> Delivery:
    """The envelope of this end: a replay's is the first delivery's, with the request translated again."""
    if lead.replayed is not None and outcome.state == "accepted":
        return Delivery(lead.replayed.status, {**lead.replayed.envelope, "request_details": lead.request_details},
                        outcome.state, outcome.reason, headers={REPLAYED_HEADER: "true"})
    body = envelope(outcome, lead.request_details, answer)
    if lead.claim is not None and lead.claim.previous_attempt is not None:
        body["previous_attempt"] = lead.claim.previous_attempt
    return Delivery(status, body, outcome.state, outcome.reason)


def _settle(plug: Plug, lead: Journey, outcome: Outcome, delivery: Delivery, budget_s: float) -> None:
    """Remember in the ledger how this attempt ended, within `budget_s` (then after the answer, bounded); a
    settle lost for good leaves the claim to expire (in doubt: the next attempt asks the customer first)."""
    if plug.ledger is None or lead.claim is None:
        return
    try:
        plug.ledger.settle(lead.claim, outcome, delivery.status, delivery.envelope, sent=lead.sent,
                           within_s=budget_s)
    except StoreUnavailable as exc:
        logging.getLogger("leadplug").error("The delivery ledger could not record trace %s: %s", lead.trace_id,
                                            type(exc).__name__)


def _watch_health(plug: Plug, deadline: Deadline, lead: Journey, delivery: Delivery, outcome: Outcome) -> None:
    """Count this end in the customer's health; a pause or a resume is logged and reported once, here."""
    if plug.health is None:
        return
    change = plug.health.record(delivery.reason, answered=lead.answered, probe=lead.probe,
                                asked=outcome.customer_asked)
    if change is None:
        return
    plug.health.log(change, lead.trace_id)
    message = (f"Delivery to {plug.health.customer} paused after repeated failures ({change.reason})"
               if change.kind == "paused" else f"Delivery to {plug.health.customer} resumed")
    plug.reporter.report("warning", message, {"customer": plug.health.customer, "trace_id": lead.trace_id,
                                              "health": change.kind}, timeout_s=deadline.answer_remaining())


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
