"""`scripts/new_integration.py` writes an integration that passes its own tests as written: generated into a copy
of the project, its tests, the random-answer checks, the reason table's, the stages' and the module map's checks
and ruff pass there, and the docs' checks once its page is linked as the guide says; run by an interpreter without
the project's tools (as `./scripts/new_integration.py` runs the `python3` on the PATH), it uses the project's
.venv; a name that is taken or wrong writes nothing."""

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


# the longest name the scaffold takes (30 characters), sorting between the customers already there
LONG = "m_very_long_customer_name_1234"
BASE_PYTHON = getattr(sys, "_base_executable", sys.executable)  # outside the venv: no ruff (nor maybe Jinja)
GENERATED = ("dispatcher/integrations/{}.py", "sandbox/{}.py", "tests/unit/test_{}.py",
             "tests/functional/test_{}_plug.py", "fixtures/{}/", "docs/customers-{}.md")


@pytest.fixture(scope="module")
def generation(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A copy of the project with `acme_crm` (an API key) and the longest name (OAuth) generated in it, and the
    project's files before and after."""
    copy = tmp_path_factory.mktemp("scaffold") / "leadplug"
    shutil.copytree(ROOT, copy, symlinks=True, ignore=IGNORED)
    (copy / ".venv").symlink_to(Path(sys.prefix))  # the project's .venv, as `make run` builds it
    before = snapshot(copy)
    generated = run(copy, sys.executable, "scripts/new_integration.py", "acme_crm", "--title", "Acme CRM")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert "tests/functional/test_acme_crm_plug.py" in generated.stdout  # the checklist names every file
    generated = run(copy, BASE_PYTHON, "scripts/new_integration.py", LONG, "--auth", "oauth", "--title",
                    "AVeryLongCustomerNameTwelve34")
    assert generated.returncode == 0, generated.stdout + generated.stderr
    return copy, before, snapshot(copy)


@pytest.fixture(scope="module")
def project(generation: tuple[Path, dict[str, bytes], dict[str, bytes]]) -> Path:
    return generation[0]


def test_the_generated_integrations_pass_their_own_tests_as_written(project):
    tests = ["tests/unit/test_acme_crm.py", "tests/functional/test_acme_crm_plug.py", f"tests/unit/test_{LONG}.py",
             f"tests/functional/test_{LONG}_plug.py", "tests/unit/test_reasons.py", "tests/unit/test_stages.py",
             "tests/unit/test_integration_modules.py", "tests/unit/test_module_map.py"]
    result = run(project, sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "-o", "addopts=", *tests)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "SKIPPED" not in result.stdout
    for checked in ("test_every_stage_builds_its_integration[acme_crm-dev] PASSED",
                    "test_a_local_stage_points_at_a_sandbox_that_make_run_starts[acme_crm-dev] PASSED",
                    f"test_a_local_stage_points_at_a_sandbox_that_make_run_starts[{LONG}-dev] PASSED",
                    "test_acme_crm_reads_any_answer PASSED", "test_a_lead_in_doubt_found_at_the_customer_is_not_sent",
                    "test_an_expired_token_is_refreshed_once PASSED"):
        assert checked in result.stdout


def test_its_page_passes_the_docs_checks_once_linked_as_the_guide_says(project):
    for name, title in (("acme_crm", "Acme CRM"), (LONG, "AVeryLongCustomerNameTwelve34")):
        with (project / "docs" / "customers.md").open("a", encoding="utf-8") as table:
            table.write(f"\n[{title}](customers-{name}.md)\n")
        readme = (project / "README.md").read_text(encoding="utf-8").replace(
            "| know what each status", f"| know how a lead reaches {title} | [docs/customers-{name}.md]"
            f"(docs/customers-{name}.md) |\n| know what each status", 1)
        (project / "README.md").write_text(readme, encoding="utf-8")
    result = run(project, sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
                 "tests/unit/test_docs_links.py")
    assert result.returncode == 0, result.stdout[-4000:]


def test_the_generated_code_is_ruff_clean(project):
    result = run(project, str(BIN / "ruff"), "check", ".")
    assert result.returncode == 0, result.stdout


def test_the_generated_code_passes_the_type_check_and_has_no_dead_code(project):
    generated = [pattern.format(name) for name in ("acme_crm", LONG) for pattern in GENERATED
                 if pattern.endswith(".py")]
    typed = run(project, str(BIN / "mypy"), "--follow-imports=silent", *generated)  # the rest is make lint's
    assert typed.returncode == 0, typed.stdout
    dead = run(project, str(BIN / "vulture"))
    assert dead.returncode == 0, dead.stdout


def test_no_shared_file_changes_but_the_stages_and_the_module_map(generation):
    _project, before, after = generation
    changed = {path for path in before if after.get(path) != before[path]}
    added = {path for path in after if path not in before}
    assert changed == {".chalice/config.json", "docs/development.md"}
    for name in ("acme_crm", LONG):
        owned = [pattern.format(name) for pattern in GENERATED]
        assert all(any(path == pattern or path.startswith(pattern) for pattern in owned) for path in added
                   if name in path)
    assert all("acme_crm" in path or LONG in path for path in added)


def test_the_plug_and_make_run_find_it_by_its_module(project):
    port = max(port for _module, _cls, port, _kwargs in SANDBOXES.values()) + 1  # the next one free
    found = run(project, sys.executable, "-c", "from sandbox.__main__ import SANDBOXES; "
                "from dispatcher.integrations import integration_names; "
                "print(SANDBOXES['acme_crm'], SANDBOXES['" + LONG + "'][2], 'acme_crm' in integration_names())")
    assert found.stdout.strip() == f"('sandbox.acme_crm', 'AcmeCRMSandbox', {port}, {{}}) {port + 1} True"
    stage = run(project, sys.executable, "-c", "import json; print(json.load(open('.chalice/config.json'))"
                "['stages']['acme_crm-dev']['environment_variables'])")
    assert f"'ACME_CRM_API_URL': 'http://127.0.0.1:{port}'" in stage.stdout
    assert "'CUSTOMER_TIMEOUT_S': '2'" in stage.stdout  # below the sandbox's late answer: in doubt locally


@pytest.mark.parametrize(("args", "message"), [
    pytest.param(["acme_crm"], "error: acme_crm is already there (dispatcher/integrations/acme_crm.py, ",
                 id="taken"),
    pytest.param(["acme"], "error: acme is already there (a stage of that name): nothing written",
                 id="a-stage-of-that-name"),
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
