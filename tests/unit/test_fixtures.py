"""The fixtures are leads as the platform sends them: valid ones pass the contract, invalid ones fail it,
expected.json agrees with the plug's status table, and --unique keeps them valid and their duplicates duplicate.

Pure checks on files: no server.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dispatcher.contract import LEAD_SCHEMA
from dispatcher.reasons import ending_of
from scripts import fixtures_lib as lib

LEADS_DIR, INVALID_DIR = lib.FIXTURE_DIRS
VALIDATOR = Draft202012Validator(LEAD_SCHEMA)
VALID = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(LEADS_DIR.glob("*.json"))}
INVALID = {path.stem: json.loads(path.read_text(encoding="utf-8")) for path in sorted(INVALID_DIR.glob("*.json"))}
EXPECTED = lib.load_expected()
SALESFORCE_EMAIL_MAX = 80  # the Lead's Email field


def _errors(lead: Any) -> list[str]:
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(lead))


def _email_key(lead: dict[str, Any]) -> str:
    return lead["email"].strip().lower()


@pytest.mark.parametrize("fixture_id", sorted(VALID))
def test_a_lead_fixture_is_valid_by_the_contract_and_named_by_its_id(fixture_id):
    assert _errors(VALID[fixture_id]) == []
    assert VALID[fixture_id]["id"] == fixture_id  # the transition log's lead_id leads back to the file


@pytest.mark.parametrize("fixture_id", sorted(INVALID))
def test_an_invalid_fixture_fails_the_contract(fixture_id):
    assert _errors(INVALID[fixture_id]) != []


def test_the_fixtures_cover_what_the_platform_sends():
    leads = list(VALID.values())
    assert len(leads) >= 15
    assert {"solar_panels", "heat_pump", "home_insurance"} <= {lead["product"].strip() for lead in leads}
    assert any(lead.get("company") for lead in leads) and any(not lead.get("company") for lead in leads)
    assert any("address" in lead for lead in leads) and any("address" not in lead for lead in leads)
    assert any("source" in lead for lead in leads) and any("source" not in lead for lead in leads)
    assert len({lead["address"]["country"] for lead in leads if "address" in lead}) >= 6
    assert any(not (lead["first_name"] + lead["last_name"]).isascii() for lead in leads)
    statuses = {EXPECTED[fixture_id]["status"] for fixture_id in VALID}
    assert {201, 406, 409, 502} <= statuses
    assert {EXPECTED[fixture_id]["status"] for fixture_id in INVALID} == {400}


def test_expected_json_names_every_fixture_once_and_agrees_with_the_status_table():
    assert sorted(EXPECTED) == sorted([*VALID, *INVALID])
    for fixture_id, wanted in EXPECTED.items():
        assert ending_of(wanted["state"], wanted["reason"]).status == wanted["status"], fixture_id


def test_a_duplicate_fixture_comes_after_the_one_it_duplicates():
    created: set[str] = set()
    for fixture_id, wanted in EXPECTED.items():
        lead = VALID.get(fixture_id)
        if lead is None:
            continue
        if wanted["status"] == 409:
            assert _email_key(lead) in created, f"{fixture_id} duplicates nothing sent before it"
        else:
            assert _email_key(lead) not in created, f"{fixture_id} would be a duplicate"
            if wanted["status"] == 201:
                created.add(_email_key(lead))


def test_unique_values_stay_valid_and_fit_salesforce():
    uniquifier = lib.Uniquifier()
    for fixture_id, lead in VALID.items():
        fresh = uniquifier.lead(lead)
        assert _errors(fresh) == [], fixture_id
        assert len(fresh["email"].strip()) <= SALESFORCE_EMAIL_MAX, fixture_id


def test_unique_gives_every_run_new_emails_and_phones():
    first, second = lib.Uniquifier(), lib.Uniquifier()
    for fixture_id, lead in VALID.items():
        one, two = first.lead(lead), second.lead(lead)
        assert one["email"] != lead["email"] and one["email"] != two["email"], fixture_id
        assert one["phone"] != two["phone"], fixture_id


def test_within_one_run_each_person_gets_a_phone_of_their_own_and_a_duplicate_keeps_its_originals():
    uniquifier = lib.Uniquifier()
    same_phone = {"phone": "+33612345678", "first_name": "A", "last_name": "B"}
    one = uniquifier.lead({**same_phone, "email": "camille@exemple.fr"})
    other = uniquifier.lead({**same_phone, "email": "jean@exemple.fr"})
    again = uniquifier.lead({**same_phone, "email": " Camille@Exemple.fr"})  # the duplicate, as a form sends it
    assert one["phone"] != other["phone"]
    assert again["phone"] == one["phone"]
    phones = {lead["email"].strip().lower(): uniquifier.lead(lead)["phone"] for lead in VALID.values()}
    assert len(set(phones.values())) == len(phones)  # every person of the fixtures apart


def test_within_one_run_shared_emails_stay_shared_and_others_stay_apart():
    uniquifier = lib.Uniquifier()
    originals = [_email_key(lead) for lead in VALID.values()]
    rewritten = [_email_key(uniquifier.lead(lead)) for lead in VALID.values()]
    assert len(set(rewritten)) == len(set(originals)) < len(originals)  # the duplicate fixture shares one
    pairs = dict(zip(originals, rewritten, strict=True))
    assert all(pairs[o] == r for o, r in zip(originals, rewritten, strict=True))


@pytest.mark.parametrize(("email", "kept"), [
    pytest.param("gregoire.marchand+error500@exemple.fr", "+error500", id="error500"),
    pytest.param("ines.moreau+error503@exemple.fr", "+error503", id="error503"),
    pytest.param("loic.kervella+limit@exemple.fr", "+limit", id="limit"),
    pytest.param("herve.gaudin@maison.invalid", "@maison.invalid", id="invalid-domain"),
])
def test_unique_keeps_the_sandboxs_triggers(email, kept):
    fresh = lib.Uniquifier("1a2b3c4d").email(email)
    assert fresh != email
    local = fresh.split("@")[0]
    assert kept in (local if kept.startswith("+") else fresh)


def test_unique_keeps_surrounding_spaces_and_leaves_invalid_values_invalid():
    uniquifier = lib.Uniquifier("1a2b3c4d")
    assert uniquifier.email("  Camille.BENARD@Exemple.FR ") == "  Camille.BENARD+1a2b3c4d@Exemple.FR "
    assert uniquifier.phone(" +33612349876 ").startswith(" +336") and uniquifier.phone(" +33612349876 ")[-1] == " "
    for fixture_id, lead in INVALID.items():
        assert _errors(uniquifier.lead(lead)) == _errors(lead), fixture_id


FOLDERS = sorted(path.parent for path in lib.FIXTURES.glob("**/expected.json") if path != lib.EXPECTED)


@pytest.mark.parametrize("folder", FOLDERS, ids=[str(folder.relative_to(lib.FIXTURES)) for folder in FOLDERS])
def test_every_expected_json_has_the_one_layout(folder):
    expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
    assert sorted(expected) == sorted(path.stem for path in folder.glob("*.json") if path.name != "expected.json")
    for fixture_id, entry in expected.items():
        assert {"status", "state", "reason"} <= set(entry), fixture_id
        assert set(entry) <= {"status", "state", "reason", "missing_fields", "invalid_fields", "note"}, fixture_id
