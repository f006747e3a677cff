"""The one table of how a lead can end: for every reason, its terminal state, the HTTP status the platform
receives, how it is reported to Rollbar, and whether the customer may hold the lead after it; and the lead's
states themselves (`State`, which the machine moves through).

No other module spells a reason of this shared set: integrations write `Reason.CREATED`, the contract's enums
are checked against `ENDINGS` by a test. A refusal is the one open-ended case: its reason is the customer's
own code (`FIELD_CUSTOM_VALIDATION_EXCEPTION`), always 406. Never 504: no row produces it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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
