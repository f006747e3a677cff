"""The ledger's store in a DynamoDB table (boto3, which the Lambda runtime provides): production's.

The table has a partition key `pk` (S) and TTL on `expires_at` (N); an item also holds `version` (N) and
`record` (S, JSON). A conditional PutItem is the compare-and-set, and `create` is one conditional PutItem that
returns the item already there when its condition fails (`ReturnValuesOnConditionCheckFailure=ALL_OLD`): a new
lead is claimed in one call, a replay read in the same one. The only two actions used are GetItem and PutItem,
which is all the function's policy grants. boto3 reads its standard environment (region, credentials,
`AWS_ENDPOINT_URL_DYNAMODB`).

Bounded by the lead's deadline (`store.time_left()`), retries included: botocore's own retries are off, and
each call runs on a client whose connect and read timeouts fit in the time left (clients by timeout step,
made once per container); a throttled or failing call is retried here, with jittered backoff, while time is
left, then the store is unavailable. Never an answer after the deadline, never a loop without end.
"""

from __future__ import annotations

import json
import random
import threading
import time
from typing import Any

from dispatcher.ledger.store import (
    NO_VERSION,
    RECORD_JSON,
    Item,
    NoTimeLeft,
    Store,
    StoreUnavailable,
    time_left,
    unreadable,
)

TIMEOUT_STEPS_S = (0.1, 0.25, 0.5, 1.0, 2.0)  # a call's connect and read timeouts: the largest step that fits
MAX_ATTEMPTS = 6
BACKOFF_S = 0.05  # the first retry's pause; doubled each time, jittered, never beyond the time left
# DynamoDB's documented retryable errors (throttling, its 5xx): the call may be sent again as it is.
RETRYABLE = frozenset({"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
                       "InternalServerError", "ServiceUnavailable", "LimitExceededException"})
CONDITION_FAILED = "ConditionalCheckFailedException"


