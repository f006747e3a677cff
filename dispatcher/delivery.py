"""One lead's journey, start to end: straight-line steps over the state machine.

read -> validate -> translate -> (ledger) -> exchange -> classify; a step that ends the lead early raises
`LeadEnded`. `journey_steps` returns what the steps came to as one value (`LeadResult`); `deliver` answers from
it, settles the ledger, counts the customer's health, reports and measures. Whatever happens, the caller gets a
status and an envelope: a bug of ours becomes failed/internal_error (500, reported with its traceback); the
reason table says which ends are reported and how. With a ledger (never send a lead twice), an accepted lead
sent again is replayed, a lead in doubt is looked up at the customer first, and every attempt that claimed the
lead settles in the ledger how it ended. One `Masker`, built once per lead, masks everything that leaves.
"""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from dispatcher import chain
from dispatcher.contract import lead_id_of, read_body, validate_lead
from dispatcher.deadline import Deadline, lead_deadline
from dispatcher.errors import InvalidLead, LeadEnded
from dispatcher.ledger.store import StoreUnavailable, within
from dispatcher.machine import Journey, Trigger
from dispatcher.metrics import LeadFacts, LeadMetrics, MetricsSettings
from dispatcher.plug import Plug
from dispatcher.privacy import Masker
from dispatcher.reasons import ENDINGS, Outcome, Reason, State, ending_of, envelope
from dispatcher.reporting import ExcInfo, log_failure
from dispatcher.transport import Answer

if TYPE_CHECKING:  # the ledger's modules are loaded by a stage with a ledger only (plug.py builds it)
    from dispatcher.ledger import Claim, Replay

INTERNAL_ERROR_MESSAGE = "Internal error in the plug; it has been reported"
REPLAYED_HEADER = "Idempotent-Replayed"
ANSWER_RESERVE_S = 0.3  # kept for the Rollbar report and the answer itself after the ledger's steps
UNKNOWN_ROUND_TRIP_SHARE = 0.5  # before the first answer: a send needs half the customer timeout left


_NOTHING: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True)
class LeadResult:
    """What the steps of one lead came to, read by the answer, the ledger's settle and the customer's health."""

    outcome: Outcome
    answer: Answer | None = None  # the customer's answer that decided it, if one came
    request_details: dict[str, Any] = field(default_factory=dict)  # what was (or would have been) sent
    claim: Claim | None = None  # the ledger's claim: this request delivers the lead
    replay: Replay | None = None  # the accepted delivery this request gives back instead
    probe: bool = False  # this lead tests a customer whose pause just ended
    answered: bool = False  # the customer answered the lead's request (whatever it said)
    ended_by: Trigger | None = None  # a trigger other than the end state's own: replay, find
    log: Mapping[str, Any] = _NOTHING  # ids of other attempts for the terminal log line
    ended_early: ExcInfo | None = None  # the LeadEnded a step raised: logged when it is one of our own 500s
    bug: ExcInfo | None = None  # a bug of ours ended the steps: reported with its traceback


@dataclass(frozen=True)
class Delivery:
    """What the platform gets back for one lead."""

    status: int
    envelope: dict[str, Any]
    state: State
    reason: str
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def replayed(self) -> bool:
        """The ledger's answer to a lead it had delivered already, not a new delivery (metric `Replays`)."""
        return self.headers.get(REPLAYED_HEADER) == "true"


