"""Structured transition log (SPEC section 6): one JSON line per move on standard output (CloudWatch on Lambda).

Only ids, state names, trigger names, reason tokens and timings are written: no lead field ever is, so a
log line cannot carry personal data by construction. `scripts/trace.py` reads these lines back.
"""

from __future__ import annotations

import logging
import sys
import time
from json.encoder import encode_basestring

from dispatcher.privacy import mask_id

LOGGER_NAME = "leadplug.transitions"
_logger = logging.getLogger(LOGGER_NAME)
_logger.setLevel(logging.INFO)
_logger.propagate = False  # Lambda's root handler would wrap our JSON in its own text format
_handler = next((h for h in _logger.handlers if type(h) is logging.StreamHandler), None)
if _handler is None:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)


# A line is built as text, not through a dict, an encoder and a LogRecord: only the two ids (and the
# reason, to be safe) need JSON escaping; states and triggers are the machine's own names. It goes straight
# to the logger's stream handler and is flushed at once (Lambda freezes the process right after answering).
# The logger's level still switches the log off, and `handler.setStream` still redirects it.
_second: list[tuple[int, str]] = [(-1, "")]


def _timestamp() -> str:
    """UTC now as RFC 3339 with milliseconds and a Z: 2026-11-26T15:00:33.957Z."""
    now = time.time()
    whole = int(now)
    second, text = _second[0]
    if second != whole:
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
        _second[0] = (whole, text)
    return f"{text}.{int((now - whole) * 1000):03d}Z"


def _json_text(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def transition(*, lead_id: str | None, trace_id: str, source: str, dest: str, trigger: str,
               reason: str | None, elapsed_ms: float) -> None:
    """Write one transition line: lead_id, trace_id, from, to, trigger, reason, elapsed_ms, ts."""
    if not _logger.isEnabledFor(logging.INFO):
        return
    line = (f'{{"lead_id": {_json_text(mask_id(lead_id) if lead_id else None)}, '
            f'"trace_id": {_json_text(trace_id)}, "from": "{source}", "to": "{dest}", "trigger": "{trigger}", '
            f'"reason": {_json_text(reason)}, "elapsed_ms": {elapsed_ms!r}, "ts": "{_timestamp()}"}}\n')
    with _handler.lock:  # chalice local serves leads on several threads: lines must not interleave
        stream = _handler.stream
        stream.write(line)
        stream.flush()