class DynamoStore(Store):
    """Its boto3 clients are made at the first call, not when the plug is built: `chalice package` and `chalice
    deploy` import the app with the stage's variables, where no AWS region or credentials need to be. A client
    given (a test's) is used for every call, its own timeouts and retries as they are."""

    remote = True

    def __init__(self, table: str, client: Any = None, **client_args: Any) -> None:
        self.table = table
        self._given = client
        self._client_args = client_args  # e.g. endpoint_url and credentials of an emulator (tests)
        self._clients: dict[float, Any] = {}
        self._session: Any = None
        self._lock = threading.Lock()
        self.calls = 0  # DynamoDB calls made (attempts included), for the bench and the tests

    def _client(self, step_s: float) -> Any:
        if self._given is not None:
            return self._given
        client = self._clients.get(step_s)
        if client is None:
            with self._lock:
                client = self._clients.get(step_s)
                if client is None:
                    try:
                        client = self._clients[step_s] = _client(self._shared_session(), step_s,
                                                                          self._client_args)
                    except Exception as exc:  # no region, a broken profile: unreachable all the same
                        raise StoreUnavailable(f"no DynamoDB client for {self.table}: {exc}") from exc
        return client

    def _shared_session(self) -> Any:
        if self._session is None:
            import boto3

            self._session = boto3.session.Session()
        return self._session

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One DynamoDB call, retried on throttling and 5xx while the deadline allows; a failed condition is
        raised as is (ClientError) for the caller to read."""
        from botocore.exceptions import BotoCoreError, ClientError

        pause = BACKOFF_S
        for attempt in range(1, MAX_ATTEMPTS + 1):
            left = time_left()
            fitting = [step for step in TIMEOUT_STEPS_S if 2 * step <= left]
            if not fitting:
                raise NoTimeLeft(f"no time left for the DynamoDB ledger {self.table} ({left:.2f} s)")
            self.calls += 1
            try:
                table = {} if operation == "transact_write_items" else {"TableName": self.table}
                return getattr(self._client(fitting[-1]), operation)(**table, **kwargs)
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == CONDITION_FAILED or (code == "TransactionCanceledException" and _condition_failed(exc)):
                    raise
                failure: Exception = exc
                if code not in RETRYABLE:
                    break
            except BotoCoreError as exc:  # a timeout, a connection refused or reset
                failure = exc
            if attempt == MAX_ATTEMPTS:
                break
            sleep = random.uniform(pause / 2, pause)
            if time_left() - sleep < 2 * TIMEOUT_STEPS_S[0]:
                break
            time.sleep(sleep)
            pause *= 2
        raise StoreUnavailable(f"the DynamoDB ledger {self.table} did not answer in time: {failure}") from failure

    def get(self, key: str) -> Item | None:
        answer = self._call("get_item", Key={"pk": {"S": key}}, ConsistentRead=True)
        found = answer.get("Item")
        return None if found is None else _item(key, found)

    def put(self, item: Item, expected_version: int | None) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call("put_item", Item=_attributes(item), **_condition(expected_version))
        except ClientError:  # only a failed condition reaches here
            return False
        return True

    def put_also(self, item: Item, expected_version: int | None, also: Item) -> bool:
        """One TransactWriteItems (one call; its two Puts need the PutItem permission the policy grants): the
        conditional write, and `also` over whatever is there."""
        from botocore.exceptions import ClientError

        try:
            self._call("transact_write_items", TransactItems=[
                {"Put": {"TableName": self.table, "Item": _attributes(item), **_condition(expected_version)}},
                {"Put": {"TableName": self.table, "Item": _attributes(also)}}])
        except ClientError as exc:  # a transaction cancelled by the condition
            reasons = exc.response.get("CancellationReasons") or []
            if exc.response.get("Error", {}).get("Code") == "TransactionCanceledException" and reasons \
                    and reasons[0].get("Code") == "ConditionalCheckFailed":
                return False
            raise StoreUnavailable(f"the DynamoDB ledger {self.table} cannot be written: {exc}") from exc
        return True

    def create(self, item: Item) -> Item | None:
        from botocore.exceptions import ClientError

        try:
            self._call("put_item", Item=_attributes(item), ReturnValuesOnConditionCheckFailure="ALL_OLD",
                       **_condition(None))
        except ClientError as exc:
            old = exc.response.get("Item")
            if isinstance(old, dict) and old:
                return _item(item.key, old)
            return super().create(item)  # a DynamoDB that did not return the item: read it
        return None


def _condition_failed(exc: Any) -> bool:
    reasons = exc.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


def _condition(expected_version: int | None) -> dict[str, Any]:
    if expected_version is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    if expected_version == NO_VERSION:  # a row of another shape: replace it only while it is still one
        return {"ConditionExpression": "attribute_exists(pk) AND NOT attribute_type(version, :number)",
                "ExpressionAttributeValues": {":number": {"S": "N"}}}
    return {"ConditionExpression": "version = :expected",
            "ExpressionAttributeValues": {":expected": {"N": str(expected_version)}}}


def _attributes(item: Item) -> dict[str, Any]:
    return {"pk": {"S": item.key}, "version": {"N": str(item.version)},
            "record": {"S": RECORD_JSON.encode(item.record)},
            "expires_at": {"N": str(item.expires_at)}}


def _item(key: str, found: dict[str, Any]) -> Item:
    """The item as stored; one of another shape (no version, a record that is not JSON) is unreadable."""
    expires_at = _number(found.get("expires_at"))
    version = _number(found.get("version"))
    if version is None:
        return unreadable(key, "no numeric version", expires_at=expires_at)
    raw = found.get("record")
    try:
        record = json.loads(raw["S"]) if isinstance(raw, dict) and isinstance(raw.get("S"), str) else None
    except (ValueError, RecursionError):
        record = None
    if not isinstance(record, dict):
        return unreadable(key, "its record is not a JSON object", version, expires_at)
    return Item(key, version, record, expires_at if expires_at is not None else int(time.time()) + 3600)


def _number(attribute: Any) -> int | None:
    try:
        return int(attribute["N"]) if isinstance(attribute, dict) and "N" in attribute else None
    except (TypeError, ValueError):
        return None


def _client(session: Any, step_s: float, client_args: dict[str, Any]) -> Any:
    """A DynamoDB client whose timeouts are `step_s` and which never retries by itself (the store does, bounded).

    botocore's own check of each request against the service model is off (`parameter_validation`, which its
    documentation says may be disabled "for performance reasons"): the store sends four fixed request shapes, built
    here and exercised by the tests on the emulator, and DynamoDB checks every request itself (a malformed one is
    a ValidationException: the store is unavailable, as a failed botocore check made it)."""
    from botocore.config import Config

    return session.client("dynamodb", config=Config(connect_timeout=step_s, read_timeout=step_s,
                                                     retries={"total_max_attempts": 1, "mode": "standard"},
                                                     parameter_validation=False),
                          **client_args)
