"""Where the ledger's items live: a key, a version and a JSON record, behind three operations.

`get` reads an item; `put` writes one only if the item is still the version the caller read (or absent);
`create` writes a new item only if none is there, and otherwise returns the one that is (DynamoDB does both in
one conditional PutItem with `ReturnValuesOnConditionCheckFailure=ALL_OLD`). Every rule of the ledger (claim,
settle, take over an expired claim) is a read, a decision and such a compare-and-set, so the same rules run on
SQLite and on DynamoDB. A backend that cannot be reached raises `StoreUnavailable`: the plug then sends nothing
(a lead is never sent without its ledger).

Every call is bounded by the lead's deadline: `within(seconds)` sets how long the store's calls (retries and
timeouts included) may take from now; a backend reads it with `time_left()`. A row that cannot be read (not
JSON, an item of another shape) comes back as an item whose record is `UNREADABLE` (an empty record the rules
read as in doubt), logged, never an exception: one bad row affects one lead at most.
"""

from __future__ import annotations

import json
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

MIN_CALL_S = 0.2  # the least time a remote store's call is given (DynamoDB: connect and read, 0.1 s each)
DEFAULT_BUDGET_S = 3.0  # how long a store's call may take when no lead's deadline bounds it (a test, the worker)
# A record's compact JSON, as both stores write it (`json.dumps(record, separators=(",", ":"))`): one encoder for
# every record, since json.dumps with options builds one per call.
RECORD_JSON = json.JSONEncoder(separators=(",", ":"))
NO_VERSION = -1  # the version of a row whose version cannot be read: `put` over it replaces only such a row
_until: ContextVar[float | None] = ContextVar("store_until", default=None)


class StoreUnavailable(Exception):
    """The store could not be read or written (network, credentials, a locked file, no time left...)."""


class NoTimeLeft(StoreUnavailable):
    """The lead's deadline left no time for the store's call: it was not made."""


@dataclass(frozen=True)
class Item:
    key: str
    version: int
    record: dict[str, Any]
    expires_at: int  # epoch seconds; DynamoDB's TTL deletes the item some time after


def unreadable(key: str, why: str, version: int = NO_VERSION, expires_at: int | None = None) -> Item:
    """The item of a row that cannot be read: logged (its key is a hash, never personal), read as in doubt."""
    logging.getLogger("leadplug").warning("ledger: the row %s cannot be read (%s); its lead is in doubt", key[:16],
                                          why)
    return Item(key, version, {}, expires_at if expires_at is not None else int(time.time()) + 3600)


@contextmanager
def within(seconds: float) -> Iterator[None]:
    """Bound the store's calls made in this block (this thread or task) to `seconds` from now."""
    token = _until.set(time.monotonic() + max(0.0, seconds))
    try:
        yield
    finally:
        _until.reset(token)


def time_left() -> float:
    """Seconds the current call may still take (DEFAULT_BUDGET_S when no block bounds it)."""
    until = _until.get()
    return DEFAULT_BUDGET_S if until is None else max(0.0, until - time.monotonic())


class Store(ABC):
    """A key-value store with a conditional write: the operations every backend implements."""

    remote = False  # reached over the network (its calls may take seconds), not a local file or memory

    @abstractmethod
    def get(self, key: str) -> Item | None:
        """The item, or None; raise StoreUnavailable when the store cannot answer."""

    @abstractmethod
    def put(self, item: Item, expected_version: int | None) -> bool:
        """Write the item if the stored one is at `expected_version` (absent when None); False if it is not."""

    def put_also(self, item: Item, expected_version: int | None, also: Item) -> bool:
        """`put`, and when it writes, also write `also` whatever is stored under its key: at once where the store
        can (a DynamoDB transaction: one call; one SQLite transaction); here, one write after the other."""
        if not self.put(item, expected_version):
            return False
        current = self.get(also.key)
        if not self.put(Item(also.key, (current.version + 1) if current else 1, also.record, also.expires_at),
                        current.version if current else None):
            logging.getLogger("leadplug").warning("ledger: the marker %s changed meanwhile; left as it is",
                                                  also.key[:16])
        return True

    def create(self, item: Item) -> Item | None:
        """Write the item if none has its key: None when written, else the item already there (read after the
        failed write here; DynamoDB returns it with the failed write itself, one call)."""
        for _ in range(3):
            if self.put(item, None):
                return None
            current = self.get(item.key)
            if current is not None:
                return current
            # deleted between the two calls (an expired row cleaned up): try again, a bounded number of times
        raise StoreUnavailable(f"the row {item.key[:16]} kept appearing and disappearing")
