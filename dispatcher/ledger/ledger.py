"""The delivery ledger: never send a lead twice across the platform's retries.

Each delivery is remembered by (customer, lead id) as a record: a fingerprint of the lead's content, the
attempt's trace id and start, its claim's expiry, and once it ended, its status, envelope and whether the
customer holds the lead (`Holds`: yes, no, or doubt: the request left but no decisive answer came).

`begin` reads the record and decides, then claims the lead with a compare-and-set (two requests at once:
exactly one claims it). `settle` writes how the attempt ended, if its claim is still its own. The record
holds no personal data: the key and the fingerprint are hashes, the envelope is masked with the lead's own
values and carries no request_details (a replay translates the identical lead again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import deque
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from dispatcher.deadline import Deadline
from dispatcher.errors import LeadEnded
from dispatcher.ledger.pending import PendingSettles
from dispatcher.ledger.store import MIN_CALL_S, Item, NoTimeLeft, Store, StoreUnavailable, within
from dispatcher.privacy import Masker
from dispatcher.reasons import MayHold, Outcome, Reason, ending_of

DEFAULT_TTL_S = 7 * 24 * 3600
POLL_S = 0.2  # how often a request waiting for a delivery in flight looks again
ANSWER_RESERVE_S = 0.25  # kept for the answer itself when a store call runs past the customer deadline
MAX_CONFLICTS = 20  # compare-and-sets lost in a row before answering in_progress (never a loop without end)
SETTLE_MARGIN_S = 3.0  # a claim outlives its request's answer by this, so that its settle can land
MAX_STORED_BYTES = 64_000  # a stored envelope beyond this drops the customer's answer body
PENDING = PendingSettles()  # one per process: the settles retried after their answer


class Phase(StrEnum):
    """Where a record's attempt stands (its `phase`)."""

    IN_FLIGHT = "in_flight"  # claimed: its request may be under way
    SETTLED = "settled"  # ended: `holds` says whether the customer has the lead


class Holds(StrEnum):
    """Whether the customer holds the lead after a settled attempt (a record's `holds`), from the reason table's
    `MayHold` and whether the request left."""

    YES = "yes"  # accepted: a retry is replayed
    NO = "no"  # certainly not: a retry delivers it
    DOUBT = "doubt"  # the request left but no decisive answer came: a retry asks the customer first


class Decision(StrEnum):
    """What `begin` does with a record that neither replays nor refuses the lead."""

    CLAIM = "claim"  # expired, unreadable, or not held: claim it (in doubt when the record says so)
    WAIT = "wait"  # another request's attempt is in flight: look again shortly


@dataclass(frozen=True)
class Replay:
    """The lead was accepted before: its answer again, the customer not called."""

    status: int
    reason: str
    envelope: dict[str, Any]
    trace_id: str  # the attempt that delivered it


@dataclass(frozen=True)
class Claim:
    """This request delivers the lead; `previous_attempt` is set when an earlier one ended in doubt."""

    key: str
    version: int
    fingerprint: str
    record: dict[str, Any]
    previous_attempt: dict[str, Any] | None
    waited: bool = False  # it waited for another copy in flight before claiming

    @property
    def in_doubt(self) -> bool:
        return self.previous_attempt is not None

    @property
    def since(self) -> datetime:
        """When the first attempt in doubt started: what a customer's `find` looks for leads created after."""
        started = (self.previous_attempt or {}).get("at") or self.record["at"]
        try:
            return datetime.fromisoformat(started)
        except ValueError:  # an unreadable record's date: look from this attempt's own start
            return datetime.fromisoformat(self.record["at"])


# The text a fingerprint hashes, json.dumps(lead, sort_keys=True, ensure_ascii=False) as every stored record's
# fingerprint was made; one encoder for every lead (json.dumps with options builds one per call).
_FINGERPRINT_JSON = json.JSONEncoder(sort_keys=True, ensure_ascii=False)


def fingerprint_of(lead: dict[str, Any]) -> str:
    """A hash of the lead's content, as validated (trimmed, email lower-cased): the same lead gives the same."""
    return hashlib.sha256(_FINGERPRINT_JSON.encode(lead).encode("utf-8")).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class RoundTrips:
    """The customer's recent round trips in this process: how long a send needs (a waiting copy never sends with
    less time left: exactly one copy of a lead may reach the customer)."""

    KEPT = 16

    def __init__(self) -> None:
        self._recent: deque[float] = deque(maxlen=self.KEPT)

    def observe(self, seconds: float) -> None:
        self._recent.append(seconds)

    def usual(self) -> float | None:
        """A high mark of the recent round trips (the 90th percentile), None before the first answer."""
        if not self._recent:
            return None
        ordered = sorted(self._recent)
        return ordered[int(0.9 * (len(ordered) - 1))]