def journey_steps(journey: Journey, plug: Plug, body: Any, masker: Masker, deadline: Deadline,
                  unreadable: InvalidLead | None = None) -> LeadResult:
    """Walk the lead (`body`, read; `unreadable` when it could not be) to the outcome that ends it."""
    details: dict[str, Any] = {}
    claim: Claim | None = None
    probe = answered = False
    log: Mapping[str, Any] = _NOTHING
    try:
        if unreadable is not None:
            raise unreadable
        try:
            valid_lead = validate_lead(body, plug.integration.required_fields)
        except InvalidLead:
            journey.identify(lead_id_of(body), masker)  # the id, if valid, of a lead that is not (checked on its own)
            raise
        journey.validate(valid_lead["id"], masker)  # required, validated and trimmed: what lead_id_of would give
        request = plug.integration.translate(valid_lead)
        details = request.details
        journey.translate()
        if plug.ledger is not None:
            from dispatcher.ledger.ledger import Replay  # loaded with the ledger, by now

            begun = plug.ledger.begin(valid_lead, journey.trace_id, deadline)
            if isinstance(begun, Replay):
                return LeadResult(Outcome(State.ACCEPTED, begun.reason,
                                          customer_lead_id=begun.envelope.get("customer_lead_id")),
                                  request_details=details, replay=begun, ended_by=Trigger.REPLAY,
                                  log={"replay_of": begun.trace_id})
            claim = begun
            if begun.previous_attempt is not None:
                log = {"previous_trace_id": begun.previous_attempt["trace_id"]}
                found = chain.look_up(plug, valid_lead, begun, deadline)
                if found is not None:
                    return LeadResult(Outcome.of(Reason.CREATED, "The customer already holds this lead, delivered "
                                                                 "by an earlier attempt", customer_lead_id=found[0]),
                                      found[1], details, claim, ended_by=Trigger.FIND, log=log)
            if begun.waited and begun.in_doubt and not plug.ledger.time_to_send(deadline, UNKNOWN_ROUND_TRIP_SHARE
                                                                                 * plug.customer_timeout_s):
                raise LeadEnded(Outcome.of(Reason.IN_PROGRESS, "Another request's attempt at this lead ended in "
                                                               "doubt too late to send it again now; retry later"))
        with _bounded(plug, deadline.remaining):  # the health's and a chain's step memory's store calls too
            if plug.health is not None:
                probe = plug.health.admit(deadline.answer_remaining())
            try:
                outcome, answer = chain.exchange(plug, request, deadline, on_sent=journey.request_left,
                                                 lead=valid_lead, claim=claim)
            finally:
                journey.exchange_ended()
        answered = True
        if plug.ledger is not None and journey.response_ms is not None:
            plug.ledger.round_trips.observe(journey.response_ms / 1000)
        if claim is not None and claim.in_doubt and outcome.state == State.DUPLICATE:
            outcome = chain.delivered_earlier(plug, outcome, answer, claim, deadline)
        return LeadResult(outcome, answer, details, claim, probe=probe, answered=True, log=log)
    except LeadEnded as ended:
        return LeadResult(ended.outcome, ended.answer, details, claim, probe=probe, answered=answered, log=log,
                          ended_early=(type(ended), ended, ended.__traceback__))
    except Exception:  # noqa: BLE001 - a bug of ours: the lead still settles its claim, as internal_error
        return LeadResult(Outcome.of(Reason.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE), None, details, claim,
                          probe=probe, answered=answered, log=log, bug=sys.exc_info())  # type: ignore[arg-type]


def _learn_credentials(masker: Masker, plug: Plug) -> None:
    """The plug's credentials, for the report of a bug of ours: a bug reading them leaves the personal values."""
    try:
        masker.learn_credentials(plug.credentials)
    except Exception:  # noqa: BLE001 - the lead is already failing: its report must not fail too
        logging.getLogger("leadplug").error("The plug's credentials could not be read to mask a failure's report")


def _bounded(plug: Plug, seconds: Callable[[], float]) -> AbstractContextManager[None]:
    """Bound the store calls of the block to `seconds()` from now; without a ledger there are none to bound (the
    health then lives in this container's memory)."""
    return within(seconds()) if plug.ledger is not None else nullcontext()


def _read(raw_body: bytes | str | None) -> tuple[Any, InvalidLead | None]:
    """The body as JSON, or why it cannot be read (a lead that is not UTF-8 JSON, too large...)."""
    try:
        return read_body(raw_body), None
    except InvalidLead as unreadable:
        return None, unreadable


