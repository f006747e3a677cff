"""A webhook customer's field mapping, as data: lead in, body out (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC
from zoneinfo import ZoneInfo

import pytest

from dispatcher.errors import InvalidLead
from dispatcher.integrations.webhook_mapping import field_rule, form_body, json_body, national_phone

LEAD = {
    "id": "lead-1", "created_at": "2026-11-26T09:30:00Z", "first_name": "Élodie", "last_name": "Dupré",
    "email": "elodie@exemple.fr", "phone": "+33612345678", "civility": "mrs", "product": "heat_pump",
    "address": {"postal_code": "69003", "city": "Lyon", "country": "FR"},
    "consent": {"given": True, "at": "2026-11-26T09:29:00Z"}, "extra": {"roof": "south"},
}


def rules(fields: dict) -> tuple:
    return tuple(field_rule(name, spec) for name, spec in fields.items())


@pytest.mark.parametrize(("spec", "expected"), [
    pytest.param("email", "elodie@exemple.fr", id="shorthand-path"),
    pytest.param({"path": "address.city"}, "Lyon", id="nested-path"),
    pytest.param({"path": "extra.roof"}, "south", id="extra-path"),
    pytest.param({"path": "last_name", "transform": "upper"}, "DUPRÉ", id="upper-keeps-accents"),
    pytest.param({"path": "email", "transform": ["upper", "lower"]}, "elodie@exemple.fr", id="transforms-in-order"),
    pytest.param({"path": "phone", "transform": "national_phone"}, "0612345678", id="national-phone"),
    pytest.param({"path": "phone", "transform": "digits"}, "33612345678", id="digits"),
    pytest.param({"path": "created_at", "transform": "date"}, "2026-11-26", id="date"),
    pytest.param({"path": "civility", "map": {"mr": "M.", "mrs": "Mme"}}, "Mme", id="map"),
    pytest.param({"path": "product", "map": {"solar_panels": "PV"}, "default": "other"}, "other",
                 id="map-unlisted-falls-to-default"),
    pytest.param({"path": "company", "default": "particulier"}, "particulier", id="default-when-absent"),
    pytest.param({"value": 42}, 42, id="constant"),
    pytest.param({"join": ["first_name", "last_name"]}, "Élodie Dupré", id="join"),
    pytest.param({"join": ["address.street", "address.postal_code", "address.city"], "separator": ", "},
                 "69003, Lyon", id="join-skips-missing"),
    pytest.param({"join": ["first_name", "last_name"], "transform": "upper"}, "ÉLODIE DUPRÉ", id="join-then-transform"),
    pytest.param({"path": "consent.given"}, True, id="non-string-passes-transforms-untouched"),
])
def test_a_field_takes_its_value_as_its_rule_says(spec, expected):
    assert field_rule("x", spec).value(LEAD) == expected


def test_a_field_with_no_value_and_no_default_is_left_out():
    assert json_body(rules({"company": "company", "email": "email"}), LEAD) == {"email": "elodie@exemple.fr"}


def test_a_dot_nests_json_fields():
    body = json_body(rules({"contact.email": "email", "contact.name.last": "last_name", "zip": "address.postal_code"}),
                     LEAD)
    assert body == {"contact": {"email": "elodie@exemple.fr", "name": {"last": "Dupré"}}, "zip": "69003"}


def test_a_form_body_is_text_with_names_verbatim():
    body = form_body(rules({"contact.email": "email", "consent": "consent.given", "n": {"value": 3},
                            "where": "address"}), LEAD)
    assert body == {"contact.email": "elodie@exemple.fr", "consent": "true", "n": "3",
                    "where": '{"postal_code":"69003","city":"Lyon","country":"FR"}'}


@pytest.mark.parametrize(("e164", "national"), [
    pytest.param("+33612345678", "0612345678", id="france"),
    pytest.param("+447911123456", "07911123456", id="united-kingdom"),
    pytest.param("+4915112345678", "015112345678", id="germany"),
    pytest.param("+34612345678", "612345678", id="spain-no-trunk-prefix"),
    pytest.param("+390612345678", "0612345678", id="italy-keeps-its-zero"),
    pytest.param("+35312345678", "012345678", id="ireland-three-digit-code"),
    pytest.param("+12025550123", "2025550123", id="north-america"),
    pytest.param("+212612345678", "0612345678", id="morocco"),
    pytest.param("+420601123456", "601123456", id="czechia-no-trunk-prefix"),
    pytest.param("+36301234567", "06301234567", id="hungary-06"),
    pytest.param("+40712345678", "0712345678", id="romania"),
    pytest.param("+79161234567", "89161234567", id="russia-8"),
    pytest.param("+81312345678", "0312345678", id="japan"),
])
def test_national_phone(e164, national):
    assert national_phone(e164) == national


@pytest.mark.parametrize(("transform", "expected"), [
    pytest.param("national_phone_spaced", "06 12 34 56 78", id="national-spaced"),
    pytest.param("international_phone", "+212 6 12 34 56 78", id="international"),
    pytest.param("e164_phone", "+212612345678", id="e164"),
])
def test_the_phone_formats(transform, expected):
    assert field_rule("tel", {"path": "phone", "transform": transform}).value({"phone": "+212612345678"}) == expected


@pytest.mark.parametrize("phone", ["+3361", "+999123456789", "0612-34"])
def test_a_phone_phonenumbers_cannot_read_is_an_invalid_lead_naming_the_field(phone):
    with pytest.raises(InvalidLead) as invalid:
        form_body(rules({"tel": {"path": "phone", "transform": "national_phone"}, "email": "email"}),
                  {**LEAD, "phone": phone})
    assert invalid.value.invalid_fields == ["phone"]
    assert phone not in invalid.value.message  # a field is named, never its value


@pytest.mark.parametrize(("created_at", "spec", "expected"), [
    pytest.param("2026-11-26T09:30:00Z", {"date": "%d/%m/%Y"}, "26/11/2026", id="utc-by-default"),
    pytest.param("2026-11-26T23:30:00Z", {"date": "%d/%m/%Y"}, "26/11/2026", id="utc-late-evening"),
    pytest.param("2026-11-26T23:30:00Z", {"date": "%d/%m/%Y", "timezone": "Europe/Paris"}, "27/11/2026",
                 id="paris-is-already-the-next-day"),
    pytest.param("2026-07-01T22:30:00Z", {"date": "%d/%m/%Y %H:%M", "timezone": "Europe/Paris"}, "02/07/2026 00:30",
                 id="paris-summer-time"),
    pytest.param("2026-11-26T09:30:00+01:00", {"date": "%Y-%m-%d %H:%M:%S"}, "2026-11-26 08:30:00",
                 id="an-offset-becomes-utc"),
    pytest.param("2026-11-26T09:30:00Z", {"date": "%d/%m/%Y", "transform": "trim"}, "26/11/2026",
                 id="then-transforms"),
])
def test_a_date_in_the_customers_pattern_and_zone(created_at, spec, expected):
    zone = ZoneInfo(spec["timezone"]) if "timezone" in spec else UTC
    spec = {key: value for key, value in spec.items() if key != "timezone"}
    assert field_rule("date", {"path": "created_at", **spec}, zone).value({"created_at": created_at}) == expected


def test_text_the_charset_cannot_write_is_an_invalid_lead_naming_each_field():
    fields = rules({"nom": "last_name", "prenom": "first_name", "ville": "address.city",
                    "nom_complet": {"join": ["first_name", "last_name"]}})
    lead = {**LEAD, "first_name": "Łucja", "last_name": "Wiśniewska", "address": {"city": "Łódź"}}
    with pytest.raises(InvalidLead) as invalid:
        form_body(fields, lead, "iso8859-1")
    assert invalid.value.invalid_fields == ["last_name", "first_name", "address.city"]
    assert "Łucja" not in invalid.value.message
    assert form_body(fields, LEAD, "iso8859-1")["nom_complet"] == "Élodie Dupré"  # Latin-1 writes é
