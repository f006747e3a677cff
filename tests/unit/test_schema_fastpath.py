"""The fast "certainly valid" check agrees with jsonschema on the lead schema, and refuses what it cannot model."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from dispatcher.contract import LEAD_SCHEMA
from dispatcher.schema_fastpath import compile_certainly_valid

FIXTURES = sorted((Path(__file__).resolve().parents[2] / "fixtures" / "leads").glob("*.json"))
VALID_LEADS = [json.loads(path.read_text(encoding="utf-8")) for path in FIXTURES]
FAST = compile_certainly_valid(LEAD_SCHEMA)
FULL = Draft202012Validator(LEAD_SCHEMA)

PATHS = [("id",), ("created_at",), ("first_name",), ("last_name",), ("email",), ("phone",), ("civility",),
         ("company",), ("product",), ("comment",), ("address",), ("address", "street"), ("address", "country"),
         ("address", "postal_code"), ("consent",), ("consent", "given"), ("consent", "at"), ("consent", "ip"),
         ("source",), ("source", "utm_source"), ("extra",), ("extra", "k"), ("extra", "bad key\n"), ("unknown",)]
TRICKY_STRINGS = ["", " ", "\t", "x", " Élodie ", "\x1cA", "A\x00", "a" * 81, "a" * 2001, "mr", "MR", "FR", " FR ",
                  "fr", "+33612345678", " +33612345678 ", "+0612345678", "0612345678", "jean@exemple.fr",
                  "Jean.Dupont@Exemple.FR ", "jean@exemple", "jean@@exemple.fr", "2026-11-26T09:30:00Z",
                  "2026-13-26T09:30:00Z", "2026-11-26 09:30:00+01:00", "203.0.113.7", "\u00a0x\u00a0", "\ufeffx",
                  "x\n", "\n"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(allow_nan=False) | st.sampled_from(TRICKY_STRINGS)
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3)
    | st.dictionaries(st.sampled_from(["a", "given", "k"]), inner, max_size=3),
    max_leaves=6)


def set_path(lead: dict, path: tuple[str, ...], value: object, remove: bool) -> None:
    node = lead
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    if remove:
        node.pop(path[-1], None)
    else:
        node[path[-1]] = value


@settings(max_examples=600, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # the same 600 cases in every run, CI included
@given(base=st.sampled_from(VALID_LEADS),
       changes=st.lists(st.tuples(st.sampled_from(PATHS), JSON_VALUES, st.booleans()), max_size=3))
def test_the_fast_check_says_valid_exactly_when_jsonschema_does(base, changes):
    lead = copy.deepcopy(base)
    for path, value, remove in changes:
        set_path(lead, path, value, remove)
    assert FAST(lead) == FULL.is_valid(lead)


SINGLE_VALUES = [*TRICKY_STRINGS, None, True, 1, 1.5, [], {}, ["x"], {"given": True}]


@pytest.mark.parametrize("path", PATHS, ids=".".join)
def test_each_field_alone_with_each_tricky_value(path):
    """Every single change of every field, exhaustively: the boundaries random sampling may miss."""
    for base in VALID_LEADS[:3]:
        for value in SINGLE_VALUES:
            for remove in (False, True):
                lead = copy.deepcopy(base)
                set_path(lead, path, value, remove)
                assert FAST(lead) == FULL.is_valid(lead), (path, value, remove)


def test_every_valid_fixture_takes_the_fast_path():
    assert VALID_LEADS and all(FAST(lead) for lead in VALID_LEADS)


@pytest.mark.parametrize("value", [1, 1.0, "true", None, [True]], ids=repr)
def test_true_is_not_one(value):
    lead = copy.deepcopy(VALID_LEADS[0])
    lead["consent"]["given"] = value
    assert FAST(lead) is False and not FULL.is_valid(lead)


@pytest.mark.parametrize("schema", [
    pytest.param({"type": "object", "minProperties": 1}, id="unknown-keyword"),
    pytest.param({"$ref": "other.json#/x"}, id="remote-ref"),
    pytest.param({"enum": [{"a": 1}]}, id="enum-of-objects"),
    pytest.param({"properties": {"a": False}}, id="false-schema"),
])
def test_a_schema_beyond_the_check_has_no_fast_path(schema):
    assert compile_certainly_valid(schema) is None
