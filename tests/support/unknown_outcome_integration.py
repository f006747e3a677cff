"""An integration whose classification returns an end the status table does not know (accepted/maybe).

Registered by the tests under CUSTOMER=unknown_outcome: the plug must treat it as its own bug (500,
reported), never as a success the platform would trust.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dispatcher.integrations.salesforce import from_env as salesforce_from_env
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer


class UnknownOutcome:
    name = "unknown_outcome"
    required_fields: tuple[str, ...] = ()

    def __init__(self, environ: Mapping[str, str]) -> None:
        salesforce = salesforce_from_env(environ)
        self.auth, self.translate = salesforce.auth, salesforce.translate

    def classify(self, answer: Answer) -> Outcome:
        state: Any = "accepted"  # by its name, whether Outcome keeps states as strings or as an enum
        return Outcome(state, "maybe", customer_lead_id="00Qmaybe")


def from_env(environ: Mapping[str, str]) -> UnknownOutcome:
    return UnknownOutcome(environ)
