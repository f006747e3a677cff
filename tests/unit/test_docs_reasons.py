"""The reason table of docs/statuses-and-envelopes.md mirrors dispatcher/reasons.py: same reasons, same order,
same state, status, Rollbar level and "customer may hold it" as `ENDINGS`. The docs write nothing by hand
that the code holds without this test saying when they drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

from dispatcher.reasons import ENDINGS, Reason

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "statuses-and-envelopes.md"
HEADER = ["reason", "state", "status", "Rollbar", "customer may hold it", "when"]
_CODE = re.compile(r"^`([^`]+)`$")


def cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def reason_table(text: str) -> list[list[str]]:
    """The rows of the table whose header is HEADER (the first such table of the page)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if line.startswith("|") and cells(line) == HEADER:
            rows = []
            for row in lines[index + 2:]:
                if not row.startswith("|"):
                    break
                rows.append(cells(row))
            return rows
    raise AssertionError(f"{PAGE.name} has no table headed {' | '.join(HEADER)}")


def as_code(row: list[str]) -> tuple[str, str, int, str | None, str]:
    """A row as (reason, state, status, Rollbar level, customer may hold) in the code's own terms."""
    found = _CODE.match(row[0])
    assert found, f"the reason cell {row[0]!r} is not written as `code`"
    level = None if row[3] in ("-", "") else row[3]
    return found.group(1), row[1], int(row[2]), level, row[4].replace(" ", "_")


def test_the_docs_reason_table_is_the_codes():
    documented = [as_code(row) for row in reason_table(PAGE.read_text(encoding="utf-8"))]
    in_code = [(reason.value, ending.state, ending.status, ending.rollbar_level, ending.customer_may_hold.value)
               for reason, ending in ENDINGS.items()]
    assert documented == in_code, "docs/statuses-and-envelopes.md's reason table differs from dispatcher/reasons.py"


def test_every_row_explains_its_reason():
    rows = reason_table(PAGE.read_text(encoding="utf-8"))
    assert all(len(row) == len(HEADER) and row[-1] for row in rows), "each row says when its reason is given"


# A reason as the pages write it: after a status or a terminal state ("502 `customer_timeout`", "failed /
# `invalid_lead`"), possibly several joined by commas or "or". Lower-case tokens only: a customer's own codes
# (`FIELD_CUSTOM_VALIDATION_EXCEPTION`) are upper-case, and are not ours to check.
_NAMED = re.compile(r"\b(?:[1-5][0-9][0-9]|accepted|refused|duplicate|failed)(?: /)? ((?:`[^`]+`(?:, | or )?)+)")


def test_every_reason_the_pages_name_exists():
    """Anywhere in the README or docs/ (code blocks aside), a reason named after a status or a state is one of ours."""
    ours = {reason.value for reason in Reason}
    unknown = []
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        fenced = False
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), start=1):
            if line.lstrip().startswith("```"):
                fenced = not fenced
            if fenced:
                continue
            for found in _NAMED.finditer(line):
                unknown += [f"{page.name}:{number}: {token}" for token in re.findall(r"`([^`]+)`", found.group(1))
                            if re.fullmatch(r"[a-z][a-z0-9_]*", token) and token not in ours]
    assert not unknown, "reasons the code does not have:\n" + "\n".join(unknown)
