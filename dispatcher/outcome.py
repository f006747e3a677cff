"""What a customer's answer (or its absence) means for a lead: a terminal state, a reason and details."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from dispatcher.reasons import ENDINGS, Reason, State

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