class Ledger:
    def __init__(self, store: Store, customer: str, ttl_s: int = DEFAULT_TTL_S,
                 pending: PendingSettles | None = None) -> None:
        self.store = store
        self.customer = customer
        self.ttl_s = ttl_s
        self.pending = pending if pending is not None else PENDING
        self.round_trips = RoundTrips()

    def key_of(self, lead_id: str) -> str:
        """The item's key: a hash, since a platform may use an email as a lead id."""
        return hashlib.sha256(f"{self.customer}\x00{lead_id}".encode()).hexdigest()

    def begin(self, lead: dict[str, Any], trace_id: str, deadline: Deadline) -> Claim | Replay:
        """Claim the lead for this request, or say what to answer instead (LeadEnded: in_progress,
        lead_id_reused, ledger_unavailable). Waits for a delivery in flight until the customer deadline.

        A new lead costs one write (`create`); a replay the same one call. Every call is bounded by the
        customer deadline, and so is the loop: a compare-and-set that keeps failing ends in_progress."""
        key, fingerprint = self.key_of(lead["id"]), fingerprint_of(lead)
        pending = self.pending.record_of(key)
        if pending is not None and _readable(pending.record) is not None and pending.record.get("holds") == Holds.YES:
            record = pending.record
            if record["fingerprint"] == fingerprint:  # accepted here; the store has not taken the settle yet
                return Replay(record["status"], record["reason"], record["envelope"], record["trace_id"])
        waited, conflicts = False, 0
        try:
            now = time.time()
            first = self._claim_record(fingerprint, trace_id, deadline, now, None)
            with within(self._budget(deadline)):
                item = self.store.create(Item(key, 1, first, int(now) + self.ttl_s))
            if item is None:
                return Claim(key, 1, fingerprint, first, None)
            while True:
                now = time.time()
                decision = self._decide(item, fingerprint, trace_id, now)
                if isinstance(decision, (Replay, Claim)):
                    return decision
                if decision is Decision.WAIT:
                    waited = True
                    pause = min(POLL_S, deadline.remaining() - self._least_call_s)
                    if pause <= POLL_S / 4:
                        raise LeadEnded(_in_progress())
                    time.sleep(pause)
                else:
                    claim = self._claim(key, fingerprint, item, trace_id, deadline, now)
                    if claim is not None:
                        return replace(claim, waited=waited)
                    conflicts += 1
                    if conflicts > MAX_CONFLICTS or deadline.remaining() <= 0:
                        raise LeadEnded(_in_progress())
                with within(self._budget(deadline)):
                    item = self.store.get(key)
                if item is None:  # deleted meanwhile (expired and cleaned up): claim it afresh
                    now = time.time()
                    with within(self._budget(deadline)):
                        item = self.store.create(Item(key, 1, first, int(now) + self.ttl_s))
                    if item is None:
                        return Claim(key, 1, fingerprint, first, None, waited)
        except NoTimeLeft as exc:
            if waited:  # it waited for another request until no time was left: that request still has the lead
                raise LeadEnded(_in_progress()) from exc
            raise LeadEnded(Outcome.of(Reason.LEDGER_UNAVAILABLE, "No time was left to ask the delivery ledger; "
                                                                  "nothing was sent")) from exc
        except StoreUnavailable as exc:
            raise LeadEnded(Outcome.of(Reason.LEDGER_UNAVAILABLE, "The delivery ledger could not be reached; "
                                                                  "nothing was sent")) from exc

    @property
    def _least_call_s(self) -> float:
        return MIN_CALL_S if self.store.remote else 0.0

    @staticmethod
    def _budget(deadline: Deadline) -> float:
        """How long a store call of `begin` may take: until the customer deadline, or a little beyond it when
        that is all but over (the claim of a lead that then finds no time to be sent, and says so)."""
        return max(deadline.remaining(), deadline.answer_remaining() - ANSWER_RESERVE_S)

    def time_to_send(self, deadline: Deadline, unknown_s: float) -> bool:
        """Whether a send fits in the time left: at least the customer's usual round trip (`unknown_s` before
        this process has seen one)."""
        usual = self.round_trips.usual()
        return deadline.remaining() >= (usual if usual is not None else unknown_s)

    def _decide(self, item: Item, fingerprint: str, trace_id: str, now: float) -> Decision | Replay | Claim:
        if item.expires_at <= now:
            return Decision.CLAIM
        record = _readable(item.record)
        if record is None:
            return Decision.CLAIM  # a record of another shape: in doubt (see _previous_attempt), never a crash
        in_flight = record["phase"] == Phase.IN_FLIGHT and record["claim_until"] > now
        if in_flight and record["trace_id"] == trace_id and record["fingerprint"] == fingerprint:
            # our own claim, written though its answer was lost (a timeout after the write landed)
            return Claim(item.key, item.version, fingerprint, record, record.get("previous_attempt"))
        holds = Holds.DOUBT if record["phase"] == Phase.IN_FLIGHT else record["holds"]
        if record["fingerprint"] != fingerprint and (in_flight or holds != Holds.NO):
            raise LeadEnded(Outcome.of(Reason.LEAD_ID_REUSED, "This lead id was already delivered with other "
                                                              "content; nothing was sent", invalid_fields=["id"],
                                       missing_fields=[]))
        if in_flight:
            return Decision.WAIT
        if holds == Holds.YES:
            return Replay(record["status"], record["reason"], record["envelope"], record["trace_id"])
        return Decision.CLAIM

    def _claim_record(self, fingerprint: str, trace_id: str, deadline: Deadline, now: float,
                      previous: dict[str, Any] | None) -> dict[str, Any]:
        return {"phase": Phase.IN_FLIGHT, "fingerprint": fingerprint, "trace_id": trace_id, "at": _now_iso(),
                "claim_until": now + deadline.answer_remaining() + SETTLE_MARGIN_S, "previous_attempt": previous}

    def _claim(self, key: str, fingerprint: str, item: Item, trace_id: str, deadline: Deadline,
               now: float) -> Claim | None:
        previous = _previous_attempt(item.record) if item.expires_at > now else None
        record = self._claim_record(fingerprint, trace_id, deadline, now, previous)
        version = max(item.version, 0) + 1
        with within(self._budget(deadline)):
            if not self.store.put(Item(key, version, record, int(now) + self.ttl_s), item.version):
                return None
        return Claim(key, version, fingerprint, record, previous)

    def settle(self, claim: Claim, outcome: Outcome, status: int, envelope: dict[str, Any], sent: bool,
               masker: Masker, within_s: float | None = None) -> bool:
        """Remember how this attempt ended (one write); an in-doubt lead that this attempt did not send stays in
        doubt. The envelope is stored masked with the lead's `masker`. The write may take
        `within_s` (default: the store's own budget), retries included; one that still fails is handed to the
        pending settles (retried after the answer): False then."""
        holds = _holds(outcome, sent)
        if holds == Holds.NO and claim.in_doubt and not sent:
            holds = Holds.DOUBT
        record = {**claim.record, "phase": Phase.SETTLED, "state": outcome.state, "reason": outcome.reason,
                  "status": status, "holds": holds, "sent": sent, "envelope": _stored(envelope, masker)}
        if holds == Holds.DOUBT and not sent and claim.previous_attempt is not None:
            record["trace_id"], record["at"] = claim.previous_attempt["trace_id"], claim.previous_attempt["at"]
            record["reason"] = claim.previous_attempt["reason"]  # the attempt in doubt is still the one to find
        item = Item(claim.key, claim.version + 1, record, int(time.time()) + self.ttl_s)

        def write() -> bool:
            return self._write_settle(claim, item, outcome)

        try:
            if within_s is None:
                return write()
            with within(within_s):
                return write()
        except StoreUnavailable as exc:
            logging.getLogger("leadplug").error("ledger: trace %s ended %s/%s but its settle did not land (%s); "
                                                "retried after the answer", claim.record["trace_id"],
                                                outcome.state, outcome.reason, type(exc).__name__)
            self.pending.add(item, lambda: self._write_settle(claim, item, outcome))
            return False

    def record_key(self, customer_record_id: str | int) -> str:
        """The key of the marker naming the lead whose request created this customer record (a hash)."""
        return hashlib.sha256(f"{self.customer}\x00record\x00{customer_record_id}".encode()).hexdigest()

    def created_by_another(self, customer_record_id: str | int, claim: Claim, deadline: Deadline) -> bool:
        """Whether an earlier delivery of another lead id created this customer record (its marker says so): a
        look-up for the lead in doubt must not take it for this one. Unknown (no marker, no store): False."""
        try:
            with within(self._budget(deadline)):
                marker = self.store.get(self.record_key(customer_record_id))
        except StoreUnavailable:
            return False
        lead_key = marker.record.get("lead_key") if marker is not None else None
        return isinstance(lead_key, str) and lead_key != claim.key

    def _write_settle(self, claim: Claim, item: Item, outcome: Outcome) -> bool:
        created = outcome.reason == Reason.CREATED and item.record.get("sent") and outcome.customer_lead_id is not None
        if created:  # this lead's own request created the record: say so, for the look-ups of other leads
            marker = Item(self.record_key(outcome.customer_lead_id), 1,  # type: ignore[arg-type]
                          {"lead_key": claim.key}, item.expires_at)
            if self.store.put_also(item, claim.version, marker):
                return True
        elif self.store.put(item, claim.version):
            return True
        current = self.store.get(claim.key)
        if current is not None and current.version == item.version and current.record == item.record:
            return True  # our own write landed, its answer was lost
        # Another request took the lead over after this claim expired: its record stands. Say so, for the
        # operator: if this attempt was accepted, the customer may receive the lead twice.
        logging.getLogger("leadplug").warning(
            "ledger: trace %s ended %s/%s after its claim was taken over; the later attempt's record stands",
            claim.record["trace_id"], outcome.state, outcome.reason)
        return True


