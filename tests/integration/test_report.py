"""scripts/report.py on a log the suite makes: a few hundred mixed leads through `chalice local` with the ledger
and the customer's health on (accepted, refused, duplicates, invalid leads, replays, timeouts, customer
failures, a pause and its resumption), its standard output read back as the plug wrote it and as CloudWatch
exports it; the HTML page opened in headless Chromium, at desktop and at phone width.

What the report must say is derived from the answers the platform got, never from the log the report reads.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support import chromium
from tests.support.leads import make_lead
from tests.support.logs_insights import run_query
from tests.support.project import ROOT, running_plug

pytestmark = pytest.mark.slow

REPORT = ROOT / "scripts" / "report.py"
PAUSE_S = 4.0
FAILURES = 3


@dataclass
class Answers:
    """What the platform was told, lead by lead: (status, reason) counts and the replays."""

    ends: Counter[tuple[int, str]] = field(default_factory=Counter)
    replays: int = 0
    ids: dict[str, str] = field(default_factory=dict)  # a lead of each kind the queries look up

    @property
    def leads(self) -> int:
        return sum(self.ends.values())

    def count(self, status: int, reason: str | None = None) -> int:
        return sum(n for (each, why), n in self.ends.items() if each == status and reason in (None, why))


@dataclass
class PlugLog:
    path: Path
    answers: Answers


@pytest.fixture(scope="module")
def plug_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlugLog]:
    folder = tmp_path_factory.mktemp("report")
    answers = Answers()
    environment = salesforce_env("", LEDGER=f"sqlite:{folder / 'ledger.sqlite3'}", HEALTH_FAILURES=str(FAILURES),
                                 HEALTH_PAUSE_S=str(PAUSE_S), CUSTOMER_TIMEOUT_S="2")
    with SalesforceSandbox() as sandbox, \
            running_plug({**environment, "SALESFORCE_LOGIN_URL": sandbox.base_url}, stage="report") as plug:
        def post(lead: dict) -> None:
            answer = requests.post(plug.url, json=lead, timeout=30)
            body = answer.json()
            reason = (body.get("error") or {}).get("reason") or body.get("reason") or str(answer.status_code)
            answers.ends[(answer.status_code, reason)] += 1
            answers.replays += answer.headers.get("Idempotent-Replayed") == "true"

        def failing() -> dict:
            return make_lead(email=f"lead+error500+{make_lead()['id']}@exemple.fr")

        accepted = [make_lead() for _ in range(60)]
        for lead in accepted:
            post(lead)
        for _ in range(10):
            post(make_lead(address={"street": "1 Main St", "city": "Austin", "country": "US"}))
        for lead in accepted[:8]:
            post({**lead, "id": lead["id"] + "-again"})
        invalid = [make_lead(phone="not a phone") for _ in range(20)]
        for lead in invalid:
            post(lead)
        answers.ids.update(invalid=invalid[0]["id"], replayed=accepted[10]["id"])
        for lead in accepted[10:30]:
            post(lead)  # the platform sends them again: the ledger replays them
        for lead in (failing(), make_lead(email=f"lead+slowanswer+{make_lead()['id']}@exemple.fr")):
            post(lead)  # a failure and a timeout, each followed by answers: no pause
            for _ in range(5):
                post(make_lead())
        for _ in range(FAILURES):
            post(failing())  # the third in a row pauses delivery
        for _ in range(8):
            post(make_lead())  # held back, never sent
        time.sleep(PAUSE_S + 0.5)
        later = [make_lead() for _ in range(60)]
        for lead in later:
            post(lead)  # the first probes and resumes delivery
        for _ in range(10):
            post(make_lead(phone="not a phone"))
        for lead in later[:10]:
            post(lead)
        log = folder / "plug.log"
        log.write_text(plug.log(), encoding="utf-8")
    yield PlugLog(log, answers)


def run_report(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPORT), *arguments], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_log_holds_every_kind_of_end(plug_log: PlugLog):
    answers = plug_log.answers
    assert answers.leads >= 200
    assert answers.replays == 30
    assert answers.count(400) == 30
    assert answers.count(502, "customer_error") >= FAILURES + 1
    assert answers.count(502, "customer_paused") >= 1, "the leads sent during the pause were held back"


def test_the_report_counts_leads_by_state_reason_and_kind_and_times_the_requests(plug_log: PlugLog):
    answers = plug_log.answers
    result = run_report(str(plug_log.path))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{answers.leads:,} leads ended" in out
    for reason, count in (("created", answers.count(201)), ("duplicate", answers.count(409)),
                          ("invalid_lead", answers.count(400)),
                          ("customer_error", answers.count(502, "customer_error")),
                          ("customer_paused", answers.count(502, "customer_paused"))):
        assert re.search(rf"^\s+{reason}\s+{count}$", out, re.MULTILINE), f"{reason} {count}\n{out}"
    assert re.search(rf"^\s+invalid lead \(400\)\s+{answers.count(400)}$", out, re.MULTILINE)
    customer = sum(answers.count(502, why) for why in ("customer_error", "customer_timeout"))
    assert re.search(rf"^\s+customer failed \(502\)\s+{customer}$", out, re.MULTILINE), out
    assert f"Replayed from the ledger (answered again, the customer not called): {answers.replays}" in out
    assert "Customer paused: 1 time(s), resumed 1 time(s)" in out
    sent = answers.leads - answers.count(400) - answers.replays - answers.count(502, "customer_paused")
    assert f"{sent:,} requests sent" in out
    figures = re.search(r"^\s+all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.MULTILINE)
    assert figures, out
    count, p50, p90, p99, largest = int(figures[1]), *map(float, figures.groups()[1:])
    assert count == sent
    assert 0 < p50 <= p90 <= p99 <= largest
    assert re.search(r"^\s+accepted\s+\d+", out.split("Customer response time")[1], re.MULTILINE)


def test_a_cloudwatch_export_of_the_same_log_gives_the_same_report(plug_log: PlugLog):
    lines = [line for line in plug_log.path.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    export = json.dumps({"events": [{"timestamp": 1, "message": line + "\n"} for line in lines]})
    prefixed = "\n".join(f"2026-11-26T10:00:00.000Z\tc0ffee-1234\t{line}" for line in lines)
    expected = run_report(str(plug_log.path)).stdout
    for text in (export, prefixed):
        result = run_report(stdin=text)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected


def test_no_lead_data_reaches_the_report(plug_log: PlugLog, tmp_path: Path):
    result = run_report(str(plug_log.path), "--html", str(tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for line in plug_log.path.read_text(encoding="utf-8").splitlines():
        lead_id = json.loads(line).get("lead_id") if line.startswith('{"lead_id"') else None
        if lead_id:
            assert lead_id not in result.stdout and lead_id not in page
    assert "@" not in result.stdout + page.replace("@media", "")


def docs_queries() -> list[str]:
    """The Logs Insights queries of docs/operations.md, in their order: why, which reasons, replayed or paused."""
    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    return re.findall(r"```logs-insights\n(.*?)```", text, re.DOTALL)


def test_the_docs_query_why_did_a_lead_end_so_finds_every_attempt(plug_log: PlugLog):
    why, _, _ = docs_queries()
    lines = plug_log.path.read_text(encoding="utf-8").splitlines()
    for kind, last in (("invalid", ("failed", "fail", "invalid_lead")),
                       ("replayed", ("accepted", "replay", "created"))):
        rows = run_query(why.replace("lead-123", plug_log.answers.ids[kind]), lines)
        assert rows, kind
        assert (rows[-1]["to"], rows[-1]["trigger"], rows[-1]["reason"]) == last, rows
        assert all(set(row) == {"@timestamp", "trace_id", "from", "to", "trigger", "reason", "elapsed_ms",
                                "replay_of", "previous_trace_id"} for row in rows)
    replayed = run_query(why.replace("lead-123", plug_log.answers.ids["replayed"]), lines)
    first, replay = sorted({row["trace_id"] for row in replayed}, key=[row["trace_id"] for row in replayed].index)
    assert replayed[-1]["replay_of"] == first and replayed[-1]["trace_id"] == replay


def test_the_docs_query_which_reasons_counts_each_end_once(plug_log: PlugLog):
    _, reasons, _ = docs_queries()
    answers = plug_log.answers
    rows = run_query(reasons, plug_log.path.read_text(encoding="utf-8").splitlines())
    counted = {(row["to"], row["reason"]): row["leads"] for row in rows}
    assert sum(counted.values()) == answers.leads
    assert counted[("failed", "invalid_lead")] == answers.count(400)
    assert counted[("failed", "customer_error")] == answers.count(502, "customer_error")
    assert counted[("failed", "customer_paused")] == answers.count(502, "customer_paused")
    assert counted[("accepted", "created")] == answers.count(201)
    assert [row["leads"] for row in rows] == sorted(counted.values(), reverse=True)


def test_the_docs_query_replayed_or_paused_lists_them_and_the_pause(plug_log: PlugLog):
    _, _, held = docs_queries()
    rows = run_query(held, plug_log.path.read_text(encoding="utf-8").splitlines())
    triggers = Counter(row["trigger"] for row in rows)
    assert triggers["replay"] == plug_log.answers.replays
    assert (triggers["pause"], triggers["resume"]) == (1, 1)
    assert sum(row["reason"] == "customer_paused" for row in rows) == plug_log.answers.count(502, "customer_paused")
    pause = next(row for row in rows if row["trigger"] == "pause")
    assert pause["lead_id"] is None and pause["paused_until"] > pause["@timestamp"]


class _Page(HTMLParser):
    """What Chromium rendered: each chart's bars, the pause windows and replays, the facts, the percentiles'
    rows, and the sizes the measuring script wrote onto <body>."""

    def __init__(self) -> None:
        super().__init__()
        self.svg: str | None = None
        self.bars: dict[str, list[dict[str, str | None]]] = {}
        self.shapes: Counter[str] = Counter()
        self.replayed = 0
        self.facts: dict[str, int] = {}
        self.percentile_rows: dict[str, int] = {}
        self.body: dict[str, str | None] = {}
        self._table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        classes = (attributes.get("class") or "").split()
        if tag == "body":
            self.body = attributes
        elif tag == "svg":
            self.svg = attributes.get("id") or ""
            self.bars.setdefault(self.svg, [])
        elif tag == "rect" and self.svg is not None and "bar" in classes:
            self.bars[self.svg].append(attributes)
        elif tag == "rect" and "pause" in classes:
            self.shapes["pause"] += 1
        elif tag == "rect" and "replay" in classes:
            self.replayed += int(attributes.get("data-count") or 0)
        elif tag == "li" and attributes.get("data-count") is not None:
            self.facts[attributes.get("id") or ""] = int(attributes["data-count"] or 0)
        elif tag == "table":
            self._table = attributes.get("id")
        elif tag == "tr" and self._table == "percentiles" and attributes.get("data-kind"):
            self.percentile_rows[attributes["data-kind"] or ""] = int(attributes.get("data-count") or 0)

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg = None
        elif tag == "table":
            self._table = None


# Appended to a copy of the page by the test only: the browser's own measures, written where --dump-dom sees them
# (on <body>; from inside a phone-wide frame, posted to the page that holds the frame).
MEASURE = """<script>
const charts = [...document.querySelectorAll("svg.chart")].map(svg => Math.round(svg.getBoundingClientRect().right));
const measures = {viewport: String(window.innerWidth), scrollWidth: String(document.documentElement.scrollWidth),
                  chartRight: String(Math.max(...charts))};
