"""A webhook customer's field mapping, as data: lead in, body out (pure, no I/O)."""

from __future__ import annotations

import pytest

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
    pytest.param("+81312345678", "+81312345678", id="unlisted-country-stays-international"),
])
def test_national_phone(e164, national):
    assert national_phone(e164) == national
