"""The SQLite ledger's store when another process holds the file: it waits while the lead's deadline allows, no longer.

A second, raw connection to the same file plays the other process (another plug, `chalice local`'s other
request): it holds the file's write lock in an open transaction, and commits after a while.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from dispatcher.ledger.sqlite import SqliteStore
from dispatcher.ledger.store import Item, StoreUnavailable, within

FAR = 2_000_000_000


def hold_the_file(path: Path, seconds: float) -> threading.Thread:
    """Another connection holds the write lock for `seconds`; returns once it holds it."""
    taken = threading.Event()

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO ledger VALUES ('other', 1, '{}', ?)", (FAR,))
        taken.set()
        time.sleep(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert taken.wait(5)
    return thread


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    store = SqliteStore(tmp_path / "ledger.sqlite3")
    with within(3):
        assert store.create(Item("first", 1, {"n": 1}, FAR)) is None  # the file and its table exist
    return store


def test_a_file_held_for_a_moment_is_waited_for(store: SqliteStore, tmp_path: Path):
    holder = hold_the_file(tmp_path / "ledger.sqlite3", 0.4)
    with within(5):
        assert store.create(Item("lead", 1, {"n": 2}, FAR)) is None
        assert store.put(Item("lead", 2, {"n": 3}, FAR), 1)
        assert store.put_also(Item("lead", 3, {"n": 4}, FAR), 2, Item("marker", 1, {"lead_key": "lead"}, FAR))
        assert store.get("lead").record == {"n": 4}
        assert store.get("other") is not None  # what the other connection wrote
    holder.join()


def test_a_file_held_past_the_deadline_makes_the_store_unavailable_in_time(store: SqliteStore, tmp_path: Path):
    holder = hold_the_file(tmp_path / "ledger.sqlite3", 2.0)
    started = time.monotonic()
    with within(0.3), pytest.raises(StoreUnavailable):
        store.put(Item("lead", 1, {"n": 2}, FAR), None)
    assert time.monotonic() - started < 1.5, "the store must not wait past the time it was given"
    holder.join()
    with within(3):
        assert store.create(Item("lead", 1, {"n": 2}, FAR)) is None  # nothing was half written
