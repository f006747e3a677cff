"""Headless Chromium for the tests that look at a page (Debian's `chromium` package at /usr/bin/chromium).

Tests never install system packages: `find()` returns the binary or None, and the caller skips with one line
saying how to get it. CI installs it in `.ci/run`.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Nothing from the network, no first-run pages, no crash reporter: the page is a local file.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")


def find() -> Path | None:
    """Debian's chromium, else a `chromium` or `chromium-browser` on the PATH, else None."""
    if CHROMIUM.exists():
        return CHROMIUM
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return Path(found) if found else None


def run(chromium: Path, profile: Path, *arguments: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run with a profile folder of its own."""
    return subprocess.run([str(chromium), *FLAGS, f"--user-data-dir={profile}", *arguments], capture_output=True,
                          text=True, timeout=timeout_s, check=False)
