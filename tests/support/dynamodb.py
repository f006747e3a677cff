"""A DynamoDB emulator for tests: moto's server mode, a real HTTP DynamoDB API on a free loopback port.

    with dynamodb_emulator() as endpoint:
        env = emulator_environment(endpoint)      # for a subprocess: boto3 finds the emulator by itself
        client = emulator_client(endpoint)        # for the test's own checks

boto3 (1.28 and later) reads AWS_ENDPOINT_URL_DYNAMODB itself, so the code under test keeps its production
path: nothing in it knows about the emulator. Each emulator starts empty; nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

REGION = "eu-west-3"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@contextmanager
def dynamodb_emulator() -> Iterator[str]:
    """moto's ThreadedMotoServer on 127.0.0.1 and a free port, for the duration of the block; its endpoint URL."""
    from moto.server import ThreadedMotoServer  # deferred: moto is a development dependency, heavy to import

    requests_log = logging.getLogger("werkzeug")  # one line per request, on standard error, otherwise
    level = requests_log.level
    requests_log.setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        requests_log.setLevel(level)


def emulator_environment(endpoint: str, base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """`base` (default: this process's environment) without any AWS setting of the machine, pointed at `endpoint`.

    The machine's own profile, config file or credentials must never be used by a test, even by mistake.
    """
    clean = {name: value for name, value in (os.environ if base is None else base).items()
             if not name.startswith("AWS_")}
    return {**clean, **FAKE_CREDENTIALS, "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true", **extra}


def emulator_client(endpoint: str) -> Any:
    """A boto3 DynamoDB client of the test itself, on the emulator."""
    import boto3

    return boto3.client("dynamodb", endpoint_url=endpoint, region_name=REGION,
                        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"])


def create_ledger_table(client: Any, table: str) -> None:
    """The table as scripts/ledger_table.py and the deploy artifacts make it (key `pk`, TTL on `expires_at`)."""
    from scripts.ledger_table import TABLE_DEFINITION, TTL_ATTRIBUTE

    client.create_table(TableName=table, **TABLE_DEFINITION)
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True,
                                                                        "AttributeName": TTL_ATTRIBUTE})
