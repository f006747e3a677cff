"""Which of our own modules a lead enters, in order: a profiler on Python's call events.

An *entry* is a call into a module of `dispatcher/` (or `app.py`) from code of another of our modules: library frames
in between (transitions calling the machine's callback, logging calling our formatter, contextlib resuming a
generator) are skipped, so a module calling itself through a library is not counted, and a call from another of
our modules through a library is. Each entry is a hop a reader follows from one file to another.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
_OURS = (str(ROOT / "dispatcher") + "/", str(ROOT / "app.py"))


def module_of(filename: str) -> str | None:
    """`delivery.py`, `ledger/ledger.py`, `app.py`: our module of a code object's file, None for a library's."""
    if filename == _OURS[1]:
        return "app.py"
    if filename.startswith(_OURS[0]):
        return filename[len(_OURS[0]):]
    return None


@dataclass
class LeadPath:
    hops: list[tuple[str, str]] = field(default_factory=list)  # (from, into), in order

    @property
    def entries(self) -> Counter[str]:
        return Counter(into for _, into in self.hops)

    def table(self) -> str:
        entries = self.entries
        lines = [f"{len(entries)} modules, {len(self.hops)} entries"]
        lines += [f"  {module:<22} {count}" for module, count in sorted(entries.items(), key=lambda kv: -kv[1])]
        lines += ["hops:"] + [f"  {source} -> {into}" for source, into in self.hops]
        return "\n".join(lines)


@contextmanager
def recording() -> Iterator[LeadPath]:
    """Record the hops between our modules made by this thread inside the block; a call into ours from no module of
    ours (the platform's request reaching `app.py`) is a hop from "platform"."""
    path = LeadPath()
    names: dict[str, str | None] = {}

    def module(frame: FrameType) -> str | None:
        filename = frame.f_code.co_filename
        if filename not in names:
            names[filename] = module_of(filename)
        return names[filename]

    def nearest_of_ours(frame: FrameType | None) -> str | None:
        while frame is not None:
            found = module(frame)
            if found is not None:
                return found
            frame = frame.f_back
        return None

    def profile(frame: FrameType, event: str, _arg: Any) -> None:
        if event != "call":
            return
        into = module(frame)
        if into is None:
            return
        source = nearest_of_ours(frame.f_back) or "platform"
        if source != into:
            path.hops.append((source, into))

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield path
    finally:
        sys.setprofile(previous)
