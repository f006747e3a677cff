"""The lead's state machine: the states, the only moves allowed, and one log line per move, written through the
plug's one log handler, set up here.

A lead is received, validated, translated, sent, then ends accepted, refused, duplicate or failed; it may also
end accepted without being sent (the ledger replays an earlier delivery, or the customer's search finds the lead
an attempt in doubt delivered), and it may fail from any state before its end.

One `Machine` serves every lead, and it never holds one: a journey fires its moves through the machine's
events (`Event.trigger(model)`, what the methods `add_model` would bind call), so nothing is attached or
detached per lead. Binding those methods (`add_model`: a partial and a `setattr` for each of 9 triggers,
their `may_` twins and 8 states) and `remove_model` cost 60 us a lead, more than the four moves themselves
(docs/performance.md); `Journey` declares the triggers itself instead, typed. `auto_transitions=False`, so a
trigger that is not declared below raises `MachineError`: an impossible path is a bug, never a silent move.
A move goes through transitions' `Event.trigger`, as its documentation shows, though a look-up in a table of our
own was measured 370 k instructions a lead cheaper (docs/performance.md): a second implementation of the
library's moves is where bugs would live.

The log, last below: the plug's one log setup, and the transition log it writes, one JSON object a line on standard
output, through `logging`. Every logger of the plug is a child of `leadplug` (`leadplug.transitions`,
`leadplug.metrics`, `leadplug.failures`, and `leadplug` itself for warnings and errors): they all reach the one
handler set up here, whose `JsonFormatter` writes a record's `fields` as one JSON object (a move of the transition
log), a record already made of JSON (`JSON_LINE`: an EMF document, a failure) as it is, and any other record as
`{"level", "logger", "message", "ts"}`; pytest's `caplog` and any logging tool see the records. A move's line holds
only ids, state names, trigger names, reason tokens and timings, never a lead field; `scripts/trace.py` reads the
lines back. Why not Powertools' `Logger` (and `Metrics`, see metrics.py): `scripts/bench.py` measures one lead's
lines (four moves, one EMF line) both ways in the same run, and Powertools' cost twice this setup's, about +100 us
a lead, 6 % of the hand-written peer's whole lead, against a budget of 10 % for everything the plug adds
(docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from enum import StrEnum
from typing import Any

from transitions import EventData, Machine

from dispatcher.privacy import NO_LEAD, Masker
from dispatcher.reasons import TERMINAL_STATES, State

logging.getLogger("transitions").setLevel(logging.WARNING)


class Trigger(StrEnum):
    """The moves, by name (the `trigger` of the transition log)."""

    VALIDATE = "validate"
    TRANSLATE = "translate"
    SEND = "send"
    ACCEPT = "accept"
    REFUSE = "refuse"
    MARK_DUPLICATE = "mark_duplicate"
    REPLAY = "replay"
    FIND = "find"
    FAIL = "fail"


STATES = list(State)
_ON_ITS_WAY = [State.RECEIVED, State.VALIDATED, State.TRANSLATED, State.SENT]

TRANSITIONS: list[dict[str, Any]] = [
    {"trigger": Trigger.VALIDATE, "source": State.RECEIVED, "dest": State.VALIDATED},
    {"trigger": Trigger.TRANSLATE, "source": State.VALIDATED, "dest": State.TRANSLATED},
    {"trigger": Trigger.SEND, "source": State.TRANSLATED, "dest": State.SENT},
    {"trigger": Trigger.ACCEPT, "source": State.SENT, "dest": State.ACCEPTED},
    {"trigger": Trigger.REFUSE, "source": State.SENT, "dest": State.REFUSED},
    {"trigger": Trigger.MARK_DUPLICATE, "source": State.SENT, "dest": State.DUPLICATE},
    # Without sending: the ledger replays an accepted delivery, or the customer's own search finds the lead an
    # attempt in doubt delivered.
    {"trigger": Trigger.REPLAY, "source": State.TRANSLATED, "dest": State.ACCEPTED},
    {"trigger": Trigger.FIND, "source": State.TRANSLATED, "dest": State.ACCEPTED},
    # Invalid input fails from `received`; a lead whose request never left fails from `translated`;
    # a bug can fail a lead anywhere before its end.
    {"trigger": Trigger.FAIL, "source": _ON_ITS_WAY, "dest": State.FAILED},
]
TERMINAL = frozenset(state for state in State if state not in _ON_ITS_WAY)
# The trigger that ends a sent lead in each terminal state, read from the table above (fail ends any).
_ENDING_TRIGGER: dict[State, Trigger] = {
    move["dest"]: move["trigger"] for move in TRANSITIONS
    if move["dest"] in TERMINAL and State.SENT in (move["source"] if isinstance(move["source"], list)
                                                   else [move["source"]])}
assert TERMINAL == TERMINAL_STATES == set(_ENDING_TRIGGER), "the machine and the reason table disagree"


class Journey:
    """One lead's way through the machine: its state, its ids for the log, and its timings. What the steps found
    (the outcome, the answer, the ledger's claim...) is not kept here: `delivery.journey_steps` returns it.

    Its moves go through the shared machine, which checks them against the table above, sets `state` and logs
    the move; each trigger is a method of its own (typed), `trigger(name)` fires one by name.
    """

    def __init__(self, trace_id: str, lead_id: str | None = None) -> None:
        self.state: State = State.RECEIVED
        self.trace_id = trace_id
        self.lead_id = lead_id
        self.logged_id = NO_LEAD.mask_id(lead_id) if lead_id else None  # the id as the log may show it
        self.reason: str | None = None  # set by the move that ends the lead
        self.started = time.perf_counter()
        self.sent_at: float | None = None  # when the request left (perf_counter)
        # The customer's response time: from the request leaving to the exchange's end (answered or not, timed
        # out, reset); None if it never left
        self.response_ms: float | None = None

    def identify(self, lead_id: str | None, masker: Masker) -> None:
        """The lead's id, once read (None when the body holds no valid one); the log shows it unless it is
        itself personal data (an email sent as id)."""
        self.lead_id = lead_id
        self.logged_id = masker.mask_id(lead_id) if lead_id else None

    @property
    def ended(self) -> bool:
        return self.state in TERMINAL

    @property
    def sent(self) -> bool:
        """The lead's request left: the customer may hold the lead, whatever happened next."""
        return self.sent_at is not None

    def trigger(self, name: str, **facts: Any) -> bool:
        """Fire the move `name` (MachineError if the current state does not allow it), as transitions'
        bound `model.trigger(name)` does: an unknown name is an AttributeError. `facts` reach the log line."""
        event = MACHINE.events.get(name)
        if event is None:
            raise AttributeError(f"Do not know event named '{name}'.")
        return bool(event.trigger(self, **facts))

    def validate(self, lead_id: str, masker: Masker) -> bool:
        """The lead is valid: its id, read (`identify`), then the move (whose log line shows the id)."""
        self.identify(lead_id, masker)
        return self.trigger(Trigger.VALIDATE)

    def translate(self) -> bool:
        return self.trigger(Trigger.TRANSLATE)

    def send(self) -> bool:
        return self.trigger(Trigger.SEND)

    def accept(self) -> bool:
        return self.trigger(Trigger.ACCEPT)

    def refuse(self) -> bool:
        return self.trigger(Trigger.REFUSE)

    def mark_duplicate(self) -> bool:
        return self.trigger(Trigger.MARK_DUPLICATE)

    def replay(self) -> bool:
        return self.trigger(Trigger.REPLAY)

    def find(self) -> bool:
        return self.trigger(Trigger.FIND)

    def fail(self) -> bool:
        return self.trigger(Trigger.FAIL)

    def request_left(self) -> None:
        """The lead's request is leaving (its first byte is being written): `sent`, once per lead."""
        if self.state == State.TRANSLATED:  # a resend after a token refresh has left already
            self.sent_at = time.perf_counter()
            self.send()

    def exchange_ended(self) -> None:
        """The customer answered, or the exchange failed (timeout, reset): the response time's end."""
        if self.sent_at is not None:
            self.response_ms = round((time.perf_counter() - self.sent_at) * 1000, 3)

    def end(self, state: str, reason: str, by: Trigger | None = None, log: Mapping[str, Any] | None = None) -> None:
        """Move to a terminal state with its reason code (`by`: a trigger other than the state's own; `log`:
        ids of other attempts of the lead for the terminal log line, `replay_of`, `previous_trace_id`)."""
        self.reason = reason
        self.trigger(by or _ENDING_TRIGGER[State(state)], **(log or {}))


# The log: the plug's one handler, and one line per move

ROOT_LOGGER = "leadplug"
LOGGER_NAME = "leadplug.transitions"
FIELDS = ("lead_id", "trace_id", "from", "to", "trigger", "reason", "elapsed_ms", "ts")
JSON_LINE = {"json_line": True}  # `extra` of a record whose message is one JSON object already


class JsonFormatter(logging.Formatter):
    """A record's `fields` (or its message) as one JSON object, with `ts` in RFC 3339 UTC; a `JSON_LINE`
    record's message as it is.

    The time of day is formatted once a second, and one JSON encoder serves every line: together half the cost
    of a line's formatting, four lines a lead."""

    _encode = json.JSONEncoder(ensure_ascii=False).encode
    _second: tuple[int, str] = (-1, "")  # the last second formatted, and its text

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "json_line", False):
            return record.getMessage()
        fields = getattr(record, "fields", None) or {"level": record.levelname, "logger": record.name,
                                                     "message": record.getMessage()}
        return self._encode({**fields, "ts": self.timestamp(record)})

    def timestamp(self, record: logging.LogRecord) -> str:
        """`2026-12-03T14:06:28.123Z`: the record's time in UTC, to the millisecond."""
        second, text = self._second
        if second != int(record.created):
            second = int(record.created)
            text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._second = (second, text)
        return f"{text}.{int(record.msecs):03d}Z"


