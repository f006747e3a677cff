"""The contract as schemathesis sees it, the run's settings (seed, number of cases) and its tally.

FUZZ_SEED and FUZZ_CASES (set by `make fuzz`) override the seed and the number of fuzzed cases of
tests/fuzz/schemathesis.toml. The schema is loaded when the test module is imported, not from a fixture:
schemathesis 4.32.5's `schemathesis.pytest.from_fixture` sets `Function._nodeid`, which pytest 9 no
longer has. The address of `chalice local` is known once its fixture started it, so each case is sent
with `base_url=`.
"""

from __future__ import annotations

import collections
import os
import tomllib
from pathlib import Path
from typing import Any

import schemathesis

HERE = Path(__file__).resolve().parent
OPENAPI = HERE.parents[1] / "contracts" / "openapi.yaml"
CONFIG = HERE / "schemathesis.toml"


def fuzz_settings() -> dict[str, Any]:
    """The configuration file's content, with the overrides of the environment applied."""
    settings = tomllib.loads(CONFIG.read_text(encoding="utf-8"))
    if os.environ.get("FUZZ_SEED"):
        settings["seed"] = int(os.environ["FUZZ_SEED"])
    if os.environ.get("FUZZ_CASES"):
        settings["generation"]["max-examples"] = int(os.environ["FUZZ_CASES"])
    return settings


def load_contract() -> schemathesis.BaseSchema:
    """contracts/openapi.yaml, with the JSON Schemas it references, and the suite's configuration."""
    return schemathesis.openapi.from_path(OPENAPI, config=schemathesis.Config.from_dict(fuzz_settings()))


class Tally:
    """What was sent, by phase and by answer, for the run's summary line."""

    def __init__(self) -> None:
        self.phases: collections.Counter[str] = collections.Counter()
        self.statuses: collections.Counter[int] = collections.Counter()

    def add(self, phase: str, status: int) -> None:
        self.phases[phase] += 1
        self.statuses[status] += 1

    def summary(self) -> str:
        settings = fuzz_settings()
        seed, cases = settings["seed"], settings["generation"]["max-examples"]
        return (f"contract fuzzing: {sum(self.phases.values())} requests {dict(self.phases)}, "
                f"answers {dict(sorted(self.statuses.items()))}; seed {seed}, {cases} fuzzed cases. "
                f"Replay: make fuzz SEED={seed} CASES={cases}; a failed case's own request is its curl above")


TALLY = Tally()
