"""A cold start imports what the stage uses, and nothing else (docs/performance.md#cold-start).

`import app` with a stage's variables builds the plug, as Lambda does at a cold start; a fresh interpreter then
lists the modules it loaded. A stage without a ledger, without Rollbar's token and without `ssm:` values loads
its own integration only, and none of the modules that serve other stages: every module loaded is paid at every
cold start (its bytecode read, its classes made), whether a lead uses it or not. What a module costs is measured
by `scripts/bench.py --coldstart-only`, never asserted here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import salesforce_env
from tests.support.project import ROOT

LIST_MODULES = ("import json, sys; sys.path.insert(0, sys.argv[1]); import app; "
                "print(json.dumps(sorted(sys.modules)))")
CUSTOMER_MODULES = ("dispatcher.integrations.dynamics", "dispatcher.integrations.hubspot",
                    "dispatcher.integrations.pipedrive", "dispatcher.integrations.webhook",
                    "dispatcher.integrations.zoho")
# What only some stages use: a ledger's rules, its pending settles, stores and step memory (LEDGER), Rollbar
# (ROLLBAR_ACCESS_TOKEN, at the first report), Powertools' Parameters and boto3 (`ssm:` values), the webhook's RE2
# rules, phone formats (a customer's phone format), and pkgutil (the integrations' registry reads its folder).
ONLY_SOME_STAGES = ("dispatcher.ledger.ledger", "dispatcher.ledger.pending", "dispatcher.ledger.sqlite",
                    "dispatcher.ledger.dynamodb", "dispatcher.step_memory", "sqlite3", "boto3", "rollbar",
                    "aws_lambda_powertools.utilities.parameters", "re2", "phonenumbers", "pkgutil",
                    "aws_lambda_powertools.event_handler")


def modules_loaded(environ: dict[str, str]) -> set[str]:
    """The modules a fresh interpreter holds after `import app` with only these variables (and PATH)."""
    done = subprocess.run([sys.executable, "-I", "-c", LIST_MODULES, str(ROOT)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False,
                          env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **environ})
    assert done.returncode == 0, done.stderr[-2000:]
    return set(json.loads(done.stdout.splitlines()[-1]))


@pytest.fixture(scope="module")
def salesforce_stage() -> set[str]:
    return modules_loaded(salesforce_env("https://login.salesforce.example", ROLLBAR_ACCESS_TOKEN=""))


def test_a_stage_builds_its_plug_when_imported(salesforce_stage):
    assert {"dispatcher.plug", "dispatcher.integrations.salesforce"} <= salesforce_stage


@pytest.mark.parametrize("module", CUSTOMER_MODULES)
def test_a_stage_imports_no_other_customers_integration(salesforce_stage, module):
    assert module not in salesforce_stage


@pytest.mark.parametrize("module", ONLY_SOME_STAGES)
def test_a_stage_without_a_ledger_rollbar_or_ssm_imports_none_of_their_modules(salesforce_stage, module):
    assert module not in salesforce_stage


def test_the_ledgers_store_is_imported_by_a_stage_with_a_ledger(tmp_path):
    loaded = modules_loaded(salesforce_env("https://login.salesforce.example",
                                           LEDGER=f"sqlite:{tmp_path / 'ledger.sqlite3'}"))
    assert {"dispatcher.ledger.ledger", "dispatcher.ledger.sqlite", "sqlite3"} <= loaded


def test_a_stage_with_the_ledger_off_imports_none_of_the_ledgers_modules():
    loaded = modules_loaded(salesforce_env("https://login.salesforce.example", LEDGER="off", LEDGER_TTL_S="3600",
                                           AWS_LAMBDA_FUNCTION_NAME="lead-plug-prod", ROLLBAR_ACCESS_TOKEN=""))
    assert "dispatcher.plug" in loaded
    assert not {"dispatcher.ledger.ledger", "dispatcher.ledger.pending", "dispatcher.ledger.sqlite", "sqlite3"} & loaded
