"""The module map in docs/development.md names every module, once, and only modules that exist: a module added,
moved or removed without its line in the map fails here, so the one list a newcomer reads cannot drift."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "development.md"
_SECTION = re.compile(r"<!-- section:modules -->\n(.*?)<!-- /section:modules -->", re.DOTALL)
_NAME = re.compile(r"`([^`]+)`")
# Folders the map names as a whole: their files are a peer or templates, not modules of the plug.
WHOLE_FOLDERS = ("scripts/bench_baseline/",)


def modules_on_disk() -> set[str]:
    """app.py and every Python module of dispatcher/, sandbox/ and scripts/, as paths from the repository."""
    found = {"app.py"}
    for folder, pattern in (("dispatcher", "**/*.py"), ("sandbox", "*.py"), ("scripts", "*.py")):
        found |= {path.relative_to(ROOT).as_posix() for path in (ROOT / folder).glob(pattern)}
    return found


def names_in_map() -> list[str]:
    """Every module or folder the map's first column names, in order (a row may name several)."""
    section = _SECTION.search(PAGE.read_text(encoding="utf-8"))
    assert section, f"{PAGE.name} has no <!-- section:modules --> ... <!-- /section:modules --> block"
    names = []
    for row in section[1].splitlines():
        cells = row.split("|")
        if len(cells) > 2 and cells[1].strip() not in ("module", "---"):
            names += _NAME.findall(cells[1])
    return names


def test_the_map_names_every_module_of_the_plug_its_sandboxes_and_its_scripts():
    missing = sorted(modules_on_disk() - set(names_in_map()))
    assert not missing, f"add a line for each to the module map of docs/development.md: {missing}"


def test_the_map_names_only_what_exists_and_each_module_once():
    names = names_in_map()
    gone = [name for name in names if not (ROOT / name).exists()]
    assert not gone, f"the module map of docs/development.md names what does not exist: {gone}"
    twice = [name for name, count in Counter(names).items() if count > 1]
    assert not twice, f"the module map names these more than once: {twice}"
    folders = [name for name in names if name.endswith("/")]
    assert set(folders) == set(WHOLE_FOLDERS), f"a folder in the map hides its modules: {folders}"


def test_the_package_docstring_points_to_the_map_instead_of_listing_modules():
    docstring = (ROOT / "dispatcher" / "__init__.py").read_text(encoding="utf-8")
    assert "docs/development.md#module-map" in docstring
    listed = [name for name in names_in_map() if name.startswith("dispatcher/") and Path(name).name in docstring
              and Path(name).name != "__init__.py"]
    assert not listed, f"dispatcher/__init__.py lists modules again (the map is the one list): {listed}"
