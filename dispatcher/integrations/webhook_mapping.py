"""A webhook customer's field mapping: how a valid lead becomes its body, as its configuration file says.

Pure data in, pure data out: each customer field takes a lead path, a constant or a join of lead paths,
then an optional date pattern, named transforms, a value map and a default. A field with no value and no
default is left out rather than sent empty, so a customer never has to tell "absent" from "blank". A value
the customer's format cannot take (a phone `phonenumbers` cannot read, text its charset cannot write) makes
the lead invalid, naming the lead's field: the customer is never sent a mangled value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError, InvalidLead
from dispatcher.jsonpath import lookup


class Unwritable(ValueError):
    """A lead's value that this customer's format cannot take; the message says why (never the value)."""


def _phone(style: str, digits_only: bool = False) -> Callable[[str], str]:
    """A phone transform through phonenumbers, imported at the first phone (about 50 ms): a cold start of a
    customer whose file writes no phone does not pay it."""
    def transform(value: str) -> str:
        import phonenumbers

        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            raise Unwritable("not a phone number in international form") from None
        if not phonenumbers.is_possible_number(number):
            raise Unwritable("not a possible phone number for its country")
        written = phonenumbers.format_number(number, getattr(phonenumbers.PhoneNumberFormat, style))
        return re.sub(r"\D", "", written) if digits_only else written
    return transform


national_phone = _phone("NATIONAL", digits_only=True)

TRANSFORMS: dict[str, Callable[[str], str]] = {
    "trim": str.strip,
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "national_phone": national_phone,  # +33612345678 -> 0612345678, +79161234567 -> 89161234567
    "national_phone_spaced": _phone("NATIONAL"),  # -> 06 12 34 56 78, as the country writes it
    "international_phone": _phone("INTERNATIONAL"),  # -> +33 6 12 34 56 78
    "e164_phone": _phone("E164"),  # -> +33612345678
    "digits": lambda value: re.sub(r"\D", "", value),
    "date": lambda value: value[:10],  # the lead's date-times are RFC 3339: the date is the first 10 characters
}

# strftime directives that mean the same on every platform (C89 and the ISO week ones glibc and Python share)
DATE_DIRECTIVES = frozenset("aAwdbBmyYHIpMSfzZjUWGuV%")


def date_pattern_mistake(pattern: str) -> str | None:
    """Why a date pattern cannot be used (`%Q` is no directive, text alone is no date), None when it can."""
    directives = re.findall(r"%(.)", pattern)
    unknown = sorted({d for d in directives if d not in DATE_DIRECTIVES})
    if unknown:
        return f"%{unknown[0]} is not a date directive (use %d, %m, %Y, %H, %M, %S...)"
    if not [d for d in directives if d != "%"]:
        return "it has no date directive (%d/%m/%Y is a French date)"
    return None


def formatted_date(value: str, pattern: str, zone: tzinfo) -> str:
    """An RFC 3339 date-time of the lead, in the customer's zone and pattern (a date alone stays that day)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise Unwritable("not a date-time") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return moment.strftime(pattern)


@dataclass(frozen=True)
class FieldRule:
    """Where one customer field's value comes from."""

    name: str
    paths: tuple[str, ...] = ()
    constant: Any = None
    separator: str | None = None  # set for a join
    transforms: tuple[str, ...] = ()
    value_map: Mapping[str, Any] | None = None
    default: Any = None
    date_pattern: str | None = None
    zone: tzinfo = UTC

    def value(self, lead: Lead) -> Any:
        """The field's value for this lead; Unwritable when the customer's format cannot take the lead's."""
        if not self.paths:
            return self.constant
        if self.separator is not None:
            parts = [str(part) for part in (lookup(lead, path) for path in self.paths) if part not in (None, "")]
            value: Any = self.separator.join(parts) or None
        else:
            value = lookup(lead, self.paths[0])
        if self.date_pattern is not None and isinstance(value, str):
            value = formatted_date(value, self.date_pattern, self.zone)
        for name in self.transforms:
            if isinstance(value, str):
                value = TRANSFORMS[name](value)
        if self.value_map is not None and value is not None:
            value = self.value_map.get(str(value))
        return self.default if value in (None, "") else value


