"""Environments and fixtures for the Zoho and webhook customers (the variables a stage of theirs holds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sandbox.webhook import ACME_TOKEN, SOLARIS_KEY, WebhookSandbox
from sandbox.zoho import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, ZohoSandbox

ROOT = Path(__file__).resolve().parents[2]
COMMON = {"CUSTOMER_TIMEOUT_S": "5", "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "test"}


def zoho_env(zoho: ZohoSandbox, **extra: str) -> dict[str, str]:
    return {**COMMON, "CUSTOMER": "zoho", "ZOHO_ACCOUNTS_URL": zoho.base_url, "ZOHO_CLIENT_ID": CLIENT_ID,
            "ZOHO_CLIENT_SECRET": CLIENT_SECRET, "ZOHO_REFRESH_TOKEN": REFRESH_TOKEN, "ZOHO_API_VERSION": "v8",
            **extra}


def acme_env(acme: WebhookSandbox, **extra: str) -> dict[str, str]:
    """The stage of customers/acme-json.json, as .chalice/config.json's acme-dev but on the test's port."""
    return {**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": "customers/acme-json.json",
            "ACME_URL": acme.lead_url, "ACME_TOKEN": ACME_TOKEN, **extra}


def solaris_env(solaris: WebhookSandbox, **extra: str) -> dict[str, str]:
    return {**COMMON, "CUSTOMER": "webhook", "WEBHOOK_CONFIG": "customers/solaris-form.json",
            "SOLARIS_URL": solaris.lead_url, "SOLARIS_KEY": SOLARIS_KEY, **extra}


def fixture_cases(folder: str) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(file name, lead, expectation) of a fixtures folder, in the order they are meant to be sent (its
    expected.json names each by its id, the file name without `.json`, as fixtures/expected.json does)."""
    base = ROOT / "fixtures" / folder
    expected = json.loads((base / "expected.json").read_text(encoding="utf-8"))
    return [(f"{fixture_id}.json", json.loads((base / f"{fixture_id}.json").read_text(encoding="utf-8")), expectation)
            for fixture_id, expectation in sorted(expected.items())]
