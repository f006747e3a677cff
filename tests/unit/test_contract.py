"""The lead contract at runtime (contracts/lead.schema.json): reading the raw body, validating and normalising the lead.

The runtime validates with Python's `re` (through jsonschema); JSON Schema patterns are ECMA 262, the dialect
schemathesis (jsonschema_rs) and the platform's own validators read. Where the two dialects read a pattern
differently, the plug would refuse leads the contract allows and accept leads it refuses; the pattern, white
space, email and phone cases at the end (the contract fuzzing's finds among them) hold the two together.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest
from jsonschema import Draft202012Validator, SchemaError

from dispatcher.contract import LEAD_SCHEMA, WHITESPACE, InvalidLead, read_body, validate_lead
from tests.support.leads import make_lead

REQUIRED = ("id", "created_at", "first_name", "last_name", "email", "phone", "product", "consent")


def invalid(body, customer_required=()) -> InvalidLead:
    with pytest.raises(InvalidLead) as caught:
        validate_lead(body, customer_required)
    return caught.value


def unreadable(raw) -> InvalidLead:
    with pytest.raises(InvalidLead) as caught:
        read_body(raw)
    return caught.value


def with_nested(field: str, key: str, value) -> dict:
    lead = make_lead()
    lead[field] = {**lead[field], key: value}
    return lead


def test_the_lead_schema_is_a_valid_draft_2020_12_schema():
    # The plug builds its validator without checking the schema (a cold start's cost): checked here instead.
    Draft202012Validator.check_schema(LEAD_SCHEMA)
    broken = {**LEAD_SCHEMA, "properties": {**LEAD_SCHEMA["properties"], "id": {"type": "text"}}}
    with pytest.raises(SchemaError, match="text"):
        Draft202012Validator.check_schema(broken)


def test_a_valid_lead_is_accepted_with_its_fields():
    lead = make_lead()
    assert validate_lead(lead) == lead


@pytest.mark.parametrize("field", [pytest.param(name, id=name) for name in REQUIRED])
def test_each_missing_required_field_is_named(field):
    error = invalid(make_lead(**{field: None}))
    assert error.missing_fields == [field]
    assert error.invalid_fields == []
    assert field in error.message


def test_an_empty_object_names_every_required_field():
    error = invalid({})
    assert sorted(error.missing_fields) == sorted(REQUIRED)
    assert error.invalid_fields == []


def test_missing_and_invalid_fields_are_all_listed_together():
    error = invalid(make_lead(email=None, phone="0612345678", consent={"given": False}))
    assert error.missing_fields == ["email"]
    assert sorted(error.invalid_fields) == ["consent.given", "phone"]


def test_a_consent_without_given_names_the_nested_field():
    error = invalid(make_lead(consent={"at": "2026-11-26T09:29:00Z"}))
    assert error.missing_fields == ["consent.given"]


@pytest.mark.parametrize(("lead", "field"), [
    pytest.param(make_lead(phone="0612345678"), "phone", id="phone-without-plus"),
    pytest.param(make_lead(phone="+33 6 12 34 56 78"), "phone", id="phone-with-spaces"),
    pytest.param(make_lead(phone="+0612345678"), "phone", id="phone-country-code-zero"),
    pytest.param(make_lead(phone="+1234567890123456"), "phone", id="phone-too-long"),
    pytest.param(make_lead(phone="+12345"), "phone", id="phone-too-short"),
    pytest.param(make_lead(email="not-an-email"), "email", id="email-without-at"),
    pytest.param(make_lead(email="a@b"), "email", id="email-without-domain"),
    pytest.param(make_lead(email="a b@exemple.fr"), "email", id="email-with-space"),
    pytest.param(make_lead(email=""), "email", id="email-empty"),
    pytest.param(make_lead(consent={"given": False}), "consent.given", id="consent-not-given"),
    pytest.param(make_lead(consent={"given": "true"}), "consent.given", id="consent-given-as-string"),
    pytest.param(make_lead(consent="yes"), "consent", id="consent-not-an-object"),
    pytest.param(with_nested("address", "country", "France"), "address.country", id="country-name"),
    pytest.param(with_nested("address", "country", "F1"), "address.country", id="country-with-digit"),
    pytest.param(with_nested("address", "country", "FRA"), "address.country", id="country-alpha-3"),
    pytest.param(make_lead(address="12 rue des Lilas"), "address", id="address-not-an-object"),
    pytest.param(with_nested("address", "city", 69), "address.city", id="city-a-number"),
    pytest.param(make_lead(first_name=42), "first_name", id="first-name-a-number"),
    pytest.param(make_lead(last_name=["Dupré"]), "last_name", id="last-name-an-array"),
    pytest.param(make_lead(first_name="   "), "first_name", id="first-name-blank"),
    pytest.param(make_lead(last_name="x" * 81), "last_name", id="last-name-too-long"),
    pytest.param(make_lead(id=17), "id", id="id-a-number"),
    pytest.param(make_lead(id="x" * 65), "id", id="id-too-long"),
    pytest.param(make_lead(created_at="26/11/2026"), "created_at", id="created-at-not-rfc3339"),
    pytest.param(make_lead(created_at="2026-11-26"), "created_at", id="created-at-date-only"),
    pytest.param(make_lead(civility="dr"), "civility", id="civility-unknown"),
    pytest.param(make_lead(product=""), "product", id="product-empty"),
    pytest.param(make_lead(comment="x" * 2001), "comment", id="comment-too-long"),
    pytest.param(make_lead(extra={"budget": 12000}), "extra.budget", id="extra-not-a-string"),
    pytest.param(make_lead(source="google"), "source", id="source-not-an-object"),
])
def test_an_invalid_field_is_named_by_its_dotted_path(lead, field):
    error = invalid(lead)
    assert error.invalid_fields == [field]
    assert error.missing_fields == []
    assert field in error.message


def test_the_message_names_fields_never_their_values():
    lead = make_lead(phone="0612345678", email="jean.valjean@exemple")
    error = invalid(lead)
    assert "0612345678" not in error.message and "valjean" not in error.message


def test_strings_are_trimmed_and_the_email_lower_cased():
    lead = make_lead(first_name="  Élodie ", email="  Elodie.DUPRE@Exemple.FR\n", phone=" +33612345678 ",
                     address={"street": " 12 rue des Lilas ", "postal_code": "69003 ", "city": "Lyon",
                              "country": " FR "},
                     consent={"given": True, "text": " J'accepte. "})
    valid = validate_lead(lead)
    assert valid["first_name"] == "Élodie"
    assert valid["email"] == "elodie.dupre@exemple.fr"
    assert valid["phone"] == "+33612345678"
    assert valid["address"] == {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon",
                                "country": "FR"}
    assert valid["consent"] == {"given": True, "text": "J'accepte."}


def test_unknown_top_level_keys_are_dropped_not_refused():
    lead = make_lead(score=87, internal_notes="do not send", utm={"a": "b"})
    valid = validate_lead(lead)
    assert not {"score", "internal_notes", "utm"} & set(valid)
    assert valid == validate_lead(make_lead(**{k: v for k, v in lead.items() if k in valid}))


@pytest.mark.parametrize(("first_name", "last_name"), [
    pytest.param("Élodie", "Dupré-Lefèvre", id="french-accents"),
    pytest.param("Łukasz", "Żółć", id="polish"),
    pytest.param("Σοφία", "Παπαδοπούλου", id="greek"),
    pytest.param("Зоя", "Иванова", id="cyrillic"),
    pytest.param("美咲", "佐藤", id="japanese"),
    pytest.param("Ана-Мария", "O'Brien", id="apostrophe-and-hyphen"),
    pytest.param("Ren\u0301e", "Zo\u00eb", id="combining-accent"),
    pytest.param("Amélie 🌻", "Poulain", id="emoji"),
])
def test_unicode_names_are_kept_intact(first_name, last_name):
    raw = json.dumps(make_lead(first_name=first_name, last_name=last_name), ensure_ascii=False).encode("utf-8")
    valid = validate_lead(read_body(raw))
    assert (valid["first_name"], valid["last_name"]) == (first_name, last_name)


def test_the_customers_own_required_fields_are_missing_fields():
    error = invalid(make_lead(company=None, address=None), customer_required=("company", "address.city"))
    assert error.missing_fields == ["company", "address.city"]
    assert error.invalid_fields == []


def test_a_blank_customer_required_field_counts_as_missing():
    error = invalid(make_lead(company="   "), customer_required=("company",))
    assert error.missing_fields == ["company"]


@pytest.mark.parametrize("body", [
    pytest.param([make_lead()], id="array"),
    pytest.param("a lead", id="string"),
    pytest.param(42, id="number"),
    pytest.param(None, id="null"),
    pytest.param(True, id="boolean"),
])
def test_a_body_that_is_not_an_object_is_invalid_as_a_whole(body):
    error = invalid(body)
    assert error.invalid_fields == ["body"]
    assert error.missing_fields == []


@pytest.mark.parametrize("raw", [
    pytest.param(None, id="none"),
    pytest.param(b"", id="empty-bytes"),
    pytest.param("", id="empty-string"),
    pytest.param(b" \r\n\t", id="whitespace"),
])
def test_an_empty_body_reads_as_an_empty_object_so_every_field_is_missing(raw):
    assert read_body(raw) == {}
    assert sorted(invalid(read_body(raw)).missing_fields) == sorted(REQUIRED)


@pytest.mark.parametrize("raw", [
    pytest.param(b"not json", id="text"),
    pytest.param(b"{'id': 'x'}", id="python-dict"),
    pytest.param(b'{"id": "x",}', id="trailing-comma"),
    pytest.param(b'{"id": "x"', id="truncated"),
    pytest.param(b"id=x&email=y", id="form-encoded"),
    pytest.param(b'{"id": NaN}', id="nan"),
    pytest.param(b'{"id": Infinity}', id="infinity"),
    pytest.param(b'{"id": -Infinity}', id="minus-infinity"),
    pytest.param(b"\xef\xbb\xbf{}", id="byte-order-mark"),
    pytest.param(b'{"first_name": "\xe9lodie"}', id="latin-1-not-utf-8"),
    pytest.param(b'{"first_name": "\xff\xfe"}', id="invalid-utf-8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-array-nesting"),
    pytest.param(b'{"extra": ' * 50_000 + b"{}" + b"}" * 50_000, id="deep-object-nesting"),
    pytest.param(b'{"phone": ' + b"9" * 5000 + b"}", id="integer-too-long-for-python"),
    pytest.param(b"{}" + b" " * 1_000_001, id="larger-than-a-lead"),
])
def test_an_unreadable_body_is_invalid_as_a_whole(raw):
    error = unreadable(raw)
    assert error.invalid_fields == ["body"]
    assert error.missing_fields == []
    assert error.message


@pytest.mark.parametrize("depth", [pytest.param(depth, id=f"depth-{depth}") for depth in (50, 500, 950)])
def test_a_deeply_nested_field_that_parses_is_an_invalid_field_not_a_crash(depth):
    raw = json.dumps(make_lead()).encode()[:-1] + b', "first_name": ' + b"[" * depth + b"]" * depth + b"}"
    assert invalid(read_body(raw)).invalid_fields == ["first_name"]


def test_a_str_body_is_read_as_utf_8_json():
    assert read_body(json.dumps({"first_name": "Élodie"}, ensure_ascii=False)) == {"first_name": "Élodie"}


# -- the schema's patterns read alike in Python and in ECMA 262 --------------------------------------------------------

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
    # `\s` is wider in Python (U+001C-U+001F, U+0085) and narrower (no U+FEFF) than in ECMA 262, and
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
    except InvalidLead as error:
        return error.invalid_fields
    return []


@pytest.mark.parametrize(("overrides", "field"), [
    pytest.param({"first_name": "\x1cÉlodie"}, "first_name", id="info-separator-before-a-name"),
    pytest.param({"id": "lead-1\x1f"}, "id", id="unit-separator-after-an-id"),
    pytest.param({"last_name": "Dupré\x85"}, "last_name", id="next-line-control-after-a-name"),
    pytest.param({"phone": "+33612345678\x1e"}, "phone", id="record-separator-after-a-phone"),
    pytest.param({"extra": {"source\n": "x"}}, "extra", id="extra-key-with-a-final-newline"),
])
def test_a_control_character_python_took_for_white_space_is_refused(overrides, field):
    # Python's `re` reads these as white space (or `$` as the end) and the plug once accepted the lead,
    # trimming the control away; ECMA 262 refuses them, so schemathesis' negative cases got 201.
    assert _invalid_fields(**overrides) == [field]


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
