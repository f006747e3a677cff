"""scripts/report.py on a log the suite makes: leads of every kind through `chalice local`, its standard output
read back as the plug wrote it and as CloudWatch exports it; the HTML page opened in headless Chromium."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support import chromium
from tests.support.leads import make_lead
from tests.support.project import ROOT, running_plug

pytestmark = pytest.mark.slow

REPORT = ROOT / "scripts" / "report.py"
SENT = {  # what the log holds: (state, reason) -> leads, and whether each reached the customer
    ("accepted", "created"): (12, True),
    ("refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION"): (3, True),
    ("duplicate", "duplicate"): (2, True),
    ("failed", "customer_error"): (2, True),
    ("failed", "invalid_lead"): (4, False),
}
LEADS = sum(count for count, _ in SENT.values())
REQUESTS = sum(count for count, sent in SENT.values() if sent)


@pytest.fixture(scope="module")
def plug_log(salesforce: SalesforceSandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The standard output of a `chalice local` that served every kind of lead of SENT."""
    statuses: list[int] = []
    with running_plug(salesforce_env(salesforce.base_url), stage="report") as plug:
        def post(lead: dict) -> None:
            statuses.append(requests.post(plug.url, json=lead, timeout=30).status_code)

        accepted = [make_lead() for _ in range(12)]
        for lead in accepted:
            post(lead)
        for _ in range(3):
            post(make_lead(address={"street": "1 Main St", "city": "Austin", "country": "US"}))
        for lead in accepted[:2]:
            post({**lead, "id": lead["id"] + "-again"})
        for index in range(2):
            post(make_lead(email=f"sandbox.{index}+error500@exemple.fr"))
        for _ in range(4):
            post(make_lead(phone="not a phone"))
        log = tmp_path_factory.mktemp("report") / "plug.log"
        log.write_text(plug.log(), encoding="utf-8")
    assert sorted(statuses) == sorted([201] * 12 + [406] * 3 + [409] * 2 + [502] * 2 + [400] * 4)
    yield log


def run_report(*arguments: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(REPORT), *arguments], input=stdin, capture_output=True, text=True,
                          timeout=120, check=False)


def test_the_report_counts_leads_by_state_and_reason_and_times_the_requests(plug_log: Path):
    result = run_report(str(plug_log))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"{LEADS:,} leads ended" in out
    for (state, reason), (count, _) in SENT.items():
        assert re.search(rf"^\s+{reason}\s+{count}$", out, re.MULTILINE), f"{state}/{reason}"
    assert re.search(rf"^\s+accepted\s+12\s+{12 / LEADS:.1%}$", out, re.MULTILINE)
    assert f"{REQUESTS:,} requests sent" in out
    figures = re.search(r"^\s+all\s+(\d+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)$", out, re.MULTILINE)
    assert figures, out
    count, p50, p90, p99, largest = int(figures[1]), *map(float, figures.groups()[1:])
    assert count == REQUESTS
    assert 0 < p50 <= p90 <= p99 <= largest < 5000


def test_a_cloudwatch_export_of_the_same_log_gives_the_same_report(plug_log: Path):
    lines = [line for line in plug_log.read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    export = json.dumps({"events": [{"timestamp": 1, "message": line + "\n"} for line in lines]})
    prefixed = "\n".join(f"2026-11-26T10:00:00.000Z\tc0ffee-1234\t{line}" for line in lines)
    expected = run_report(str(plug_log)).stdout
    for text in (export, prefixed):
        result = run_report(stdin=text)
        assert result.returncode == 0, result.stderr
        assert result.stdout == expected


def test_no_lead_data_reaches_the_report(plug_log: Path, tmp_path: Path):
    result = run_report(str(plug_log), "--html", str(tmp_path / "report.html"))
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    for line in plug_log.read_text(encoding="utf-8").splitlines():
        lead_id = json.loads(line).get("lead_id") if line.startswith('{"lead_id"') else None
        if lead_id:
            assert lead_id not in result.stdout and lead_id not in page
    assert "@" not in result.stdout + page.replace("@media", "")


class _Charts(HTMLParser):
    """The bars of each chart in the DOM Chromium dumped: their data-count, by the chart's id."""

    def __init__(self) -> None:
        super().__init__()
        self.svg: str | None = None
        self.bars: dict[str, list[int]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "svg":
            self.svg = attributes.get("id") or ""
            self.bars.setdefault(self.svg, [])
        elif tag == "rect" and self.svg is not None and attributes.get("class") == "bar":
            self.bars[self.svg].append(int(attributes.get("data-count") or 0))

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self.svg = None


@pytest.fixture(scope="session")
def chromium_binary() -> Path:
    try:
        return chromium.find_or_install()
    except chromium.ChromiumUnavailable as why:
        pytest.skip(f"headless Chromium unavailable, the report page is not checked in a browser: {why}")


def test_the_page_shows_its_charts_in_headless_chromium(plug_log: Path, chromium_binary: Path, tmp_path: Path):
    page = tmp_path / "report.html"
    assert run_report(str(plug_log), "--html", str(page)).returncode == 0
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page.read_text(encoding="utf-8")), \
        "the page fetches nothing"
    dumped = chromium.run(chromium_binary, tmp_path / "profile", "--dump-dom", page.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    charts = _Charts()
    charts.feed(dumped.stdout)
    assert set(charts.bars) == {"outcomes-over-time", "response-time-histogram"}
    assert sum(charts.bars["outcomes-over-time"]) == LEADS, "every lead is in a bar of its period"
    assert sum(charts.bars["response-time-histogram"]) == REQUESTS, "every response time is in a bin"
    assert len(charts.bars["response-time-histogram"]) > 1

    shot = tmp_path / "report.png"
    taken = chromium.run(chromium_binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1000,1200",
                         page.as_uri())
    assert taken.returncode == 0, taken.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
