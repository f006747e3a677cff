#!/usr/bin/env python3
"""Create, describe or delete the delivery ledger's DynamoDB table (on-demand, TTL on the expiry attribute).

    scripts/ledger_table.py create --table lead-plug-zoho-prod-ledger   # once, before `chalice deploy` of that stage
    scripts/ledger_table.py describe --table lead-plug-zoho-prod-ledger
    scripts/ledger_table.py delete --table lead-plug-zoho-testing-ledger --yes

`chalice deploy` makes the function and its role but no table, so this command makes it: on-demand, partition
key `pk` (string), TTL on `expires_at`; it waits until the table is ACTIVE. Running it again is harmless: an
existing table of the right shape is reported (and its TTL switched on if it was off), with exit code 0.
(`chalice package` needs none of this: its SAM and Terraform outputs hold the table, see deploy/.)

boto3's standard environment chooses where: AWS_PROFILE or the credential variables, AWS_REGION or
AWS_DEFAULT_REGION, and AWS_ENDPOINT_URL_DYNAMODB for a local emulator. Exit code: 0 done, 1 an AWS error or a
table of another shape (one line on standard error), 2 a usage error.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import Any

import boto3
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    WaiterError,
)

KEY = "pk"  # the partition key, a string; no sort key
TTL_ATTRIBUTE = "expires_at"  # epoch seconds; DynamoDB deletes an item some time after it passes
TABLE_DEFINITION: dict[str, Any] = {
    "AttributeDefinitions": [{"AttributeName": KEY, "AttributeType": "S"}],
    "KeySchema": [{"AttributeName": KEY, "KeyType": "HASH"}],
    "BillingMode": "PAY_PER_REQUEST",
}
POLL_S = 2  # DynamoDB makes an on-demand table ACTIVE in seconds; the waiters' default 20 s would triple that
OK, FAILED, USAGE = 0, 1, 2


class TableError(Exception):
    """The table exists but cannot serve as the ledger as it is; the message says what to change."""


def where(client: BaseClient) -> str:
    """The region and endpoint boto3 chose, so that a line never leaves the operator guessing which account."""
    return f"{client.meta.region_name}, {client.meta.endpoint_url}"


def wait_for(client: BaseClient, waiter_name: str, table: str, wait_s: float) -> None:
    client.get_waiter(waiter_name).wait(
        TableName=table, WaiterConfig={"Delay": POLL_S, "MaxAttempts": max(1, math.ceil(wait_s / POLL_S))})


def check_shape(table: dict[str, Any]) -> None:
    """Refuse a table whose key is not the ledger's: every read and write of the plug would fail on it."""
    key_schema = table.get("KeySchema", [])
    types = {attribute["AttributeName"]: attribute["AttributeType"]
             for attribute in table.get("AttributeDefinitions", [])}
    if key_schema != TABLE_DEFINITION["KeySchema"] or types.get(KEY) != "S":
        found = ", ".join(f"{part['AttributeName']} ({part['KeyType']}, {types.get(part['AttributeName'])})"
                          for part in key_schema)
        raise TableError(f"table {table['TableName']} exists with key {found}; the ledger needs {KEY} "
                         f"(HASH, S) alone: delete it or choose another name")


def billing(table: dict[str, Any]) -> str:
    mode = table.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED")
    return "on-demand" if mode == "PAY_PER_REQUEST" else "provisioned capacity (not on-demand)"


def ensure_ttl(client: BaseClient, table: str) -> str:
    """TTL on `expires_at`, switched on if it is off; what was done, for the closing line."""
    ttl = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    status, attribute = ttl.get("TimeToLiveStatus", "DISABLED"), ttl.get("AttributeName")
    if status in ("ENABLED", "ENABLING") and attribute == TTL_ATTRIBUTE:
        return f"TTL on {TTL_ATTRIBUTE}"
    if status != "DISABLED":
        raise TableError(f"table {table} has TTL {status.lower()} on {attribute}; the ledger's items expire "
                         f"through {TTL_ATTRIBUTE}: switch it there (DynamoDB allows one TTL change an hour)")
    client.update_time_to_live(TableName=table,
                               TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE})
    return f"TTL on {TTL_ATTRIBUTE} switched on"


