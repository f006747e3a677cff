"""Settles that did not land within their lead's answer: written again after the answer, a bounded number of
times, by one long-lived worker thread per process (never a thread per lead).

A settle waits here only when the store failed it for the whole of the answer's time (a SQLite file locked for
seconds, a DynamoDB throttling every call). Meanwhile this process answers a retry of the same lead from the
pending record (`record_of`), so a lead accepted here is replayed, never sent again, even before the store
took the settle. If every attempt fails, the claim expires into doubt: the next attempt asks the customer
first (its look-up), and a customer's "duplicate" then is `delivered_earlier` (docs/never-twice.md).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from dispatcher.ledger.store import Item, StoreUnavailable

ATTEMPTS = 8
FIRST_PAUSE_S = 0.5  # then doubled: about two minutes in all before giving up
_log = logging.getLogger("leadplug")


@dataclass
class _Settle:
    item: Item
    write: Callable[[], bool]  # the compare-and-set; True when written (or already there)
    attempts: int = 0
    due: float = 0.0


class PendingSettles:
    def __init__(self) -> None:
        self._items: dict[str, _Settle] = {}
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, item: Item, write: Callable[[], bool]) -> None:
        with self._wakeup:
            self._items[item.key] = _Settle(item, write, 0, time.monotonic() + FIRST_PAUSE_S)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="ledger-pending-settles", daemon=True)
                self._thread.start()
            self._wakeup.notify()

    def record_of(self, key: str) -> Item | None:
        """The settle still waiting for this key, if any: what this process knows the store does not yet."""
        with self._wakeup:
            pending = self._items.get(key)
            return pending.item if pending is not None else None

    def __len__(self) -> int:
        with self._wakeup:
            return len(self._items)

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._items:
                    self._wakeup.wait()
                now = time.monotonic()
                due = [settle for settle in self._items.values() if settle.due <= now]
                if not due:
                    self._wakeup.wait(min(settle.due for settle in self._items.values()) - now)
                    continue
            for settle in due:
                self._attempt(settle)

    def _attempt(self, settle: _Settle) -> None:
        settle.attempts += 1
        try:
            settle.write()
            done, why = True, ""
        except StoreUnavailable as exc:
            done, why = False, type(exc).__name__
        except Exception as exc:  # noqa: BLE001 - the worker must outlive any one settle
            done, why = False, type(exc).__name__
        with self._wakeup:
            if done or settle.attempts >= ATTEMPTS:
                if self._items.get(settle.item.key) is settle:
                    del self._items[settle.item.key]
                if done:
                    _log.info("ledger: the settle of row %s landed after its answer (attempt %d)",
                              settle.item.key[:16], settle.attempts)
                else:
                    _log.error("ledger: the settle of row %s was lost after %d attempts (%s); its lead is in doubt",
                               settle.item.key[:16], settle.attempts, why)
                return
            settle.due = time.monotonic() + FIRST_PAUSE_S * 2 ** settle.attempts
