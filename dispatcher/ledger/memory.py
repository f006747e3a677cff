"""The store in this process's memory: the health of a customer when no ledger is configured (LEDGER=off).

Each container then keeps its own count: the pause still protects the customer, but is not shared.
"""

from __future__ import annotations

import threading

from dispatcher.ledger.store import Item, Store


class MemoryStore(Store):
    def __init__(self) -> None:
        self._items: dict[str, Item] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Item | None:
        with self._lock:
            return self._items.get(key)

    def put(self, item: Item, expected_version: int | None) -> bool:
        with self._lock:
            current = self._items.get(item.key)
            if (current.version if current is not None else None) != expected_version:
                return False
            self._items[item.key] = item
            return True
