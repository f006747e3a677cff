"""`scripts/new_integration.py` writes an integration that passes its own tests as written: generated into a copy
of the project, its tests, the random-answer checks, the reason table's and the stages' checks and ruff pass
there; a name that is taken or wrong writes nothing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.__main__ import SANDBOXES
from tests.support.project import ROOT

IGNORED = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".hypothesis",
                                 "build", "deployments")
BIN = Path(sys.executable).parent


def run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(command), cwd=project, capture_output=True, text=True, encoding="utf-8", timeout=300,
                          check=False)


def snapshot(project: Path) -> dict[str, bytes]:
    return {str(path.relative_to(project)): path.read_bytes() for path in sorted(project.rglob("*"))
            if path.is_file() and "__pycache__" not in path.parts}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with `acme_crm` generated in it."""
    copy = tmp_path_factory.mktemp("scaffold") / "leadplug"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=IGNORED)
    generated = run(copy, sys.executable, "scripts/new_integration.py", "acme_crm", "--title", "Acme CRM")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "tests/functional/test_acme_crm_plug.py" in generated.stdout  # the checklist names every file
    return copy


def test_the_generated_integration_passes_its_own_tests_as_written(project):
    tests = ["tests/unit/test_acme_crm.py", "tests/functional/test_acme_crm_plug.py",
             "tests/unit/test_classify_any_answer.py", "tests/unit/test_reasons.py", "tests/unit/test_stages.py"]
    result = run(project, sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-o", "addopts=", *tests)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "SKIPPED" not in result.stdout
    for checked in ("test_every_stage_builds_its_integration[acme_crm-dev] PASSED",
                    "test_a_local_stage_points_at_a_sandbox_that_make_run_starts[acme_crm-dev] PASSED",
                    "test_acme_crm_reads_any_answer PASSED"):
        assert checked in result.stdout


def test_the_generated_code_is_ruff_clean(project):
    result = run(project, str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout


def test_it_is_registered_where_the_plug_and_make_run_look(project):
    registry = (project / "dispatcher" / "integrations" / "__init__.py").read_text()
    assert '    "acme_crm": "dispatcher.integrations.acme_crm",\n' in registry
    port = max(port for _module, _cls, port, _kwargs in SANDBOXES.values()) + 1  # the next one free
    sandboxes = (project / "sandbox" / "__main__.py").read_text()
    assert f'    "acme_crm": ("sandbox.acme_crm", "AcmeCRMSandbox", {port}, {{}}),\n}}' in sandboxes
    stage = run(project, sys.executable, "-c", "import json; print(json.load(open('.chalice/config.json'))"
                "['stages']['acme_crm-dev']['environment_variables']['ACME_CRM_API_URL'])")
    assert stage.stdout.strip() == f"http://127.0.0.1:{port}"


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["acme_crm"], "error: acme_crm is already there (dispatcher/integrations/acme_crm.py, ",
                 id="taken"),
    pytest.param(["acme"], "error: acme is already there (registered): nothing written", id="a-stage-of-that-name"),
    pytest.param(["Hub-Spot"], "error: 'Hub-Spot' is not a module name", id="not-a-module-name"),
    pytest.param(["class"], "error: 'class' is not a module name", id="a-keyword"),
    pytest.param(["newcrm", "--title", "2crm"], "error: --title '2crm' does not make a class name", id="bad-title"),
])
def test_a_taken_or_wrong_name_writes_nothing(project, args, message):
    before = snapshot(project)
    result = run(project, sys.executable, "scripts/new_integration.py", *args)
    assert result.returncode == 2
    assert result.stderr.startswith(message)
    assert snapshot(project) == before
