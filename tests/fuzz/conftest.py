"""The plug under `chalice local` (a stage of its own) with a Salesforce sandbox of its own behind it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.salesforce import CLIENT_SECRET, SalesforceSandbox
from tests.conftest import salesforce_env
from tests.fuzz import checks
from tests.fuzz.harness import TALLY
from tests.support.project import running_plug


@pytest.fixture(scope="session")
def fuzz_sandbox() -> Iterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox().start()
    yield sandbox
    sandbox.stop()


@pytest.fixture(scope="session")
def fuzz_plug(fuzz_sandbox: SalesforceSandbox) -> Iterator[str]:
    """The base URL of `chalice local` serving the plug against the sandbox."""
    checks.watch_secrets(lambda: (CLIENT_SECRET, *list(fuzz_sandbox.tokens)))
    with running_plug(salesforce_env(fuzz_sandbox.base_url), stage="fuzz") as plug:
        yield f"http://127.0.0.1:{plug.port}"


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TALLY.phases:
        terminalreporter.write_line(TALLY.summary())
