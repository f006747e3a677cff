"""Check an envelope against the contract's own files: openapi.yaml says which envelope a status has.

Nothing here reads the plug's code: the status -> `$defs` mapping comes from `contracts/openapi.yaml`,
the schemas from `contracts/envelope.schema.json`, resolved through a `referencing` registry.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
_ENVELOPE = json.loads((CONTRACTS / "envelope.schema.json").read_text(encoding="utf-8"))
_OPENAPI = yaml.safe_load((CONTRACTS / "openapi.yaml").read_text(encoding="utf-8"))
_REGISTRY = Registry().with_resource(_ENVELOPE["$id"], Resource.from_contents(_ENVELOPE))


def documented_statuses() -> set[int]:
    return {int(status) for status in _OPENAPI["paths"]["/send"]["post"]["responses"]}


@cache
def _validator(status: int) -> Draft202012Validator:
    responses = _OPENAPI["paths"]["/send"]["post"]["responses"]
    assert str(status) in responses, f"status {status} is not documented in openapi.yaml"
    ref = responses[str(status)]["content"]["application/json"]["schema"]["$ref"]
    document, _, fragment = ref.partition("#")
    assert document == "envelope.schema.json", ref
    return Draft202012Validator({"$ref": f"{_ENVELOPE['$id']}#{fragment}"}, registry=_REGISTRY)


def assert_envelope(status: int, envelope: Any) -> None:
    """Fail with every schema error when `envelope` is not the one openapi.yaml documents for `status`."""
    errors = sorted(_validator(status).iter_errors(envelope), key=lambda error: list(error.absolute_path))
    assert not errors, f"the {status} envelope breaks the contract:\n" + "\n".join(
        f"- {'/'.join(map(str, error.absolute_path)) or '(root)'}: {error.message}" for error in errors)
