"""Our own failures explain themselves: a 500's cause is one masked line of the plug's log,
Rollbar or not, and a ledger file that cannot be opened names its path and the OS error, at start when the
plug starts with its stage's variables.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dispatcher.errors import ConfigurationError
from dispatcher.plug import PlugHolder
from sandbox.salesforce import SalesforceSandbox
from tests.conftest import salesforce_env
from tests.support.leads import make_lead
from tests.support.project import ROOT


def failure_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    return [json.loads(record.getMessage()) for record in caplog.records if record.name == "leadplug.failures"]


def test_a_ledger_folder_that_does_not_exist_stops_the_start_with_its_path_and_os_error(tmp_path: Path):
    path = tmp_path / "no-such-folder" / "ledger.sqlite3"
    with pytest.raises(ConfigurationError) as refused:
        PlugHolder(salesforce_env("http://127.0.0.1:9", LEDGER=f"sqlite:{path}"))
    assert str(refused.value) == (f"LEDGER: the ledger file {path} cannot be opened for writing: "
                                  "[Errno 2] No such file or directory")


def test_the_cli_sees_the_same_line_when_it_imports_the_app(tmp_path: Path):
    path = tmp_path / "no-such-folder" / "ledger.sqlite3"
    env = {"PATH": "/usr/bin:/bin", **salesforce_env("http://127.0.0.1:9", LEDGER=f"sqlite:{path}")}
    run = subprocess.run([sys.executable, "-c", "import app"], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60, check=False)
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [
        f"Lead Plug cannot start: LEDGER: the ledger file {path} cannot be opened for writing: "
        "[Errno 2] No such file or directory"]


def test_a_ledger_lost_after_the_start_answers_500_and_the_log_says_which_path_and_why(
        plug_for, salesforce: SalesforceSandbox, tmp_path: Path, caplog):
    path = tmp_path / "no-such-folder" / "ledger.sqlite3"
    lead = make_lead()
    status, envelope = plug_for(salesforce_env(salesforce.base_url, LEDGER=f"sqlite:{path}")).post(lead)
    assert (status, envelope["error"]["reason"]) == (500, "ledger_unavailable")
    [line] = failure_lines(caplog)
    assert (line["event"], line["customer"], line["exception"]) == ("ledger_unavailable", "salesforce", "LeadEnded")
    assert str(path) in line["traceback"] and "[Errno 2] No such file or directory" in line["traceback"]
    assert lead["email"] not in json.dumps(line)


def test_a_plug_that_cannot_start_logs_why_without_rollbar(plug_for, caplog):
    status, envelope = plug_for({"CUSTOMER": "salesforce", "ROLLBAR_ACCESS_TOKEN": ""}).post(make_lead())
    assert (status, envelope["error"]["reason"]) == (500, "internal_error")
    [line] = failure_lines(caplog)
    assert (line["event"], line["exception"]) == ("plug_cannot_start", "ConfigurationError")
    assert "SALESFORCE_" in str(line["message"]) and "Traceback" in str(line["traceback"])
