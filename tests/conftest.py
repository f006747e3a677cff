"""Fixtures shared by the tiers: a Salesforce sandbox on a free port, the plug in process (functional tests).

`chalice local` and the built package are the integration tier's own (tests/integration/conftest.py).
The plug's records (transitions, metrics, failures) propagate to the root logger during tests, so that pytest's
`caplog` sees them.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from dispatcher.machine import ROOT_LOGGER
from sandbox.salesforce import CLIENT_ID, CLIENT_SECRET, SalesforceSandbox
from tests.support.project import make_project

logging.getLogger(ROOT_LOGGER).propagate = True  # the plug's one handler: the transitions', the metrics' records


def salesforce_env(login_url: str, **extra: str) -> dict[str, str]:
    """The stage variables of a Salesforce deployment at `login_url`."""
    return {
        "CUSTOMER": "salesforce",
        "SALESFORCE_LOGIN_URL": login_url,
        "SALESFORCE_CLIENT_ID": CLIENT_ID,
        "SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
        "SALESFORCE_API_VERSION": "v62.0",
        "CUSTOMER_TIMEOUT_S": "5",
        "ROLLBAR_ACCESS_TOKEN": "",
        "ROLLBAR_ENVIRONMENT": "test",
        **extra,
    }


@pytest.fixture(scope="session")
def salesforce() -> Iterator[SalesforceSandbox]:
    sandbox = SalesforceSandbox().start()
    yield sandbox
    sandbox.stop()


class InProcessPlug:
    """A fresh app through chalice.test.Client, with a stage of our own (functional tests)."""

    def __init__(self, environment: dict[str, str], lambda_timeout: int | None = None) -> None:
        from chalice.test import Client

        from app import create_app

        self.project = make_project("functional", environment, lambda_timeout)
        self.client = Client(create_app(), stage_name="functional", project_dir=str(self.project))

    def post(self, body: Any, content_type: str = "application/json") -> tuple[int, dict[str, Any]]:
        raw = body if isinstance(body, (bytes, str)) else json.dumps(body)
        raw = raw.encode("utf-8") if isinstance(raw, str) else raw
        response = self.client.http.post("/send", headers={"Content-Type": content_type}, body=raw)
        return response.status_code, json.loads(response.body)

    def close(self) -> None:
        shutil.rmtree(self.project, ignore_errors=True)


@pytest.fixture
def plug(salesforce: SalesforceSandbox) -> Iterator[InProcessPlug]:
    client = InProcessPlug(salesforce_env(salesforce.base_url))
    yield client
    client.close()


@pytest.fixture
def plug_for() -> Iterator[Any]:
    """Build in-process plugs for environments of the test's choosing."""
    made: list[InProcessPlug] = []

    def build(environment: dict[str, str], lambda_timeout: int | None = None) -> InProcessPlug:
        made.append(InProcessPlug(environment, lambda_timeout))
        return made[-1]

    yield build
    for client in made:
        client.close()
