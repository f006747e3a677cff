"""A customer's health: stop wasting fresh leads on a customer that has stopped answering.

After `failures` customer failures in a row, delivery pauses for `pause_s`: leads answer 502 `customer_paused`
at once, never sent, with the time the pause ends. After the pause one lead probes: its success resumes
delivery, its failure starts a new pause. The state is one item of the ledger's store (shared by every
container), changed by compare-and-set; pausing and resuming are one log line and one Rollbar warning each,
written by the request that changed it.

A failure is every end that is not about the person: the customer not answering (timeout,
unreachable, 5xx, an unreadable answer), its own state (a lock, a limit), our request not fitting its setup (a
field it lacks: every lead would fail the same way) and our access. A refusal, a duplicate or a missing field are
answers about the person, and reset the count. A lead that never reached the customer because no time was left
to call it says nothing of the customer, and does not count.

Each container trusts its last look at a healthy state (no failure, no pause) for CACHE_S (1 s), and reads any
other state afresh, once a lead: a healthy customer costs at most one read a second and no write; a pause other
containers start after this one's last healthy look is seen here within a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from dispatcher.errors import ConfigurationError, LeadEnded
from dispatcher.ledger.store import Item, Store, StoreUnavailable
from dispatcher.reasons import Outcome, Reason

DEFAULT_FAILURES = 5
DEFAULT_PAUSE_S = 60.0
# Ends that are not about the person: every lead would meet them again until the customer or its configuration
# changes. Every other end after asking the customer is an answer about the person.
FAILURES = frozenset({Reason.CUSTOMER_TIMEOUT, Reason.CUSTOMER_UNREACHABLE, Reason.CUSTOMER_ERROR,
                      Reason.BAD_CUSTOMER_RESPONSE, Reason.CUSTOMER_REJECTED_REQUEST, Reason.UNAUTHORIZED,
                      Reason.CUSTOMER_API_NOT_FOUND})
KEEP_S = 24 * 3600  # how long the store keeps a health item nobody touches
ATTEMPTS = 5  # compare-and-set retries before giving up on a change (health never fails a lead)
CACHE_S = 1.0  # how long a container trusts its last look at a healthy state (no failure, no pause)
_seen: ContextVar[tuple[str, Item | None] | None] = ContextVar("health_seen", default=None)  # this lead's look
_log = logging.getLogger("leadplug.transitions")


@dataclass(frozen=True)
class Change:
    """A pause or a resume, for the caller to report once."""

    kind: str  # "paused" or "resumed"
    until: float | None
    reason: str | None


def _number(value: Any) -> float | None:
    """A number of the stored state, None when absent or not a number (an item of another shape)."""
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _healthy(item: Item | None) -> bool:
    """A state with no failure counted and no pause: the one a container may trust for CACHE_S."""
    state = item.record if item is not None and isinstance(item.record, dict) else {}
    return not _number(state.get("failures")) and _number(state.get("paused_until")) is None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Health:
    def __init__(self, store: Store, customer: str, failures: int = DEFAULT_FAILURES,
                 pause_s: float = DEFAULT_PAUSE_S, name: str = "") -> None:
        self.store, self.customer, self.failures, self.pause_s = store, customer, failures, pause_s
        self.name = name or customer  # `customer` is the stable id (the key); `name` is for messages
        self.key = f"health:{customer}"
        self._cached: tuple[Item | None, float] | None = None  # (the state item, when this container read it)

    def admit(self, deadline_s: float) -> bool:
        """Let a lead through, or raise LeadEnded(customer_paused). True when this lead is the probe.

        Reads the shared state at most once (none when this container read or wrote it less than CACHE_S ago)."""
        item = self._read(fresh=False)
        _seen.set((self.key, item))  # what `record` starts from, for this lead: one read a lead at most
        for _ in range(ATTEMPTS):
            now = time.time()
            if item is None:
                return False
            state = item.record if isinstance(item.record, dict) else {}
            paused_until, probe_until = _number(state.get("paused_until")), _number(state.get("probe_until"))
            if paused_until is None:
                return False
            if now < paused_until or now < (probe_until or 0):
                until = max(paused_until, probe_until or 0)
                raise LeadEnded(Outcome.of(Reason.CUSTOMER_PAUSED, f"Delivery to {self.name} is paused after "
                                           f"repeated failures, until {_iso(until)}; retry then",
                                           paused_until=_iso(until)))
            if self._write(item, {**state, "probe_until": now + deadline_s}):
                return True  # the pause is over: this lead probes
            item = self._read(fresh=True)
        return False

    def record(self, reason: str, answered: bool, probe: bool, asked: bool = True) -> Change | None:
        """Count this lead's end: a customer failure, or an answer (which resets the count). `asked` is False when
        the lead never reached the customer for a reason of ours (no time was left to call it). Written only when
        the state changes; read once a lead at most (see CACHE_S)."""
        failed = reason in FAILURES and asked
        if not failed and not answered:
            return None  # the customer was not asked (invalid lead, ledger, pause): nothing learnt
        seen = _seen.get()
        _seen.set(None)
        item = seen[1] if seen is not None and seen[0] == self.key else self._read(fresh=False)
        for _ in range(ATTEMPTS):
            now = time.time()
            state = dict(item.record) if item is not None and isinstance(item.record, dict) else {}
            state = {"failures": int(_number(state.get("failures")) or 0),
                     "paused_until": _number(state.get("paused_until")),
                     "probe_until": _number(state.get("probe_until"))}
            if failed:
                count = state["failures"] + 1
                already_paused = (state["paused_until"] or 0) > now
                if probe or (count >= self.failures and not already_paused):
                    change = Change("paused", now + self.pause_s, reason)
                    new = {"failures": 0, "paused_until": change.until, "probe_until": None, "reason": reason}
                else:
                    change, new = None, {**state, "failures": count}
            else:
                if state.get("failures", 0) == 0 and state.get("paused_until") is None:
                    return None  # healthy already: no write
                change = Change("resumed", None, None) if probe else None
                new = {"failures": 0, "paused_until": None if probe else state.get("paused_until"),
                       "probe_until": None if probe else state.get("probe_until")}
            if self._write(item, new):
                return change
            item = self._read(fresh=True)
        return None

    def _read(self, fresh: bool) -> Item | None:
        """The state item: this container's last look when under CACHE_S old (unless `fresh`), else the store's.
        A store that cannot answer, or a row that cannot be read, reads as healthy (health never fails a lead)."""
        if not fresh and self._cached is not None and time.monotonic() - self._cached[1] < CACHE_S \
                and _healthy(self._cached[0]):
            return self._cached[0]
        try:
            item = self.store.get(self.key)
        except StoreUnavailable:
            return None  # without its state, deliver
        self._cached = (item, time.monotonic())
        return item

    def _write(self, item: Item | None, record: dict[str, Any]) -> bool:
        version = max(item.version, 0) + 1 if item is not None else 1
        written = Item(self.key, version, record, int(time.time() + KEEP_S))
        try:
            landed = self.store.put(written, item.version if item is not None else None)
        except StoreUnavailable:
            return True  # give up quietly: the next lead tries again
        self._cached = (written, time.monotonic()) if landed else None
        return landed

    def log(self, change: Change, trace_id: str) -> None:
        """One transition-style line for the customer's move."""
        source, dest = ("delivering", "paused") if change.kind == "paused" else ("paused", "delivering")
        fields = {"customer": self.customer, "trace_id": trace_id, "from": source, "to": dest,
                  "trigger": "pause" if change.kind == "paused" else "resume", "reason": change.reason,
                  "paused_until": _iso(change.until) if change.until else None}
        _log.info("customer %s", dest, extra={"fields": fields})


def health_from_setting(environ: Mapping[str, str], store: Store, customer: str, name: str = "") -> Health | None:
    """HEALTH_FAILURES (default 5; 0 turns pausing off) and HEALTH_PAUSE_S (default 60)."""
    try:
        failures = int(environ.get("HEALTH_FAILURES") or DEFAULT_FAILURES)
        pause_s = float(environ.get("HEALTH_PAUSE_S") or DEFAULT_PAUSE_S)
    except ValueError:
        raise ConfigurationError("HEALTH_FAILURES must be a whole number and HEALTH_PAUSE_S a number of "
                                 "seconds") from None
    if failures < 0 or not 0 < pause_s <= 86_400:
        raise ConfigurationError("HEALTH_FAILURES must be 0 (off) or more, HEALTH_PAUSE_S between 0 and 86400")
    return Health(store, customer, failures, pause_s, name) if failures else None
