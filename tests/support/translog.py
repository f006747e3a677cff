"""Read the transition log (one JSON line per move) through pytest's `caplog`: each move is a LogRecord.

The records are formatted with the plug's own `JsonFormatter`, so a test reads exactly the line the plug
writes on standard output.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from dispatcher.machine import LOGGER_NAME, JsonFormatter

_FORMATTER = JsonFormatter()


def transition_lines(caplog: pytest.LogCaptureFixture, lead_id: str | None = None) -> list[dict[str, Any]]:
    """The transition lines captured so far (of one lead if `lead_id` is given), parsed from their JSON text."""
    lines = [json.loads(_FORMATTER.format(record)) for record in caplog.records if record.name == LOGGER_NAME]
    return lines if lead_id is None else [line for line in lines if line.get("lead_id") == lead_id]
