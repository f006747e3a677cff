"""Structured transition log (SPEC section 6): one JSON line per move on standard output (CloudWatch on Lambda).

Only ids, state names, trigger names, reason tokens and timings are written: no lead field ever is, so a
log line cannot carry personal data by construction. `scripts/trace.py` reads these lines back.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from dispatcher.privacy import mask_known

LOGGER_NAME = "leadplug.transitions"
_logger = logging.getLogger(LOGGER_NAME)
_logger.setLevel(logging.INFO)
_logger.propagate = False  # Lambda's root handler would wrap our JSON in its own text format
if not _logger.handlers:
    _handler = logging.StreamHandler(sys.stdout)
    _handler.setFormatter(logging.Formatter("%(message)s"))
    _logger.addHandler(_handler)


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
        "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    }
    _logger.info(json.dumps(line, ensure_ascii=False))
