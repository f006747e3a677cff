"""The integration tier's fixtures: the plug under `chalice local`, and the Lambda package `chalice package` builds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.project import CHALICE, ROOT, LocalPlug, make_project, running_plug

SAM_OPERATIONS = ROOT / "deploy" / "sam-operations.json"
TERRAFORM_OPERATIONS = ROOT / "deploy" / "operations.tf.json"


@pytest.fixture(scope="session")
def local_plug(salesforce: SalesforceSandbox) -> Iterator[LocalPlug]:
    """`chalice local` with a stage of its own pointing at the sandbox."""
    with running_plug(salesforce_env(salesforce.base_url)) as running:
        yield running


def chalice_package(tmp_path_factory: pytest.TempPathFactory, *options: str) -> Iterator[Path]:
    """`chalice package` of a throwaway stage project with these options; the folder it wrote."""
    project = make_project("package", salesforce_env("http://127.0.0.1:9"), copied=("dispatcher",))
    out = tmp_path_factory.mktemp("package")
    try:
        # The packager writes a SAM template too, which needs a region; no AWS account or credentials are used.
        env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3"}
        built = subprocess.run([CHALICE, "--project-dir", str(project), "package", "--stage", "package", *options,
                                str(out)], capture_output=True, text=True, env=env, timeout=240, check=False)
        assert built.returncode == 0, built.stdout + built.stderr
        yield out
    finally:
        shutil.rmtree(project, ignore_errors=True)


@pytest.fixture(scope="session")
def package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The package as `make package` builds it (alarms and dashboard merged into sam.json, trimmed by
    scripts/trim_package.py), built once for the session; the path of its deployment.zip."""
    for out in chalice_package(tmp_path_factory, "--merge-template", str(SAM_OPERATIONS)):
        subprocess.run([sys.executable, str(ROOT / "scripts" / "trim_package.py"), str(out / "deployment.zip")],
                       check=True, capture_output=True, timeout=60)
        yield out / "deployment.zip"


@pytest.fixture(scope="session")
def terraform_package(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """`chalice package --pkg-format terraform` with deploy/operations.tf.json beside chalice.tf.json, as
    `make package` leaves them; the folder."""
    for out in chalice_package(tmp_path_factory, "--pkg-format", "terraform"):
        shutil.copy(TERRAFORM_OPERATIONS, out)
        yield out
