"""Fixtures the ledger's functional tests share: one DynamoDB emulator per module, a store on each backend, and
the misbehaving proxy in front of the emulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatcher.ledger.dynamodb import DynamoStore
from dispatcher.ledger.sqlite import SqliteStore
from dispatcher.ledger.store import Store
from tests.support.dynamodb import DynamoProxy, create_ledger_table, dynamodb_emulator, emulator_client


@pytest.fixture(scope="module")
def dynamodb_endpoint() -> Iterator[str]:
    with dynamodb_emulator() as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def emulator(dynamodb_endpoint: str) -> str:
    """The emulator behind a test's DynamoProxy (the same one the module's stores use)."""
    return dynamodb_endpoint


@pytest.fixture
def proxy(emulator: str) -> Iterator[DynamoProxy]:
    with DynamoProxy(emulator) as running:
        yield running


@pytest.fixture(params=["sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    """A ledger store on SQLite, or on a fresh table of the emulator."""
    if request.param == "sqlite":
        return SqliteStore(tmp_path / "ledger.sqlite3")
    client = emulator_client(request.getfixturevalue("dynamodb_endpoint"))
    table = f"lead-plug-ledger-test-{time.monotonic_ns()}"
    create_ledger_table(client, table)
    return DynamoStore(table, client)