def deliver(raw_body: bytes | str | None, plug_of: Callable[[], Plug], lambda_context: Any = None,
            request_epoch_ms: float | None = None) -> Delivery:
    """Take one raw body to its terminal state and answer; never raises."""
    trace_id = str(getattr(lambda_context, "aws_request_id", "") or uuid.uuid4())
    body, unreadable = _read(raw_body)
    masker = Masker(body)  # the lead's personal values; the plug's credentials once the steps are done
    journey = Journey(trace_id)
    plug: Plug | None = None
    deadline: Deadline | None = None
    result: LeadResult | None = None
    exc_info: ExcInfo | None = None
    try:
        plug = plug_of()
        deadline = lead_deadline(plug.customer_timeout_s, lambda_context, request_epoch_ms)
        result = journey_steps(journey, plug, body, masker, deadline, unreadable)
        # Read once the steps are done, so that a token they fetched is masked too (nothing is written out during
        # the steps but the transition log's ids)
        masker.learn_credentials(plug.credentials)
        exc_info = result.bug
        if exc_info is None:
            outcome = result.outcome
            if outcome.state == State.REFUSED and masker.reveals(outcome.reason):  # a code made of the data
                outcome = replace(outcome, reason=Reason.REFUSED)
            ending = ending_of(outcome.state, outcome.reason)  # UnknownEnding: a bug of ours
            if result.ended_early is not None and ending.status == ENDINGS[Reason.INTERNAL_ERROR].status:
                # one of our own 500s (the ledger unreachable): its cause, chained, on the deployment's log
                log_failure(outcome.reason, result.ended_early, masker, customer=plug.customer_id,
                            trace_id=trace_id, lead_id=journey.lead_id)
            journey.end(outcome.state, outcome.reason, by=result.ended_by, log=result.log)
            delivery = _answer(result, outcome, ending.status, result.answer, masker)
    except Exception:  # noqa: BLE001 - any bug of ours ends the lead as internal_error, reported and logged
        exc_info = sys.exc_info()  # type: ignore[assignment]
    if exc_info is not None:
        if plug is not None:
            _learn_credentials(masker, plug)  # a bug may have come before they were read
        # the cause, on the deployment's own log too (masked), whether or not Rollbar is set up
        log_failure("plug_cannot_start" if plug is None else Reason.INTERNAL_ERROR.value, exc_info, masker,
                    customer=plug.customer_id if plug is not None else "unset", trace_id=trace_id,
                    lead_id=journey.lead_id)
        outcome = Outcome.of(Reason.INTERNAL_ERROR, INTERNAL_ERROR_MESSAGE)
        ending = ENDINGS[Reason.INTERNAL_ERROR]
        result = result or LeadResult(outcome)
        if not journey.ended:
            journey.end(outcome.state, outcome.reason, log=result.log)
        delivery = _answer(result, outcome, ending.status, None, masker)
    if plug is not None and deadline is not None:
        _after_the_answer(plug, deadline, journey, result or LeadResult(outcome), outcome, delivery, masker)
        if ending.rollbar_level is not None:
            _report(plug, deadline, journey, delivery, ending.rollbar_level, exc_info, masker)
    _measure(plug, journey, delivery)
    return delivery


def _after_the_answer(plug: Plug, deadline: Deadline, journey: Journey, result: LeadResult, outcome: Outcome,
                      delivery: Delivery, masker: Masker) -> None:
    """Settle the ledger and count the customer's health, never making the answer late (never 504) nor failing
    it: each store call is bounded by the answer's time left (DynamoDB's retries and timeouts included; SQLite's
    busy timeout), in this thread: no thread per lead. A settle that does not land in that time is retried
    after the answer by the pending settles' one worker (dispatcher/ledger/pending.py)."""
    budget = max(0.0, deadline.answer_remaining() - ANSWER_RESERVE_S)
    with _bounded(plug, lambda: budget):  # one end for both: the answer's time left, less what answering takes
        steps = (("ledger", lambda: _settle(plug, journey, result, outcome, delivery, budget, masker)),
                 ("health", lambda: _watch_health(plug, deadline, journey, result, outcome, delivery, masker)))
        for name, step in steps:
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - the lead has its answer; the log says what was not recorded
                logging.getLogger("leadplug").error("%s not recorded for trace %s: %s", name, journey.trace_id,
                                                    type(exc).__name__)


