"""A throwaway copy of the project (symlinks) whose .chalice/config.json holds one extra stage.

This is how an independent check uses the plug: add a stage with its own variables, run `chalice local
--stage <it>`. The repository's own config.json is never modified by the tests.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
LINKED = ("app.py", "dispatcher", "contracts", "customers", "vendor", "requirements.txt", "sandbox")
CHALICE = str(Path(sys.executable).parent / "chalice")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_project(stage: str, environment: Mapping[str, str], lambda_timeout: int | None = None, *,
                 copied: tuple[str, ...] = ()) -> Path:
    """A temporary project directory whose config has `stage` with `environment`. The folders named in `copied`
    are copies without bytecode caches, as a fresh clone has them (chalice packages whatever `vendor/` holds)."""
    folder = Path(tempfile.mkdtemp(prefix="leadplug-project-"))
    for name in LINKED:
        if name in copied:
            shutil.copytree(ROOT / name, folder / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (folder / name).symlink_to(ROOT / name)
    (folder / ".chalice").mkdir()
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stage_config: dict[str, object] = {"api_gateway_stage": "api", "environment_variables": dict(environment)}
    if lambda_timeout is not None:
        stage_config["lambda_timeout"] = lambda_timeout
    config["stages"][stage] = stage_config
    (folder / ".chalice" / "config.json").write_text(json.dumps(config, indent=2))
    return folder


class LocalPlug:
    """`chalice local` serving the plug on a free port; its standard output (the transition log) is kept."""

    def __init__(self, project: Path, stage: str) -> None:
        self.project, self.stage = project, stage
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/send"
        self.log_path = project / "chalice-local.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, wait_s: float = 30.0) -> LocalPlug:
        log = self.log_path.open("wb")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._process = subprocess.Popen(
            [CHALICE, "--project-dir", str(self.project), "local", "--no-autoreload", "--stage", self.stage,
             "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"chalice local exited:\n{self.log()}")
            try:
                requests.get(f"http://127.0.0.1:{self.port}/", timeout=0.5)
                return self
            except requests.ConnectionError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"chalice local did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def json_lines(self) -> list[dict[str, object]]:
        """Every JSON line written so far: the transition log's and the metrics' (EMF)."""
        lines = []
        for line in self.log().splitlines():
            if line.startswith("{"):
                try:
                    lines.append(json.loads(line))
                except ValueError:
                    pass
        return lines

    def kill(self) -> None:
        """SIGKILL, as Lambda ends a container: no clean-up, no answer."""
        if self._process and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)

    def log_lines(self) -> list[dict[str, object]]:
        """The JSON transition lines written so far."""
        return [line for line in self.json_lines() if "_aws" not in line]

    def stop(self) -> None:
        if self._process and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()


@contextmanager
def running_plug(environment: Mapping[str, str], stage: str = "e2e", lambda_timeout: int | None = None
                 ) -> Iterator[LocalPlug]:
    project = make_project(stage, environment, lambda_timeout)
    plug = LocalPlug(project, stage).start()
    try:
        yield plug
    finally:
        plug.stop()
        shutil.rmtree(project, ignore_errors=True)
