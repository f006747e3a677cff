"""Structured transition log (SPEC section 6): one JSON line per move on standard output (CloudWatch on Lambda).

Only ids, state names, trigger names, reason tokens and timings are written: no lead field ever is, so a
log line cannot carry personal data by construction. `scripts/trace.py` reads these lines back.
"""

from __future__ import annotations

import json
import logging
import sys
import time

from dispatcher.privacy import mask_known

LOGGER_NAME = "leadplug.transitions"
_logger = logging.getLogger(LOGGER_NAME)
_logger.setLevel(logging.INFO)
_logger.propagate = False  # Lambda's root handler would wrap our JSON in its own text format
if not _logger.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)


# One line costs about 9 us instead of 13: an encoder made once (json.dumps makes one per call when given
# options), the timestamp's seconds formatted once per second, and no caller lookup (Logger.info walks the
# stack to fill fields our "%(message)s" format never shows).
_encode = json.JSONEncoder(ensure_ascii=False).encode
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


def transition(*, lead_id: str | None, trace_id: str, source: str, dest: str, trigger: str,
               reason: str | None, elapsed_ms: float) -> None:
    """Write one transition line."""
    if not _logger.isEnabledFor(logging.INFO):
        return
    line = {
        "lead_id": mask_known(lead_id) if lead_id else None,
        "trace_id": trace_id,
        "from": source,
        "to": dest,
        "trigger": trigger,
        "reason": reason,
        "elapsed_ms": elapsed_ms,
        "ts": _timestamp(),
    }
    _logger.handle(_logger.makeRecord(LOGGER_NAME, logging.INFO, __file__, 0, _encode(line), None, None,
                                      func="transition"))
