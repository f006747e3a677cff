"""Where the ledger's items live: a key, a version and a JSON record, behind two operations.

`get` reads an item; `put` writes one only if the item is still the version the caller read (or absent):
every rule of the ledger (claim, settle, take over an expired claim) is a read, a decision and such a
compare-and-set, so the same rules run on SQLite and on DynamoDB. A backend that cannot be reached raises
`StoreUnavailable`: the plug then sends nothing (SPEC section 8).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any


class StoreUnavailable(Exception):
    """The store could not be read or written (network, credentials, a locked file...)."""


@dataclass(frozen=True)
class Item:
    key: str
    version: int
    record: dict[str, Any]
    expires_at: int  # epoch seconds; DynamoDB's TTL deletes the item some time after


class Store(ABC):
    """A key-value store with a conditional write: the two operations every backend implements."""

    remote = False  # reached over the network (its calls may take seconds), not a local file or memory

    @abstractmethod
    def get(self, key: str) -> Item | None:
        """The item, or None; raise StoreUnavailable when the store cannot answer."""

    @abstractmethod
    def put(self, item: Item, expected_version: int | None) -> bool:
        """Write the item if the stored one is at `expected_version` (absent when None); False if it is not."""
