"""The lead's state machine (SPEC section 1): the states, the only moves allowed, and one log line per move.

One `Machine` serves every lead: a journey is attached with `add_model` and always detached in `finally`,
which costs about half of building a machine per lead. `auto_transitions=False`, so a trigger that is not
declared below raises `MachineError`: an impossible path is a bug, never a silent move.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from transitions import EventData, Machine

from dispatcher import translog

logging.getLogger("transitions").setLevel(logging.WARNING)

STATES = ["received", "validated", "translated", "sent", "accepted", "refused", "duplicate", "failed"]
TERMINAL = frozenset({"accepted", "refused", "duplicate", "failed"})

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": "validate", "source": "received", "dest": "validated"},
    {"trigger": "translate", "source": "validated", "dest": "translated"},
    {"trigger": "send", "source": "translated", "dest": "sent"},
    {"trigger": "accept", "source": "sent", "dest": "accepted"},
    {"trigger": "refuse", "source": "sent", "dest": "refused"},
    {"trigger": "mark_duplicate", "source": "sent", "dest": "duplicate"},
    # Invalid input fails from `received`; a bug can fail a lead anywhere before its end.
    {"trigger": "fail", "source": ["received", "validated", "translated", "sent"], "dest": "failed"},
]

TERMINAL_TRIGGER = {"accepted": "accept", "refused": "refuse", "duplicate": "mark_duplicate", "failed": "fail"}


class Journey:
    """One lead's way through the machine; it knows its ids for the log and the reason it ended."""

    state: str

    def __init__(self, lead_id: str | None, trace_id: str) -> None:
        self.lead_id = lead_id
        self.trace_id = trace_id
        self.reason: str | None = None
        self.started = time.perf_counter()

    def end(self, state: str, reason: str) -> None:
        """Move to a terminal state with its reason code."""
        self.reason = reason
        self.trigger(TERMINAL_TRIGGER[state])

    def log_transition(self, event: EventData) -> None:
        translog.transition(
            lead_id=self.lead_id,
            trace_id=self.trace_id,
            source=event.transition.source,
            dest=event.transition.dest,
            trigger=event.event.name,
            reason=self.reason if event.transition.dest in TERMINAL else None,
            elapsed_ms=round((time.perf_counter() - self.started) * 1000, 3),
        )


MACHINE = Machine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="received",
    auto_transitions=False,
    send_event=True,
    after_state_change="log_transition",
)
# Machine.add_model/remove_model mutate shared lists; chalice local serves requests on several threads.
_models_lock = threading.Lock()


@contextmanager
def journey(lead_id: str | None, trace_id: str) -> Iterator[Journey]:
    """A journey attached to the shared machine for the duration of one lead, detached whatever happens."""
    model = Journey(lead_id, trace_id)
    with _models_lock:
        MACHINE.add_model(model)
    try:
        yield model
    finally:
        with _models_lock:
            MACHINE.remove_model(model)
