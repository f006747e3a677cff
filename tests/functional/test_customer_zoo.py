"""The plug against a zoo of real customer servers, one way of speaking HTTP each.

Customers run every kind of server: the plug must read each answer whole and right (keep-alive or closed,
HTTP/1.0 without a length, chunked, compressed, after a 1xx, behind a byte order mark, with a number no
double holds), end a dripping or hanging customer at its deadline with 502 `customer_timeout`, never send a
lead twice, and carry nothing of one lead (a cookie, a half-read answer) into the next lead of the same warm
plug. Each test sends one lead in a given framing, then a plain lead through the same plug to the same server.

These tests state the contract: some fail on today's transport, which is rebuilt next.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.leads import make_lead
from tests.support.zoo import Zoo, email_for

TIMEOUT_S = 3  # CUSTOMER_TIMEOUT_S for answers that come
SLOW_TIMEOUT_S = 2  # CUSTOMER_TIMEOUT_S for customers that drip or hang: the test waits this long
MARGIN_S = 10.0  # the plug's answer to a slow customer comes by the deadline plus this (generous: CI is slow)

FRAMINGS = ("keepalive", "close", "http10", "chunked", "gzip", "deflate", "continue100", "early_hints", "cookies",
            "bom", "huge_number")
KINDS = {"accepted": (), "refused": ("refuse",), "failing": ("fail",)}
# What each kind of answer becomes for the platform, with the status the customer itself answered.
EXPECTED = {
    "accepted": (201, "accepted", "created", 201),
    "refused": (406, "refused", "OUT_OF_AREA", 422),
    "failing": (502, "failed", "customer_error", 503),
}

Plug = Any  # the object plug_for returns: .post(lead) -> (status, envelope)
PlugAt = Callable[..., Plug]


def customer_file(url: str) -> dict[str, Any]:
    """The zoo as a webhook customer: 201 with an id accepts, 422 refuses with its code, 5xx is the default."""
    return {
        "name": "Zoo",
        "description": "A test customer: one of tests/support/zoo.py's servers.",
        "url": url,
        "auth": {"type": "none"},
        "body": "json",
        "fields": {"external_id": "id", "first_name": "first_name", "last_name": "last_name", "email": "email",
                   "phone": "phone", "product": "product"},
        "answers": [
            {"when": {"status": 201}, "then": {"state": "accepted", "reason": "created", "lead_id": {"json": "id"}}},
            {"when": {"status": 422}, "then": {"state": "refused", "reason": {"json": "error"}}},
        ],
        "examples": [  # an example for each rule, as every file needs
            {"status": 201, "body": {"id": "Z-1"}, "state": "accepted", "customer_lead_id": "Z-1"},
            {"status": 422, "body": {"error": "OUT_OF_AREA"}, "state": "refused", "reason": "OUT_OF_AREA"},
        ],
    }


@pytest.fixture
def plug_at(plug_for: Callable[..., Plug], tmp_path: Path) -> Iterator[PlugAt]:
    """A plug whose customer is the given zoo server: its file in tmp_path, its variables for plug_for."""

    def build(zoo: Zoo, timeout_s: float = TIMEOUT_S) -> Plug:
        path = tmp_path / f"zoo-{zoo.behaviour}.json"
        path.write_text(json.dumps(customer_file(zoo.url)), encoding="utf-8")
        return plug_for({"CUSTOMER": "webhook", "WEBHOOK_CONFIG": str(path), "CUSTOMER_TIMEOUT_S": str(timeout_s),
                         "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "test"})

    yield build


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON (RFC 8259)")


def post_raw(plug: Plug, lead: dict[str, Any]) -> tuple[int, bytes]:
    """The envelope's bytes as the platform gets them: `.post` parses leniently, and would hide an Infinity."""
    response = plug.client.http.post("/send", headers={"Content-Type": "application/json"},
                                     body=json.dumps(lead).encode("utf-8"))
    return response.status_code, response.body


def assert_strict_json(envelope: dict[str, Any]) -> None:
    """No NaN or Infinity anywhere: the envelope parsed leniently must dump strictly (RFC 8259)."""
    try:
        json.dumps(envelope, allow_nan=False)
    except ValueError as exc:
        pytest.fail(f"the envelope is not strict JSON ({exc}): {envelope!r}")


def assert_outcome(kind: str, status: int, envelope: dict[str, Any], zoo: Zoo, email: str) -> None:
    """The status, state, reason and customer id this kind of answer gets."""
    want_status, want_state, want_reason, customer_status = EXPECTED[kind]
    assert status == want_status, f"{kind}: status {status}, want {want_status}: {envelope}"
    assert envelope["response_details"]["http_status_code"] == customer_status, envelope
    if kind == "accepted":
        given = [item.answered_id for item in zoo.received(email)]
        assert envelope["customer_lead_id"] == given[0], f"not the id the customer gave this lead ({given}): {envelope}"
        assert "error" not in envelope, envelope
    else:
        assert (envelope["error"]["state"], envelope["error"]["reason"]) == (want_state, want_reason), envelope
        assert envelope.get("customer_lead_id") is None, envelope