def _set_up() -> logging.Logger:
    """`leadplug`'s one handler; no propagation (as Chalice does for `app.log`): Lambda's root handler would
    print every line a second time, wrapped in its own text format. A LogRecord's thread, process and task
    names are not looked up: no line of the plug writes them (logging's documented optimisation flags)."""
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    logging.logAsyncioTasks = False  # type: ignore[attr-defined]  # Python 3.12+, not in typeshed's stubs yet
    root = logging.getLogger(ROOT_LOGGER)
    root.setLevel(logging.INFO)
    root.propagate = False
    if not any(isinstance(handler.formatter, JsonFormatter) for handler in root.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(JsonFormatter())
        root.addHandler(handler)
    return root


_set_up()
logger = logging.getLogger(LOGGER_NAME)


def emit(log: logging.Logger, message: str, args: tuple[Any, ...], fields: dict[str, Any] | None = None,
         extra: dict[str, Any] | None = None) -> None:
    """`log.info(message, *args, extra={"fields": fields})` without its caller lookup (a walk up the stack for
    the record's file and line, a quarter of a line's cost, written four or five times a lead): the record is
    made and handled through `Logger.makeRecord` and `Logger.handle`, as logging documents for records made
    elsewhere; handlers, filters, propagation and pytest's capture see the same record."""
    if log.isEnabledFor(logging.INFO):
        log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, args, None,
                                  extra=extra if fields is None else {"fields": fields}))