Object.assign(document.body.dataset, measures);
if (window.parent !== window) window.parent.postMessage(measures, "*");
</script>"""
# Headless Chromium's window is at least 500 px wide: a phone's 390 px is a frame of that width.
PHONE = """<!DOCTYPE html><html><body style="margin:0">
<script>window.addEventListener("message", event => Object.assign(document.body.dataset, event.data));</script>
<iframe src="{page}" width="{width}" height="844" style="border:0"></iframe></body></html>"""


@pytest.fixture(scope="session")
def chromium_binary() -> Path:
    found = chromium.find()
    if found is None:
        pytest.skip(f"no headless Chromium at {chromium.CHROMIUM}: the report page is not checked in a browser "
                    "(apt-get install -y chromium; .ci/run does it)")
    return found


def rendered(chromium_binary: Path, page: Path, profile: Path, width: int) -> _Page:
    """The page as Chromium shows it `width` pixels wide (in a frame of that width under 500 px)."""
    measured = page.with_name(f"measured-{width}.html")
    measured.write_text(page.read_text(encoding="utf-8").replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    shown = measured
    if width < 500:
        shown = page.with_name(f"phone-{width}.html")
        shown.write_text(PHONE.format(page=measured.name, width=width), encoding="utf-8")
    dumped = chromium.run(chromium_binary, profile, "--window-size=1200,900", "--virtual-time-budget=5000",
                          "--dump-dom", shown.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    parsed = _Page()
    parsed.feed(dumped.stdout)
    return parsed


def test_the_page_shows_replays_pauses_and_invalid_leads_apart_in_headless_chromium(
        plug_log: PlugLog, chromium_binary: Path, tmp_path: Path):
    answers = plug_log.answers
    page = tmp_path / "report.html"
    assert run_report(str(plug_log.path), "--html", str(page)).returncode == 0
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.read_text(encoding="utf-8")), \
        "the page fetches nothing"
    shown = rendered(chromium_binary, page, tmp_path / "profile", 1200)
    assert set(shown.bars) == {"outcomes-over-time", "response-time-histogram"}
    outcomes = shown.bars["outcomes-over-time"]
    by_kind = Counter()
    for bar in outcomes:
        by_kind[bar["data-kind"]] += int(bar["data-count"] or 0)
    customer = sum(answers.count(502, why) for why in ("customer_error", "customer_timeout"))
    assert by_kind["invalid"] == answers.count(400)
    assert by_kind["customer"] == customer
    assert by_kind["paused"] == answers.count(502, "customer_paused")
    assert by_kind["accepted"] == answers.count(201)
    assert sum(by_kind.values()) == answers.leads, "every lead is in a bar of its period"
    assert shown.shapes["pause"] == 1, "the pause window is drawn on the time axis"
    assert shown.replayed == answers.replays, "every replay is drawn on the time axis"
    sent = answers.leads - answers.count(400) - answers.replays - answers.count(502, "customer_paused")
    assert shown.facts == {"leads": answers.leads, "sent": sent, "replays": answers.replays,
                           "invalid": answers.count(400), "customer-failures": customer,
                           "paused-leads": answers.count(502, "customer_paused"), "pauses": 1,
                           "timeouts": answers.count(502, "customer_timeout")}
    histogram = shown.bars["response-time-histogram"]
    assert sum(int(bar["data-count"] or 0) for bar in histogram) == sent, "every response time is in a bin"
    assert len(histogram) > 1
    assert [int(bar["data-count"] or 0) for bar in histogram if "timeout" in (bar["class"] or "")] == \
        ([answers.count(502, "customer_timeout")] if answers.count(502, "customer_timeout") else [])
    assert shown.percentile_rows["all"] == sent
    assert shown.percentile_rows["accepted"] == answers.count(201) - answers.replays

    phone = rendered(chromium_binary, page, tmp_path / "profile", 390)
    viewport = int(phone.body["data-viewport"] or 0)
    assert 300 <= viewport <= 420, phone.body
    assert int(phone.body["data-scroll-width"] or 0) <= viewport, "nothing is cut off or scrolls sideways"
    assert int(phone.body["data-chart-right"] or 0) <= viewport, "the charts fit the phone's width"

    shot = tmp_path / "report.png"
    taken = chromium.run(chromium_binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1000,1600",
                         page.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
