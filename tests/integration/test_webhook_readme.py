"""A new webhook customer by following only the docs: its file and its stage, read from docs/customers.md
itself ("Adding a customer"), against a customer server written here from scratch (nothing of sandbox/),
through `chalice local`.

If the docs' example drifts from what the plug accepts, this test says so.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.support.leads import make_lead
from tests.support.project import ROOT, running_plug

DOC = ROOT / "docs" / "customers.md"
BEGIN, END = "<!-- section:adding-a-customer -->", "<!-- /section:adding-a-customer -->"


def doc_blocks() -> tuple[dict, dict]:
    """The customer file and the stage of the "Adding a customer" steps in docs/customers.md."""
    doc = DOC.read_text(encoding="utf-8")
    section = doc[doc.index(BEGIN):doc.index(END)]
    blocks = [re.sub(r"^ {3}", "", block, flags=re.MULTILINE)
              for block in re.findall(r"```json\n(.*?)```", section, flags=re.DOTALL)]
    config = json.loads(next(block for block in blocks if '"answers"' in block))
    stage = json.loads("{" + next(block for block in blocks if '"environment_variables"' in block) + "}")
    return config, next(iter(stage.values()))["environment_variables"]


class Bricotoit(BaseHTTPRequestHandler):
    """A customer as its own developers would write it: an API key, 201 / 409 / 422 in JSON."""

    protocol_version = "HTTP/1.1"
    emails: set[str] = set()
    received: list[dict] = []
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        lead = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            self.received.append({"key": self.headers.get("X-Api-Key"), "body": lead})
            if self.headers.get("X-Api-Key") != "dev-key":
                status, answer = 401, {"error": {"code": "BAD_KEY"}}
            elif lead["interest"] == "home_insurance":
                status, answer = 422, {"error": {"code": "NOT_OUR_TRADE", "message": "We only do roofs"}}
            elif lead["email"] in self.emails:
                status, answer = 409, {"error": {"code": "EXISTS"}}
            else:
                self.emails.add(lead["email"])
                status, answer = 201, {"id": len(self.emails) + 1000}
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def bricotoit() -> Iterator[ThreadingHTTPServer]:
    Bricotoit.emails, Bricotoit.received = set(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Bricotoit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_new_customer_takes_one_file_and_one_stage(tmp_path: Path, bricotoit):
    config, stage = doc_blocks()
    (tmp_path / "bricotoit.json").write_text(json.dumps(config))
    stage.update(WEBHOOK_CONFIG=str(tmp_path / "bricotoit.json"),  # the docs', outside the repository
                 BRICOTOIT_URL=f"http://127.0.0.1:{bricotoit.server_address[1]}/leads")
    lead = make_lead()
    with running_plug(stage, stage="bricotoit-dev") as plug:
        def send(body: dict) -> tuple[int, dict]:
            answer = requests.post(plug.url, json=body, timeout=10)
            return answer.status_code, answer.json()

        created = send(lead)
        duplicate = send({**lead, "id": lead["id"] + "-again"})
        refused = send(make_lead(product="home_insurance"))
        invalid = send(make_lead(address=None))
    assert created[0] == 201 and created[1]["customer_lead_id"] == 1001
    assert created[1]["request_details"] == {
        "name": f"{lead['first_name']} {lead['last_name']}", "email": lead["email"],
        "phone": "0" + lead["phone"][3:], "zip": "69003", "interest": "solar_panels", "origin": "leadplug"}
    assert duplicate[0] == 409 and duplicate[1]["error"] == {"state": "duplicate", "reason": "duplicate"}
    assert refused[0] == 406 and refused[1]["error"] == {"state": "refused", "reason": "NOT_OUR_TRADE"}
    assert refused[1]["error_message"] == "We only do roofs"
    assert invalid[0] == 400 and invalid[1]["error"]["missing_fields"] == ["address.postal_code"]
    assert [item["key"] for item in Bricotoit.received] == ["dev-key"] * 3  # the invalid lead was never sent
