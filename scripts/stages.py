#!/usr/bin/env python3
"""Write a customer's release stages, `<name>-testing` and `<name>-prod`, into .chalice/config.json from its
one description, deploy/releases/<name>.json (docs/deploying.md walks a new customer's release).

    scripts/stages.py                 (re)writes the release stages of every description
    scripts/stages.py zoho acme       only these customers'
    scripts/stages.py --check         exits 1, naming the stage, when config.json differs from the descriptions

A description holds what is the customer's own: its integration (`customer`), the variables both stages share
(`variables`) and each stage's own (`testing`, `prod`). `{stage}` in a value is the stage's name, so that each
stage reads its secrets from its own SSM parameters (`ssm:/lead-plug/{stage}/...`). The rest is the same for
every customer and derived here: the customer id, Rollbar, the deadline, the API key, the ledger, the policy
and the log retention. Everything a deployment needs beyond the stage (the table, the role's grants, the alarms,
the dashboard, the API key) is derived from the stage at `make package` (scripts/package.py), never written
by hand per stage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / ".chalice" / "config.json"
RELEASES = ROOT / "deploy" / "releases"
RELEASE_KINDS = ("testing", "prod")
NAME = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
POLICY_FILE = "policy-release.json"  # what `chalice deploy` would use; `make package` replaces it (see there)
ROLLBAR_ENVIRONMENT = {"testing": "testing", "prod": "production"}
APP = "lead-plug"


class DescriptionError(Exception):
    """A description that cannot make stages; the message names the file and the key."""


def ledger_table(stage: str) -> str:
    """The ledger's table name for `chalice deploy` and Terraform, derived from the stage (SAM lets
    CloudFormation name it)."""
    return f"{APP}-{stage}-ledger"


def read_description(path: Path) -> dict[str, Any]:
    try:
        description = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DescriptionError(f"{path.relative_to(ROOT)}: {exc}") from None
    name = path.stem
    if not NAME.fullmatch(name):
        raise DescriptionError(f"{path.relative_to(ROOT)}: the file's name is the customer id: lower-case letters, "
                               f"digits and dashes")
    unknown = set(description) - {"description", "customer", "variables", *RELEASE_KINDS}
    if unknown or not isinstance(description.get("customer"), str):
        raise DescriptionError(f"{path.relative_to(ROOT)}: needs `customer` (the integration), may hold "
                               f"`variables`, `testing`, `prod`; unknown: {sorted(unknown)}")
    for key in ("variables", *RELEASE_KINDS):
        values = description.get(key, {})
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise DescriptionError(f"{path.relative_to(ROOT)}: `{key}` maps variable names to strings")
    return description


def release_stages(name: str, description: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`<name>-testing` and `<name>-prod`, as .chalice/config.json holds them."""
    stages = {}
    for kind in RELEASE_KINDS:
        stage = f"{name}-{kind}"
        variables = {
            "CUSTOMER": description["customer"],
            "CUSTOMER_ID": name,
            "ROLLBAR_ACCESS_TOKEN": f"ssm:/lead-plug/{stage}/rollbar-access-token",
            "ROLLBAR_ENVIRONMENT": ROLLBAR_ENVIRONMENT[kind],
            "CUSTOMER_TIMEOUT_S": "20",
            "API_KEY_REQUIRED": "true",
            "LEDGER": f"dynamodb:{ledger_table(stage)}",
            **description.get("variables", {}),
            **description.get(kind, {}),
        }
        stages[stage] = {
            "api_gateway_stage": "api",
            "autogen_policy": False,
            "iam_policy_file": POLICY_FILE,
            "environment_variables": {key: value.replace("{stage}", stage) for key, value in variables.items()},
        }
    return stages


def described(names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """Every release stage the descriptions (or these customers') make."""
    paths = sorted(RELEASES.glob("*.json")) if not names else [RELEASES / f"{name}.json" for name in names]
    stages: dict[str, dict[str, Any]] = {}
    for path in paths:
        if not path.is_file():
            raise DescriptionError(f"no {path.relative_to(ROOT)}: write the customer's description first "
                                   f"(docs/deploying.md)")
        stages.update(release_stages(path.stem, read_description(path)))
    return stages


def is_release(stage: str, config: dict[str, Any]) -> bool:
    return stage.endswith(tuple(f"-{kind}" for kind in RELEASE_KINDS)) and \
        config.get("iam_policy_file") == POLICY_FILE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("names", nargs="*", help="customer ids (deploy/releases/<name>.json); default: all")
    parser.add_argument("--check", action="store_true", help="exit 1 if config.json differs from the descriptions")
    args = parser.parse_args(argv)
    try:
        wanted = described(args.names)
    except DescriptionError as exc:
        print(f"stages: {exc}", file=sys.stderr)
        return 1
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    stages = config.setdefault("stages", {})
    if args.check:
        stale = sorted(name for name, stage in wanted.items() if stages.get(name) != stage)
        orphans = [] if args.names else sorted(name for name, stage in stages.items()
                                               if is_release(name, stage) and name not in wanted)
        for name in stale:
            print(f".chalice/config.json: stage {name} differs from its description: run scripts/stages.py",
                  file=sys.stderr)
        for name in orphans:
            print(f".chalice/config.json: stage {name} has no description in deploy/releases/", file=sys.stderr)
        return 1 if stale or orphans else 0
    stages.update(wanted)
    CONFIG.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    for name in wanted:
        print(f"wrote stage {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
