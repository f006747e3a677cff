r"""A webhook customer's answer rules: ordered, first match wins, and no match is never a success.

A rule tests the HTTP status, values at JSON paths and a regular expression on the body (all that it
names must hold), then gives the terminal state, the reason (written, or the customer's own code read
from the answer) and where the customer's lead id is. Rules are compiled when the plug starts, so a bad
regular expression or a reference to a group that does not exist stops the plug, not a lead.

Regular expressions run on RE2 (`google-re2`), an engine whose time is linear in the answer's length: no
pattern can backtrack for ever, so a rule always ends well within the lead's deadline. RE2 reads Python's
syntax but for backreferences and lookarounds (refused when the file loads) and matches `\w`, `\d`, `\s`
in ASCII (write `\p{L}` for any letter).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import re2

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.base import http_family_outcome
from dispatcher.jsonpath import json_equal, lookup
from dispatcher.reasons import Outcome, Reason, State, reason_token
from dispatcher.transport import Answer

DEFAULT_REASON = {"refused": Reason.REFUSED, "duplicate": Reason.DUPLICATE, "failed": Reason.CUSTOMER_ERROR}


@dataclass(frozen=True)
class Place:
    """Where a value is in an answer: a dotted JSON path, or a named group of the rule's body regex."""

    json_path: str | None = None
    group: str | None = None

    def read(self, data: Any, found: Any) -> Any:
        if self.json_path is not None:
            return lookup(data, self.json_path)
        return found.group(self.group) if found is not None else None


@dataclass(frozen=True)
class JsonTest:
    path: str
    kind: str  # equals, in, exists, matches
    expected: Any

    def holds(self, data: Any) -> bool:
        value = lookup(data, self.path) if data is not None else None
        if self.kind == "exists":
            return (value is not None) is self.expected
        if self.kind == "matches":
            return isinstance(value, str) and self.expected.search(value) is not None
        if self.kind == "in":
            return any(json_equal(value, item) for item in self.expected)
        return json_equal(value, self.expected)


@dataclass(frozen=True)
class Rule:
    where: str  # "answers[2]", to name the rule in messages
    statuses: tuple[int | str, ...]
    json_tests: tuple[JsonTest, ...]
    body: Any  # a compiled RE2 pattern, or None
    state: str
    reason: str | Place
    lead_id: Place | None
    message: str | Place | None
    fields: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # invalid_fields, missing_fields

    def apply(self, answer: Answer, customer: str) -> Outcome | None:
        """The outcome this rule gives the answer, or None when it does not match."""
        if self.statuses and not any(_status_matches(answer.status, s) for s in self.statuses):
            return None
        data = answer.json()
        if not all(test.holds(data) for test in self.json_tests):
            return None
        found = None
        if self.body is not None:
            found = self.body.search(answer.text(limit=100_000))
            if found is None:
                return None
        lead_id = self.lead_id.read(data, found) if self.lead_id else None
        if self.lead_id is not None and (lead_id in (None, "") or not isinstance(lead_id, (str, int))
                                         or isinstance(lead_id, bool)):
            return None  # the rule says where the id is: without one there, this is not the answer it describes
        # Only a refusal reads its reason from the answer (the schema says so): a code that is not a token
        # (a sentence, personal data) becomes the plain "refused".
        reason = self.reason if isinstance(self.reason, str) else \
            reason_token(self.reason.read(data, found), DEFAULT_REASON[self.state])
        if isinstance(self.message, Place):
            raw = self.message.read(data, found)
            message = str(raw)[:300] if raw not in (None, "") else ""
        else:
            message = self.message or ""
        if self.state == "accepted":
            return Outcome(State.ACCEPTED, reason, message, customer_lead_id=lead_id)
        message = message or f"{customer}'s answer (HTTP {answer.status}) means {self.state}/{reason} ({self.where})"
        # A duplicate's record id, where the rule reads one: a lead in doubt may then be delivered_earlier with it.
        return Outcome(State(self.state), reason, message,
                       customer_lead_id=lead_id if self.state == "duplicate" else None,
                       details={name: list(paths) for name, paths in self.fields.items()})


