"""The code says its rules instead of citing the contract's section numbers: SPEC.md lives outside the repository
(`../shared/`), renumbers between rounds, and a reader of a comment cannot follow "section 8" from here."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {".venv", ".git", "vendor", "build", "__pycache__", "node_modules"}  # not ours, or copies of ours
_CITATION = re.compile(r"\bSPEC\s+sections?\s+\d")


def python_files() -> list[Path]:
    return [path for path in ROOT.rglob("*.py")
            if not SKIPPED & set(path.relative_to(ROOT).parts) and "fixtures" not in path.relative_to(ROOT).parts]


def test_no_python_file_cites_a_section_of_the_contract_by_number():
    assert len(python_files()) > 50, "the walk found too few files: is ROOT right?"
    citing = [f"{path.relative_to(ROOT)}:{number}" for path in python_files()
              for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
              if _CITATION.search(line)]
    assert not citing, f"say the rule instead of its section number: {citing}"
