"""The one reason table: every row of the contract's status table, and no other place that spells it differently.

The contract's enums (envelope schema per status, the webhook file's reasons), the fixtures' expectations,
the scripts and the plug's own modules are all checked against `dispatcher.reasons.ENDINGS`.
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from dispatcher.reasons import ENDINGS, MayHold, Reason, UnknownEnding, ending_of, reasons_with_status

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = ROOT / "contracts"

SPEC_ROWS = [
    pytest.param("accepted", "created", 201, id="accepted-created"),
    pytest.param("accepted", "queued", 202, id="accepted-queued"),
    pytest.param("accepted", "ok", 200, id="accepted-ok"),
    pytest.param("failed", "invalid_lead", 400, id="failed-invalid_lead"),
    pytest.param("failed", "unauthorized", 401, id="failed-unauthorized"),
    pytest.param("failed", "customer_api_not_found", 404, id="failed-customer_api_not_found"),
    pytest.param("refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION", 406, id="refused-validation-rule"),
    pytest.param("refused", "INVALID_EMAIL_ADDRESS", 406, id="refused-bad-email"),
    pytest.param("refused", "out_of_area", 406, id="refused-any-customer-reason"),
    pytest.param("refused", "duplicate", 406, id="refused-whose-own-code-is-duplicate"),
    pytest.param("duplicate", "duplicate", 409, id="duplicate"),
    pytest.param("failed", "internal_error", 500, id="failed-internal_error"),
    pytest.param("failed", "customer_error", 502, id="failed-customer_error"),
    pytest.param("failed", "customer_rejected_request", 502, id="failed-customer_rejected_request"),
    pytest.param("failed", "customer_timeout", 502, id="failed-customer_timeout"),
    pytest.param("failed", "customer_unreachable", 502, id="failed-customer_unreachable"),
    pytest.param("failed", "bad_customer_response", 502, id="failed-bad_customer_response"),
    pytest.param("failed", "lead_id_reused", 400, id="failed-lead_id_reused"),
    pytest.param("failed", "in_progress", 502, id="failed-in_progress"),
    pytest.param("failed", "customer_paused", 502, id="failed-customer_paused"),
    pytest.param("failed", "ledger_unavailable", 500, id="failed-ledger_unavailable"),
]


@pytest.mark.parametrize(("state", "reason", "status"), SPEC_ROWS)
def test_every_row_of_the_spec_has_its_status(state, reason, status):
    assert ending_of(state, reason).status == status


@pytest.mark.parametrize(("state", "reason"), [
    pytest.param("accepted", "duplicate", id="accepted-with-a-failure-reason"),
    pytest.param("accepted", "", id="accepted-without-reason"),
    pytest.param("failed", "FIELD_CUSTOM_VALIDATION_EXCEPTION", id="failed-with-a-customer-code"),
    pytest.param("failed", "timeout", id="failed-unknown-reason"),
    pytest.param("duplicate", "created", id="duplicate-with-a-success-reason"),
    pytest.param("sent", "created", id="not-a-terminal-state"),
    pytest.param("bogus", "duplicate", id="unknown-state"),
])
def test_an_unknown_pair_is_refused_so_that_the_plug_treats_it_as_its_own_bug(state, reason):
    with pytest.raises(UnknownEnding):
        ending_of(state, reason)


def test_no_row_yields_504_and_every_status_of_the_spec_is_reached():
    assert {ending.status for ending in ENDINGS.values()} == {200, 201, 202, 400, 401, 404, 405, 406, 409, 500, 502}


def test_reports_follow_the_status_a_bug_as_an_error_a_customer_failure_as_a_warning():
    # in_progress and customer_paused are 502s that are not the customer failing now: the health reports a
    # pause once, when it starts, not once per lead held back. A request the customer's setup rejects fails
    # every lead until someone fixes the configuration: an error, like a bug of ours.
    quiet = {Reason.IN_PROGRESS, Reason.CUSTOMER_PAUSED}
    misconfigured = {Reason.CUSTOMER_REJECTED_REQUEST}
    for reason, ending in ENDINGS.items():
        expected = None if reason in quiet else "error" if reason in misconfigured \
            else {500: "error", 502: "warning"}.get(ending.status)
        assert ending.rollbar_level == expected, reason


@pytest.mark.parametrize(("reason", "holds"), [
    pytest.param(Reason.CREATED, MayHold.YES, id="accepted"),
    pytest.param(Reason.CUSTOMER_TIMEOUT, MayHold.IF_SENT, id="timeout-in-doubt-if-sent"),
    pytest.param(Reason.CUSTOMER_UNREACHABLE, MayHold.IF_SENT, id="reset-in-doubt-if-sent"),
    pytest.param(Reason.BAD_CUSTOMER_RESPONSE, MayHold.IF_SENT, id="unreadable-answer-in-doubt-if-sent"),
    pytest.param(Reason.INTERNAL_ERROR, MayHold.IF_SENT, id="our-bug-after-sending-in-doubt"),
    pytest.param(Reason.CUSTOMER_ERROR, MayHold.NO, id="customer-5xx"),
    pytest.param(Reason.CUSTOMER_REJECTED_REQUEST, MayHold.NO, id="request-the-customer-rejected"),
    pytest.param(Reason.DUPLICATE, MayHold.NO, id="duplicate-not-because-of-us"),
    pytest.param(Reason.REFUSED, MayHold.NO, id="refused"),
    pytest.param(Reason.LEDGER_UNAVAILABLE, MayHold.NO, id="nothing-sent"),
])
def test_the_table_says_whether_the_customer_may_hold_the_lead(reason, holds):
    assert ENDINGS[reason].customer_may_hold is holds


# --- the contract and the other files agree with the table -----------------------------------------------

def _reason_enum(schema: dict[str, Any]) -> set[str] | None:
    """The reasons a `$defs` entry of the envelope schema allows (const or enum), None when it does not say."""
    for part in schema.get("allOf", [schema]):
        reason = part.get("properties", {}).get("error", {}).get("properties", {}).get("reason")
        if reason and ("const" in reason or "enum" in reason):
            return {reason["const"]} if "const" in reason else set(reason["enum"])
    return None


def test_the_envelope_schema_allows_for_each_documented_status_exactly_the_tables_reasons():
    envelope = json.loads((CONTRACTS / "envelope.schema.json").read_text(encoding="utf-8"))
    responses = yaml.safe_load((CONTRACTS / "openapi.yaml").read_text())["paths"]["/send"]["post"]["responses"]
    checked = 0
    for status, response in responses.items():
        ref = response["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2]
        allowed = _reason_enum(envelope["$defs"][ref])
        if int(status) in (200, 201, 202, 406, 409):  # success envelopes carry no reason; refusals are open
            continue
        assert allowed == set(reasons_with_status(int(status))), f"{status} ({ref})"
        for reason in allowed:  # and the openapi description names each of them
            assert reason in response["description"], f"openapi.yaml's {status} does not name {reason}"
        checked += 1
    assert checked == 5  # 400, 401, 404, 500, 502
    assert _reason_enum(envelope["$defs"]["method_not_allowed"]) == set(reasons_with_status(405))


def _webhook_reason_enums() -> dict[str, set[str]]:
    """The webhook file schema's `then.reason` enum per state."""
    schema = json.loads((CONTRACTS / "webhook-config.schema.json").read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            state = node.get("if", {}).get("properties", {}).get("state", {}).get("const")
            reason = node.get("then", {}).get("properties", {}).get("reason", {})
            if state and ("enum" in reason or "const" in reason):
                found[state] = set(reason.get("enum", [reason.get("const")]))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return found


def reasons_of(state: str) -> set[str]:
    return {reason.value for reason, ending in ENDINGS.items() if ending.state == state}


def test_the_webhook_file_schema_names_only_reasons_of_the_table_in_their_own_state():
    enums = _webhook_reason_enums()
    assert enums["accepted"] == reasons_of("accepted") - {"delivered_earlier"}  # the ledger's alone
    assert enums["duplicate"] == reasons_of("duplicate")
    # a customer's answer cannot be our bug, the ledger or a pause: those reasons are the plug's alone
    assert enums["failed"] <= reasons_of("failed") - {"internal_error", "ledger_unavailable", "in_progress",
                                                         "customer_paused", "lead_id_reused", "method_not_allowed"}


def test_the_fixtures_expectations_agree_with_the_table():
    expected = json.loads((ROOT / "fixtures" / "expected.json").read_text(encoding="utf-8"))
    cases = [case for case in _expectations(expected) if "state" in case]
    assert cases
    for case in cases:
        assert ending_of(case["state"], case["reason"]).status == case["status"], case


def _expectations(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        if {"status", "state", "reason"} <= set(node):
            return [node]
        return [case for value in node.values() for case in _expectations(value)]
    if isinstance(node, list):
        return [case for value in node for case in _expectations(value)]
    return []


def test_the_send_scripts_read_success_reasons_from_the_table():
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import fixtures_lib
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert fixtures_lib.SUCCESS_REASONS == {ENDINGS[reason].status: reason.value for reason in
                                            (Reason.OK, Reason.CREATED, Reason.QUEUED)}


def _string_literals(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings}


@pytest.mark.parametrize("path", [
    pytest.param(path, id=str(path.relative_to(ROOT)))
    for path in sorted([*(ROOT / "dispatcher").rglob("*.py"), ROOT / "app.py"]) if path.name != "reasons.py"
])
def test_no_other_module_spells_a_reason_of_the_shared_set(path):
    # "duplicate" and "refused" are also state names, which the machine and the webhook rules spell.
    states = {ending.state for ending in ENDINGS.values()}
    spelled = _string_literals(path) & ({reason.value for reason in Reason} - states)
    assert not spelled, f"{path.name} writes {sorted(spelled)}: use dispatcher.reasons.Reason"
