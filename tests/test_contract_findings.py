"""What the contract fuzzing found, pinned as regular tests: the schema and the plug agree on every lead.

The runtime validates with Python's `re` (through jsonschema); JSON Schema patterns are ECMA 262, the dialect
schemathesis (jsonschema_rs) and the platform's own validators read. Where the two dialects read a pattern
differently, the plug refused leads the contract allows and accepted leads it refuses.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from dispatcher.contract import LEAD_SCHEMA, WHITESPACE, InvalidLead, validate_lead
from tests.support.leads import make_lead


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "pattern" and isinstance(value, str):
                yield value
            else:
                yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


PATTERNS = sorted(set(_patterns(LEAD_SCHEMA)))
# Every character of the Basic Multilingual Plane but surrogates, and one beyond it.
CHARACTERS = [chr(code) for code in range(0x10000) if not 0xD800 <= code <= 0xDFFF] + ["\U0001F600"]
# Where regex dialects differ: white space, controls, format characters; with ASCII and Latin-1 for company.
DELICATE = [char for char in CHARACTERS
            if char < "\u0100" or unicodedata.category(char) in {"Cc", "Cf", "Zs", "Zl", "Zp"}]
# One value each pattern accepts, so that a character before or after it is judged by the pattern's edges.
SAMPLES = ("a", "AB", "12", "Élodie", "lead-0001", "elodie@exemple.fr", "+33612345678", "2026-11-26T09:30:00Z")


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda pattern: pattern[:40])
def test_every_pattern_means_the_same_in_python_and_in_ecma_262(pattern):
    # Found: `\s` is wider in Python (U+001C-U+001F, U+0085) and narrower (no U+FEFF) than in ECMA 262, and
    # Python's `$` also matches before a final newline: an `extra` key "source\n" was accepted.
    python, ecma = re.compile(pattern), jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
    texts = [text for char in DELICATE for sample in SAMPLES for text in (char, sample + char, char + sample)]
    disagreements = [text for text in texts if bool(python.search(text)) != ecma.is_valid(text)]
    assert disagreements == []


def test_the_white_space_the_schema_tolerates_is_exactly_what_the_plug_trims():
    phone = re.compile(LEAD_SCHEMA["$defs"]["phone"]["pattern"])
    tolerated = {char for char in CHARACTERS if phone.search("+123456789012345" + char)}
    assert tolerated == set(WHITESPACE)
    lead = validate_lead(make_lead(first_name=WHITESPACE + "Élodie" + WHITESPACE))
    assert lead["first_name"] == "Élodie"


def _invalid_fields(**overrides: Any) -> list[str]:
    try:
        validate_lead(make_lead(**overrides))
    except InvalidLead as invalid:
        return invalid.invalid_fields
    return []


@pytest.mark.parametrize(("overrides", "field"), [
    pytest.param({"first_name": "\x1cÉlodie"}, "first_name", id="info-separator-before-a-name"),
    pytest.param({"id": "lead-1\x1f"}, "id", id="unit-separator-after-an-id"),
    pytest.param({"last_name": "Dupré\x85"}, "last_name", id="next-line-control-after-a-name"),
    pytest.param({"phone": "+33612345678\x1e"}, "phone", id="record-separator-after-a-phone"),
    pytest.param({"extra": {"source\n": "x"}}, "extra", id="extra-key-with-a-final-newline"),
])
def test_a_control_character_python_took_for_white_space_is_refused(overrides, field):
    # Before: Python's `re` read these as white space (or `$` as the end) and the plug accepted the lead,
    # trimming the control away; ECMA 262 refuses them, so schemathesis' negative cases got 201.
    assert _invalid_fields(**overrides) == [field]


def test_a_no_break_space_around_a_name_is_trimmed_before_it_reaches_the_customer(plug, salesforce):
    # U+00A0 comes with copy-pasted names; both dialects count it as white space, so the plug trims it.
    status, envelope = plug.post(make_lead(first_name="\xa0Élodie\xa0", last_name="Dupré\u202f"))
    assert status == 201, envelope
    sent = salesforce.leads[envelope["customer_lead_id"]]
    assert (sent["FirstName"], sent["LastName"]) == ("Élodie", "Dupré")


def test_a_control_character_around_a_name_gets_the_400_envelope_naming_it(plug):
    status, envelope = plug.post(make_lead(first_name="Élodie\x1c"))
    assert status == 400
    assert envelope["error"] == {"state": "failed", "reason": "invalid_lead", "missing_fields": [],
                                 "invalid_fields": ["first_name"]}
    assert envelope["request_details"] == {}


@pytest.mark.parametrize("email", [
    "elodie.dupre@exemple.fr", "Elodie.Dupre@Exemple.FR", "o'brien+leads@mail.example.co.uk",
    "a_b-c@x-y.io", "  elodie@exemple.fr\t", "x@" + "d" * 63 + ".museum",
])
def test_a_valid_email(email):
    assert _invalid_fields(email=email) == []
    assert validate_lead(make_lead(email=email))["email"] == email.strip().lower()


@pytest.mark.parametrize("email", [
    "elodie", "elodie@exemple", "elodie@@exemple.fr", ".elodie@exemple.fr", "elodie.@exemple.fr",
    "elo..die@exemple.fr", "élodie@exemple.fr", "elodie@exemple.fr.", "elodie@-exemple.fr", "elodie@exemple-.fr",
    "elodie@exemple.f", "elodie@exemple.f2", "elodie@[192.0.2.1]", '"elodie"@exemple.fr', "elo die@exemple.fr",
    "elodie@" + "d" * 64 + ".fr", "e" * 245 + "@exemple.fr",
])
def test_an_invalid_email(email):
    assert _invalid_fields(email=email) == ["email"]


@pytest.mark.parametrize(("phone", "valid"), [
    ("+33612345678", True), ("+1202555", True), ("+123456789012345", True), (" +33612345678 ", True),
    ("0612345678", False), ("+0612345678", False), ("+33 6 12 34 56 78", False), ("+33-612345678", False),
    ("+123456", False), ("+1234567890123456", False), ("+٣٣٦١٢٣٤٥٦٧٨", False),
])
def test_a_phone_is_e164(phone, valid):
    assert _invalid_fields(phone=phone) == ([] if valid else ["phone"])



def test_an_unknown_key_of_address_nested_600_deep_is_ignored_not_an_internal_error(plug):
    # Found: trimming walked every nested object, and a deep one under an unknown key was a RecursionError (500).
    deep = '{"floor": ' * 600 + '"3"' + "}" * 600
    body = json.dumps(make_lead(address=None))[:-1] + f', "address": {{"city": "Lyon", "building": {deep}}}}}'
    status, envelope = plug.post(body)
    assert status == 201, envelope


def test_a_lone_surrogate_is_refused_and_a_real_pair_is_kept(plug):
    lead = make_lead()
    raw = json.dumps(lead).replace('"first_name": "', '"first_name": "\\ud800', 1)
    status, envelope = plug.post(raw)
    assert (status, envelope["error"]["invalid_fields"]) == (400, ["body"])
    pair = json.dumps(make_lead()).replace('"first_name": "', '"first_name": "\\ud83d\\ude00', 1)
    assert plug.post(pair)[0] == 201


def test_a_deep_body_holding_a_surrogate_escape_is_a_400_not_a_500(plug):
    nested = '{"extra": ' * 900 + '"\\ud800"' + "}" * 900
    status, envelope = plug.post(nested)
    assert (status, envelope["error"]["reason"]) == (400, "invalid_lead")
