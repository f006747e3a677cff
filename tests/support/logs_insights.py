"""The subset of the CloudWatch Logs Insights query language that docs/operations.md uses, run on log lines.

No library evaluates Logs Insights queries outside AWS (moto's `start_query` parses `fields`, `sort` and `limit`
but ignores `filter` and `stats`), so the docs' queries are checked by this small evaluator, written from AWS's
query syntax reference (CWL_QuerySyntax.html): commands joined by `|`; `fields a, b`; `filter` with `=`, `!=`,
`in [...]`, `ispresent(f)`, `and`, `or` (`and` binding tighter, no parentheses); `stats count(*) as n by a, b`;
`sort f asc|desc`; `limit n`. A field named like a keyword is written in backticks (`` `from` ``). JSON log
lines' members are the fields, as Logs Insights discovers them; `@timestamp` is the line's `ts`. Anything else
in a query is an error here, so a doc query cannot use syntax this checker does not understand.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

Row = dict[str, Any]
_FIELD = r"(?:`[^`]+`|@?[A-Za-z_][\w.]*)"
_VALUE = r"""(?:"[^"]*"|'[^']*'|-?\d+(?:\.\d+)?)"""


class UnsupportedQuery(Exception):
    """The query uses syntax outside the subset checked here."""


def _name(field: str) -> str:
    return field.strip().strip("`")


def _value(text: str) -> Any:
    text = text.strip()
    if text[0] in "\"'":
        return text[1:-1]
    return float(text) if "." in text else int(text)


def _condition(text: str) -> Callable[[Row], bool]:
    text = text.strip()
    alternatives = re.split(r"\s+or\s+", text)
    if len(alternatives) > 1:
        tests = [_condition(part) for part in alternatives]
        return lambda row: any(test(row) for test in tests)
    conjuncts = re.split(r"\s+and\s+", text)
    if len(conjuncts) > 1:
        tests = [_condition(part) for part in conjuncts]
        return lambda row: all(test(row) for test in tests)
    if match := re.fullmatch(rf"ispresent\(({_FIELD})\)", text):
        field = _name(match[1])
        return lambda row: row.get(field) is not None
    if match := re.fullmatch(rf"({_FIELD})\s*(=|!=)\s*({_VALUE})", text):
        field, operator, wanted = _name(match[1]), match[2], _value(match[3])
        return (lambda row: row.get(field) == wanted) if operator == "=" else (lambda row: row.get(field) != wanted)
    if match := re.fullmatch(rf"({_FIELD})\s+in\s+\[(.*)\]", text):
        field = _name(match[1])
        values = [_value(value) for value in re.findall(_VALUE, match[2])]
        return lambda row: row.get(field) in values
    raise UnsupportedQuery(f"filter condition not understood: {text!r}")


def _order(value: Any) -> tuple[bool, float | str]:
    """Absent last; numbers as numbers, the rest (ISO timestamps, tokens) as text."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return False, value
    return value is None, "" if value is None else str(value)


def run_query(query: str, lines: Iterable[str]) -> list[Row]:
    """The query's result rows over the JSON lines among `lines` (other lines are skipped, as Insights finds no
    fields in them)."""
    rows: list[Row] = []
    for line in lines:
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            rows.append({**value, "@timestamp": value.get("ts"), "@message": line})
    shown: list[str] | None = None
    for command in (part.strip() for part in query.strip().split("|")):
        keyword, _, rest = command.partition(" ")
        if keyword == "fields":
            shown = [_name(field) for field in rest.split(",")]
        elif keyword == "filter":
            test = _condition(rest)
            rows = [row for row in rows if test(row)]
        elif keyword == "stats":
            match = re.fullmatch(rf"count\(\*\)\s+as\s+(\w+)\s+by\s+({_FIELD}(?:\s*,\s*{_FIELD})*)", rest.strip())
            if not match:
                raise UnsupportedQuery(f"stats not understood: {rest!r}")
            keys = [_name(field) for field in match[2].split(",")]
            counted = Counter(tuple(row.get(key) for key in keys) for row in rows)
            rows = [{**dict(zip(keys, group, strict=True)), match[1]: count} for group, count in counted.items()]
            shown = [*keys, match[1]]
        elif keyword == "sort":
            match = re.fullmatch(rf"({_FIELD})(?:\s+(asc|desc))?", rest.strip())
            if not match:
                raise UnsupportedQuery(f"sort not understood: {rest!r}")
            field = _name(match[1])
            rows.sort(key=lambda row: _order(row.get(field)), reverse=match[2] == "desc")
        elif keyword == "limit":
            rows = rows[:int(rest)]
        else:
            raise UnsupportedQuery(f"command not understood: {command!r}")
    return [{field: row.get(field) for field in shown} for row in rows] if shown is not None else rows