def _in_progress() -> Outcome:
    return Outcome.of(Reason.IN_PROGRESS, "This lead is being delivered by another request right now; retry later")


def _stored(envelope: dict[str, Any], masker: Masker) -> dict[str, Any]:
    """The envelope as the ledger keeps it: masked with the lead's own values, without request_details, and
    without a customer's answer too big for a DynamoDB item (400 KB): its status is kept, the body dropped."""
    kept = {key: value for key, value in envelope.items() if key != "request_details"}
    text = json.dumps(kept)
    if len(text) > MAX_STORED_BYTES:  # before masking: masking a megabyte is wasted time
        details = kept.get("response_details") or {}
        kept["response_details"] = {"http_status_code": details.get("http_status_code"), "truncated": True}
        text = json.dumps(kept)
    masked = masker.mask_json(kept, text)
    if "customer_lead_id" in kept:  # the customer's own id, exactly: a replay gives it back as the first answer did
        masked["customer_lead_id"] = kept["customer_lead_id"]
    return masked


_SHAPE = {"phase": str, "fingerprint": str, "trace_id": str, "at": str}


def _readable(record: Any) -> dict[str, Any] | None:
    """The record if it has the shape this version writes, else None (an older or hand-edited item)."""
    if not isinstance(record, dict) or not all(isinstance(record.get(k), t) for k, t in _SHAPE.items()):
        return None
    if record["phase"] == Phase.IN_FLIGHT:
        return record if isinstance(record.get("claim_until"), (int, float)) else None
    settled = record["phase"] == Phase.SETTLED and record.get("holds") in (Holds.YES, Holds.NO, Holds.DOUBT)
    replayable = isinstance(record.get("status"), int) and isinstance(record.get("envelope"), dict) \
        and isinstance(record.get("reason"), str)
    return record if settled and (record["holds"] != Holds.YES or replayable) else None


def _holds(outcome: Outcome, sent: bool) -> Holds:
    may_hold = ending_of(outcome.state, outcome.reason).customer_may_hold
    if may_hold is MayHold.YES:
        return Holds.YES
    if may_hold is MayHold.IF_SENT and sent:
        return Holds.DOUBT
    return Holds.NO


def _previous_attempt(raw: dict[str, Any]) -> dict[str, Any] | None:
    """The attempt a new delivery must mention: one in doubt (ended so, whose claim expired mid-flight, or whose
    record this version cannot read)."""
    record = _readable(raw)
    if record is None:
        return {"trace_id": raw.get("trace_id") if isinstance(raw, dict) else None, "reason": "unreadable_record",
                "at": raw.get("at") if isinstance(raw, dict) and isinstance(raw.get("at"), str) else _now_iso()}
    if record["phase"] == Phase.IN_FLIGHT:
        return {"trace_id": record["trace_id"], "reason": "claim_expired", "at": record["at"]}
    if record["holds"] == Holds.DOUBT:
        return {"trace_id": record["trace_id"], "reason": record["reason"], "at": record["at"]}
    return None
