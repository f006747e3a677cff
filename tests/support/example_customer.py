"""A webhook customer made of its own file: a real HTTP server on 127.0.0.1 that answers each lead with the
example it is told to give next (status, exact bytes, content type, as the customer sends them), and keeps
what it received. The tests run a customer file's fixtures against it, so a new file needs no server of its
own to be tested end to end."""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from dispatcher.integrations.webhook import config_path
from dispatcher.integrations.webhook_examples import Example, examples_of
from sandbox.server import CustomerServer, Handler, Received
from tests.support.project import ROOT

CHALICE_CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))


class ExampleCustomer(CustomerServer):
    """Answers with `next_answer` (an Example of the file), or a 500 page when told nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.next_answer: Example | None = None
        self._lock = threading.Lock()

    def answer_with(self, example: Example | None) -> None:
        with self._lock:
            self.next_answer = example

    def route(self, handler: Handler, request: Received) -> None:
        with self._lock:
            example = self.next_answer
        if example is None:
            return handler.send_body(500, b"no answer was set for this request", "text/plain")
        answer = example.answer()
        handler.send_body(answer.status, answer.body, answer.content_type or "application/octet-stream")


def stage_of(file: Path) -> tuple[str, dict[str, str]]:
    """The stage of .chalice/config.json that serves this customer file, with its variables as Chalice sets
    them (the top level's, overridden by the stage's own)."""
    stages = [(name, {**CHALICE_CONFIG["environment_variables"], **stage.get("environment_variables", {})})
              for name, stage in CHALICE_CONFIG["stages"].items()]
    serving = [(name, variables) for name, variables in stages if variables.get("CUSTOMER") == "webhook"
               and config_path(variables.get("WEBHOOK_CONFIG", "")).resolve() == file.resolve()]
    assert serving, f"{file.name}: no stage of .chalice/config.json has WEBHOOK_CONFIG pointing at it"
    return serving[0]


def example_for(examples: tuple[Example, ...], expected: Mapping[str, Any]) -> Example | None:
    """The file's example whose outcome is the one a fixture expects (an accepting one with an id first)."""
    fitting = [example for example in examples if example.state == expected["state"]
               and example.reason in (None, expected["reason"])]
    fitting.sort(key=lambda example: (example.customer_lead_id is None, example.reason is None))
    return fitting[0] if fitting else None


def read_request(received: Received, charset: str | None, body: str) -> Any:
    """The body the customer received, read in the file's charset: what the envelope's request_details shows."""
    text = received.body.decode(charset or "utf-8")
    return dict(parse_qsl(text, encoding=charset or "utf-8")) if body == "form" else json.loads(text)


def customer_examples(config: Mapping[str, Any]) -> tuple[Example, ...]:
    return examples_of(config)


def pointed_at(url: str, base_url: str) -> str:
    """The stage's URL with its scheme, host and port replaced by the fake's (its path kept)."""
    parts = urlsplit(url)
    return base_url + (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
