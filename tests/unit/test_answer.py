"""What an integration sees of an answer: headers in any case, text in its declared charset, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from dispatcher.transport import Answer


def test_headers_are_read_whatever_their_case():
    answer = Answer(204, b"", headers={"odata-entityid": "https://org/api/data/v9.2/leads(1234)"})
    assert answer.header("OData-EntityId") == "https://org/api/data/v9.2/leads(1234)"
    assert answer.headers["ODATA-ENTITYID"] == "https://org/api/data/v9.2/leads(1234)"


def test_the_content_type_comes_from_the_headers_or_the_argument():
    assert Answer(200, b"", headers={"content-type": "text/html"}).content_type == "text/html"
    assert Answer(200, b"", content_type="application/json").header("Content-Type") == "application/json"


@pytest.mark.parametrize(("content_type", "charset"), [
    ("text/html; charset=ISO-8859-1", "iso8859-1"),
    ('text/html; charset="windows-1252"', "cp1252"),
    ("text/html", "utf-8"),
    ("", "utf-8"),
    ("text/html; charset=no-such-charset", "utf-8"),
])
def test_the_declared_charset_is_read_with_utf8_as_fallback(content_type, charset):
    assert Answer(200, b"", content_type=content_type).charset == charset


def test_a_latin1_answer_is_read_as_the_customer_wrote_it():
    body = "<p>Demande enregistrée, merci</p>".encode("iso-8859-1")
    answer = Answer(200, body, content_type="text/html; charset=ISO-8859-1")
    assert answer.text() == "<p>Demande enregistrée, merci</p>"


def test_a_utf8_answer_keeps_its_accents_and_drops_its_byte_order_mark():
    answer = Answer(200, "\ufeffDemande enregistrée".encode(), content_type="text/plain")
    assert answer.text() == "Demande enregistrée"


@pytest.mark.parametrize(("value", "expected"), [("120", 120), ("0", 0), ("soon", None), ("", None)])
def test_retry_after_in_seconds(value, expected):
    assert Answer(429, b"", headers={"Retry-After": value}).retry_after_s == expected


def test_retry_after_as_an_http_date():
    when = datetime.now(UTC) + timedelta(seconds=90)
    seconds = Answer(503, b"", headers={"Retry-After": format_datetime(when, usegmt=True)}).retry_after_s
    assert seconds is not None and 85 <= seconds <= 91


def test_no_retry_after_is_none():
    assert Answer(503, b"").retry_after_s is None
