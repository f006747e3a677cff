"""The lead contract at runtime: read the raw body, validate it against `contracts/lead.schema.json`, normalise it.

The schema file is the one the OpenAPI contract references, so what the docs promise, what schemathesis
fuzzes and what the plug enforces cannot drift apart. The raw values are validated (the patterns tolerate
surrounding white space), then strings are trimmed and the email lower-cased.

Trimming removes exactly the white space class the schema's patterns spell out (`WHITESPACE`), not
`str.strip()`'s wider idea of it (which adds the controls U+001C-U+001F and U+0085).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from dispatcher.errors import InvalidLead
from dispatcher.jsonpath import lookup

CONTRACTS_DIR = Path(__file__).resolve().parent.parent / "contracts"
LEAD_SCHEMA: dict[str, Any] = json.loads((CONTRACTS_DIR / "lead.schema.json").read_text(encoding="utf-8"))
LEAD_FIELDS: frozenset[str] = frozenset(LEAD_SCHEMA["properties"])
# The schema's white space class, character for character (tests/unit/test_contract.py holds them together).
WHITESPACE = "\t\n\x0b\x0c\r \xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u2028\u2029\u202f\u205f\u3000"
MAX_BODY_BYTES = 1_000_000  # a lead is a few kB; anything near API Gateway's 10 MB is not a lead

# Built once, when the plug starts. The schema itself is checked against its metaschema by a test
# (tests/unit/test_contract.py), not here: `check_schema` at every cold start cost 20 to 60 ms for a file
# that only changes in a commit.
LEAD_VALIDATOR = Draft202012Validator(LEAD_SCHEMA)
_ID_VALIDATOR = Draft202012Validator(LEAD_SCHEMA["properties"]["id"])

Lead = dict[str, Any]


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def read_body(raw: bytes | str | None) -> Any:
    """Decode a body as strict UTF-8 JSON whatever its Content-Type; an empty body reads as `{}`."""
    if raw is None:
        return {}
    data = raw.encode("utf-8", "surrogatepass") if isinstance(raw, str) else raw
    if len(data) > MAX_BODY_BYTES:
        raise InvalidLead(f"Invalid lead: the body is larger than {MAX_BODY_BYTES} bytes", invalid=["body"])
    if not data.strip():
        return {}
    if data.startswith(b"\xef\xbb\xbf"):
        raise InvalidLead("Invalid lead: the body starts with a byte order mark; send plain UTF-8 JSON",
                          invalid=["body"])
    try:
        text = data.decode("utf-8")
        body = json.loads(text, parse_constant=_reject_constant)
    except UnicodeDecodeError:
        raise InvalidLead("Invalid lead: the body is not valid UTF-8", invalid=["body"]) from None
    except RecursionError:
        raise InvalidLead("Invalid lead: the body is nested too deeply", invalid=["body"]) from None
    except ValueError as exc:  # JSONDecodeError, NaN/Infinity, oversized integers
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise InvalidLead(f"Invalid lead: the body is not valid JSON{where}", invalid=["body"]) from None
    if _SURROGATE_ESCAPE.search(text):
        try:
            lone = _holds_lone_surrogate(body)
        except RecursionError:
            raise InvalidLead("Invalid lead: the body is nested too deeply", invalid=["body"]) from None
        if lone:  # JSON lets "\ud800" through; no customer can take it as UTF-8
            raise InvalidLead("Invalid lead: the body holds a lone UTF-16 surrogate", invalid=["body"])
    return body


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _holds_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(_holds_lone_surrogate(key) or _holds_lone_surrogate(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_holds_lone_surrogate(item) for item in value)
    return False


def _dotted(path: Iterable[Any]) -> str:
    return ".".join(str(part) for part in path)


def _trim(value: Any, depth: int = 2) -> Any:
    """Trim the strings of a lead and of its objects; the schema has none deeper, so nothing deeper is walked
    (an unknown key of `address` may hold an object nested a thousand times: recursing into it was a 500)."""
    if isinstance(value, str):
        return value.strip(WHITESPACE)
    if isinstance(value, dict) and depth > 0:
        return {key: _trim(item, depth - 1) for key, item in value.items()}
    return value


def _describe(missing: Sequence[str], invalid: Sequence[str]) -> str:
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if invalid:
        parts.append("invalid " + ", ".join(invalid))
    return "Invalid lead: " + "; ".join(parts)


def validate_lead(body: Any, customer_required: Sequence[str] = ()) -> Lead:
    """Return the normalised lead, or raise InvalidLead listing every missing and every invalid field."""
    if not isinstance(body, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(type(body), "a number")
        raise InvalidLead(f"Invalid lead: the body must be a JSON object, not {kind}", invalid=["body"])
    missing: dict[str, None] = {}
    invalid: dict[str, None] = {}
    for error in LEAD_VALIDATOR.iter_errors(body):
        where = _dotted(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, dict):
            for name in error.validator_value:
                if name not in error.instance:
                    missing[f"{where}.{name}" if where else name] = None
        else:
            invalid[where or "body"] = None
    lead = _trim({key: value for key, value in body.items() if key in LEAD_FIELDS}) if not invalid else {}
    if not invalid:
        for field in customer_required:
            if lookup(lead, field) in (None, ""):
                missing[field] = None
    if missing or invalid:
        raise InvalidLead(_describe(list(missing), list(invalid)), list(missing), list(invalid))
    lead["email"] = lead["email"].lower()
    return lead


def lead_id_of(body: Any) -> str | None:
    """The lead's id for logs, when the body has one the schema accepts, even if the rest of the lead is invalid
    (tabs, line breaks and invisible characters inside included: every such id must be traceable)."""
    if isinstance(body, dict):
        value = body.get("id")
        if isinstance(value, str) and _ID_VALIDATOR.is_valid(value):
            return value.strip(WHITESPACE)
    return None
