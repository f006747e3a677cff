"""How a lead can end, in three sections: the one reason table, the `Outcome` built from it, and the envelope that
tells the platform.

1. The reason table: for every reason, its terminal state, the HTTP status the platform receives, how it is
   reported to Rollbar, and whether the customer may hold the lead after it; and the lead's states themselves
   (`State`, which the machine moves through). No other module spells a reason of this shared set: integrations
   write `Reason.CREATED`, the contract's enums are checked against `ENDINGS` by a test. A refusal is the one
   open-ended case: its reason is the customer's own code (`FIELD_CUSTOM_VALIDATION_EXCEPTION`), always 406.
   Never 504: no row produces it.
2. The outcome: what a customer's answer (or its absence) means for a lead, a terminal state, a reason and details.
3. The envelopes the platform reads (success, error), built from an outcome, the request sent and the answer
   received, with the lead's `Masker`: no credential a customer echoes reaches the platform.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from dispatcher.privacy import NO_LEAD, Masker  # the standard library only, as this module

if TYPE_CHECKING:  # scripts read the table with the standard library alone; an answer is only read here
    from dispatcher.transport import Answer

# 1. The reason table


class State(StrEnum):
    """Where a lead stands: four steps on its way, then one of four ends (the machine's states)."""

    RECEIVED = "received"
    VALIDATED = "validated"
    TRANSLATED = "translated"
    SENT = "sent"  # its request left: the customer may hold it, whatever happens next
    ACCEPTED = "accepted"
    REFUSED = "refused"
    DUPLICATE = "duplicate"
    FAILED = "failed"


class Reason(StrEnum):
    """The reasons the plug itself gives (a refusal may also carry the customer's own code)."""

    CREATED = "created"
    QUEUED = "queued"
    OK = "ok"
    DELIVERED_EARLIER = "delivered_earlier"  # in doubt, then "duplicate": our own earlier attempt delivered it
    DUPLICATE = "duplicate"
    REFUSED = "refused"  # a refusal whose own code is not a countable token
    INVALID_LEAD = "invalid_lead"
    UNAUTHORIZED = "unauthorized"
    CUSTOMER_API_NOT_FOUND = "customer_api_not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    INTERNAL_ERROR = "internal_error"
    CUSTOMER_ERROR = "customer_error"
    CUSTOMER_REJECTED_REQUEST = "customer_rejected_request"
    CUSTOMER_TIMEOUT = "customer_timeout"
    CUSTOMER_UNREACHABLE = "customer_unreachable"
    BAD_CUSTOMER_RESPONSE = "bad_customer_response"
    LEAD_ID_REUSED = "lead_id_reused"
    IN_PROGRESS = "in_progress"
    CUSTOMER_PAUSED = "customer_paused"
    LEDGER_UNAVAILABLE = "ledger_unavailable"


class MayHold(StrEnum):
    """Whether the customer may hold the lead after this end (the delivery ledger reads it: a lead it may hold
    is never sent again without asking the customer first)."""

    YES = "yes"  # it took the lead
    NO = "no"  # it does not hold it because of us: delivering again is harmless
    IF_SENT = "if_sent"  # in doubt when the request had left (`sent`), certainly not otherwise


@dataclass(frozen=True)
class Ending:
    state: State
    status: int
    rollbar_level: str | None  # "error" (with the traceback for a bug), "warning", or not reported
    customer_may_hold: MayHold


_ACCEPTED, _FAILED = State.ACCEPTED, State.FAILED

ENDINGS: dict[Reason, Ending] = {
    # The ledger's own 200 (first: a table read by status alone, as fixtures_lib does, keeps `ok` for 200).
    Reason.DELIVERED_EARLIER: Ending(_ACCEPTED, 200, None, MayHold.YES),
    Reason.CREATED: Ending(_ACCEPTED, 201, None, MayHold.YES),
    Reason.QUEUED: Ending(_ACCEPTED, 202, None, MayHold.YES),
    Reason.OK: Ending(_ACCEPTED, 200, None, MayHold.YES),
    Reason.DUPLICATE: Ending(State.DUPLICATE, 409, None, MayHold.NO),
    Reason.REFUSED: Ending(State.REFUSED, 406, None, MayHold.NO),
    Reason.INVALID_LEAD: Ending(_FAILED, 400, None, MayHold.NO),
    Reason.LEAD_ID_REUSED: Ending(_FAILED, 400, None, MayHold.NO),
    Reason.UNAUTHORIZED: Ending(_FAILED, 401, None, MayHold.NO),
    Reason.CUSTOMER_API_NOT_FOUND: Ending(_FAILED, 404, None, MayHold.NO),
    Reason.METHOD_NOT_ALLOWED: Ending(_FAILED, 405, None, MayHold.NO),
    Reason.INTERNAL_ERROR: Ending(_FAILED, 500, "error", MayHold.IF_SENT),
    Reason.LEDGER_UNAVAILABLE: Ending(_FAILED, 500, "error", MayHold.NO),
    Reason.CUSTOMER_ERROR: Ending(_FAILED, 502, "warning", MayHold.NO),
    # Our request does not fit the customer's setup (a field it lacks, a wrong type): every lead will fail the
    # same way until someone fixes the configuration, hence an error, not a warning.
    Reason.CUSTOMER_REJECTED_REQUEST: Ending(_FAILED, 502, "error", MayHold.NO),
    Reason.CUSTOMER_TIMEOUT: Ending(_FAILED, 502, "warning", MayHold.IF_SENT),
    Reason.CUSTOMER_UNREACHABLE: Ending(_FAILED, 502, "warning", MayHold.IF_SENT),
    Reason.BAD_CUSTOMER_RESPONSE: Ending(_FAILED, 502, "warning", MayHold.IF_SENT),
    # Not the customer failing: another request delivers the lead; a pause is reported once, when it starts.
    Reason.IN_PROGRESS: Ending(_FAILED, 502, None, MayHold.NO),
    Reason.CUSTOMER_PAUSED: Ending(_FAILED, 502, None, MayHold.NO),
}
TERMINAL_STATES = frozenset(ending.state for ending in ENDINGS.values())


class UnknownEnding(Exception):
    """An integration ended a lead on a (state, reason) pair this table does not hold: a bug of ours."""


def ending_of(state: str, reason: str) -> Ending:
    """The row for a terminal (state, reason); any reason of a refusal is the customer's own, hence 406."""
    ending = ENDINGS.get(reason)  # type: ignore[call-overload]  # a str finds its Reason: StrEnum hashes alike
    if ending is not None and ending.state == state:
        return ending
    if state == State.REFUSED:
        return ENDINGS[Reason.REFUSED]
    raise UnknownEnding(f"no ending {state}/{reason} in the reason table")


def reasons_with_status(status: int) -> list[str]:
    return [reason.value for reason, ending in ENDINGS.items() if ending.status == status]


# 2. The outcome: a terminal state, a reason and details

# A reason is counted across leads (a metric dimension, an alarm): a stable token, a letter then letters, digits
# and underscores (FIELD_CUSTOM_VALIDATION_EXCEPTION, out_of_area), 2 to 64 characters, and no run of four digits
# or more (an id, a date, a phone number: what changes from one lead to the next); or an HRESULT-style code as
# Microsoft's Dataverse documents its errors (0x80040265). contracts/envelope.schema.json says the same.
_REASON_TOKEN = re.compile(r"(?!.*\d{4})[A-Za-z][A-Za-z0-9_]{1,63}|0x[0-9A-Fa-f]{8}")


def reason_token(raw: object, fallback: str) -> str:
    """A customer's error code as a stable, countable token; anything else (a sentence, data, a per-lead code)
    becomes `fallback`. (Whether it repeats this lead's data or id is `Masker.reveals`, once the lead is known.)"""
    if isinstance(raw, str) and _REASON_TOKEN.fullmatch(raw):
        return raw
    return fallback


@dataclass(frozen=True)
class Outcome:
    """The terminal state of a lead and why; `details` lands in the envelope's `error` object. A state given as
    its string ("accepted") is taken as the `State` it names (ValueError for no state)."""

    state: State
    reason: str
    message: str = ""
    customer_lead_id: str | int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    # False when the lead never reached the customer for a reason of ours (no time was left to call it): such
    # an end says nothing of the customer's health.
    customer_asked: bool = field(default=True, compare=False)

    def __post_init__(self) -> None:
        if type(self.state) is not State:
            object.__setattr__(self, "state", State(self.state))

    @classmethod
    def of(cls, reason: Reason, message: str = "", *, customer_lead_id: str | int | None = None,
           **details: Any) -> Outcome:
        """An end the plug names: its state comes from the reason table."""
        return cls(ENDINGS[reason].state, reason, message, customer_lead_id, details)

    @classmethod
    def refused(cls, code: object, message: str) -> Outcome:
        """The customer's own refusal; a code that is not a countable token becomes plain `refused`."""
        return cls(State.REFUSED, reason_token(code, Reason.REFUSED), message)


# 3. The envelopes the platform reads

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
