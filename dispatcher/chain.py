"""The lead's exchange with the customer, under the customer's session and the lead's deadline: one request, or a
chain of them; the look-up of a lead an earlier attempt left in doubt; and what a "duplicate" answer to such a lead
means.

Every request goes through `send`: the session the integration's `Auth` opens, and one refresh and resend when the
answer says that session expired. A chain's steps run in order under the lead's one deadline, each seeing the
results before it. Each result is remembered with the ledger's claim (`step_memory.py`) as soon as it is answered,
so that the platform's retry after a failure between two steps continues where the first attempt stopped: one
person, one lead. The lead is `sent` when the first step that may create something leaves, and stays in doubt until
the last one is answered.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from dispatcher.contract import Lead
from dispatcher.deadline import Deadline
from dispatcher.errors import CustomerFailure, LeadEnded
from dispatcher.integrations.base import (
    Chain,
    ChainState,
    CustomerRequest,
    CustomerSession,
    Finder,
    FindFurther,
)
from dispatcher.plug import Plug
from dispatcher.reasons import Outcome, Reason, State
from dispatcher.transport import Answer

if TYPE_CHECKING:  # loaded by a stage with a ledger only
    from dispatcher.ledger import Claim

MAX_FIND_REQUESTS = 8  # a search in several requests is bounded (the deadline bounds it too)
CREATED_CLOCK_SKEW = timedelta(seconds=2)  # the customer's clock against ours, when comparing creation times


def send(plug: Plug, request: CustomerRequest, deadline: Deadline, on_sent: Callable[[], None] | None = None) -> Answer:
    """One request under the customer's session (`on_sent` fires when its first byte leaves); only an answer saying
    the session expired earns one refresh and one resend."""
    auth, transport = plug.integration.auth, plug.transport

    def post(session: CustomerSession) -> Answer:
        return transport.post(request.url(session.base_url), deadline, method=request.method,
                              headers={**session.headers, **request.headers}, json_body=request.json_body,
                              form=request.form, params={**session.params, **request.params} or None,
                              on_sent=on_sent)

    session = auth.open(transport, deadline)
    answer = post(session)
    if auth.is_expired(answer):
        answer = post(auth.open(transport, deadline, stale=session))
    return answer


def exchange(plug: Plug, request: CustomerRequest | Chain, deadline: Deadline, *, on_sent: Callable[[], None],
             lead: Lead, claim: Claim | None = None) -> tuple[Outcome, Answer]:
    """The outcome of the lead and the answer that decided it (LeadEnded, from the transport, when none came).
    A chain's steps are remembered beside the ledger's `claim` on the `lead` (nothing without a ledger: double
    sends were accepted)."""
    integration, ledger = plug.integration, plug.ledger
    if isinstance(request, CustomerRequest):
        single = send(plug, request, deadline, on_sent)
        return integration.classify(single), single
    memory = in_doubt_since = None
    if ledger is not None and claim is not None:
        from dispatcher.step_memory import StepMemory

        memory = StepMemory(ledger.store, ledger.customer, lead["id"], claim.fingerprint, ledger.ttl_s)
        in_doubt_since = claim.since if claim.in_doubt else None
    results: dict[str, dict[str, Any]] = memory.recall() if memory is not None else {}
    for step in request.steps:
        if step.remembered and step.name in results:
            continue  # an earlier attempt of this lead got it: never done twice
        state = ChainState(results=dict(results), in_doubt_since=in_doubt_since)
        step_request = step.request(state)
        if step_request is None:
            continue
        answer = send(plug, step_request, deadline, on_sent if step.writes else None)
        read = step.read(answer, state)
        if isinstance(read, Outcome):
            if read.state in (State.REFUSED, State.DUPLICATE):
                on_sent()  # the customer judged the person from this step (a search): it was asked, it answered
            return read, answer
        results[step.name] = read
        if step.remembered and memory is not None:
            memory.remember(step.name, read)
    raise RuntimeError(f"the chain of {integration.name} ended without an outcome (its last step must give one)")


def _find(plug: Plug, finder: Finder, lead: Lead, since: datetime,
          deadline: Deadline) -> tuple[str | int, Answer] | None:
    """The customer's id of the lead an earlier attempt left in doubt, with the answer that named it; None when
    the customer does not hold it or the integration has no search. A failed search raises LeadEnded."""
    request = finder.find_request(lead, since)
    if request is None:
        return None
    answer = send(plug, request, deadline)
    found = finder.found(answer, since)
    for _ in range(MAX_FIND_REQUESTS):
        if not isinstance(found, FindFurther):
            break
        answer = send(plug, found.request, deadline)
        found = found.then(answer)
    if isinstance(found, FindFurther):  # a search that never ends says nothing either way: never send again
        raise LeadEnded(Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"The search of {type(finder).__name__} took "
                                                                 f"more than {MAX_FIND_REQUESTS} requests"), answer)
    return (found, answer) if found is not None else None


def look_up(plug: Plug, lead: Lead, claim: Claim, deadline: Deadline) -> tuple[str | int, Answer] | None:
    """Ask the customer whether it holds a lead an earlier attempt left in doubt: its id, or None when it
    does not or the integration cannot look leads up. A failed search ends the lead (LeadEnded)."""
    if not isinstance(plug.integration, Finder):
        return None
    started = time.monotonic()
    found = _find(plug, plug.integration, lead, claim.since, deadline)
    if plug.ledger is not None:  # the search's round trip (a token included) tells how long a send needs
        plug.ledger.round_trips.observe(time.monotonic() - started)
    if found is not None and plug.ledger is not None and plug.ledger.created_by_another(found[0], claim, deadline):
        return None  # the person's other lead, delivered by us: not this one
    return found


def delivered_earlier(plug: Plug, duplicate: Outcome, answer: Answer, claim: Claim, deadline: Deadline) -> Outcome:
    """A lead in doubt whose re-delivery the customer answered "duplicate": the record is, unless shown
    otherwise, the one our own earlier attempt created (never take a duplicate for someone else's). Where the
    integration can read the record's creation time (`created_at`), a record older than that attempt is a true
    duplicate."""
    existing = duplicate.customer_lead_id if duplicate.customer_lead_id is not None \
        else duplicate.details.get("existing_customer_lead_id")
    existing_id = getattr(plug.integration, "existing_id", None)
    if existing is None and existing_id is not None:
        existing = existing_id(answer)
    if existing is not None and plug.ledger is not None and plug.ledger.created_by_another(existing, claim, deadline):
        return duplicate  # the record of another lead of ours (the person's): a true duplicate for this one
    created_request = getattr(plug.integration, "created_request", None)
    if existing is not None and created_request is not None:
        try:
            record = send(plug, created_request(existing), deadline)
            created = plug.integration.created_at(record)  # type: ignore[attr-defined]
        except (LeadEnded, CustomerFailure) as exc:  # the check failed: "unless shown otherwise", ours
            logging.getLogger("leadplug").warning("The creation time of the customer's record could not be read "
                                                  "(%s); taken as delivered by the attempt in doubt",
                                                  type(exc).__name__)
            created = None
        if created is not None and created < claim.since - CREATED_CLOCK_SKEW:
            return duplicate  # the customer held this person before our first attempt: a true duplicate
    return Outcome.of(Reason.DELIVERED_EARLIER, "The customer already holds this lead: our own earlier attempt, "
                                                "in doubt, delivered it", customer_lead_id=existing)
