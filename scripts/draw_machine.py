#!/usr/bin/env python3
"""Draw the lead's state machine as mermaid, from dispatcher/machine.py itself, for docs/reliability.md.

    .venv/bin/python scripts/draw_machine.py           # print the diagram
    .venv/bin/python scripts/draw_machine.py --write   # put it in docs/reliability.md between the diagram markers
    .venv/bin/python scripts/draw_machine.py --check   # exit 1 when that diagram is not the code's

transitions' GraphMachine draws mermaid text without graphviz. Only this script (and its test) imports it:
the plug itself never loads the diagram extension, which would slow its cold start.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script, scripts/ is on the path but the project is not
    sys.path.insert(0, str(ROOT))

from transitions.extensions.diagrams import GraphMachine  # noqa: E402

from dispatcher import machine  # noqa: E402

DIAGRAM_DOC = ROOT / "docs" / "reliability.md"  # the page that shows the state machine
BEGIN, END = "<!-- section:diagram -->", "<!-- /section:diagram -->"
TITLE = "A lead's journey"
_SECTION = re.compile(re.escape(BEGIN) + r"\n(.*?)" + re.escape(END), re.DOTALL)


def mermaid() -> str:
    """The machine's mermaid text: its states and declared moves, terminal states leading to the end.

    GraphMachine's styling lines are dropped: they paint the drawing model's current state as "active",
    which says nothing about the machine. Its title line becomes the `title:` key mermaid reads.
    """
    # the machine's states and triggers are StrEnums: drawn by their values (GraphMachine would draw Enum names)
    transitions = [{key: [str(item) for item in value] if isinstance(value, list) else str(value)
                    for key, value in move.items()} for move in machine.TRANSITIONS]
    graph = GraphMachine(states=[str(state) for state in machine.STATES], transitions=transitions,
                         initial=str(machine.State.RECEIVED), auto_transitions=False, graph_engine="mermaid",
                         title=TITLE)
    lines = [line.rstrip() for line in graph.get_graph().draw(None).splitlines()]
    lines = [line for line in lines if line and not line.lstrip().startswith(("classDef ", "Class "))]
    if lines[:3] == ["---", TITLE, "---"]:  # mermaid's front matter is YAML: the title needs its key
        lines[1] = f"title: {TITLE}"
    lines += [f"  {state} --> [*]" for state in machine.STATES if state in machine.TERMINAL]
    return "\n".join(lines) + "\n"


def section(diagram: str) -> str:
    """What goes between the page's diagram markers."""
    return (f"```mermaid\n{diagram}```\n\n"
            "Drawn from `dispatcher/machine.py` by `scripts/draw_machine.py --write`; `tests/unit/test_diagram.py` "
            "fails when\nthe drawing and the machine differ.\n")


def doc_section(text: str) -> str | None:
    found = _SECTION.search(text)
    return found.group(1) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", action="store_true", help="update docs/reliability.md between the diagram markers")
    action.add_argument("--check", action="store_true", help="exit 1 when docs/reliability.md's diagram is out of date")
    args = parser.parse_args(argv)
    wanted = section(mermaid())
    if not (args.write or args.check):
        print(wanted, end="")
        return 0
    name = DIAGRAM_DOC.relative_to(ROOT) if DIAGRAM_DOC.is_relative_to(ROOT) else DIAGRAM_DOC
    text = DIAGRAM_DOC.read_text(encoding="utf-8")
    current = doc_section(text)
    if current is None:
        print(f"{name} has no {BEGIN} ... {END} section", file=sys.stderr)
        return 1
    if args.check:
        if current != wanted:
            print(f"{name}'s diagram is not the machine's: run scripts/draw_machine.py --write", file=sys.stderr)
            return 1
        return 0
    if current != wanted:
        # Re-read right before writing: others edit other sections of the page.
        text = DIAGRAM_DOC.read_text(encoding="utf-8")
        DIAGRAM_DOC.write_text(_SECTION.sub(lambda _: f"{BEGIN}\n{wanted}{END}", text, count=1), encoding="utf-8")
        print(f"{name}: diagram updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