def transition(*, lead_id: str | None, trace_id: str, source: str, dest: str, trigger: str,
               reason: str | None, elapsed_ms: float, **extra: Any) -> None:
    """Log one move: lead_id (as the log may show it: the caller masks an id that is personal data),
    trace_id, from, to, trigger, reason, elapsed_ms (and ts, from the record);
    `extra`: ids of other attempts of the same lead (`replay_of`, `previous_trace_id`), never lead data."""
    if not logger.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {"lead_id": lead_id or None, "trace_id": trace_id,
                              "from": source, "to": dest, "trigger": trigger, "reason": reason,
                              "elapsed_ms": elapsed_ms, **extra}
    emit(logger, "%s -> %s", (source, dest), fields)


def _log_transition(event: EventData) -> None:
    journey: Journey = event.model  # type: ignore[assignment]  # transitions types its models as object
    dest = journey.state
    terminal = dest in TERMINAL
    transition(
        lead_id=journey.logged_id,
        trace_id=journey.trace_id,
        source=State[event.transition.source],  # type: ignore[union-attr]  # transitions names Enum states
        dest=dest,
        trigger=event.event.name,
        reason=journey.reason if terminal else None,
        elapsed_ms=round((time.perf_counter() - journey.started) * 1000, 3),
        **(event.kwargs if terminal else {}),
    )


MACHINE = Machine(
    model=None,
    states=State,
    transitions=TRANSITIONS,
    initial=State.RECEIVED,
    auto_transitions=False,
    send_event=True,
    after_state_change=[_log_transition],
)


@contextmanager
def journey(trace_id: str, lead_id: str | None = None) -> Iterator[Journey]:
    """The journey of one lead, for the duration of the block (the machine keeps nothing of it: chalice
    local's threads share the machine without a lock)."""
    yield Journey(trace_id, lead_id)
