"""The lead's exchange with the customer: one request, or a chain of them; and the look-up of a lead in doubt.

A chain's steps run in order under the lead's one deadline, each seeing the results before it. Each result is
remembered with the ledger's claim (`step_memory.py`) as soon as it is answered, so that the platform's retry
after a failure between two steps continues where the first attempt stopped: one person, one lead. The lead is
`sent` when the first step that may create something leaves, and stays in doubt until the last one is answered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from dispatcher.answer import Answer
from dispatcher.contract import Lead
from dispatcher.errors import LeadEnded
from dispatcher.integrations.base import Chain, ChainState, CustomerRequest, Finder, FindFurther, Integration
from dispatcher.ledger import Claim, Ledger
from dispatcher.reasons import Outcome, Reason, State
from dispatcher.step_memory import StepMemory

# Sends one request under the lead's session and deadline; the callback fires when its first byte leaves.
Send = Callable[[CustomerRequest, Callable[[], None] | None], Answer]
MAX_FIND_REQUESTS = 8  # a search in several requests is bounded (the deadline bounds it too)


def exchange(integration: Integration, request: CustomerRequest | Chain, send: Send, *,
             on_sent: Callable[[], None], lead: Lead, ledger: Ledger | None = None,
             claim: Claim | None = None) -> tuple[Outcome, Answer]:
    """The outcome of the lead and the answer that decided it (LeadEnded, from the transport, when none came).
    A chain's steps are remembered beside the ledger's `claim` on the `lead` (nothing without a ledger: double
    sends were accepted)."""
    if isinstance(request, CustomerRequest):
        single = send(request, on_sent)
        return integration.classify(single), single
    memory = in_doubt_since = None
    if ledger is not None and claim is not None:
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
        answer = send(step_request, on_sent if step.writes else None)
        read = step.read(answer, state)
        if isinstance(read, Outcome):
            if read.state in (State.REFUSED, State.DUPLICATE):
                on_sent()  # the customer judged the person from this step (a search): it was asked, it answered
            return read, answer
        results[step.name] = read
        if step.remembered and memory is not None:
            memory.remember(step.name, read)
    raise RuntimeError(f"the chain of {integration.name} ended without an outcome (its last step must give one)")


def find(finder: Finder, lead: Lead, since: datetime, send: Send) -> tuple[str | int, Answer] | None:
    """The customer's id of the lead an earlier attempt left in doubt, with the answer that named it; None when
    the customer does not hold it or the integration has no search. A failed search raises LeadEnded."""
    request = finder.find_request(lead, since)
    if request is None:
        return None
    answer = send(request, None)
    found = finder.found(answer, since)
    for _ in range(MAX_FIND_REQUESTS):
        if not isinstance(found, FindFurther):
            break
        answer = send(found.request, None)
        found = found.then(answer)
    if isinstance(found, FindFurther):  # a search that never ends says nothing either way: never send again
        raise LeadEnded(Outcome.of(Reason.BAD_CUSTOMER_RESPONSE, f"The search of {type(finder).__name__} took "
                                                                 f"more than {MAX_FIND_REQUESTS} requests"), answer)
    return (found, answer) if found is not None else None
