"""Our own schemathesis checks, beside the built-in ones: what the contract promises for any input: a
documented status, its envelope, never a 504, no credential.

They are registered globally with `@schemathesis.check` when this module is imported, so every
`case.call_and_validate()` (and a `schemathesis run` given this module as hooks) runs them. They read
the contract files themselves, not the plug's code: a bug in the plug's envelopes cannot hide here.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import schemathesis
from jsonschema import Draft202012Validator

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
_ENVELOPE = json.loads((CONTRACTS / "envelope.schema.json").read_text(encoding="utf-8"))

# A documented status -> the envelope for that status (by its name in envelope.schema.json).
ENVELOPE_OF_STATUS = {
    200: "success", 201: "success", 202: "success",
    400: "invalid_lead", 401: "unauthorized", 404: "not_found", 406: "refused", 409: "duplicate",
    500: "internal_error", 502: "customer_failure",
}
_validators = {name: Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": _ENVELOPE["$defs"]})
               for name in set(ENVELOPE_OF_STATUS.values())}

# Keys that name a credential, wherever they appear in an envelope (case-insensitive).
CREDENTIAL_KEYS = frozenset({"access_token", "refresh_token", "id_token", "client_secret", "client_id",
                             "authorization", "password", "api_key", "x-api-key", "signature", "token"})

_known_secrets: Callable[[], Iterable[str]] = tuple


def watch_secrets(provider: Callable[[], Iterable[str]]) -> None:
    """Tell `no_credential_in_envelope` which secret values exist (the client secret, tokens issued so far)."""
    global _known_secrets
    _known_secrets = provider


def _is_send(response: schemathesis.Response) -> bool:
    # Only POST /send promises an envelope; an undeclared method is answered by the router (405), not the plug.
    return response.request.method == "POST"


def _envelope(response: schemathesis.Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise AssertionError(f"POST /send answered {response.status_code} with a body that is not JSON: "
                             f"{response.content[:200]!r}") from None


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(path, key, value) of every item of a JSON document, keys included."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"{path}.{key}", key, item
            yield from _walk(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield f"{path}[{index}]", None, item
            yield from _walk(item, f"{path}[{index}]")


@schemathesis.check
def never_504(ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case) -> bool:
    """504 is the platform's own timeout status: the plug never answers it, whatever the input."""
    assert response.status_code != 504, "The plug answered 504, a status reserved for the platform's timeouts"
    return True


@schemathesis.check
def envelope_for_status(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                        case: schemathesis.Case) -> bool | None:
    """Every answer of POST /send is the envelope (success or error) that its status calls for."""
    if not _is_send(response):
        return None
    name = ENVELOPE_OF_STATUS.get(response.status_code)
    assert name is not None, f"POST /send answered {response.status_code}, a status the contract does not list"
    content_type = ";".join(response.headers.get("content-type", [])).split(";")[0].strip().lower()
    assert content_type == "application/json", f"POST /send answered {response.status_code} as {content_type!r}"
    envelope = _envelope(response)
    errors = sorted(_validators[name].iter_errors(envelope), key=lambda error: str(list(error.absolute_path)))
    where = "; ".join(f"{'.'.join(map(str, e.absolute_path)) or 'body'}: {e.message}" for e in errors[:3])
    assert not errors, f"The {response.status_code} answer is not the `{name}` envelope: {where}"
    return True


@schemathesis.check
def no_credential_in_envelope(ctx: schemathesis.CheckContext, response: schemathesis.Response,
                              case: schemathesis.Case) -> bool | None:
    """No credential in an envelope (request_details above all): no client secret, no issued bearer token, no
    key that names a credential. The sandbox tells which secrets exist, so a lead that merely says "token" passes."""
    if not _is_send(response):
        return None
    envelope = _envelope(response)
    secrets = [secret for secret in _known_secrets() if secret]
    for path, key, value in _walk(envelope):
        named_credential = isinstance(key, str) and key.lower() in CREDENTIAL_KEYS
        assert not named_credential, f"A credential key in the envelope: {path}"
        if isinstance(value, str):
            assert not any(secret in value for secret in secrets), f"A credential value in the envelope at {path}"
    return True
