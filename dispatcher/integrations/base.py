"""What an integration is: required fields, a pure `translate`, a pure `classify`, and its authentication.

Everything else (state machine, deadline, transport, envelopes, logs, Rollbar) is shared and written once:
an integration never performs HTTP itself, except through the `Auth` it is given the transport for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from dispatcher.answer import Answer
from dispatcher.contract import Lead
from dispatcher.deadline import Deadline
from dispatcher.errors import LeadEnded
from dispatcher.outcome import Outcome
from dispatcher.reasons import Reason
from dispatcher.transport import Transport


@dataclass(frozen=True)
class CustomerRequest:
    """The customer's request for one lead, before authentication: a path under the session's base URL (or
    an absolute URL: a webhook's `find` request goes where its file says)."""

    path: str
    json_body: dict[str, Any] | None = None
    form: dict[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    method: str = "POST"
    params: Mapping[str, str] = field(default_factory=dict)

    def url(self, base_url: str) -> str:
        return self.path if self.path.startswith(("http://", "https://")) else base_url + self.path

    @property
    def details(self) -> dict[str, Any]:
        """What the envelope shows as `request_details`: the body, never a header (they hold credentials)."""
        return dict(self.json_body if self.json_body is not None else self.form or {})


@dataclass(frozen=True)
class CustomerSession:
    """Where and how to reach the customer once authenticated; never shown in envelopes or logs."""

    base_url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)


class Auth(Protocol):
    credentials: tuple[str, ...]  # every secret value it holds, for masking wherever a customer echoes one

    def open(self, transport: Transport, deadline: Deadline, *,
             stale: CustomerSession | None = None) -> CustomerSession:
        """A session to use; with `stale`, replace that session by a fresh one (one token refresh)."""

    def is_expired(self, answer: Answer) -> bool:
        """Whether the answer says the session expired before the lead was taken (worth one refresh)."""


class Integration(Protocol):
    name: str
    required_fields: Sequence[str]
    auth: Auth

    def translate(self, lead: Lead) -> CustomerRequest:
        """The customer's request for a valid lead; pure."""

    def classify(self, answer: Answer) -> Outcome:
        """The terminal state and reason of an answer; pure, and total over any answer."""


class Finder(Protocol):
    """What an integration adds where the customer's API can look a lead up (SPEC section 8, in doubt)."""

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest:
        """The request that looks for a lead like this one created since `since`; pure."""

    def found(self, answer: Answer, since: datetime) -> str | int | None:
        """The customer's id of a lead created since `since`, None when not found; raises LeadEnded when the
        answer says nothing either way (the search failed); pure."""


def search_failed(outcome: Outcome, answer: Answer, customer: str) -> LeadEnded:
    """A search's answer read by the customer's rules ends the lead only as a failure: the lead was not sent
    (a refusal or a duplicate would need the request to have left)."""
    if outcome.state != "failed":
        outcome = Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{customer}'s search answered HTTP {answer.status}")
    return LeadEnded(outcome, answer)


def http_family_outcome(answer: Answer, customer: str) -> Outcome:
    """The outcome every customer shares for an answer its own rules did not explain."""
    if answer.status == 404:
        return Outcome.of(Reason.CUSTOMER_API_NOT_FOUND, f"{customer} answered 404: its API was not found")
    if answer.status >= 500:
        return Outcome.of(Reason.CUSTOMER_ERROR, f"{customer} failed with HTTP {answer.status}")
    return Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"{customer} gave an answer the plug does not understand "
                                                   f"(HTTP {answer.status})")
