"""Structured transition log (SPEC section 6): one JSON line per move, through `logging`, on standard output.

Each line is a `LogRecord` of the `leadplug.transitions` logger whose fields are its `extra`, written by
`JsonFormatter`: pytest's `caplog` and any logging tool see the records. Only ids, state names, trigger
names, reason tokens and timings are written: no lead field ever is. `scripts/trace.py` reads them back.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

LOGGER_NAME = "leadplug.transitions"
FIELDS = ("lead_id", "trace_id", "from", "to", "trigger", "reason", "elapsed_ms", "ts")


class JsonFormatter(logging.Formatter):
    """A record's `fields` (or its message) as one JSON object, with `ts` in RFC 3339 UTC."""

    def format(self, record: logging.LogRecord) -> str:
        fields = getattr(record, "fields", None) or {"message": record.getMessage()}
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        return json.dumps({**fields, "ts": stamp.replace("+00:00", "Z")}, ensure_ascii=False)


logger = logging.getLogger(LOGGER_NAME)
logger.setLevel(logging.INFO)
# Our own handler, and no propagation (as Chalice does for `app.log`): Lambda's root handler would print
# every line a second time, wrapped in its own text format.
logger.propagate = False
if not any(isinstance(handler.formatter, JsonFormatter) for handler in logger.handlers):
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(JsonFormatter())
    logger.addHandler(_handler)


def emit(log: logging.Logger, message: str, args: tuple[Any, ...], fields: dict[str, Any] | None = None) -> None:
    """`log.info(message, *args, extra={"fields": fields})` without its caller lookup (a walk up the stack for
    the record's file and line, a quarter of a line's cost, written four or five times a lead): the record is
    made and handled through `Logger.makeRecord` and `Logger.handle`, as logging documents for records made
    elsewhere; handlers, filters, propagation and pytest's capture see the same record."""
    if log.isEnabledFor(logging.INFO):
        log.handle(log.makeRecord(log.name, logging.INFO, __file__, 0, message, args, None,
                                  extra=None if fields is None else {"fields": fields}))


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
