"""A webhook customer's examples: answers it is known to give, each with the outcome it must get.

They run through the file's answer rules when the plug loads it, so that a rule that accepts too much (the
regular expression `^OK|(?P<id>.+)` also matches `KO|HORS_ZONE`) stops the plug at start, naming the example
and the rule that matched, instead of turning refusals into sales. A rule no example reaches is a mistake
too: nothing shows it matches what its author meant. An example may hold the exact bytes the customer sends
(`body_base64`) and their `content_type`, so that a charset mistake (a Latin-1 page read as UTF-8) shows here.
`scripts/check_customer.py` prints the same runs as a table. Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dispatcher.errors import ConfigurationError
from dispatcher.integrations.webhook_rules import Rule, first_match
from dispatcher.jsonpath import json_equal
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer


@dataclass(frozen=True)
class Example:
    """One answer (status, body and its content type: all the rules read) and the outcome it must get."""

    where: str  # "examples[1]", to name it in messages
    status: int
    body: Any  # a string is the text as sent; any other JSON value is sent as JSON; None: the bytes say it
    state: str
    reason: str | None = None
    customer_lead_id: str | int | None = None
    name: str = ""
    raw: bytes | None = None  # the exact bytes (body_base64); else `body` written in the content type's charset
    content_type: str = ""

    def answer(self) -> Answer:
        if self.raw is not None:
            return Answer(status=self.status, body=self.raw, content_type=self.content_type)
        text = self.body if isinstance(self.body, str) else json.dumps(self.body, ensure_ascii=False)
        charset = Answer(status=self.status, body=b"", content_type=self.content_type).charset
        return Answer(status=self.status, body=text.encode(charset), content_type=self.content_type)

    @property
    def label(self) -> str:
        """How a message names it: `$.examples[1] "out of zone" (HTTP 200 "KO|HORS_ZONE")`."""
        name = f" {json.dumps(self.name, ensure_ascii=False)}" if self.name else ""
        return f"$.{self.where}{name} ({self.shown_answer})"

    @property
    def shown_answer(self) -> str:
        """`HTTP 200 "KO|HORS_ZONE"` for a text, `HTTP 409 {"status":"duplicate"}` for JSON, cut at 60 characters."""
        if self.raw is not None or isinstance(self.body, str):
            text = self.answer().text() if self.raw is not None else self.body  # as the plug reads the bytes
            body = text if len(text) <= 60 else text[:57] + "..."
            return f"HTTP {self.status} {json.dumps(body, ensure_ascii=False)}"
        body = json.dumps(self.body, ensure_ascii=False, separators=(",", ":"))
        return f"HTTP {self.status} {body if len(body) <= 60 else body[:57] + '...'}"

    @property
    def expected(self) -> str:
        """The outcome it must get, as the table prints it."""
        text = "/".join(part for part in (self.state, self.reason) if part)
        if self.customer_lead_id is not None:
            text += f" id {json.dumps(self.customer_lead_id)}"
        return text


@dataclass(frozen=True)
class Run:
    """What the rules made of one example: the rule that matched (None: no rule did) and the outcome."""

    example: Example
    rule: str | None
    outcome: Outcome

    @property
    def got(self) -> str:
        text = f"{self.outcome.state}/{self.outcome.reason}"
        if self.outcome.customer_lead_id is not None:
            text += f" id {json.dumps(self.outcome.customer_lead_id)}"
        return text

    @property
    def mistake(self) -> str | None:
        """One line naming the example, what it must get and what the rule that matched gives; None when right."""
        example, outcome = self.example, self.outcome
        if (outcome.state == example.state and example.reason in (None, outcome.reason)
                and (example.customer_lead_id is None or json_equal(outcome.customer_lead_id,
                                                                      example.customer_lead_id))):
            return None
        decided = f"{self.rule} makes it" if self.rule else "no rule matches it, which makes it"
        return f"{example.label} must be {example.expected}, but {decided} {self.got}"


def examples_of(config: Mapping[str, Any], file_name: str = "") -> tuple[Example, ...]:
    """The examples of a schema-valid customer file; ConfigurationError for bytes that cannot be what the
    example says (base64 that is not, text its own content type's charset cannot write)."""
    examples = []
    for index, spec in enumerate(config.get("examples", ())):
        example = Example(where=f"examples[{index}]", status=spec["status"], body=spec.get("body"),
                          state=spec["state"], reason=spec.get("reason"), customer_lead_id=spec.get("customer_lead_id"),
                          name=spec.get("name", ""), raw=_raw(spec, f"{file_name}: $.examples[{index}]"),
                          content_type=spec.get("content_type", ""))
        try:
            example.answer()
        except UnicodeEncodeError:
            raise ConfigurationError(f"{file_name}: $.examples[{index}].body: text the charset of its content_type "
                                     f"({example.content_type!r}) cannot write; give the exact bytes in "
                                     "body_base64") from None
        examples.append(example)
    return tuple(examples)


def _raw(spec: Mapping[str, Any], where: str) -> bytes | None:
    if "body_base64" not in spec:
        return None
    try:
        return base64.b64decode(spec["body_base64"], validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(f"{where}.body_base64: not base64 (the customer's bytes, base64-encoded: "
                                 "`base64 -w0 answer.html`)") from None


def run_examples(rules: Sequence[Rule], examples: Sequence[Example], customer: str) -> list[Run]:
    """Each example through the rules, as a lead's answer would go."""
    runs = []
    for example in examples:
        rule, outcome = first_match(rules, example.answer(), customer)
        runs.append(Run(example, rule.where if rule else None, outcome))
    return runs


def uncovered(rules: Sequence[Rule], runs: Sequence[Run]) -> list[str]:
    """The rules no example reaches: nothing shows they match what their author meant."""
    reached = {run.rule for run in runs}
    return [rule.where for rule in rules if rule.where not in reached]


def example_mistakes(rules: Sequence[Rule], runs: Sequence[Run]) -> list[str]:
    """One line per example the rules get wrong, then one per rule no example reaches."""
    return [run.mistake for run in runs if run.mistake] + [
        f"$.{where} has no example: add the customer's answer it must match, with the outcome it must give "
        "(a rule nothing shows right may take a refusal for a sale)" for where in uncovered(rules, runs)]


def check_examples(rules: Sequence[Rule], examples: Sequence[Example], customer: str, file_name: str) -> None:
    """Raise ConfigurationError, in one line, for the first example the rules get wrong or rule without one."""
    mistakes = example_mistakes(rules, run_examples(rules, examples, customer))
    if mistakes:
        more = f" (and {len(mistakes) - 1} more: scripts/check_customer.py lists them)" if len(mistakes) > 1 else ""
        raise ConfigurationError(f"{file_name}: {mistakes[0]}{more}")
