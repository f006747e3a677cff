"""A new webhook customer by following only the guide: its file and its stage, read from
docs/adding-a-customer.md itself, against a customer server written here from scratch (nothing of sandbox/):
an old PHP form taking a key in the query string and answering `OK|<id>` or `KO|<code>` with HTTP 200, as the
guide's customer does; through `chalice local`.

If the guide's example drifts from what the plug accepts, this test says so.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.support.leads import make_lead
from tests.support.project import ROOT, running_plug

GUIDE = ROOT / "docs" / "adding-a-customer.md"


def guide_block(marker: str) -> str:
    """The JSON block that follows `<!-- example:marker -->` in the guide, unindented."""
    text = GUIDE.read_text(encoding="utf-8")
    after = text[text.index(f"<!-- example:{marker} -->"):]
    block = re.search(r"```json\n(.*?)```", after, flags=re.DOTALL)
    assert block is not None, marker
    return re.sub(r"^ {3}", "", block.group(1), flags=re.MULTILINE)


class ToituresMartin(BaseHTTPRequestHandler):
    """The guide's customer: `?cle=` key, a form, HTTP 200 with `OK|<id>` or `KO|<code>`; it serves Lyon only."""

    protocol_version = "HTTP/1.1"
    emails: set[str] = set()
    received: list[dict] = []
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode()).items()}
        key = parse_qs(urlsplit(self.path).query).get("cle", [""])[0]
        with self.lock:
            self.received.append({"key": key, "form": form})
            if key != "dev-key":
                answer = "KO|CLE_INVALIDE"
            elif not form.get("cp", "").startswith("69"):
                answer = "KO|HORS_ZONE"
            elif form["email"] in self.emails:
                answer = "KO|DOUBLON"
            else:
                self.emails.add(form["email"])
                answer = f"OK|{492715 + len(self.emails)}"
        body = answer.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def martin() -> Iterator[ThreadingHTTPServer]:
    ToituresMartin.emails, ToituresMartin.received = set(), []
    server = ThreadingHTTPServer(("127.0.0.1", 0), ToituresMartin)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_new_customer_takes_one_file_and_one_stage(tmp_path: Path, martin):
    config = json.loads(guide_block("customer-file"))
    stage = next(iter(json.loads("{" + guide_block("stage") + "}").values()))["environment_variables"]
    (tmp_path / "toitures-martin.json").write_text(json.dumps(config))
    stage.update(WEBHOOK_CONFIG=str(tmp_path / "toitures-martin.json"),  # the guide's, outside the repository
                 MARTIN_URL=f"http://127.0.0.1:{martin.server_address[1]}/api/lead.php", LEDGER="off")
    lead = make_lead()
    with running_plug(stage, stage="martin-dev") as plug:
        def send(body: dict) -> tuple[int, dict]:
            answer = requests.post(plug.url, json=body, timeout=10)
            return answer.status_code, answer.json()

        created = send(lead)
        duplicate = send({**lead, "id": lead["id"] + "-again"})
        refused = send(make_lead(address={"street": "1 rue X", "postal_code": "75011", "city": "Paris",
                                          "country": "FR"}))
        invalid = send(make_lead(address=None))
    assert created[0] == 201 and created[1]["customer_lead_id"] == "492716"
    assert created[1]["request_details"] == {"nom": lead["last_name"], "prenom": lead["first_name"],
                                             "email": lead["email"], "tel": "0" + lead["phone"][3:], "cp": "69003"}
    assert duplicate[0] == 409 and duplicate[1]["error"] == {"state": "duplicate", "reason": "duplicate"}
    assert refused[0] == 406 and refused[1]["error"] == {"state": "refused", "reason": "HORS_ZONE"}
    assert invalid[0] == 400 and invalid[1]["error"]["missing_fields"] == ["address.postal_code"]
    assert [item["key"] for item in ToituresMartin.received] == ["dev-key"] * 3  # the invalid lead was never sent
