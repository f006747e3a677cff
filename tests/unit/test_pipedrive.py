"""Pipedrive's translation, chain and classification, with answers shaped as Pipedrive documents them: its
"Responses" page (`{"success", "data", "additional_data"}`, errors `{"success": false, "error", "error_info"}`),
its "HTTP status codes" page, API v2 persons and their search, API v1 leads (pure, no I/O)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.errors import ConfigurationError, LeadEnded
from dispatcher.integrations.base import ChainState, FindFurther
from dispatcher.integrations.pipedrive import Pipedrive, from_env
from dispatcher.reasons import ENDINGS, Outcome, Reason
from dispatcher.transport import Answer

PIPEDRIVE = Pipedrive(api_url="https://acme.pipedrive.com/", token="pd-t0ken")
LEAD = {
    "id": "lead-1", "created_at": "2026-11-26T09:30:00Z", "first_name": "Élodie", "last_name": "Dupré",
    "email": "elodie@exemple.fr", "phone": "+33612345678", "product": "heat_pump", "consent": {"given": True},
    "address": {"street": "12 rue des Lilas", "postal_code": "69003", "city": "Lyon", "country": "FR"},
}
LEAD_ID = "adf21080-0e10-11eb-879b-05d71fb426ec"  # a lead's id is a UUID
SINCE = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
REJECTED = Reason.CUSTOMER_REJECTED_REQUEST


def answer(status: int, body: object, **headers: str) -> Answer:
    return Answer(status=status, body=json.dumps(body).encode(), headers=headers)


def failure(error: str, **extra: object) -> dict:
    return {"success": False, "error": error, "error_info": "Please check developers.pipedrive.com", "data": None,
            "additional_data": None, **extra}


def test_a_lead_is_a_person_through_v2_then_a_lead_through_v1():
    chain = PIPEDRIVE.translate(LEAD)
    fresh = ChainState(results={})
    assert [step.name for step in chain.steps] == ["search", "person", "lead"]
    assert chain.steps[0].request(fresh) is None  # no search unless the customer wants no duplicates
    person = chain.steps[1].request(fresh)
    assert (person.method, person.path) == ("POST", "/api/v2/persons")
    assert person.json_body == {"name": "Élodie Dupré",
                                "emails": [{"value": "elodie@exemple.fr", "primary": True, "label": "work"}],
                                "phones": [{"value": "+33612345678", "primary": True, "label": "mobile"}]}
    assert chain.steps[1].read(answer(200, {"success": True, "data": {"id": 42, "name": "Élodie Dupré"}}),
                               fresh) == {"person_id": 42}
    lead = chain.steps[2].request(ChainState(results={"person": {"person_id": 42}}))
    assert (lead.method, lead.path, lead.json_body) == ("POST", "/v1/leads",
                                                        {"title": "heat_pump: Élodie Dupré", "person_id": 42})
    assert PIPEDRIVE.auth.open(None, None).headers == {"x-api-token": "pd-t0ken"}  # type: ignore[arg-type]


def test_a_remembered_person_is_never_created_again_nor_searched():
    chain = PIPEDRIVE.translate(LEAD)
    remembered = ChainState(results={"person": {"person_id": 42}}, in_doubt_since=SINCE)
    assert chain.steps[0].request(remembered) is None and chain.steps[1].request(remembered) is None


def test_in_doubt_the_search_finds_the_person_our_attempt_created_and_reuses_it():
    chain = PIPEDRIVE.translate(LEAD)
    in_doubt = ChainState(results={}, in_doubt_since=SINCE)
    search = chain.steps[0].request(in_doubt)
    assert (search.method, search.path, dict(search.params)) == (
        "GET", "/api/v2/persons/search", {"term": "elodie@exemple.fr", "fields": "email", "exact_match": "true"})
    found = answer(200, {"success": True, "data": {"items": [{"result_score": 1.2, "item": {"id": 42,
                                                                                            "type": "person"}}]}})
    assert chain.steps[0].read(found, in_doubt) == {"person_id": 42}
    older_first = answer(200, {"success": True, "data": {"items": [{"item": {"id": 17}}, {"item": {"id": 42}}]}})
    assert chain.steps[0].read(older_first, in_doubt) == {"person_id": 42}  # the newest: our attempt's
    refusing = Pipedrive(api_url="https://acme.pipedrive.com", token="t", refuse_duplicates=True).translate(LEAD)
    outcome = refusing.steps[0].read(found, ChainState(results={}))
    assert (outcome.state, outcome.details["existing_customer_lead_id"]) == ("duplicate", 42)


@pytest.mark.parametrize(("status", "body", "reason"), [
    pytest.param(201, {"success": True, "data": {"id": LEAD_ID, "title": "t", "person_id": 42}}, Reason.CREATED,
                 id="created"),
    pytest.param(201, {"success": True, "data": {"id": 7}}, Reason.BAD_CUSTOMER_RESPONSE, id="an-id-not-a-uuid-text"),
    pytest.param(200, {"success": False, "data": {"id": LEAD_ID}}, Reason.BAD_CUSTOMER_RESPONSE,
                 id="success-false-is-not-a-success"),
    pytest.param(400, failure("Request not understood"), REJECTED, id="400-request-not-understood"),
    pytest.param(401, failure("unauthorized access", errorCode=401), Reason.UNAUTHORIZED, id="401-invalid-token"),
    pytest.param(402, failure("Company account is not open"), Reason.CUSTOMER_ERROR, id="402-account-not-open"),
    pytest.param(403, failure("Request not allowed"), Reason.UNAUTHORIZED, id="403-not-allowed-is-our-access"),
    pytest.param(403, failure("Couldn't add the deal. Open deals limit reached.", code="feature_capping_deals_limit"),
                 Reason.CUSTOMER_ERROR, id="403-an-entity-limit-is-the-accounts-state"),
    pytest.param(404, failure("Unknown method ."), Reason.CUSTOMER_API_NOT_FOUND, id="404"),
    pytest.param(405, failure("Method not allowed"), REJECTED, id="405-incorrect-method"),
    pytest.param(410, failure("Gone"), REJECTED, id="410-a-retired-endpoint-fails-every-lead"),
    pytest.param(415, failure("Feature is not enabled"), REJECTED, id="415-feature-not-enabled"),
    pytest.param(422, failure("Limit reached"), Reason.CUSTOMER_ERROR, id="422-a-limit"),
    pytest.param(429, failure("Request over limit", errorCode=429), Reason.CUSTOMER_ERROR, id="429"),
    pytest.param(500, failure("Internal server error"), Reason.CUSTOMER_ERROR, id="500"),
    pytest.param(501, failure("Not implemented"), REJECTED, id="501-non-existent-functionality"),
    pytest.param(503, failure("Scheduled maintenance"), Reason.CUSTOMER_ERROR, id="503-maintenance"),
])
def test_an_answer_is_classified_by_pipedrives_documented_meaning(status, body, reason):
    outcome = PIPEDRIVE.classify(answer(status, body))
    assert outcome.reason == reason
    if reason == Reason.CREATED:
        assert outcome.customer_lead_id == LEAD_ID


def test_a_rate_limit_passes_retry_after_on():
    assert PIPEDRIVE.classify(answer(429, failure("Request over limit"), **{"Retry-After": "2"})
                              ).details["retry_after_s"] == 2


def test_find_asks_each_found_persons_leads_for_one_added_since_the_attempt():
    search = PIPEDRIVE.find_request(LEAD, SINCE)
    assert search.path == "/api/v2/persons/search"
    persons = answer(200, {"success": True, "data": {"items": [{"item": {"id": 41}}, {"item": {"id": 42}}]}})
    further = PIPEDRIVE.found(persons, SINCE)
    assert isinstance(further, FindFurther) and dict(further.request.params) == {"person_id": "42"}  # newest first
    old = (SINCE - timedelta(days=3)).isoformat().replace("+00:00", "Z")
    nothing_new = further.then(answer(200, {"success": True, "data": [{"id": LEAD_ID, "add_time": old}]}))
    assert isinstance(nothing_new, FindFurther) and dict(nothing_new.request.params) == {"person_id": "41"}
    assert nothing_new.then(answer(200, {"success": True, "data": [
        {"id": LEAD_ID, "add_time": "2026-11-26T09:30:01.000Z"}]})) == LEAD_ID
    assert PIPEDRIVE.found(answer(200, {"success": True, "data": {"items": []}}), SINCE) is None


def test_a_person_who_asked_many_times_is_looked_up_among_the_newest_persons_only():
    many = answer(200, {"success": True, "data": {"items": [{"item": {"id": pid}} for pid in range(1, 21)]}})
    asked, step = [], PIPEDRIVE.found(many, SINCE)
    while isinstance(step, FindFurther):
        asked.append(step.request.params["person_id"])
        step = step.then(answer(200, {"success": True, "data": []}))
    assert asked == ["20", "19", "18"] and step is None  # not found: sent again, never an endless search


@pytest.mark.parametrize("failed", [answer(500, failure("Internal server error")), answer(200, {"data": []}),
                                    answer(401, failure("unauthorized access"))])
def test_a_failed_search_ends_the_lead_never_sends_it_again(failed):
    with pytest.raises(LeadEnded) as ended:
        PIPEDRIVE.found(failed, SINCE)
    assert ended.value.outcome.state == "failed"


ANY_JSON = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12)),
                        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                        max_leaves=12)
SHAPES = st.one_of(ANY_JSON, st.fixed_dictionaries({"success": ANY_JSON}, optional={
    "data": st.one_of(ANY_JSON, st.fixed_dictionaries({"id": ANY_JSON})), "error": ANY_JSON, "code": ANY_JSON}))


@settings(max_examples=150, deadline=None)
@given(status=st.integers(100, 599), body=SHAPES)
def test_pipedrive_reads_any_answer(status, body):
    outcome = PIPEDRIVE.classify(answer(status, body))
    assert isinstance(outcome, Outcome) and outcome.reason in ENDINGS
    assert outcome.state != "accepted" or 200 <= status < 300


@pytest.mark.parametrize(("environ", "mistake"), [
    ({}, "needs PIPEDRIVE_API_URL, PIPEDRIVE_API_TOKEN"),
    ({"PIPEDRIVE_API_URL": "acme.pipedrive.com", "PIPEDRIVE_API_TOKEN": "t"}, r"must be an http\(s\) URL"),
    ({"PIPEDRIVE_API_URL": "https://acme.pipedrive.com", "PIPEDRIVE_API_TOKEN": "t",
      "PIPEDRIVE_REFUSE_DUPLICATES": "yes"}, "must be true or false"),
])
def test_a_wrong_configuration_is_refused_naming_the_mistake(environ, mistake):
    with pytest.raises(ConfigurationError, match=mistake):
        from_env(environ)
