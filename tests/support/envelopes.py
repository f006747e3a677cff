"""Check an answer against contracts/envelope.schema.json: the success or the error envelope."""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator

from dispatcher.contract import CONTRACTS_DIR

_SCHEMA = json.loads((CONTRACTS_DIR / "envelope.schema.json").read_text(encoding="utf-8"))
_SUCCESS = Draft202012Validator({**_SCHEMA, "$ref": "#/$defs/success"})
_ERROR = Draft202012Validator({**_SCHEMA, "$ref": "#/$defs/error"})


def assert_envelope(status: int, envelope: dict[str, Any]) -> None:
    validator = _SUCCESS if status in (200, 201, 202) else _ERROR
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(envelope)]
    assert not errors, f"HTTP {status} answered with no envelope of the contract: {errors}"
