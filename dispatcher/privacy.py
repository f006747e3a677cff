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
from collections.abc import Iterable
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

_NOT_DIGITS = re.compile(r"\D+")
_PHONE_SEPARATORS = r"[\s().\-/]*"


def personal_values(body: Any) -> tuple[str, ...]:
    """The personal strings of a (possibly invalid) body, longest first so that no part is left behind."""
    return _derived(*_as_sent(body))


def _as_sent(body: Any) -> tuple[tuple[str, ...], str]:
    """The body's personal strings as sent (those of two characters or more), and its phone among them,
    stripped ("" when it has none): what every derived form is made from."""
    if not isinstance(body, dict):
        return (), ""
    found: list[str] = []
    phone = ""
    for path in _PERSONAL_PATHS:
        value: Any = body
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, str) and len(value.strip()) >= 2:
            found.append(value)
            if path == ("phone",):
                phone = value.strip()
    return tuple(found), phone


def _cases(value: str) -> tuple[str, str, str]:
    """A value as sent, stripped, and stripped in lower case: the forms a customer echoes it in."""
    stripped = value.strip()
    return value, stripped, stripped.lower()


def _derived(as_sent: tuple[str, ...], phone: str) -> tuple[str, ...]:
    """Every form of the values the plug derives and a customer may echo, longest first."""
    values: set[str] = set()
    for value in as_sent:
        values.update(_cases(value))
    if phone:
        values.update(phone_forms(phone))
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


def _alphanumeric(text: str) -> str:
    return "".join(character for character in text.lower() if character.isalnum())


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


def _usable_credentials(values: Iterable[str]) -> tuple[str, ...]:
    """The credentials worth masking, longest first (a token may contain a shorter secret)."""
    usable = {value for value in values if isinstance(value, str) and len(value) >= MIN_CREDENTIAL_LENGTH}
    return tuple(sorted(usable, key=len, reverse=True))


