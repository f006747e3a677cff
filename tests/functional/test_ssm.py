"""Secrets from SSM Parameter Store: a variable holding `ssm:<name>` is read, decrypted, once,
against moto's SSM server (a real HTTP API on a loopback port, found by boto3 through AWS_ENDPOINT_URL_SSM as
a real endpoint would be), and the value is a credential: masked in the envelope even when the customer echoes
it, never in a log line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parameters import base

from dispatcher.errors import ConfigurationError
from dispatcher.plug import PlugHolder, build_plug
from sandbox.salesforce import CLIENT_SECRET, SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.dynamodb import FAKE_CREDENTIALS, REGION, dynamodb_emulator
from tests.support.leads import make_lead

SECRET_NAME = "/lead-plug/salesforce-prod/salesforce-client-secret"


@pytest.fixture(scope="module")
def ssm_endpoint() -> Iterator[str]:
    with dynamodb_emulator() as endpoint:  # moto's server answers every service, SSM included
        yield endpoint


@pytest.fixture
def ssm(ssm_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """This process pointed at the emulator (boto3's own variables), Powertools' cache emptied; a test client."""
    import boto3

    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name, value in {**FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL_SSM": ssm_endpoint,
                        "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(name, value)
    base.DEFAULT_PROVIDERS.clear()
    client = boto3.client("ssm", endpoint_url=ssm_endpoint, region_name=REGION)
    yield client
    base.DEFAULT_PROVIDERS.clear()


def test_a_securestring_parameter_is_read_decrypted_and_serves_the_customer(ssm, salesforce: SalesforceSandbox,
                                                                            plug_for):
    ssm.put_parameter(Name=SECRET_NAME, Value=CLIENT_SECRET, Type="SecureString", Overwrite=True)
    environment = salesforce_env(salesforce.base_url, SALESFORCE_CLIENT_SECRET=f"ssm:{SECRET_NAME}")
    plug = build_plug(environment)
    assert CLIENT_SECRET in plug.credentials, "the value read is masked like any credential"
    assert plug.secrets == (CLIENT_SECRET,)
    status, envelope = plug_for(environment).post(make_lead())
    assert status == 201, envelope  # the sandbox accepted the token asked with the decrypted secret


def test_the_value_is_read_once_per_container(ssm, salesforce: SalesforceSandbox):
    ssm.put_parameter(Name=SECRET_NAME, Value=CLIENT_SECRET, Type="SecureString", Overwrite=True)
    environment = salesforce_env(salesforce.base_url, SALESFORCE_CLIENT_SECRET=f"ssm:{SECRET_NAME}")
    build_plug(environment)
    ssm.put_parameter(Name=SECRET_NAME, Value="rotated-meanwhile", Type="SecureString", Overwrite=True)
    assert build_plug(environment).secrets == (CLIENT_SECRET,), "cached for the container's life"


def test_a_missing_parameter_stops_the_start_naming_the_variable_and_the_parameter(ssm, caplog):
    environment = salesforce_env("http://127.0.0.1:9", AWS_LAMBDA_FUNCTION_NAME="lead-plug-salesforce-prod",
                                 LEDGER="off", SALESFORCE_CLIENT_SECRET="ssm:/lead-plug/nowhere/secret")
    with pytest.raises(ConfigurationError) as refused:
        PlugHolder(environment)
    message = str(refused.value)
    assert message.startswith("SALESFORCE_CLIENT_SECRET: SSM parameter /lead-plug/nowhere/secret cannot be read")
    assert "ParameterNotFound" in message and "\n" not in message


def test_the_cli_checks_the_configuration_without_reading_ssm(monkeypatch: pytest.MonkeyPatch):
    """`chalice package` imports the app with the stage's variables on a machine that may not reach SSM."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_SSM", "http://127.0.0.1:9")
    environment = salesforce_env("http://127.0.0.1:9", SALESFORCE_CLIENT_SECRET=f"ssm:{SECRET_NAME}")
    holder = PlugHolder(environment)  # no error: the stand-in passes the checks, nothing is read
    with pytest.raises(ConfigurationError, match="SALESFORCE_LOGIN_URL"):
        PlugHolder({**environment, "SALESFORCE_LOGIN_URL": "not a url"})
    assert holder._plug is None, "the secrets are read where the plug runs, at its first lead"


def test_a_webhook_token_from_ssm_is_a_credential_of_the_plug_and_never_printed(ssm, capsys):
    """Among the plug's credentials, the values every envelope, log line and Rollbar item is masked of."""
    ssm.put_parameter(Name="/lead-plug/acme-prod/acme-token", Value="tok-ssm-9f8e7d", Type="SecureString",
                      Overwrite=True)
    plug = build_plug({"CUSTOMER": "webhook", "WEBHOOK_CONFIG": "customers/acme-json.json",
                       "ACME_URL": "http://127.0.0.1:9/v1/leads", "ACME_TOKEN": "ssm:/lead-plug/acme-prod/acme-token"})
    assert "tok-ssm-9f8e7d" in plug.credentials
    assert plug.customer_id == "webhook-acme-json"
    assert "tok-ssm-9f8e7d" not in json.dumps(capsys.readouterr().out)
