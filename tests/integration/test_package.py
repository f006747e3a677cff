"""The Lambda package, proven: what `chalice package` builds runs a lead on its own, and carries nothing else.

The zip (the `package` fixture of tests/integration/conftest.py) is unpacked into an empty folder and imported
by a fresh interpreter that sees only that folder and the standard library (`-I -S`: no site-packages of the
venv), as Lambda imports it from /var/task.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.leads import make_lead
from tests.support.project import ROOT

pytestmark = pytest.mark.slow

INVOKER = ROOT / "tests" / "support" / "lambda_event.py"
# chalice in requirements.txt would drag botocore in (about 16 MB). 3 MiB until webhook files took phone formats
# (phonenumberslite, 0.36 MB zipped; the full phonenumbers would add 2.2 MB more) and time zones (tzdata, 0.24 MB):
# 3.79 MiB measured then.
MAX_ZIP_BYTES = 4 * 1024 * 1024
RUNTIME = {"app.py", "dispatcher", "contracts", "chalice", "requests", "urllib3", "certifi", "idna",
           "charset_normalizer", "jsonschema", "jsonschema_specifications", "referencing", "rpds", "attr", "attrs",
           "transitions", "six.py", "typing_extensions.py", "rollbar", "aws_lambda_powertools", "jmespath",
           "phonenumbers", "tzdata"}
DEVELOPMENT = {"tests", "fixtures", "sandbox", "scripts", ".chalice", "pytest", "_pytest", "pluggy", "schemathesis",
               "hypothesis", "hypothesis_jsonschema", "botocore", "boto3", "s3transfer", "ruff", "yaml", "click",
               "pip", "setuptools", "wheel"}


def top_level_names(archive: Path) -> set[str]:
    with zipfile.ZipFile(archive) as zipped:
        return {name.split("/")[0] for name in zipped.namelist()}


def test_the_package_is_small_and_holds_the_runtime_only(package: Path):
    size = package.stat().st_size
    print(f"\ndeployment.zip: {size / 1024 / 1024:.2f} MB ({size} bytes)")
    names = top_level_names(package)
    packages = {name for name in names if not name.endswith((".dist-info", ".pth"))}
    assert RUNTIME <= packages, f"missing from the package: {sorted(RUNTIME - packages)}"
    assert not packages & DEVELOPMENT, f"development files in the package: {sorted(packages & DEVELOPMENT)}"
    with zipfile.ZipFile(package) as zipped:
        chalice_files = {name for name in zipped.namelist() if name.startswith("chalice/")}
    assert chalice_files <= {"chalice/__init__.py", "chalice/app.py"}, "the Chalice CLI is not a runtime part"
    assert size < MAX_ZIP_BYTES


def test_the_unpacked_package_alone_sends_a_lead_through_the_lambda_handler(
        package: Path, salesforce: SalesforceSandbox, tmp_path: Path):
    task = tmp_path / "task"  # Lambda's /var/task
    with zipfile.ZipFile(package) as zipped:
        zipped.extractall(task)
    lead = make_lead()
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8",
                   **salesforce_env(salesforce.base_url)}
    run = subprocess.run([sys.executable, "-I", "-S", "-B", str(INVOKER), str(task)], input=json.dumps(lead),
                         capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.splitlines()[-1])

    assert not [entry for entry in result["sys_path"] if "site-packages" in entry or entry.startswith(sys.prefix)]
    for name, origin in result["origins"].items():
        assert origin.startswith(str(task)), f"{name} came from {origin}, not from the package"
    answer = result["answer"]
    assert answer["statusCode"] == 201, answer
    envelope = json.loads(answer["body"])
    assert envelope["customer_lead_id"] in salesforce.leads
    assert salesforce.leads[envelope["customer_lead_id"]]["Email"] == lead["email"]
