"""Headless Chromium for the tests that look at a page (Debian's `chromium` package at /usr/bin/chromium).

`find_or_install()` returns the binary; when it is absent and we are root with apt-get, it installs Debian's
package first (the suite's own set-up: CI and a fresh machine need nothing done by hand). Where it cannot be
had, it says why, and the caller skips with that message.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
# Nothing from the network, no first-run pages, no crash reporter: the page is a local file.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars")
INSTALL_TIMEOUT_S = 900


class ChromiumUnavailable(Exception):
    """Chromium is not installed and cannot be installed here; the message says why."""


def find_or_install() -> Path:
    if CHROMIUM.exists():
        return CHROMIUM
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise ChromiumUnavailable(f"{CHROMIUM} is absent and installing Debian's chromium package needs root and "
                                  "apt-get: run `apt-get install -y chromium` to run these tests")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    output = ""
    for step in (["apt-get", "install", "-y", "chromium"], ["apt-get", "update"],
                 ["apt-get", "install", "-y", "chromium"]):
        if CHROMIUM.exists():
            break
        try:
            done = subprocess.run(step, capture_output=True, text=True, env=env, timeout=INSTALL_TIMEOUT_S,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ChromiumUnavailable(f"`{' '.join(step)}` took over {INSTALL_TIMEOUT_S} s") from None
        output = done.stdout[-1000:] + done.stderr[-1000:]
    if not CHROMIUM.exists():
        raise ChromiumUnavailable(f"Debian's chromium package could not be installed:\n{output}")
    return CHROMIUM


def run(chromium: Path, profile: Path, *arguments: str, timeout_s: float = 120) -> subprocess.CompletedProcess[str]:
    """One headless Chromium run with a profile folder of its own."""
    return subprocess.run([str(chromium), *FLAGS, f"--user-data-dir={profile}", *arguments], capture_output=True,
                          text=True, timeout=timeout_s, check=False)