def field_rule(name: str, spec: str | Mapping[str, Any], zone: tzinfo = UTC) -> FieldRule:
    """A FieldRule from its (schema-valid) specification in the configuration file; `zone` is its
    `timezone`, already looked up."""
    if isinstance(spec, str):
        return FieldRule(name, paths=(spec,))
    transforms = spec.get("transform", ())
    transforms = (transforms,) if isinstance(transforms, str) else tuple(transforms)
    if "value" in spec:
        return FieldRule(name, constant=spec["value"])
    if "join" in spec:
        return FieldRule(name, paths=tuple(spec["join"]), separator=spec.get("separator", " "),
                         transforms=transforms, default=spec.get("default"))
    return FieldRule(name, paths=(spec["path"],), transforms=transforms, value_map=spec.get("map"),
                     default=spec.get("default"), date_pattern=spec.get("date"), zone=zone)


def field_rules(specs: Mapping[str, Any], file_name: str, charset: str | None) -> tuple[FieldRule, ...]:
    """The file's `fields` as FieldRules, checking what the schema cannot (a date pattern, a time zone, text
    the customer's charset cannot write in the file itself); ConfigurationError names the field."""
    rules = []
    for name, spec in specs.items():
        where = f"{file_name}: $.fields.{name}"
        if isinstance(spec, dict) and "date" in spec and (mistake := date_pattern_mistake(spec["date"])):
            raise ConfigurationError(f"{where}.date: {spec['date']!r}: {mistake}")
        rule = field_rule(name, spec, _zone(spec.get("timezone") if isinstance(spec, dict) else None,
                                            f"{where}.timezone"))
        texts = [name, *(v for v in (rule.constant, rule.default, *(rule.value_map or {}).values()) if v is not None)]
        if any(_unwritable_in(text, charset) for text in texts):
            raise ConfigurationError(f"{where}: the file itself writes text {charset} cannot write")
        rules.append(rule)
    return tuple(rules)


def _zone(name: str | None, where: str) -> tzinfo:
    if name is None:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigurationError(f"{where}: {name!r} is not a time zone (an IANA name: Europe/Paris, "
                                 "America/Montreal, UTC)") from None


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def _unwritable_in(value: Any, charset: str | None) -> bool:
    if charset is None:
        return False
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return True
    return False


def field_values(rules: tuple[FieldRule, ...], lead: Lead, charset: str | None = None) -> list[tuple[str, Any]]:
    """(customer field, value) of every field that has one; InvalidLead names every lead field whose value
    the customer's format cannot take (a phone it cannot read, text its charset cannot write)."""
    values, invalid, why = [], [], []
    for rule in rules:
        try:
            value = rule.value(lead)
        except Unwritable as exc:
            invalid += [path for path in rule.paths if path not in invalid]
            why.append(f"{'/'.join(rule.paths)}: {exc}")
            continue
        if value is None:
            continue
        if _unwritable_in(value, charset):
            invalid += [path for path in rule.paths if path not in invalid]
            why.append(f"{'/'.join(rule.paths)}: has characters {charset} cannot write")
            continue
        values.append((rule.name, value))
    if invalid:
        raise InvalidLead(f"Invalid lead for this customer: {'; '.join(why)}", invalid=invalid)
    return values


def json_body(rules: tuple[FieldRule, ...], lead: Lead, charset: str | None = None) -> dict[str, Any]:
    """The JSON body: a dot in a field name nests ("contact.email" -> {"contact": {"email": ...}})."""
    body: dict[str, Any] = {}
    for name, value in field_values(rules, lead, charset):
        *parents, leaf = name.split(".")
        node = body
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return body


def form_body(rules: tuple[FieldRule, ...], lead: Lead, charset: str | None = None) -> dict[str, str]:
    """The form body: names verbatim, every value as text (true/false, objects as compact JSON)."""
    return {name: _form_value(value) for name, value in field_values(rules, lead, charset)}


def nesting_conflict(names: list[str]) -> str | None:
    """A JSON field name that is also the parent of another ("contact" and "contact.email"), if any."""
    leaves = set(names)
    for name in names:
        parts = name.split(".")
        for end in range(1, len(parts)):
            if ".".join(parts[:end]) in leaves:
                return ".".join(parts[:end])
        if "" in parts:
            return name
    return None
