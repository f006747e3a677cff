"""Every stage of .chalice/config.json builds its integration, and a code integration's local stage points at a
sandbox `make run` starts, each on a port of its own (a webhook customer's may point at any local port but the
plug's): a new customer's stage works the first time (pure: files, no socket)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from dispatcher.integrations import build_integration
from dispatcher.integrations.webhook import PROJECT_ROOT
from sandbox.__main__ import SANDBOXES

CONFIG = json.loads((PROJECT_ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
STAGES = sorted(CONFIG["stages"])
PORTS = [port for _module, _cls, port, _kwargs in SANDBOXES.values()]


def variables(stage: str) -> dict[str, str]:
    """The stage's variables as Chalice sets them: the top level's, overridden by the stage's own."""
    return {**CONFIG["environment_variables"], **CONFIG["stages"][stage]["environment_variables"]}


def local_ports(stage: str) -> list[int | None]:
    """The ports of the local URLs the stage itself sets (a sandbox's, when it works against one)."""
    return [urlsplit(value).port for name, value in CONFIG["stages"][stage]["environment_variables"].items()
            if name.endswith("_URL") and value.startswith(("http://127.0.0.1", "http://localhost"))]


@pytest.mark.parametrize("stage", STAGES)
def test_every_stage_builds_its_integration(stage):
    assert build_integration(variables(stage)).name == variables(stage)["CUSTOMER"]


@pytest.mark.parametrize("stage", [stage for stage in STAGES
                                   if local_ports(stage) and variables(stage)["CUSTOMER"] != "webhook"])
def test_a_local_stage_points_at_a_sandbox_that_make_run_starts(stage):
    assert set(local_ports(stage)) <= set(PORTS), f"{stage}: no sandbox of sandbox/__main__.py on that port"


@pytest.mark.parametrize("stage", [stage for stage in STAGES if local_ports(stage)])
def test_a_local_stage_never_points_at_the_plug_itself(stage):
    # a webhook customer's stage may point at any local port (the customer's own test server, a tunnel)
    assert 8000 not in local_ports(stage), f"{stage}: port 8000 is make run's plug"


def test_each_sandbox_has_a_port_of_its_own_beside_the_plugs():
    assert len(set(PORTS)) == len(PORTS)
    assert 8000 not in PORTS  # make run's chalice local
