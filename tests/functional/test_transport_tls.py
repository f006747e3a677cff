"""The transport over TLS (production customers are HTTPS): answers read, connections kept alive, untrusted
certificates refused, and the deadline holding over TLS too.

A throwaway CA (trustme) signs a certificate for 127.0.0.1; the misbehaving customer speaks HTTPS.
"""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

import pytest
import trustme

from dispatcher.deadline import Deadline
from dispatcher.transport import CustomerFailure, Transport
from tests.support.faulty import FaultyCustomer

LEAD_PATH = "/services/data/v62.0/sobjects/Lead/"
CUT_AT_S = 1.5  # the deadline a slow customer is cut at
# An answer due at a deadline must come before the deadline plus this: generous, since a loaded machine may be
# seconds late; a transport that ignored the deadline would wait for the hanging customer (60 s in faulty.py).
DEADLINE_MARGIN_S = 5.0


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def tls_customer(ca: trustme.CA, fault: str) -> FaultyCustomer:
    customer = FaultyCustomer(fault)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    customer.socket = context.wrap_socket(customer.socket, server_side=True)
    return customer


def deadline_in(seconds: float) -> Deadline:
    now = time.monotonic()
    return Deadline(customer_at=now + seconds, answer_at=now + seconds + 1)


@pytest.fixture
def transport(ca: trustme.CA, tmp_path) -> Iterator[Transport]:
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    client = Transport()
    client.session.verify = str(bundle)
    yield client
    client.session.close()


def url_of(customer: FaultyCustomer) -> str:
    return customer.base_url.replace("http://", "https://") + LEAD_PATH


def test_an_https_answer_is_read_and_the_connection_kept_alive(ca, transport):
    with tls_customer(ca, "ok") as customer:
        first = transport.post(url_of(customer), deadline_in(5), json_body={"LastName": "Dupré"})
        second = transport.post(url_of(customer), deadline_in(5), json_body={"LastName": "Martin"})
    assert (first.status, first.json()["id"]) == (201, "00Qfaulty0000001")
    assert second.status == 201
    assert len(customer.lead_posts) == 2


@pytest.mark.parametrize("fault", ["drip", "hang"])
def test_a_slow_https_customer_is_cut_at_the_deadline(ca, transport, fault):
    with tls_customer(ca, fault) as customer:
        started = time.monotonic()
        with pytest.raises(CustomerFailure) as failure:
            transport.post(url_of(customer), deadline_in(CUT_AT_S), json_body={"LastName": "Dupré"})
        elapsed = time.monotonic() - started
    assert failure.value.reason == "customer_timeout"
    assert elapsed < CUT_AT_S + DEADLINE_MARGIN_S, f"answered after {elapsed:.1f} s"
    assert len(customer.lead_posts) == 1


def test_an_untrusted_certificate_is_unreachable_and_not_retried(ca):
    with tls_customer(ca, "ok") as customer:
        with pytest.raises(CustomerFailure) as failure:
            Transport().post(url_of(customer), deadline_in(3), json_body={"LastName": "Dupré"})
    assert failure.value.reason == "customer_unreachable"
    assert customer.lead_posts == []
