"""Bad input never breaks the plug: over real HTTP to `chalice local`, every nasty body gets a 400 envelope,
never a 500. (Wrong types in every field, through the app in process: tests/functional/test_salesforce_plug.py.)
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.support.leads import make_lead

LEAD_BYTES = json.dumps(make_lead()).encode()

NASTY_BODIES = [
    pytest.param(b"[" * 100_000 + b"]" * 100_000, "application/json", id="deeply-nested-array"),
    pytest.param(b'{"extra": ' * 50_000 + b"1" + b"}" * 50_000, "application/json", id="deeply-nested-object"),
    pytest.param(b'{"comment": "' + b"a" * (5 * 1024 * 1024) + b'"}', "application/json", id="5MB-body"),
    pytest.param(b'{"first_name": "\xff\xfe\xc3\x28"}', "application/json", id="invalid-utf8"),
    pytest.param(LEAD_BYTES[:-1] + b', "score": NaN}', "application/json", id="NaN"),
    pytest.param(b"\xef\xbb\xbf" + LEAD_BYTES, "application/json", id="BOM"),
    pytest.param(LEAD_BYTES.replace(b'"first_name": "', b'"first_name": "\\u0000'), "application/json",
                 id="NUL-escape"),
    pytest.param(LEAD_BYTES.replace(b'"first_name": "', b'"first_name": "\x00'), "application/json", id="raw-NUL"),
    pytest.param(b"not json at all", "text/plain", id="text"),
    pytest.param(b"[1, 2, 3]", "application/json", id="array"),
    pytest.param(b'"a string"', "application/json", id="string"),
    pytest.param(b"null", "application/json", id="null"),
    pytest.param(b"1" * 5000, "application/json", id="huge-integer"),
    pytest.param(b"", "application/json", id="empty"),
    pytest.param(b"first_name=Jean&last_name=Dupont", "application/x-www-form-urlencoded", id="real-form"),
    pytest.param(LEAD_BYTES[:40], "application/json", id="truncated"),
    pytest.param(b"\x00\x01\x02\x03", "application/octet-stream", id="binary"),
    pytest.param(b"--b\r\nContent-Disposition: form-data; name=x\r\n\r\n1\r\n--b--", "multipart/form-data; boundary=b",
                 id="multipart"),
]


@pytest.mark.parametrize(("body", "content_type"), NASTY_BODIES)
def test_a_nasty_body_gets_the_400_envelope(local_plug, body, content_type):
    response = requests.post(local_plug.url, data=body, headers={"Content-Type": content_type}, timeout=30)
    assert response.status_code == 400, response.text[:300]
    envelope = response.json()
    assert envelope["error"]["state"] == "failed" and envelope["error"]["reason"] == "invalid_lead"
    assert envelope["error"]["missing_fields"] or envelope["error"]["invalid_fields"]
    assert envelope["request_details"] == {} and envelope["response_details"] == {"http_status_code": None}

