"""The lead's state machine (SPEC section 1): the states, the only moves allowed, and one log line per move.

One `Machine` serves every lead, and it never holds one: a journey fires its moves through the machine's
events (`Event.trigger(model)`, what the methods `add_model` would bind call), so nothing is attached or
detached per lead. Binding those methods (`add_model`: a partial and a `setattr` for each of 9 triggers,
their `may_` twins and 8 states) and `remove_model` cost 60 us a lead, more than the four moves themselves
(docs/performance.md). `auto_transitions=False`, so a trigger that is not declared below raises `MachineError`:
an impossible path is a bug, never a silent move.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from transitions import EventData, Machine

from dispatcher import translog
from dispatcher.reasons import TERMINAL_STATES

logging.getLogger("transitions").setLevel(logging.WARNING)

STATES = ["received", "validated", "translated", "sent", "accepted", "refused", "duplicate", "failed"]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "validate", "source": "received", "dest": "validated"},
    {"trigger": "translate", "source": "validated", "dest": "translated"},
    {"trigger": "send", "source": "translated", "dest": "sent"},
    {"trigger": "accept", "source": "sent", "dest": "accepted"},
    {"trigger": "refuse", "source": "sent", "dest": "refused"},
    {"trigger": "mark_duplicate", "source": "sent", "dest": "duplicate"},
    # Without sending (SPEC section 8): the ledger replays an accepted delivery, or the customer's own search
    # finds the lead an attempt in doubt delivered.
    {"trigger": "replay", "source": "translated", "dest": "accepted"},
    {"trigger": "find", "source": "translated", "dest": "accepted"},
    # Invalid input fails from `received`; a lead whose request never left fails from `translated`;
    # a bug can fail a lead anywhere before its end.
    {"trigger": "fail", "source": ["received", "validated", "translated", "sent"], "dest": "failed"},
]
TERMINAL = frozenset(STATES[4:])
# The trigger that ends a sent lead in each terminal state, read from the table above (fail ends any).
_ENDING_TRIGGER = {move["dest"]: move["trigger"] for move in TRANSITIONS
                   if move["dest"] in TERMINAL and "sent" in move["source"]}
assert TERMINAL == TERMINAL_STATES == set(_ENDING_TRIGGER), "the machine and the reason table disagree"


class Journey:
    """One lead's way through the machine: its ids for the log, what was sent, and the reason it ended.

    Its moves go through the shared machine (`trigger(name)`), which checks them against the table above, sets
    `state` and logs the move.
    """

    def __init__(self, trace_id: str, lead_id: str | None = None) -> None:
        self.state: str = MACHINE.initial
        self.lead_id = lead_id
        self.trace_id = trace_id
        self.reason: str | None = None
        self.request_details: dict[str, Any] = {}
        self.log_extra: dict[str, Any] = {}  # fields of the terminal log line (the first attempt of a replay)
        self.answered = False  # the customer answered the lead's request (whatever it said)
        self.probe = False  # this lead tests a customer whose pause just ended
        self.ended_by: str | None = None  # a trigger other than the end state's own: replay, find
        self.claim: Any = None  # the ledger's claim on this lead, when this request delivers it
        self.replayed: Any = None  # the accepted delivery this request replays (`replay` is a move's name)
        self.started = time.perf_counter()
        self.sent_at: float | None = None  # when the request left (perf_counter)
        self.answered_at: float | None = None  # when the exchange with the customer ended, answered or not

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL

    @property
    def sent(self) -> bool:
        """The lead's request left: the customer may hold the lead, whatever happened next."""
        return self.sent_at is not None

    @property
    def response_ms(self) -> float | None:
        """The customer's response time: from the request leaving to the exchange's end; None if it never left."""
        if self.sent_at is None or self.answered_at is None:
            return None
        return round((self.answered_at - self.sent_at) * 1000, 3)

    def trigger(self, name: str) -> bool:
        """Fire the move `name` (MachineError if the current state does not allow it), as transitions'
        bound `model.trigger(name)` does: an unknown name is an AttributeError."""
        event = MACHINE.events.get(name)
        if event is None:
            raise AttributeError(f"Do not know event named '{name}'.")
        return event.trigger(self)

    def request_left(self) -> None:
        """The lead's request is leaving (its first byte is being written): `sent`, once per lead."""
        if self.state == "translated":  # a resend after a token refresh has left already
            self.sent_at = time.perf_counter()
            self.trigger("send")

    def validate(self) -> None:
        self.trigger("validate")

    def translate(self) -> None:
        self.trigger("translate")

    def exchange_ended(self) -> None:
        """The customer answered, or the exchange failed (timeout, reset): the response time's end."""
        self.answered_at = time.perf_counter()

    def end(self, state: str, reason: str, by: str | None = None) -> None:
        """Move to a terminal state with its reason code (`by`: a trigger other than the state's own)."""
        self.reason = reason
        self.trigger(by or _ENDING_TRIGGER[state])


def _log_transition(event: EventData) -> None:
    lead: Journey = event.model
    translog.transition(
        lead_id=lead.lead_id,
        trace_id=lead.trace_id,
        source=event.transition.source,
        dest=event.transition.dest,
        trigger=event.event.name,
        reason=lead.reason if event.transition.dest in TERMINAL else None,
        elapsed_ms=round((time.perf_counter() - lead.started) * 1000, 3),
        **(lead.log_extra if event.transition.dest in TERMINAL else {}),
    )


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="received",
    auto_transitions=False,
    send_event=True,
    after_state_change=[_log_transition],
)


@contextmanager
def journey(trace_id: str, lead_id: str | None = None) -> Iterator[Journey]:
    """The journey of one lead, for the duration of the block (the machine keeps nothing of it: chalice
    local's threads share the machine without a lock)."""
    yield Journey(trace_id, lead_id)
