"""A webhook customer's field mapping: how a valid lead becomes its body, as its configuration file says.

Pure data in, pure data out: each customer field takes a lead path, a constant or a join of lead paths,
then optional named transforms, a value map and a default. A field with no value and no default is left
out rather than sent empty, so a customer never has to tell "absent" from "blank".
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dispatcher.contract import Lead
from dispatcher.jsonpath import lookup

# Country calling code -> national trunk prefix, for the countries leads come from (E.164 codes are
# prefix-free, so the first match is the only one). A code not listed keeps its international form.
TRUNK_PREFIX: dict[str, str] = {
    "33": "0", "32": "0", "31": "0", "41": "0", "43": "0", "44": "0", "49": "0", "46": "0", "358": "0",
    "353": "0", "30": "", "34": "", "39": "", "45": "", "47": "", "48": "", "351": "", "352": "", "1": "",
}


def national_phone(value: str) -> str:
    """+33612345678 -> 0612345678, +34612345678 -> 612345678; a number from elsewhere stays as it is."""
    if not value.startswith("+"):
        return value
    digits = value[1:]
    for length in (1, 2, 3):
        prefix = TRUNK_PREFIX.get(digits[:length])
        if prefix is not None:
            return prefix + digits[length:]
    return value


TRANSFORMS: dict[str, Callable[[str], str]] = {
    "trim": str.strip,
    "lower": str.lower,
    "upper": str.upper,
    "title": str.title,
    "national_phone": national_phone,
    "digits": lambda value: re.sub(r"\D", "", value),
    "date": lambda value: value[:10],  # the lead's date-times are RFC 3339: the date is the first 10 characters
}


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

    def value(self, lead: Lead) -> Any:
        if not self.paths:
            return self.constant
        if self.separator is not None:
            parts = [str(part) for part in (lookup(lead, path) for path in self.paths) if part not in (None, "")]
            value: Any = self.separator.join(parts) or None
        else:
            value = lookup(lead, self.paths[0])
        for name in self.transforms:
            if isinstance(value, str):
                value = TRANSFORMS[name](value)
        if self.value_map is not None and value is not None:
            value = self.value_map.get(str(value))
        return self.default if value in (None, "") else value


def field_rule(name: str, spec: str | Mapping[str, Any]) -> FieldRule:
    """A FieldRule from its (schema-valid) specification in the configuration file."""
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
                     default=spec.get("default"))


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return str(value)


def json_body(rules: tuple[FieldRule, ...], lead: Lead) -> dict[str, Any]:
    """The JSON body: a dot in a field name nests ("contact.email" -> {"contact": {"email": ...}})."""
    body: dict[str, Any] = {}
    for rule in rules:
        value = rule.value(lead)
        if value is None:
            continue
        *parents, leaf = rule.name.split(".")
        node = body
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return body


def form_body(rules: tuple[FieldRule, ...], lead: Lead) -> dict[str, str]:
    """The form body: names verbatim, every value as text (true/false, objects as compact JSON)."""
    return {rule.name: _form_value(value) for rule in rules if (value := rule.value(lead)) is not None}


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
