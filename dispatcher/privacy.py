"""Masking of personal data (names, email, phone, street, IP) wherever text leaves the plug for logs or Rollbar.

Two nets: the personal values of the lead being handled (exact matches, whatever their shape), and
patterns that look like an email address or a phone number (for text that never went through a lead).
"""

from __future__ import annotations

import re
from contextvars import ContextVar
from typing import Any

MASK = "[masked]"
_EMAIL = re.compile(r"[^\s@\"'<>()\[\],;:]+@[^\s@\"'<>()\[\],;:]+")
_PHONE = re.compile(r"\+\d[\d .()-]{5,}\d")  # international numbers; ids and dates stay readable
_PERSONAL_PATHS = (("first_name",), ("last_name",), ("email",), ("phone",), ("address", "street"), ("consent", "ip"))

_personal_values: ContextVar[tuple[str, ...]] = ContextVar("personal_values", default=())


def personal_values(body: Any) -> tuple[str, ...]:
    """The personal strings of a (possibly invalid) body, longest first so that no part is left behind."""
    if not isinstance(body, dict):
        return ()
    values = set()
    for path in _PERSONAL_PATHS:
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value.strip()) >= 2:
            values.update({value, value.strip(), value.strip().lower()})
    return tuple(sorted(values, key=len, reverse=True))


def remember(body: Any) -> object:
    """Make the body's personal values known to `mask_text` for the current lead; returns a reset token."""
    return _personal_values.set(personal_values(body))


def forget(token: object) -> None:
    _personal_values.reset(token)  # type: ignore[arg-type]


def mask_known(text: str) -> str:
    """Text with the current lead's personal values masked."""
    for value in _personal_values.get():
        if value in text:
            text = text.replace(value, MASK)
    return text


def mask_id(lead_id: str) -> str:
    """An id as it is, unless it is itself personal data (the platform sent an email or a phone as id).

    Masking parts of an id would garble it (a hex id holds "ed" or "abe") and lose the lead in the log.
    """
    plain = lead_id.strip()
    if plain in _personal_values.get() or plain.lower() in _personal_values.get() \
            or _EMAIL.fullmatch(plain) or _PHONE.fullmatch(plain):
        return MASK
    return lead_id


def mask_text(text: str) -> str:
    """Text with the current lead's personal values and anything shaped like an email or phone masked."""
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, mask_known(text)))


def mask_deep(value: Any) -> Any:
    """`mask_text` applied to every string (keys included) of a JSON-like structure."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_deep(key): mask_deep(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_deep(item) for item in value]
    return value
