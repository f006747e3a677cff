"""A webhook customer runs from the Lambda package alone: `customers/` travels through `vendor/customers`,
and a relative WEBHOOK_CONFIG finds it at the top of the unpacked zip, as in /var/task."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sandbox.webhook import WebhookSandbox
from tests.integration.test_package import INVOKER
from tests.support.customers import ROOT, acme_env
from tests.support.leads import make_lead

pytestmark = pytest.mark.slow


def test_the_packaged_plug_serves_a_webhook_customer_from_its_file(package: Path, tmp_path: Path):
    task = tmp_path / "task"
    with zipfile.ZipFile(package) as zipped:
        zipped.extractall(task)
    shipped = sorted(path.name for path in (ROOT / "customers").glob("*.json"))
    assert sorted(path.name for path in (task / "customers").glob("*.json")) == shipped
    acme = WebhookSandbox(dialect="json").start()
    try:
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", **acme_env(acme)}
        run = subprocess.run([sys.executable, "-I", "-S", "-B", str(INVOKER), str(task)],
                             input=json.dumps(make_lead()), capture_output=True, text=True, env=environment,
                             timeout=60, check=False)
    finally:
        acme.stop()
    assert run.returncode == 0, run.stderr
    answer = json.loads(run.stdout.splitlines()[-1])["answer"]
    assert answer["statusCode"] == 201, answer
    assert json.loads(answer["body"])["customer_lead_id"] in acme.leads