def _answer(result: LeadResult, outcome: Outcome, status: int, answer: Answer | None, masker: Masker) -> Delivery:
    """The envelope of this end: a replay's is the first delivery's, with the request translated again."""
    if result.replay is not None and outcome.state == State.ACCEPTED:
        return Delivery(result.replay.status, {**result.replay.envelope, "request_details": result.request_details},
                        outcome.state, outcome.reason, headers={REPLAYED_HEADER: "true"})
    body = envelope(outcome, result.request_details, answer, masker)
    if result.claim is not None and result.claim.previous_attempt is not None:
        body["previous_attempt"] = result.claim.previous_attempt
    return Delivery(status, body, outcome.state, outcome.reason)


def _settle(plug: Plug, journey: Journey, result: LeadResult, outcome: Outcome, delivery: Delivery, budget_s: float,
            masker: Masker) -> None:
    """Remember in the ledger how this attempt ended, within `budget_s` (then after the answer, bounded); a
    settle lost for good leaves the claim to expire (in doubt: the next attempt asks the customer first)."""
    if plug.ledger is None or result.claim is None:
        return
    try:
        plug.ledger.settle(result.claim, outcome, delivery.status, delivery.envelope, sent=journey.sent, masker=masker,
                           within_s=budget_s)
    except StoreUnavailable as exc:
        logging.getLogger("leadplug").error("The delivery ledger could not record trace %s: %s", journey.trace_id,
                                            type(exc).__name__)


def _watch_health(plug: Plug, deadline: Deadline, journey: Journey, result: LeadResult, outcome: Outcome,
                  delivery: Delivery, masker: Masker) -> None:
    """Count this end in the customer's health; a pause or a resume is logged and reported once, here."""
    if plug.health is None:
        return
    change = plug.health.record(delivery.reason, answered=result.answered, probe=result.probe,
                                asked=outcome.customer_asked)
    if change is None:
        return
    plug.health.log(change, journey.trace_id)
    message = (f"Delivery to {plug.customer_name} paused after repeated failures ({change.reason})"
               if change.kind == "paused" else f"Delivery to {plug.customer_name} resumed")
    plug.reporter.report("warning", message, {"customer": plug.customer_id, "trace_id": journey.trace_id,
                                              "health": change.kind}, masker, timeout_s=deadline.answer_remaining())


def _measure(plug: Plug | None, journey: Journey, delivery: Delivery) -> None:
    """The lead's metrics, once it has ended: the one place they are written (a plug that cannot start still
    counts its 500, never as a cold start)."""
    metrics = plug.metrics if plug is not None else LeadMetrics(MetricsSettings.of_a_plug_that_cannot_start(),
                                                                counts_cold_start=False)
    metrics.lead_ended(LeadFacts(state=delivery.state, reason=delivery.reason, response_ms=journey.response_ms,
                                 replayed=delivery.replayed, trace_id=journey.trace_id))


def _report(plug: Plug, deadline: Deadline, journey: Journey, delivery: Delivery, level: str,
            exc_info: ExcInfo | None, masker: Masker) -> None:
    """Report the end at the level the reason table says (a bug as an error with its traceback), within the
    answer's time."""
    facts = {"lead_id": journey.lead_id, "trace_id": journey.trace_id, "state": delivery.state,
             "reason": delivery.reason, "status": delivery.status}
    message = INTERNAL_ERROR_MESSAGE if exc_info else f"Lead ended {delivery.state}/{delivery.reason}"
    plug.reporter.report(level, message, facts, masker, exc_info=exc_info, timeout_s=deadline.answer_remaining())
