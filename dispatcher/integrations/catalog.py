"""A customer's error catalog read by its meaning: each code a CRM documents maps to one reason.

Every integration keeps its own table (code -> Reason), written from the customer's published catalog. The
meanings are five: about the person (`Reason.DUPLICATE`, `Reason.INVALID_LEAD`, `Reason.REFUSED`, the last one
carrying the customer's own code), the customer's own state (`CUSTOMER_ERROR`), our request not fitting its setup
(`CUSTOMER_REJECTED_REQUEST`), or our access (`UNAUTHORIZED`). A code the table does not hold is never a
refusal: it is `customer_error`, naming the code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from dispatcher.reasons import Outcome, Reason

# When an answer carries several codes, the one that says most about what to do decides: a duplicate first
# (the customer has the person), then what is wrong on the customer's side or ours, which every lead would meet
# again, before what is wrong with this lead (a missing field, then a refusal).
PRECEDENCE = (Reason.DUPLICATE, Reason.UNAUTHORIZED, Reason.CUSTOMER_REJECTED_REQUEST,
              Reason.CUSTOMER_API_NOT_FOUND, Reason.CUSTOMER_ERROR, Reason.INVALID_LEAD, Reason.REFUSED)


def meaning_of(code: str, table: Mapping[str, Reason]) -> Reason:
    """The reason a catalog code means; a code the table does not hold is the customer's error."""
    return table.get(code, Reason.CUSTOMER_ERROR)


def deciding_code(codes: Iterable[str], table: Mapping[str, Reason]) -> tuple[str, Reason] | None:
    """The code that decides an answer's meaning, with that meaning; None when there is no code."""
    found = [(code, meaning_of(code, table)) for code in codes]
    if not found:
        return None
    return min(found, key=lambda pair: PRECEDENCE.index(pair[1]) if pair[1] in PRECEDENCE else len(PRECEDENCE))


def outcome_of(customer: str, code: str, meaning: Reason, message: str, table: Mapping[str, Reason]) -> Outcome:
    """The outcome of a catalog code whose meaning needs nothing more than its message (not invalid_lead, which
    names the missing fields)."""
    detail = f": {message}" if message else ""
    if meaning is Reason.REFUSED:
        return Outcome.refused(code, f"{customer} refused the lead{detail}")  # the reason is the code
    if meaning is Reason.DUPLICATE:
        return Outcome.of(Reason.DUPLICATE, f"{customer} already has this person ({code}){detail}")
    if meaning is Reason.UNAUTHORIZED:
        return Outcome.of(Reason.UNAUTHORIZED, f"{customer} denied our access ({code}){detail}")
    if meaning is Reason.CUSTOMER_REJECTED_REQUEST:
        return Outcome.of(meaning, f"{customer} rejected our request, which does not fit its setup ({code}): "
                                   f"fix the plug's configuration{detail}")
    if meaning is Reason.CUSTOMER_API_NOT_FOUND:
        return Outcome.of(meaning, f"{customer} does not know this API ({code}){detail}")
    if code not in table:
        return Outcome.of(Reason.CUSTOMER_ERROR, f"{customer} answered {code}, a code the plug does not know{detail}")
    return Outcome.of(Reason.CUSTOMER_ERROR, f"{customer} failed on its side ({code}){detail}")
