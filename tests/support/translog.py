"""Read the transition log (SPEC section 6) that the plug writes while a test runs.

The `leadplug.transitions` logger writes to the standard output it found at import, through its own
handler; pytest's capture cannot see that stream, so the handler's stream is swapped for a buffer.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dispatcher.translog import LOGGER_NAME


class TransitionLines:
    """The lines written inside a `captured_transitions()` block."""

    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    @property
    def raw(self) -> list[str]:
        return [line for line in self._buffer.getvalue().splitlines() if line]

    def lines(self) -> list[dict[str, Any]]:
        """Every line, parsed: a line that is not one JSON object fails the test."""
        return [json.loads(line) for line in self.raw]

    def for_lead(self, lead_id: str) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line.get("lead_id") == lead_id]


@contextmanager
def captured_transitions() -> Iterator[TransitionLines]:
    """Point the transition logger's handlers at a buffer for the block, then restore them."""
    # Exactly StreamHandler: pytest attaches its own capture handlers (StreamHandler subclasses) too.
    handlers = [h for h in logging.getLogger(LOGGER_NAME).handlers if type(h) is logging.StreamHandler]
    assert handlers, "the transition logger has no stream handler"
    buffer = io.StringIO()
    previous = [handler.setStream(buffer) for handler in handlers]
    try:
        yield TransitionLines(buffer)
    finally:
        for handler, stream in zip(handlers, previous, strict=True):
            handler.setStream(stream)
