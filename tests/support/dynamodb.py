"""A DynamoDB emulator speaking DynamoDB's real HTTP API on 127.0.0.1 (moto's server mode), for the ledger.

The suite starts and stops it itself; boto3 reaches it through its own standard variable,
`AWS_ENDPOINT_URL_DYNAMODB`, with fake credentials and a region.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from moto.server import ThreadedMotoServer

FAKE_AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-3"}


@contextmanager
def dynamodb_emulator() -> Iterator[str]:
    """Start the emulator on a free port; yield its endpoint URL."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def create_ledger_table(client: object, table: str) -> None:
    """The table as the deploy artifacts make it: key `pk` (S), on demand, TTL on `expires_at`."""
    client.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],  # type: ignore[attr-defined]
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                        BillingMode="PAY_PER_REQUEST")
    client.update_time_to_live(TableName=table, TimeToLiveSpecification={  # type: ignore[attr-defined]
        "Enabled": True, "AttributeName": "expires_at"})
