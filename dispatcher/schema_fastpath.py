"""A fast "certainly valid" check compiled once from the lead schema, so a valid lead skips jsonschema.

jsonschema walks the schema in pure Python for every lead (about 200 us, half of what the plug adds to a
customer's round trip) and its import is a third of a cold start. Most leads are valid: this check, built
from the very same file, answers True only when jsonschema would find no error, and the plug then skips
it; any other answer sends the lead to jsonschema, which alone names the missing and invalid fields.

It understands only the keywords the lead schema uses; a schema with any other keyword compiles to None
(no fast path), so a keyword added to the contract can never be skipped silently. Equality follows JSON
Schema (True is not 1), patterns are searched with `re` as jsonschema does, lengths count code points.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Check = Callable[[Any], bool]

_ANNOTATIONS = frozenset({"$schema", "$id", "$defs", "$comment", "title", "description", "examples", "default"})
_TYPES: dict[str, Check] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}
_SCALARS = (str, bool, int, float, type(None))


class _Unsupported(Exception):
    """The schema uses something this check does not model: no fast path."""


def json_equal(value: Any, expected: Any) -> bool:
    """Equality as JSON (and JSON Schema) sees it: true is not 1, 1 is 1.0."""
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (value, expected))
    return (numbers or type(value) is type(expected)) and value == expected


def _same_scalar(expected: Any) -> Check:
    if not isinstance(expected, _SCALARS):
        raise _Unsupported("enum/const of a non-scalar")
    return lambda v: json_equal(v, expected)


def _all_of(checks: list[Check]) -> Check:
    if len(checks) == 1:
        return checks[0]
    frozen = tuple(checks)

    def check_all(v: Any) -> bool:
        for check in frozen:
            if not check(v):
                return False
        return True

    return check_all


class _Compiler:
    def __init__(self, root: dict[str, Any]) -> None:
        self.root = root

    def resolve(self, ref: str) -> dict[str, Any]:
        if not ref.startswith("#/"):
            raise _Unsupported(f"non-local $ref {ref}")
        node: Any = self.root
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda v: True
        if not isinstance(schema, dict):
            raise _Unsupported("boolean false or odd schema")
        leaf = self.compile_string(schema)
        if leaf is not None:
            return leaf
        checks: list[Check] = []
        for keyword, value in schema.items():
            if keyword in _ANNOTATIONS:
                continue
            builder = getattr(self, "kw_" + keyword.lstrip("$"), None)
            if builder is None:
                raise _Unsupported(keyword)
            checks.append(builder(value, schema))
        return _all_of(checks)

    def compile_string(self, schema: dict[str, Any]) -> Check | None:
        """The common leaf {"type": "string", "pattern", "maxLength"} as one closure (most of a lead)."""
        keywords = set(schema) - _ANNOTATIONS
        if schema.get("type") != "string" or not keywords <= {"type", "pattern", "maxLength"}:
            return None
        search = re.compile(schema["pattern"]).search if "pattern" in schema else None
        limit = schema.get("maxLength")

        def check_string(v: Any) -> bool:
            return isinstance(v, str) and (limit is None or len(v) <= limit) \
                and (search is None or search(v) is not None)

        return check_string

    def kw_ref(self, ref: str, _: dict[str, Any]) -> Check:
        return self.compile(self.resolve(ref))

    def kw_type(self, names: str | list[str], _: dict[str, Any]) -> Check:
        tests = [_TYPES[name] for name in ([names] if isinstance(names, str) else names)]
        return lambda v: any(test(v) for test in tests)

    def kw_enum(self, values: list[Any], _: dict[str, Any]) -> Check:
        tests = [_same_scalar(value) for value in values]
        return lambda v: any(test(v) for test in tests)

    def kw_const(self, value: Any, _: dict[str, Any]) -> Check:
        return _same_scalar(value)

    def kw_pattern(self, pattern: str, _: dict[str, Any]) -> Check:
        search = re.compile(pattern).search
        return lambda v: not isinstance(v, str) or search(v) is not None

    def kw_maxLength(self, limit: int, _: dict[str, Any]) -> Check:  # noqa: N802 - the keyword's name
        return lambda v: not isinstance(v, str) or len(v) <= limit

    def kw_minLength(self, limit: int, _: dict[str, Any]) -> Check:  # noqa: N802 - the keyword's name
        return lambda v: not isinstance(v, str) or len(v) >= limit

    def kw_maxProperties(self, limit: int, _: dict[str, Any]) -> Check:  # noqa: N802 - the keyword's name
        return lambda v: not isinstance(v, dict) or len(v) <= limit

    def kw_required(self, names: list[str], _: dict[str, Any]) -> Check:
        return lambda v: not isinstance(v, dict) or all(name in v for name in names)

    def kw_properties(self, properties: dict[str, Any], _: dict[str, Any]) -> Check:
        compiled = tuple((name, self.compile(sub)) for name, sub in properties.items())

        def check_properties(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name, check in compiled:
                if name in v and not check(v[name]):
                    return False
            return True

        return check_properties

    def kw_additionalProperties(self, sub: Any, schema: dict[str, Any]) -> Check:  # noqa: N802 - the keyword
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        known = frozenset(schema.get("properties", {}))
        check = self.compile(sub)
        return lambda v: not isinstance(v, dict) or all(
            check(item) for key, item in v.items() if key not in known)

    def kw_propertyNames(self, sub: Any, _: dict[str, Any]) -> Check:  # noqa: N802 - the keyword's name
        check = self.compile(sub)
        return lambda v: not isinstance(v, dict) or all(check(key) for key in v)


def compile_certainly_valid(schema: dict[str, Any]) -> Check | None:
    """A predicate true only for instances jsonschema finds valid; None if the schema is beyond it."""
    try:
        return _Compiler(schema).compile(schema)
    except (_Unsupported, KeyError, re.error):
        return None
