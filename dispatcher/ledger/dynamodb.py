"""The ledger's store in a DynamoDB table (boto3, which the Lambda runtime provides): production's.

The table has a partition key `pk` (S) and TTL on `expires_at` (N); an item also holds `version` (N) and
`record` (S, JSON). A conditional PutItem is the compare-and-set: the only two actions used are GetItem and
PutItem, which is all the function's policy grants. boto3 reads its standard environment (region,
credentials, `AWS_ENDPOINT_URL_DYNAMODB`); timeouts and retries are short, so that a slow DynamoDB answers
within the lead's deadline, as `ledger_unavailable`.
"""

from __future__ import annotations

import json
import threading
from typing import Any

from dispatcher.ledger.store import Item, Store, StoreUnavailable

CONNECT_TIMEOUT_S = 1.0
READ_TIMEOUT_S = 2.0


class DynamoStore(Store):
    """Its boto3 client is made at the first call, not when the plug is built: `chalice package` and `chalice
    deploy` import the app with the stage's variables, where no AWS region or credentials need to be."""

    remote = True

    def __init__(self, table: str, client: Any = None) -> None:
        self.table = table
        self._made_client = client
        self._lock = threading.Lock()

    @property
    def _client(self) -> Any:
        if self._made_client is None:
            with self._lock:
                if self._made_client is None:
                    try:
                        self._made_client = _client()
                    except Exception as exc:  # no region, a broken profile: unreachable all the same
                        raise StoreUnavailable(f"no DynamoDB client for {self.table}: {exc}") from exc
        return self._made_client

    def get(self, key: str) -> Item | None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            answer = self._client.get_item(TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True)
        except (BotoCoreError, ClientError) as exc:
            raise StoreUnavailable(f"the DynamoDB ledger {self.table} cannot be read: {exc}") from exc
        found = answer.get("Item")
        if found is None:
            return None
        return Item(key, int(found["version"]["N"]), json.loads(found["record"]["S"]), int(found["expires_at"]["N"]))

    def put(self, item: Item, expected_version: int | None) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError

        if expected_version is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {"ConditionExpression": "version = :expected",
                         "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}}}
        try:
            self._client.put_item(TableName=self.table, Item={
                "pk": {"S": item.key}, "version": {"N": str(item.version)},
                "record": {"S": json.dumps(item.record, separators=(",", ":"))},
                "expires_at": {"N": str(item.expires_at)}}, **condition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise StoreUnavailable(f"the DynamoDB ledger {self.table} cannot be written: {exc}") from exc
        except BotoCoreError as exc:
            raise StoreUnavailable(f"the DynamoDB ledger {self.table} cannot be written: {exc}") from exc
        return True


def _client() -> Any:
    """A DynamoDB client from boto3's standard environment, imported only when this backend is configured."""
    import boto3
    from botocore.config import Config

    return boto3.client("dynamodb", config=Config(connect_timeout=CONNECT_TIMEOUT_S, read_timeout=READ_TIMEOUT_S,
                                                  retries={"max_attempts": 2, "mode": "standard"}))
