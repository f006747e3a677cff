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
TERMINAL = frozenset(TERMINAL_TRIGGER)


class Journey:
    """One lead's way through the machine; it knows its ids for the log and the reason it ended.

    Its moves (`validate()`, `send()`, ..., and `trigger(name)`) are methods of the class, made once from
    TRANSITIONS below, and each fires the shared machine's own `Event`: transitions decides every move.
    """

    state: str

    def __init__(self, lead_id: str | None, trace_id: str) -> None:
        self.lead_id = lead_id
        self.trace_id = trace_id
        self.reason: str | None = None
        self.started = time.perf_counter()

    def trigger(self, name: str) -> bool:
        """Fire a move by its name; an unknown name raises AttributeError, as Machine's own `trigger` does."""
        event = MACHINE.events.get(name)
        if event is None:
            raise AttributeError(f"Do not know event named '{name}'.")
        return event.trigger(self)

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


def _move(name: str) -> Any:
    def move(self: Journey) -> bool:
        return self.trigger(name)

    move.__name__ = move.__qualname__ = name
    move.__doc__ = f"The `{name}` move; MachineError from a state where SPEC section 1 does not allow it."
    return move


for _trigger in dict.fromkeys(transition["trigger"] for transition in TRANSITIONS):
    setattr(Journey, _trigger, _move(_trigger))


def _log_transition(event: EventData) -> None:
    event.model.log_transition(event)


class _LeadMachine(Machine):
    """A Machine that attaches a Journey without binding anything to it: its moves are already its methods.

    Machine.add_model binds about 17 partials per model (each trigger, `trigger`, `may_trigger`, one
    `is_<state>` per state) and looks up `on_enter_<state>`/`on_exit_<state>` by name: 30 us per lead,
    as much as the four moves themselves. Any other model is attached the library's way.
    """

    def add_model(self, model: Any, initial: Any = None) -> None:
        if isinstance(model, Journey) and model not in self.models:
            self.set_state(initial or self.initial, model=model)
            self.models.append(model)
        else:
            super().add_model(model, initial)


MACHINE = _LeadMachine(
    model=None,
    states=STATES,
    transitions=TRANSITIONS,
    initial="received",
    auto_transitions=False,
    send_event=True,
    after_state_change=[_log_transition],  # a function, not a name: no lookup on the model at every move
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