def _status_matches(status: int, pattern: int | str) -> bool:
    return status == pattern if isinstance(pattern, int) else str(status)[0] == pattern[0]


def _is_2xx(pattern: int | str) -> bool:
    return pattern == "2xx" or (isinstance(pattern, int) and 200 <= pattern < 300)


def classify(rules: Sequence[Rule], answer: Answer, customer: str) -> Outcome:
    """The first matching rule's outcome; an answer no rule explains is a failure, never a success."""
    return first_match(rules, answer, customer)[1]


def first_match(rules: Sequence[Rule], answer: Answer, customer: str) -> tuple[Rule | None, Outcome]:
    """The rule that decides the answer (None when none matches) and its outcome: what an example checks."""
    for rule in rules:
        outcome = rule.apply(answer, customer)
        if outcome is not None:
            return rule, outcome
    return None, http_family_outcome(answer, customer)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # the error is raised, with the pattern named: no second copy on stderr


def _regex(pattern: str, where: str) -> Any:
    try:
        return re2.compile(pattern, options=_RE2_OPTIONS)
    except re2.error as exc:
        detail = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        raise ConfigurationError(f"{where}: invalid regular expression {pattern!r}: {detail} (RE2 syntax: no "
                                 "backreferences or lookarounds)") from None


def _place(spec: Any, where: str, body: Any) -> Place:
    if "json" in spec:
        return Place(json_path=spec["json"])
    group = spec["group"]
    if body is None or group not in body.groupindex:
        raise ConfigurationError(f"{where}: group {group!r} is not a named group of this rule's when.body "
                                 f"regular expression (write (?P<{group}>...) there)")
    return Place(group=group)


def _json_test(spec: Mapping[str, Any], where: str) -> JsonTest:
    kind = next(key for key in spec if key != "path")
    expected = spec[kind]
    if kind == "matches":
        expected = _regex(expected, f"{where}.matches")
    return JsonTest(spec["path"], kind, expected)


def compile_rule(spec: Mapping[str, Any], index: int) -> Rule:
    """One rule from its (schema-valid) specification; ConfigurationError names what cannot work."""
    where = f"answers[{index}]"
    when, then = spec["when"], spec["then"]
    statuses = when.get("status", ())
    statuses = tuple(statuses) if isinstance(statuses, list) else ((statuses,) if statuses != () else ())
    tests = when.get("json", [])
    tests = [tests] if isinstance(tests, dict) else tests
    json_tests = tuple(_json_test(test, f"$.{where}.when.json") for test in tests)
    body = _regex(when["body"], f"$.{where}.when.body") if "body" in when else None
    state = then["state"]
    if state == "accepted" and not (statuses and all(_is_2xx(s) for s in statuses)):
        raise ConfigurationError(f"$.{where}.when.status: a rule that accepts the lead must name the 2xx "
                                 "status(es) it accepts, so that an error page is never taken for a success")
    reason = then.get("reason")
    if isinstance(reason, dict):  # the schema allows a place for a refusal only
        reason = _place(reason, f"$.{where}.then.reason", body)
    elif reason is None:
        reason = (Reason.CREATED if "lead_id" in then else Reason.OK) if state == "accepted" else DEFAULT_REASON[state]
    lead_id = _place(then["lead_id"], f"$.{where}.then.lead_id", body) if "lead_id" in then else None
    message = then.get("message")
    if isinstance(message, dict):
        message = _place(message, f"$.{where}.then.message", body)
    fields = {name: tuple(then[name]) for name in ("invalid_fields", "missing_fields") if name in then}
    if fields and (state, reason) != ("failed", Reason.INVALID_LEAD):
        raise ConfigurationError(f"$.{where}.then: {' and '.join(fields)} name the lead's fields of an invalid "
                                 "lead: they go with state failed and reason invalid_lead")
    return Rule(where, statuses, json_tests, body, state, reason, lead_id, message, fields)
