"""The ways a step of the journey can end a lead, and the one way a configuration can be refused.

A step that cannot go on raises a `LeadEnded` carrying the outcome; the journey ends the lead with it from
whatever state it reached (`translated` if the request never left, `sent` if it did).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from dispatcher.reasons import Outcome, Reason

if TYPE_CHECKING:  # transport raises these errors: importing it here would be a cycle
    from dispatcher.transport import Answer


class ConfigurationError(Exception):
    """The deployment's settings cannot work; raised before the first lead, naming the variable or file."""


class LeadEnded(Exception):
    """A step ended the lead: `outcome` says how, `answer` is the customer's answer if one came."""

    def __init__(self, outcome: Outcome, answer: Answer | None = None) -> None:
        super().__init__(outcome.message or outcome.reason)
        self.outcome = outcome
        self.answer = answer


class InvalidLead(LeadEnded):
    """The body is not a lead: it names fields only, never their values (they may be personal)."""

    def __init__(self, message: str, missing: Sequence[str] = (), invalid: Sequence[str] = ()) -> None:
        super().__init__(Outcome.of(Reason.INVALID_LEAD, message, missing_fields=list(missing),
                                        invalid_fields=list(invalid)))
        self.message = message
        self.missing_fields = list(missing)
        self.invalid_fields = list(invalid)


class CustomerFailure(LeadEnded):
    """No usable answer came: a timeout, a refused or broken connection, a host that does not resolve."""

    def __init__(self, reason: Reason, message: str, *, customer_asked: bool = True) -> None:
        super().__init__(replace(Outcome.of(reason, message), customer_asked=customer_asked))
        self.reason = reason
        self.message = message


class AnsweredFailure(LeadEnded):
    """The customer answered, but not what the exchange needs to go on (a token endpoint refusing us)."""
