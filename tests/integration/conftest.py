"""The integration tier's fixtures: the plug under `chalice local`, and the release packages `make package` builds."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.project import ROOT, LocalPlug, running_plug


@pytest.fixture(scope="session")
def local_plug(salesforce: SalesforceSandbox) -> Iterator[LocalPlug]:
    """`chalice local` with a stage of its own pointing at the sandbox."""
    with running_plug(salesforce_env(salesforce.base_url)) as running:
        yield running


PACKAGE_SCRIPT = ROOT / "scripts" / "package.py"
RELEASES = ("salesforce-prod", "zoho-prod", "acme-prod", "salesforce-testing")


def make_package(stage: str, out: Path) -> subprocess.CompletedProcess[str]:
    """scripts/package.py, as `make package STAGE=<stage>` runs it: no AWS account or credentials are used."""
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"}
    return subprocess.run([sys.executable, str(PACKAGE_SCRIPT), stage, str(out)], capture_output=True, text=True,
                          env=env, timeout=300, check=False)


@pytest.fixture(scope="session")
def releases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every shipped release stage packaged once for the session: {stage: its OUT folder}."""
    built = {}
    for stage in RELEASES:
        out = tmp_path_factory.mktemp(stage)
        run = make_package(stage, out)
        assert run.returncode == 0, run.stdout + run.stderr
        built[stage] = out
    return built


@pytest.fixture(scope="session")
def package(releases: dict[str, Path]) -> Path:
    """The Salesforce production package as `make package` builds it; the path of its deployment.zip."""
    return releases["salesforce-prod"] / "package" / "deployment.zip"


@pytest.fixture(scope="session")
def terraform_package(releases: dict[str, Path]) -> Path:
    """The Terraform folder of the same build (chalice.tf.json and our .tf.json beside it)."""
    return releases["salesforce-prod"] / "terraform"
