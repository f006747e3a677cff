"""A customer's answer as the plug keeps it: status, the body read no further than the size cap, its type."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cached_property
from typing import Any

MAX_ANSWER_DEPTH = 64  # deeper JSON is shown as text: walking it (secrets, envelope) must not recurse forever


@dataclass(frozen=True)
class Answer:
    """What the customer answered, read no further than the size cap."""

    status: int
    body: bytes
    content_type: str = ""
    truncated: bool = False

    @cached_property
    def _parsed(self) -> Any:
        if self.truncated:
            return None
        try:  # utf-8-sig: a byte order mark before the JSON (ASP.NET writes one) is not part of it
            value = json.loads(self.body.decode("utf-8-sig"), parse_constant=_not_json, parse_float=_finite,
                               parse_int=_integer)
        except (ValueError, RecursionError):
            return None
        return value if _depth_within(value, MAX_ANSWER_DEPTH) else None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a customer's HTML error page, say)."""
        return self._parsed

    def text(self, limit: int = 10_000) -> str:
        return self.body[:limit].decode("utf-8-sig", "replace")  # a byte order mark is not text


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN would make the envelope itself invalid JSON


def _finite(text: str) -> float | str:
    """A number beyond a double's range (1e400) is kept as its text: Infinity is not JSON (RFC 8259)."""
    value = float(text)
    return value if math.isfinite(value) else text


def _integer(text: str) -> int | str:
    """An integer too long for Python to convert (over 4,300 digits) is kept as its text."""
    try:
        return int(text)
    except ValueError:
        return text


def _depth_within(value: Any, depth: int) -> bool:
    if depth < 0:
        return False
    if isinstance(value, dict):
        return all(_depth_within(item, depth - 1) for item in value.values())
    if isinstance(value, list):
        return all(_depth_within(item, depth - 1) for item in value)
    return True