def create(client: BaseClient, args: argparse.Namespace) -> int:
    try:
        client.create_table(TableName=args.table, **TABLE_DEFINITION)
    except client.exceptions.ResourceInUseException:
        verb = "exists already"
    else:
        verb = "created"
        print(f"creating {args.table} ({where(client)}), waiting until it is ACTIVE", flush=True)
    wait_for(client, "table_exists", args.table, args.wait_s)
    table = client.describe_table(TableName=args.table)["Table"]
    check_shape(table)
    ttl = ensure_ttl(client, args.table)
    print(f"{args.table} {verb} ({where(client)}): {table['TableStatus']}, {billing(table)}, key {KEY} (S), {ttl}")
    return OK


def describe(client: BaseClient, args: argparse.Namespace) -> int:
    try:
        table = client.describe_table(TableName=args.table)["Table"]
    except client.exceptions.ResourceNotFoundException:
        print(f"ledger_table: no table {args.table} ({where(client)})", file=sys.stderr)
        return FAILED
    ttl = client.describe_time_to_live(TableName=args.table)["TimeToLiveDescription"]
    key = ", ".join(f"{part['AttributeName']} ({part['KeyType']})" for part in table.get("KeySchema", []))
    print(f"{args.table} ({where(client)})\n"
          f"  arn:    {table.get('TableArn')}\n"
          f"  status: {table['TableStatus']}, {billing(table)}\n"
          f"  key:    {key}\n"
          f"  ttl:    {ttl.get('TimeToLiveStatus', 'DISABLED')} on {ttl.get('AttributeName', '-')}\n"
          f"  items:  about {table.get('ItemCount', 0)} (DynamoDB updates this count every few hours)")
    return OK


def delete(client: BaseClient, args: argparse.Namespace) -> int:
    if not args.yes:
        print(f"ledger_table: deleting {args.table} forgets every delivery it remembers, so a retried lead "
              "could be sold twice: add --yes to go on", file=sys.stderr)
        return USAGE
    try:
        client.delete_table(TableName=args.table)
    except client.exceptions.ResourceNotFoundException:
        print(f"no table {args.table} ({where(client)}): nothing to delete")
        return OK
    wait_for(client, "table_not_exists", args.table, args.wait_s)
    print(f"{args.table} deleted ({where(client)})")
    return OK


COMMANDS: dict[str, Callable[[BaseClient, argparse.Namespace], int]] = {
    "create": create, "describe": describe, "delete": delete}


def error_line(exc: Exception, args: argparse.Namespace) -> str:
    """One line an operator can act on, in place of botocore's traceback."""
    if isinstance(exc, NoRegionError):
        return "no AWS region: set AWS_REGION or AWS_DEFAULT_REGION (or a region in the profile)"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, EndpointConnectionError):
        return f"cannot reach DynamoDB at {exc.kwargs.get('endpoint_url')}"
    if isinstance(exc, WaiterError):
        answer = exc.last_response or {}
        last = answer.get("Table", {}).get("TableStatus") or answer.get("Error", {}).get("Code", "no answer")
        goal = "ACTIVE" if args.command == "create" else "gone"
        return f"{args.table} is not {goal} after {args.wait_s:g} s (last seen: {last}); --wait-s gives more time"
    return str(exc).replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--table", required=True, help="the table's name, as in the stage's LEDGER=dynamodb:NAME")
    parser.add_argument("--wait-s", type=float, default=300.0, help="how long to wait for ACTIVE (or gone)")
    parser.add_argument("--yes", action="store_true", help="delete: yes, delete the table and what it holds")
    args = parser.parse_args(argv)
    try:
        client = boto3.client("dynamodb", config=Config(connect_timeout=5, read_timeout=30))
        return COMMANDS[args.command](client, args)
    except TableError as exc:
        print(f"ledger_table: {exc}", file=sys.stderr)
    except (BotoCoreError, ClientError) as exc:
        print(f"ledger_table: {error_line(exc, args)}", file=sys.stderr)
    return FAILED


if __name__ == "__main__":
    sys.exit(main())
