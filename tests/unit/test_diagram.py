"""The state machine's picture in docs/reliability.md is drawn from dispatcher/machine.py and must stay so."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from dispatcher import machine
from scripts import draw_machine

EDGE = re.compile(r"^\s*(\S+) --> (\S+)(?:: (.+))?$")


def _edges(diagram: str) -> set[tuple[str, str, str | None]]:
    """Every (from, to, trigger): mermaid writes two triggers between the same states as one `a | b` label."""
    edges: set[tuple[str, str, str | None]] = set()
    for found in filter(None, map(EDGE.match, diagram.splitlines())):
        source, dest, label = found.groups()
        edges.update((source, dest, trigger) for trigger in (label.split(" | ") if label else [None]))
    return edges


def test_the_docs_diagram_is_the_machines():
    current = draw_machine.doc_section(draw_machine.DIAGRAM_DOC.read_text(encoding="utf-8"))
    assert current == draw_machine.section(draw_machine.mermaid()), (
        "docs/reliability.md's diagram is out of date: run .venv/bin/python scripts/draw_machine.py --write")


def test_the_diagram_draws_every_declared_move_and_nothing_else():
    declared = {(source, move["dest"], move["trigger"]) for move in machine.TRANSITIONS
                for source in ([move["source"]] if isinstance(move["source"], str) else move["source"])}
    ends = {("[*]", "received", None)} | {(state, "[*]", None) for state in machine.TERMINAL}
    assert _edges(draw_machine.mermaid()) == declared | ends


def test_check_finds_a_stale_diagram_and_write_mends_only_that_section(tmp_path, monkeypatch):
    page = tmp_path / "reliability.md"
    stale = draw_machine.section(draw_machine.mermaid()).replace("  sent --> refused: refuse\n", "")
    page.write_text(f"# Title\n\n{draw_machine.BEGIN}\n{stale}{draw_machine.END}\n\nAfter.\n", encoding="utf-8")
    monkeypatch.setattr(draw_machine, "DIAGRAM_DOC", page)

    assert draw_machine.main(["--check"]) == 1
    assert draw_machine.main(["--write"]) == 0
    assert draw_machine.main(["--check"]) == 0
    text = page.read_text(encoding="utf-8")
    assert text.startswith("# Title\n\n") and text.endswith(f"{draw_machine.END}\n\nAfter.\n")
    assert "sent --> refused: refuse" in text


def test_the_plug_never_loads_the_diagram_extension():
    # GraphMachine is for the docs; loading it at import time would slow every cold start of the Lambda.
    probe = "import sys, app; print(sorted(m for m in sys.modules if m.startswith('transitions.extensions')))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            cwd=draw_machine.ROOT, env=dict(os.environ), check=True)
    assert result.stdout.strip() == "[]"
