"""The README and docs/*.md hold together: every relative link reaches a file of the repository, every `#anchor`
a heading of its page (GitHub's anchors), and the README stays short enough to read before starting.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
README_MAX_LINES = 150

_FENCE = re.compile(r"^(```|~~~)")
_INLINE_CODE = re.compile(r"(`+).*?\1")
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:...


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks: a link or a heading inside a code block is not one."""
    lines, fenced = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        if _FENCE.match(line.lstrip()):
            fenced = not fenced
            continue
        if not fenced:
            lines.append((number, line))
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text (links and code marks dropped), lower-cased, punctuation
    dropped (letters, digits, spaces, hyphens and underscores stay), each space a hyphen."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link counts by its text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = "".join(character for character in text.lower()
                   if character.isalnum() or character in " -_")
    return text.replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    """Every anchor of a page; a repeated heading gets -1, -2... as on GitHub."""
    seen: Counter[str] = Counter()
    anchors = set()
    for _, line in prose_lines(page.read_text(encoding="utf-8")):
        found = _HEADING.match(line)
        if found:
            anchor = github_anchor(found.group(2))
            anchors.add(f"{anchor}-{seen[anchor]}" if seen[anchor] else anchor)
            seen[anchor] += 1
    return anchors


def links_of(page: Path) -> list[tuple[int, str]]:
    """(line number, target) of every markdown link of a page, outside code."""
    return [(number, found.group(1)) for number, line in prose_lines(page.read_text(encoding="utf-8"))
            for found in _LINK.finditer(_INLINE_CODE.sub("", line))]


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with each link of a page of the repository at `root`, one line each."""
    problems = []
    for number, target in links_of(page):
        if _EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        where = f"{page.relative_to(root)}:{number}: {target}"
        destination = (page.parent / unquote(path_part)).resolve() if path_part else page
        if not destination.is_relative_to(root):
            problems.append(f"{where}: leaves the repository (a fresh clone has nothing there)")
            continue
        if not destination.exists():
            problems.append(f"{where}: no such file")
            continue
        if anchor:
            if destination.suffix != ".md":
                problems.append(f"{where}: an anchor into a file that is not a page")
            elif unquote(anchor) not in anchors_of(destination):
                problems.append(f"{where}: no heading with this anchor in {destination.relative_to(root)}")
    return problems


@pytest.mark.parametrize("page", [pytest.param(page, id=str(page.relative_to(ROOT))) for page in PAGES])
def test_every_relative_link_and_anchor_resolves(page: Path):
    assert links_of(page), f"{page.relative_to(ROOT)} links to nothing: is the link pattern still right?"
    problems = broken_links(page)
    assert not problems, "broken links:\n" + "\n".join(problems)


def test_the_readme_is_short():
    lines = len((ROOT / "README.md").read_text(encoding="utf-8").splitlines())
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines: keep it to {README_MAX_LINES}, the rest in docs/"


def test_the_readme_leads_to_every_page_of_the_docs():
    targets = {target.partition("#")[0] for _, target in links_of(ROOT / "README.md")}
    unlinked = [page.name for page in PAGES[1:] if f"docs/{page.name}" not in targets]
    assert not unlinked, f"README.md does not link to {unlinked}"


@pytest.mark.parametrize(("heading", "anchor"), [
    pytest.param("Salesforce (`CUSTOMER=salesforce`)", "salesforce-customersalesforce", id="code-and-parentheses"),
    pytest.param("Never 504: one deadline per lead", "never-504-one-deadline-per-lead", id="colon"),
    pytest.param("Never twice, across requests: the delivery ledger", "never-twice-across-requests-the-delivery-ledger",
                 id="comma"),
    pytest.param("Trying the plug by hand: fixtures and the two send scripts",
                 "trying-the-plug-by-hand-fixtures-and-the-two-send-scripts", id="sentence"),
    pytest.param("Answer rules run in linear time (RE2)", "answer-rules-run-in-linear-time-re2", id="capitals"),
    pytest.param("the_reason table", "the_reason-table", id="underscore-kept"),
    pytest.param("A [linked](x.md) word", "a-linked-word", id="link-text"),
    pytest.param("Élodie's café", "élodies-café", id="accents-kept"),
])
def test_anchors_follow_githubs_rules(heading: str, anchor: str):
    assert github_anchor(heading) == anchor


def test_a_broken_link_or_anchor_is_found(tmp_path: Path):
    root = tmp_path / "repository"
    (root / "docs").mkdir(parents=True)
    (root / "docs" / "a.md").write_text("# A page\n\n## Twice\n\n## Twice\n", encoding="utf-8")
    (tmp_path / "x.md").write_text("", encoding="utf-8")
    page = root / "README.md"
    page.write_text("[ok](docs/a.md#a-page) [ok](docs/a.md#twice-1) [ok](#top) [ok](https://example.org)\n"
                    "# Top\n[gone](docs/b.md) [bad anchor](docs/a.md#nowhere) [outside](../x.md)\n"
                    "`[in code](nowhere.md)`\n```\n[in a block](nowhere.md)\n```\n", encoding="utf-8")
    assert [problem.split(": ", 1)[1] for problem in broken_links(page, root)] == [
        "docs/b.md: no such file", "docs/a.md#nowhere: no heading with this anchor in docs/a.md",
        "../x.md: leaves the repository (a fresh clone has nothing there)"]
