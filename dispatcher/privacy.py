"""What must not leave the plug: personal data (names, email, phone, street, IP) and credentials.

Personal data is masked wherever text leaves for logs or Rollbar, with two nets: the personal values of the
lead being handled (exact matches, whatever their shape), and patterns that look like an email address or a
phone number (for text that never went through a lead). A personal value is known in every form the plug itself
derives from it and a customer may echo back: any letter case (upper-cased names, lower-cased email), the names
joined (a B2C company, a webhook's joined field: each name is masked as a whole word), and the phone in any form
a country writes it (+33698765432 -> 0698765432, 33698765432, 06 98 76 54 32, +33 6 98 76 54 32, and Russia's
8 (916) 123-45-67): its national digits are masked whatever separators stand between them. No phone metadata is
needed for that (phonenumbers would cost every cold start about 50 ms): every national form holds the number's
last digits, after a country code of one to three digits.

Credentials are masked by value: every secret the plug holds (client secrets, tokens, API keys, passwords),
wherever a customer's answer echoes it (a token error repeating the secret, a PHP warning printing the URL
with `?key=`), in the envelope, the logs and Rollbar items; secret keys of an answer are dropped as well.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

MASK = "[masked]"
REDACTED = "[redacted]"
MIN_CREDENTIAL_LENGTH = 4  # shorter values would mask ordinary words; no real credential is that short
# Keys an answer may carry that must never be echoed to the platform (a token endpoint's answer, say).
SECRET_KEYS = frozenset({"access_token", "refresh_token", "id_token", "signature", "client_secret"})
_SECRET_IN_TEXT = re.compile(r"(?i)\b(" + "|".join(SECRET_KEYS) + r")(\s*[=:]\s*\"?)[^&\s\",;}]*")
# The lookbehind starts a match only where a run of address characters starts, and the possessive quantifier
# never gives back: linear time, even on a megabyte of letters without an @ (quadratic otherwise).
_EMAIL = re.compile(r"(?<![^\s@\"'<>()\[\],;:])[^\s@\"'<>()\[\],;:]++@[^\s@\"'<>()\[\],;:]+")
_PHONE = re.compile(r"\+\d[\d .()-]{5,}\d")  # international numbers; ids and dates stay readable
_PERSONAL_PATHS = (("first_name",), ("last_name",), ("email",), ("phone",), ("address", "street"), ("consent", "ip"))

_personal_values: ContextVar[tuple[str, ...]] = ContextVar("personal_values", default=())
_folded_values: ContextVar[tuple[str, ...]] = ContextVar("folded_values", default=())
_phone_digits: ContextVar[str] = ContextVar("phone_digits", default="")  # a national form holds them, in any layout
_NOT_DIGITS = re.compile(r"\D+")
_PHONE_SEPARATORS = r"[\s().\-/]*"
_lead_id: ContextVar[str] = ContextVar("lead_id", default="")
_credentials: ContextVar[tuple[str, ...]] = ContextVar("credentials", default=())
_personal_pattern: ContextVar[re.Pattern[str] | None] = ContextVar("personal_pattern", default=None)


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
            if path == ("phone",):
                values.update(phone_forms(value.strip()))
    return tuple(sorted(values, key=len, reverse=True))


def phone_forms(phone: str) -> set[str]:
    """The unbroken forms of an E.164 phone: digits only, with 00, and national (trunk 0, Russia's 8, Hungary's
    06) after a country code of each possible length; forms with separators are `phone_digits`' job."""
    if not phone.startswith("+") or not phone[1:].isdigit():
        return set()
    digits = phone[1:]
    forms = {digits, "00" + digits}
    for country_length in (1, 2, 3):
        national = digits[country_length:]
        forms.update({national, "0" + national})
    if digits.startswith("7"):
        forms.add("8" + digits[1:])
    if digits.startswith("36"):
        forms.add("06" + digits[2:])
    return {form for form in forms if len(form) >= 6 and form != phone}


def phone_digits(phone: str) -> str:
    """The digits every written form of the phone holds in order: all after the longest country code (3)."""
    digits = phone[1:] if phone.startswith("+") and phone[1:].isdigit() else ""
    return digits[3:] if len(digits) - 3 >= 6 else ""


@contextmanager
def masking() -> Iterator[None]:
    """The scope of one lead: what `learn` and `learn_credentials` make known is forgotten at its end."""
    personal, credentials, pattern = _personal_values.set(()), _credentials.set(()), _personal_pattern.set(None)
    folded, lead_id, phone = _folded_values.set(()), _lead_id.set(""), _phone_digits.set("")
    try:
        yield
    finally:
        _personal_values.reset(personal)
        _folded_values.reset(folded)
        _lead_id.reset(lead_id)
        _credentials.reset(credentials)
        _personal_pattern.reset(pattern)
        _phone_digits.reset(phone)