def assert_next_lead_unaffected(plug: Plug, zoo: Zoo, first_email: str) -> None:
    """A plain lead after the first, same plug, same server: its own answer and id, no cookie of the first.

    The server answers it plainly (keep-alive, Content-Length), so that a failure here is the first lead's
    doing (a connection reused after an unclean end, bytes left unread, a cookie kept), not this framing's.
    """
    lead = make_lead(email=email_for("keepalive"))
    status, envelope = plug.post(lead)
    assert_outcome("accepted", status, envelope, zoo, lead["email"])
    assert_strict_json(envelope)
    assert zoo.count(lead["email"]) == 1, "the next lead did not reach the customer exactly once"
    first, = zoo.received(first_email)
    cookie = zoo.received(lead["email"])[0].cookie or ""
    assert first_email not in cookie and f"lead_{first.number}=" not in cookie, \
        f"the next lead's request carried the first lead's cookie: {cookie!r}"


@pytest.mark.parametrize("kind", [pytest.param(kind, id=kind) for kind in KINDS])
@pytest.mark.parametrize("behaviour", [pytest.param(name, id=name) for name in FRAMINGS])
def test_an_answer_in_any_framing_is_read_whole_and_right(behaviour: str, kind: str, plug_at: PlugAt) -> None:
    with Zoo(behaviour) as zoo:
        plug = plug_at(zoo)
        lead = make_lead(email=email_for(*KINDS[kind]))
        status, envelope = plug.post(lead)
        assert_outcome(kind, status, envelope, zoo, lead["email"])
        assert_strict_json(envelope)
        assert zoo.count(lead["email"]) == 1, "the customer did not receive the lead exactly once"
        assert_next_lead_unaffected(plug, zoo, lead["email"])


@pytest.mark.parametrize("behaviour", [pytest.param("drip", id="drip"), pytest.param("hang", id="hang")])
def test_a_customer_that_drips_or_hangs_ends_in_customer_timeout_by_the_deadline(behaviour: str,
                                                                                 plug_at: PlugAt) -> None:
    """The deadline bounds the whole exchange, however slowly the bytes come (never a 504, never a wait)."""
    with Zoo(behaviour) as zoo:
        plug = plug_at(zoo, timeout_s=SLOW_TIMEOUT_S)
        lead = make_lead(email=email_for())
        started = time.monotonic()
        status, envelope = plug.post(lead)
        elapsed = time.monotonic() - started
        assert (status, envelope["error"]["reason"]) == (502, "customer_timeout"), envelope
        assert elapsed < SLOW_TIMEOUT_S + MARGIN_S, f"answered after {elapsed:.1f} s"
        assert zoo.count(lead["email"]) == 1, "the customer did not receive the lead exactly once"
        assert_next_lead_unaffected(plug, zoo, lead["email"])


def test_a_connection_reset_after_the_lead_is_unreachable_and_never_resent(plug_at: PlugAt) -> None:
    with Zoo("reset") as zoo:
        plug = plug_at(zoo)
        lead = make_lead(email=email_for())
        status, envelope = plug.post(lead)
        assert (status, envelope["error"]["reason"]) == (502, "customer_unreachable"), envelope
        assert zoo.count(lead["email"]) == 1, "a lead that may have reached the customer was sent again"
        assert_next_lead_unaffected(plug, zoo, lead["email"])


@pytest.mark.parametrize("kind", [pytest.param("accepted", id="accepted"), pytest.param("refused", id="refused")])
def test_a_number_beyond_a_double_leaves_the_envelope_strict_json(kind: str, plug_at: PlugAt) -> None:
    """`{"score": 1e400}` parses to infinity in Python; the envelope must still carry no Infinity."""
    with Zoo("huge_number") as zoo:
        plug = plug_at(zoo)
        lead = make_lead(email=email_for(*KINDS[kind]))
        status, body = post_raw(plug, lead)
        try:
            envelope = json.loads(body, parse_constant=_reject_constant)
        except ValueError as exc:
            pytest.fail(f"the envelope is not strict JSON ({exc}): {body[:500]!r}")
        assert_outcome(kind, status, envelope, zoo, lead["email"])
        assert zoo.count(lead["email"]) == 1


def test_an_early_hint_before_the_answer_is_skipped_and_the_next_lead_gets_its_own_id(plug_at: PlugAt) -> None:
    """A 103 is not the answer: the 201 after it is, and it must not be left for the next lead to read."""
    with Zoo("early_hints") as zoo:
        plug = plug_at(zoo)
        leads = [make_lead(email=email_for()) for _ in range(3)]
        answers = [plug.post(lead) for lead in leads]
        wrong = []
        for lead, (status, envelope) in zip(leads, answers, strict=True):
            received = zoo.received(lead["email"])
            given = received[0].answered_id if len(received) == 1 else None
            if len(received) != 1 or (status, envelope.get("customer_lead_id")) != (201, given):
                wrong.append(f"lead sent {len(received)} time(s), customer id {given!r}: got {status} "
                             f"customer_lead_id={envelope.get('customer_lead_id')!r} "
                             f"error={envelope.get('error')} on connection(s) {[r.connection for r in received]}")
        assert not wrong, "\n".join(wrong)
