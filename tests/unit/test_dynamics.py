"""Dynamics 365's translation, look-up and classification, with answers shaped as Microsoft documents them: the
Dataverse Web API's create (204 + OData-EntityId, 201 under return=representation), its error body
`{"error": {"code", "message"}}` read by the published web service error codes, and Entra ID's token errors
(pure, no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.errors import AnsweredFailure, ConfigurationError, LeadEnded
from dispatcher.integrations.dynamics import Dynamics, from_env
from dispatcher.reasons import ENDINGS, Outcome, Reason
from dispatcher.transport import Answer

ORG = "https://contoso.crm4.dynamics.com"
DYNAMICS = Dynamics(org_url=ORG + "/", tenant_id="tenant-1", client_id="client-1", client_secret="s3cret")
GUID = "7eb682f1-ca75-e511-80d4-00155d2a68d1"
LEAD = {
    "id": "lead-1", "created_at": "2026-11-26T09:30:00Z", "first_name": "Élodie", "last_name": "Dupré",
    "email": "o'brien@exemple.fr", "phone": "+33612345678", "product": "heat_pump", "consent": {"given": True},
    "address": {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"},
}
SINCE = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
REJECTED = Reason.CUSTOMER_REJECTED_REQUEST


def answer(status: int, body: object = b"", **headers: str) -> Answer:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status=status, body=raw, headers=headers)


def error(code: str, message: str = "An error") -> dict:
    return {"error": {"code": code, "message": message}}


def test_a_lead_is_a_row_of_leads_with_duplicate_detection_on():
    request = DYNAMICS.translate(LEAD)
    assert (request.method, request.path) == ("POST", "/api/data/v9.2/leads")
    assert request.headers["MSCRM.SuppressDuplicateDetection"] == "false"
    assert request.json_body["lastname"] == "Dupré" and request.json_body["emailaddress1"] == LEAD["email"]
    assert request.json_body["subject"] == "Lead heat_pump"


def test_the_token_is_entra_ids_client_credentials_for_the_org():
    assert DYNAMICS.auth.token_url == "https://login.microsoftonline.com/tenant-1/oauth2/v2.0/token"
    assert DYNAMICS.auth._form == {"grant_type": "client_credentials", "client_id": "client-1",
                                   "client_secret": "s3cret", "scope": f"{ORG}/.default"}


@pytest.mark.parametrize(("token_answer", "reason"), [
    pytest.param(answer(401, {"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client "
                                                                               "secret provided."}),
                 Reason.UNAUTHORIZED, id="wrong-secret-401-invalid-client"),
    pytest.param(answer(400, {"error": "invalid_scope", "error_description": "AADSTS70011"}), Reason.UNAUTHORIZED,
                 id="wrong-org-400-invalid-scope"),
    pytest.param(answer(503, b"<html>down</html>"), Reason.CUSTOMER_ERROR, id="entra-down"),
    pytest.param(answer(429, {"error": "temporarily_unavailable"}, **{"Retry-After": "5"}), Reason.CUSTOMER_ERROR,
                 id="entra-throttling-is-its-state-not-an-unreadable-answer"),
])
def test_entra_ids_token_errors(token_answer, reason):
    with pytest.raises(AnsweredFailure) as failed:
        DYNAMICS.auth._session_from(token_answer)
    assert failed.value.outcome.reason == reason
    if token_answer.status == 429:
        assert failed.value.outcome.details["retry_after_s"] == 5


@pytest.mark.parametrize(("created", "lead_id"), [
    pytest.param(answer(204, **{"OData-EntityId": f"{ORG}/api/data/v9.2/leads({GUID})"}), GUID,
                 id="204-the-id-in-odata-entityid"),
    pytest.param(answer(201, {"leadid": GUID, "lastname": "Dupré"}), GUID, id="201-return-representation"),
    pytest.param(answer(204), None, id="204-without-the-header"),
    pytest.param(answer(204, **{"OData-EntityId": f"{ORG}/api/data/v9.2/accounts({GUID})"}), None,
                 id="another-tables-row"),
])
def test_a_created_row_is_read_from_what_dataverse_answers(created, lead_id):
    outcome = DYNAMICS.classify(created)
    assert (outcome.reason, outcome.customer_lead_id) == ((Reason.CREATED, lead_id) if lead_id
                                                          else (Reason.BAD_CUSTOMER_RESPONSE, None))


@pytest.mark.parametrize(("status", "code", "reason"), [
    pytest.param(500, "0x80040333", Reason.DUPLICATE, id="duplicate-detection-rule-documented-with-500"),
    pytest.param(412, "0x80060892", Reason.DUPLICATE, id="duplicate-alternate-key"),
    pytest.param(400, "0x80040237", Reason.DUPLICATE, id="duplicate-record"),
    pytest.param(400, "0x80040265", "refused", id="isv-aborted-a-plug-ins-rule"),
    pytest.param(400, "0x80044331", "refused", id="validation-failed-too-long"),
    pytest.param(400, "0x8004432f", "refused", id="value-out-of-range"),
    pytest.param(403, "0x80040220", Reason.UNAUTHORIZED, id="privilege-denied"),
    pytest.param(403, "0x80072560", Reason.UNAUTHORIZED, id="not-a-member-of-the-organization"),
    pytest.param(401, "0x8005f101", Reason.UNAUTHORIZED, id="access-token-expired"),
    pytest.param(400, "0x80048d19", REJECTED, id="a-column-the-table-lacks"),
    pytest.param(400, "0x80040217", REJECTED, id="an-owner-that-does-not-exist"),
    pytest.param(429, "0x80072322", Reason.CUSTOMER_ERROR, id="service-protection-limit"),
    pytest.param(500, "0x80040216", Reason.CUSTOMER_ERROR, id="unexpected-error"),
    pytest.param(400, "0x8abcdef0", Reason.CUSTOMER_ERROR, id="an-unknown-code-is-customer-error-never-a-refusal"),
    pytest.param(404, "0x8006088a", Reason.CUSTOMER_API_NOT_FOUND, id="resource-not-found"),
])
def test_an_error_is_classified_by_microsofts_code(status, code, reason):
    outcome = DYNAMICS.classify(answer(status, error(code)))
    assert outcome.reason == reason or (reason == "refused" and (outcome.state, outcome.reason) == ("refused", code))
    if reason == Reason.CUSTOMER_ERROR:
        assert code in outcome.message


def test_a_service_protection_limit_passes_retry_after_on():
    limited = DYNAMICS.classify(answer(429, error("0x80072322"), **{"Retry-After": "30"}))
    assert limited.details["retry_after_s"] == 30


def test_find_filters_by_email_and_creation_quotes_doubled():
    request = DYNAMICS.find_request(LEAD, SINCE)
    assert (request.method, request.path) == ("GET", "/api/data/v9.2/leads")
    assert request.params["$filter"] == "emailaddress1 eq 'o''brien@exemple.fr' and createdon ge 2026-11-26T09:29:59Z"
    assert DYNAMICS.found(answer(200, {"value": [{"leadid": GUID, "createdon": "2026-11-26T09:30:02Z"}]}),
                          SINCE) == GUID
    assert DYNAMICS.found(answer(200, {"value": []}), SINCE) is None
    with pytest.raises(LeadEnded):
        DYNAMICS.found(answer(400, error("0x80060888", "Syntax error")), SINCE)


ANY_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=12)
CODES = st.sampled_from(["0x80040333", "0x80040265", "0x80048d19", "0x80040220", "0x80072322", "", "0x"])
SHAPES = st.one_of(ANY_JSON, st.fixed_dictionaries({"error": st.one_of(ANY_JSON, st.fixed_dictionaries(
    {"code": st.one_of(CODES, ANY_JSON)}, optional={"message": ANY_JSON}))}),
    st.fixed_dictionaries({"leadid": st.one_of(st.just(GUID), ANY_JSON)}))


@settings(max_examples=150, deadline=None)
@given(status=st.integers(100, 599), body=SHAPES, entity_id=st.one_of(st.none(), st.text(max_size=60)))
def test_dynamics_reads_any_answer(status, body, entity_id):
    headers = {"OData-EntityId": entity_id} if entity_id is not None else {}
    outcome = DYNAMICS.classify(answer(status, body, **headers))
    assert isinstance(outcome, Outcome) and (outcome.reason in ENDINGS or outcome.state == "refused")
    assert outcome.state != "accepted" or 200 <= status < 300


@pytest.mark.parametrize(("environ", "mistake"), [
    ({}, "needs DYNAMICS_ORG_URL, DYNAMICS_TENANT_ID, DYNAMICS_CLIENT_ID, DYNAMICS_CLIENT_SECRET"),
    ({"DYNAMICS_ORG_URL": "contoso.crm4.dynamics.com", "DYNAMICS_TENANT_ID": "t", "DYNAMICS_CLIENT_ID": "c",
      "DYNAMICS_CLIENT_SECRET": "s"}, r"DYNAMICS_ORG_URL must be an http\(s\) URL"),
    ({"DYNAMICS_ORG_URL": ORG, "DYNAMICS_TENANT_ID": "t", "DYNAMICS_CLIENT_ID": "c", "DYNAMICS_CLIENT_SECRET": "s",
      "DYNAMICS_API_VERSION": "9.2"}, "must look like v9.2"),
])
def test_a_wrong_configuration_is_refused_naming_the_mistake(environ, mistake):
    with pytest.raises(ConfigurationError, match=mistake):
        from_env(environ)
