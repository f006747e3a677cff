"""What each step of a chained lead got at the customer (a person's id...), remembered beside the ledger's claim.

A lead that takes several requests (Pipedrive: a person, then a lead) must never create a second person when the
platform retries after a failure between them: each step's result is written here as soon as it is answered, and
the retry's chain starts after the steps remembered. The item lives in the ledger's own store (SQLite locally,
DynamoDB in production), keyed by a hash of (customer, lead id, "steps"), with the ledger's time to live; it holds
the lead's fingerprint (a retry with other content under the same id starts afresh) and ids, no personal data.
"""

from __future__ import annotations

import hashlib
import logging
import time
from typing import Any

from dispatcher.errors import LeadEnded
from dispatcher.ledger.store import Item, Store, StoreUnavailable
from dispatcher.reasons import Outcome, Reason

MAX_WRITES = 5  # compare-and-set attempts before giving up (only a concurrent writer of the same lead races)


class StepMemory:
    """The remembered steps of one lead, for one customer."""

    def __init__(self, store: Store, customer: str, lead_id: str, fingerprint: str, ttl_s: int) -> None:
        self.store, self.fingerprint, self.ttl_s = store, fingerprint, ttl_s
        self.key = hashlib.sha256(f"{customer}\x00{lead_id}\x00steps".encode()).hexdigest()

    def recall(self) -> dict[str, dict[str, Any]]:
        """The results of the steps an earlier attempt of this same lead got; nothing is sent when the store
        cannot answer (LeadEnded: ledger_unavailable), since a step might otherwise be done twice."""
        try:
            item = self.store.get(self.key)
        except StoreUnavailable as exc:
            raise LeadEnded(Outcome.of(Reason.LEDGER_UNAVAILABLE, "The delivery ledger could not be reached; "
                                                                  "nothing was sent")) from exc
        return _steps_of(item, self.fingerprint)

    def remember(self, step: str, result: dict[str, Any]) -> None:
        """Keep a step's result; a store gone now is logged (the claim then expires in doubt, and the chain's
        in-doubt search looks for what this step created before doing it again)."""
        try:
            for _ in range(MAX_WRITES):
                item = self.store.get(self.key)
                steps = {**_steps_of(item, self.fingerprint), step: result}
                record = {"fingerprint": self.fingerprint, "steps": steps}
                written = Item(self.key, (item.version + 1) if item else 1, record, int(time.time()) + self.ttl_s)
                if self.store.put(written, item.version if item else None):
                    return
        except StoreUnavailable as exc:
            logging.getLogger("leadplug").error("step %s not remembered: %s", step, type(exc).__name__)
            return
        logging.getLogger("leadplug").error("step %s not remembered: the item kept changing", step)


def _steps_of(item: Item | None, fingerprint: str) -> dict[str, dict[str, Any]]:
    """The steps of a live item of this lead's content; anything else (expired, other content, another shape) none."""
    if item is None or item.expires_at <= time.time():
        return {}
    record = item.record
    steps = record.get("steps") if isinstance(record, dict) and record.get("fingerprint") == fingerprint else None
    if not isinstance(steps, dict):
        return {}
    return {name: result for name, result in steps.items() if isinstance(name, str) and isinstance(result, dict)}
