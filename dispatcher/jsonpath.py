"""Reading JSON-like data the way customers' answers and the field mappings need: dotted paths, JSON equality."""

from __future__ import annotations

from typing import Any


def lookup(data: Any, dotted: str) -> Any:
    """The value at a dotted path of a JSON-like structure (list indexes as numbers), or None."""
    value = data
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def json_equal(value: Any, expected: Any) -> bool:
    """Equality as JSON (and JSON Schema) sees it: true is not 1, 1 is 1.0."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, expected))
    return (numbers or type(value) is type(expected)) and value == expected