class Masker:
    """What must not leave the plug for one lead: its personal values (in every derived form) and the plug's
    credentials. Built once per lead and handed to whatever writes an envelope, a ledger record, a Rollbar item
    or a log line: nothing is masked through hidden state, so a thread given the masker masks like the lead's.

    Building one costs no regex and derives nothing: the forms of the lead's values (cases, phone forms) are
    derived the first time a text or token has to be checked against them, and the lead's own pattern compiled
    the first time a text holds one of them (most texts of most leads never do); both are then kept for the lead.
    """

    __slots__ = ("_as_sent", "_credentials", "_forms", "_lead_id", "_pattern", "_phone", "_phone_sent",
                 "_sent_folded")

    def __init__(self, body: Any = None, credentials: Iterable[str] = ()) -> None:
        self._as_sent, self._phone_sent = _as_sent(body)
        self._forms: tuple[tuple[str, ...], tuple[str, ...]] | None = None  # (_personal, _folded), once needed
        self._sent_folded: tuple[str, ...] | None = None  # the values as sent, stripped, case-folded
        lead_id = body.get("id") if isinstance(body, dict) else None
        self._lead_id = lead_id if isinstance(lead_id, str) else ""
        phone = body.get("phone") if isinstance(body, dict) else None
        self._phone = phone_digits(phone.strip()) if isinstance(phone, str) else ""
        self._credentials = _usable_credentials(credentials)
        self._pattern: re.Pattern[str] | None = None

    @property
    def _personal(self) -> tuple[str, ...]:
        """The lead's personal values in every derived form, longest first."""
        return self._derive()[0]

    @property
    def _folded(self) -> tuple[str, ...]:
        """The same, case-folded, for a look in any letter case."""
        return self._derive()[1]

    def _derive(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        if self._forms is None:
            values = _derived(self._as_sent, self._phone_sent)
            self._forms = (values, tuple({value.casefold() for value in values}))
        return self._forms

    def learn_credentials(self, values: Iterable[str]) -> None:
        """The plug's credentials as they are now: a token fetched during the lead is masked from then on."""
        self._credentials = _usable_credentials(values)

    @property
    def compiled(self) -> bool:
        """Whether this lead's pattern has been compiled (a text held one of its values)."""
        return self._pattern is not None

    def mask_credentials(self, text: str) -> str:
        for value in self._credentials:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def reveals(self, token: str) -> bool:
        """Whether a token (a customer's refusal code) repeats the lead's personal data (in any form the plug
        derives from it), our id of the lead (a per-lead code), or a credential."""
        plain = _alphanumeric(token)
        if not plain:
            return False
        if any(value in token for value in self._credentials):
            return True
        lead_id = _alphanumeric(self._lead_id)
        if len(lead_id) >= 4 and lead_id in plain:
            return True
        for value in self._personal:
            known = _alphanumeric(value)
            if len(known) >= 3 and (known in plain or (len(plain) >= 3 and plain in known)):
                return True
        return False

    def mask_known(self, text: str) -> str:
        """Text with the lead's personal values masked, wherever they stand as whole words.

        The values are looked for first (a substring in any letter case): a text that holds none of them, which
        is most texts of most leads, is given back without compiling the lead's pattern (a regex a lead costs)."""
        if not self._might_hold(text):
            return text
        pattern = self._pattern
        if pattern is None:
            pattern = _whole_values(self._personal, self._phone)
            if pattern is None:
                return text
            self._pattern = pattern
        return pattern.sub(MASK, text)

    def _might_hold(self, text: str) -> bool:
        """Whether the text may hold a personal value of the lead (never False when it does), without deriving
        the forms: every form of a value, case-folded, holds its stripped form case-folded (case folding maps
        each character on its own), and every phone form holds the phone's digits after its country code
        (`phone_digits`), which the text's digits are searched for. A phone too short for those digits is
        looked for in all its derived forms. The same answer as looking for every derived form, proven by
        tests/unit/test_privacy.py over generated values."""
        folded, phone = text.casefold(), self._phone
        if phone and phone in _NOT_DIGITS.sub("", text):
            return True
        if self._phone_sent and not phone:
            return any(value in folded for value in self._folded)
        return any(value in folded for value in self._stripped_folded())

    def _stripped_folded(self) -> tuple[str, ...]:
        """Each value as sent, stripped, case-folded (and its lower case's, for a letter lower() maps apart)."""
        if self._sent_folded is None:
            forms = {form.casefold() for value in self._as_sent for form in _cases(value)[1:]}
            self._sent_folded = tuple(forms)
        return self._sent_folded

    def mask_id(self, lead_id: str) -> str:
        """An id as it is, unless it is itself personal data (the platform sent an email or a phone as id).

        Masking parts of an id would garble it (a hex id holds "ed" or "abe") and lose the lead in the log.
        """
        plain = lead_id.strip()
        if self._is_value(plain) or _EMAIL.fullmatch(plain) or _PHONE.fullmatch(plain):
            return MASK
        return lead_id

    def _is_value(self, plain: str) -> bool:
        """Whether `plain` or its lower case is one of the lead's values in a derived form, checked against the
        values as sent (every lead's id is: deriving them all for it would cost more than the check)."""
        lower = plain.lower()
        if self._forms is not None:
            return plain in self._forms[0] or lower in self._forms[0]
        for value in self._as_sent:
            forms = _cases(value)
            if plain in forms or lower in forms:
                return True
        # every phone form is digits only
        if self._phone_sent and (plain.isdigit() or lower.isdigit()):
            phone = phone_forms(self._phone_sent)
            return plain in phone or lower in phone
        return False

    def mask_text(self, text: str) -> str:
        """Text with the credentials, the lead's personal values and anything shaped like an email or phone
        masked."""
        return _PHONE.sub(MASK, _EMAIL.sub(MASK, self.mask_known(self.mask_credentials(text))))

    def mask_deep(self, value: Any) -> Any:
        """`mask_text` applied to every string (keys included) of a JSON-like structure."""
        if isinstance(value, str):
            return self.mask_text(value)
        if isinstance(value, dict):
            return {self.mask_deep(key): self.mask_deep(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.mask_deep(item) for item in value]
        return value

    def mask_json(self, value: Any, text: str) -> Any:
        """`mask_deep(value)`, given `text`, the JSON of `value` (`json.dumps`): when that text holds nothing to
        mask (no credential, none of the lead's values, no @, no +digit) and no escape (a backslash: an escaped
        character could hide a value), the value is given back as it is, without walking it (a ledger record's
        envelope, most of the time)."""
        if self._clean(text):
            return value
        return self.mask_deep(value)

    def _clean(self, text: str) -> bool:
        return not ("\\" in text or "@" in text or _PLUS_DIGIT.search(text) or self._might_hold(text)
                    or any(value in text for value in self._credentials))

    def without_secrets(self, value: Any) -> Any:
        """The value with secret keys dropped at any depth, `key=value` secrets and the plug's credentials
        masked in every string (keys included)."""
        if isinstance(value, dict):
            return {self.without_secrets(key): self.without_secrets(item) for key, item in value.items()
                    if key not in SECRET_KEYS}
        if isinstance(value, list):
            return [self.without_secrets(item) for item in value]
        if isinstance(value, str):
            return self.mask_credentials(_SECRET_IN_TEXT.sub(r"\1\2" + REDACTED, value))
        return value


_PLUS_DIGIT = re.compile(r"\+\d")
NO_LEAD = Masker()  # for text written outside any lead (a 405's envelope): credentials none, patterns only
