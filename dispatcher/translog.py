"""The plug's one log setup, and its transition log: one JSON object a line on standard output, through `logging`.

Every logger of the plug is a child of `leadplug` (`leadplug.transitions`, `leadplug.metrics`,
`leadplug.failures`, and `leadplug` itself for warnings and errors): they all reach the one handler set up
here, on `leadplug`, whose `JsonFormatter` writes a record's `fields` as one JSON object (a move of the
transition log, below), a record already made of JSON (`JSON_LINE`: an EMF document, a failure) as it is, and
any other record as `{"level", "logger", "message", "ts"}`. pytest's `caplog` and any logging tool see the records.

The transition log: one line per move, with only ids, state names, trigger names, reason tokens and timings, never
a lead field. `scripts/trace.py` reads them back.

Why not Powertools' `Logger` (and `Metrics`, see metrics.py): `scripts/bench.py` measures one lead's lines (four
moves, one EMF line) both ways in the same run, and Powertools' cost twice this setup's, about +100 us a lead,
6 % of the hand-written peer's whole lead, against a budget of 10 % for everything the plug adds
(docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

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
