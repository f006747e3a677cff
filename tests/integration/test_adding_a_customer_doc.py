"""docs/adding-a-customer.md works the first time: its customer file and stage pass the check command, the trap
it describes stops `chalice local --no-autoreload` with the very line it shows, and every file, script, make
target and link it names exists."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import pytest

from tests.support.project import CHALICE, ROOT, make_project

DOCS = ROOT / "docs"
GUIDE = (DOCS / "adding-a-customer.md").read_text(encoding="utf-8")


def block(marker: str) -> str:
    """The code block after `<!-- example:<marker> -->`, unindented."""
    found = re.search(rf"<!-- example:{marker} -->\n\s*```\w*\n(.*?)```", GUIDE, flags=re.DOTALL)
    assert found, marker
    return re.sub(r"^ {3}", "", found[1], flags=re.MULTILINE)


def customer_file() -> dict[str, Any]:
    return json.loads(block("customer-file"))


def stage() -> dict[str, str]:
    return next(iter(json.loads("{" + block("stage") + "}").values()))["environment_variables"]


def test_the_guides_file_and_stage_pass_the_check(tmp_path):
    path = tmp_path / "toitures-martin.json"
    path.write_text(json.dumps(customer_file()), encoding="utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "check_customer.py"), str(path), "--env"],
                            capture_output=True, text=True, timeout=60, env={**os.environ, **stage(), "NO_COLOR": "1"},
                            check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("\nok  ") == len(customer_file()["examples"]) == 5
    assert "note:" not in result.stdout  # an example for each rule


def test_the_trap_stops_the_plug_with_the_line_the_guide_shows(tmp_path):
    config = customer_file()
    config["answers"][0]["when"]["body"] = "^OK|(?P<id>.+)"
    path = tmp_path / "toitures-martin.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    project = make_project("martin-dev", {**stage(), "WEBHOOK_CONFIG": str(path)})
    started = subprocess.run([CHALICE, "--project-dir", str(project), "local", "--no-autoreload", "--stage",
                              "martin-dev", "--port", "0"], capture_output=True, text=True, timeout=60, check=False)
    assert started.returncode == 1
    assert (started.stdout + started.stderr).splitlines() == block("trap").splitlines()


@pytest.mark.parametrize("doc", sorted(DOCS.glob("*.md")), ids=lambda path: path.name)
def test_every_path_script_target_and_link_a_doc_names_exists(doc):
    text = doc.read_text(encoding="utf-8")
    named = set(re.findall(r"(?:(?<=\./)|(?<![\w./-]))((?:scripts|tests|sandbox|dispatcher|contracts|fixtures|"
                           r"customers|docs)/[\w./-]*\w)(?![\w.<-]|/[\w<])", text))  # not sandbox/<name>.py
    for path in sorted(named):
        if "toitures-martin" in path:  # the customer the guide adds
            continue
        assert (ROOT / path).exists(), f"{doc.name} names {path}, which does not exist"
    for link in re.findall(r"\]\(([^)#]+)\)", text):
        assert (doc.parent / link).resolve().exists(), f"{doc.name} links to {link}"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in re.findall(r"\bmake ([a-z][\w-]*)", text):
        assert re.search(rf"^{target}:", makefile, flags=re.MULTILINE), f"{doc.name}: no make target {target}"