def learn_credentials(values: Iterable[str]) -> None:
    """Make the plug's credentials known to the masks, longest first (a token may contain a shorter secret)."""
    usable = {value for value in values if isinstance(value, str) and len(value) >= MIN_CREDENTIAL_LENGTH}
    _credentials.set(tuple(sorted(usable, key=len, reverse=True)))


def mask_credentials(text: str) -> str:
    for value in _credentials.get():
        if value in text:
            text = text.replace(value, REDACTED)
    return text


def reveals(token: str) -> bool:
    """Whether a token (a customer's refusal code) repeats the lead's personal data (in any form the plug derives
    from it), our id of the lead (a per-lead code), or a credential."""
    plain = _alphanumeric(token)
    if not plain:
        return False
    if any(value in token for value in _credentials.get()):
        return True
    lead_id = _alphanumeric(_lead_id.get())
    if len(lead_id) >= 4 and lead_id in plain:
        return True
    for value in _personal_values.get():
        known = _alphanumeric(value)
        if len(known) >= 3 and (known in plain or (len(plain) >= 3 and plain in known)):
            return True
    return False


def _alphanumeric(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


def learn(body: Any) -> None:
    """Make the body's personal values (and its id, for `reveals`) known for the rest of the current lead."""
    values = personal_values(body)
    _personal_values.set(values)
    _folded_values.set(tuple({value.casefold() for value in values}))
    lead_id = body.get("id") if isinstance(body, dict) else None
    _lead_id.set(lead_id if isinstance(lead_id, str) else "")
    phone = body.get("phone") if isinstance(body, dict) else None
    _phone_digits.set(phone_digits(phone.strip()) if isinstance(phone, str) else "")
    _personal_pattern.set(None)  # compiled only when a value is in a text to mask: most leads never are


def _whole_values(values: tuple[str, ...], phone: str = "") -> re.Pattern[str] | None:
    """The values as whole words, in any letter case: "Ed" is masked in "Ed Li", "ED" or a customer's code
    "ED_REFUSED" (an underscore separates), never inside an id such as 00Q5e00000EdbLiAAO (which a replay must
    give back intact); and the phone's national digits with any separators between them, not after a letter."""
    if not values and not phone:
        return None
    alternatives = "|".join(re.escape(value) for value in values)  # longest first: no part is left behind
    words = rf"(?<![^\W_])(?:{alternatives})(?![^\W_])" if values else ""
    # with at least one separator among its digits: an unbroken run is a whole word's job (never inside an id)
    spaced = (rf"(?<![^\W\d_])(?=\d{{1,{len(phone) - 1}}}[\s().\-/]){_PHONE_SEPARATORS.join(phone)}(?!\d)"
              if phone else "")
    return re.compile("|".join(part for part in (words, spaced) if part), re.IGNORECASE)


def mask_known(text: str) -> str:
    """Text with the current lead's personal values masked, wherever they stand as whole words.

    The values are looked for first (a substring in any letter case): a text that holds none of them, which is
    most texts of most leads, is given back without compiling the lead's pattern (a regex a lead costs)."""
    folded, phone = text.casefold(), _phone_digits.get()
    if not any(value in folded for value in _folded_values.get()) \
            and not (phone and phone in _NOT_DIGITS.sub("", text)):
        return text
    pattern = _personal_pattern.get()
    if pattern is None:
        pattern = _whole_values(_personal_values.get(), phone)
        if pattern is None:
            return text
        _personal_pattern.set(pattern)
    return pattern.sub(MASK, text)


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
    """Text with the credentials, the lead's personal values and anything shaped like an email or phone masked."""
    return _PHONE.sub(MASK, _EMAIL.sub(MASK, mask_known(mask_credentials(text))))


def mask_deep(value: Any) -> Any:
    """`mask_text` applied to every string (keys included) of a JSON-like structure."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {mask_deep(key): mask_deep(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_deep(item) for item in value]
    return value


def without_secrets(value: Any) -> Any:
    """The value with secret keys dropped at any depth, `key=value` secrets and the plug's credentials masked
    in every string (keys included)."""
    if isinstance(value, dict):
        return {without_secrets(key): without_secrets(item) for key, item in value.items() if key not in SECRET_KEYS}
    if isinstance(value, list):
        return [without_secrets(item) for item in value]
    if isinstance(value, str):
        return mask_credentials(_SECRET_IN_TEXT.sub(r"\1\2" + REDACTED, value))
    return value
