"""What the two send scripts share: finding fixtures, making them unique, posting them, printing the answers.

Standard library and `requests` only, so that the scripts run with any Python 3 that has `requests`; when
the `python3` on the PATH lacks it, they re-run themselves with the project's `.venv` (built by `make run`).
"""

from __future__ import annotations

import argparse
import difflib
import json
import os
import re
import secrets
import signal
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from hashlib import sha256
from http import HTTPStatus
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
FIXTURE_DIRS = (FIXTURES / "leads", FIXTURES / "invalid")
EXPECTED = FIXTURES / "expected.json"
LEAD_SCHEMA = ROOT / "contracts" / "lead.schema.json"
DEFAULT_URL = "http://localhost:8000/send"
TIMEOUT_S = 35.0  # the plug answers within API Gateway's 29 s; beyond that something else is wrong

FOR_PEOPLE = frozenset({"note"})  # the key of expected.json entries that explains, not expects
# Exit codes shared by both scripts.
OK, DIFFERENT, CANNOT_RUN = 0, 1, 2


def use_project_venv(missing: str) -> NoReturn:
    """Run the script again with the project's .venv, which has `missing`; or stop saying how to get it."""
    venv_python = ROOT / ".venv" / "bin" / "python"
    if venv_python.exists() and Path(sys.executable).resolve() != venv_python.resolve():
        os.execv(venv_python, [str(venv_python), *sys.argv])
    print(f"error: these scripts need `{missing}`: run `make run` once (it builds .venv) "
          "or `pip install -r requirements.txt`.", file=sys.stderr)
    raise SystemExit(CANNOT_RUN)


try:
    import requests
except ModuleNotFoundError:  # pragma: no cover - depends on the interpreter that runs the script
    use_project_venv("requests")

if str(ROOT) not in sys.path:  # run as a script, scripts/ is on the path but the project is not
    sys.path.insert(0, str(ROOT))
from dispatcher.reasons import ENDINGS  # noqa: E402 - the standard library only, whatever the interpreter

# For a 2xx the envelope carries no state or reason: the reason table says which one each status means.
SUCCESS_REASONS = {ending.status: reason.value for reason, ending in ENDINGS.items() if ending.state == "accepted"}


class FixtureError(Exception):
    """A fixture, or fixtures/expected.json, cannot be used; the message says what to do."""


class PlugUnreachableError(Exception):
    """Nothing answered at the plug's URL, or not in time."""


# --- fixtures -----------------------------------------------------------------------------------------------
# The shared fixtures are fixtures/leads and fixtures/invalid with fixtures/expected.json (Salesforce's
# expectations); a customer's own folder (`--fixtures fixtures/zoho`) holds its leads beside its expected.json.

def shown(path: Path) -> str:
    """A path as the developer would type it: from the project root when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def fixture_dirs(folder: Path | None = None) -> tuple[Path, ...]:
    return (folder,) if folder is not None else FIXTURE_DIRS


def expected_path(folder: Path | None = None) -> Path:
    return folder / "expected.json" if folder is not None else EXPECTED


def all_fixture_ids(folder: Path | None = None) -> list[str]:
    """Every fixture file's id (its name without `.json`), sorted."""
    return sorted(path.stem for directory in fixture_dirs(folder) for path in directory.glob("*.json")
                  if path != expected_path(folder))


def fixture_path(fixture_id: str, folder: Path | None = None) -> Path:
    """The file of a fixture id; a missing one raises with the closest ids, so that a typo is one glance away."""
    name = fixture_id.removesuffix(".json").split("/")[-1]
    for directory in fixture_dirs(folder):
        path = directory / f"{name}.json"
        if path.is_file() and path != expected_path(folder):
            return path
    known = all_fixture_ids(folder)
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = f"Did you mean {', '.join(close)}?" if close else f"Known fixtures: {', '.join(known) or 'none'}."
    where = " or ".join(shown(directory) for directory in fixture_dirs(folder))
    raise FixtureError(f"No fixture {fixture_id!r} in {where}. {hint}")


def load_fixture(fixture_id: str, folder: Path | None = None) -> Any:
    path = fixture_path(fixture_id, folder)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise FixtureError(f"{shown(path)} is not valid JSON: {exc}") from None


def load_expected(folder: Path | None = None) -> dict[str, dict[str, Any]]:
    """expected.json: fixture id -> expected `status`, `state`, `reason` (and error keys), in send order; one
    layout for fixtures/expected.json and every folder's (an id written with `.json` is read as the same id).

    Its order is the order of a full run: a duplicate is only a duplicate after its original was sent.
    """
    path = expected_path(folder)
    if folder is not None and not folder.is_dir():
        raise FixtureError(f"--fixtures {folder}: no such folder")
    try:
        expected = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FixtureError(f"{shown(path)} is missing: a fixtures folder says in its expected.json, for each lead "
                           "in the order to send them, the status (state, reason) it must get") from None
    except (OSError, ValueError) as exc:
        raise FixtureError(f"Cannot read {shown(path)}: {exc}") from None
    if not isinstance(expected, dict) or not all(isinstance(v, dict) and isinstance(v.get("status"), int)
                                                 for v in expected.values()):
        raise FixtureError(f"{shown(path)} must map each fixture id to an object with a status")
    return {key.removesuffix(".json"): value for key, value in expected.items()}


# --- --unique ------------------------------------------------------------------------------------------------

def _contract_pattern(name: str) -> re.Pattern[str]:
    schema = json.loads(LEAD_SCHEMA.read_text(encoding="utf-8"))
    return re.compile(schema["$defs"][name]["pattern"])


_EMAIL = _contract_pattern("email")
_PHONE = _contract_pattern("phone")


def _split_spaces(value: str) -> tuple[str, str, str]:
    """(leading spaces, the value, trailing spaces): the contract tolerates spaces around a value."""
    core = value.strip()
    start = len(value) - len(value.lstrip())
    return value[:start], core, value[start + len(core):]


class Uniquifier:
    """Rewrites a lead's email and phone into fresh valid values, the same way for every lead of one run.

    The email gets `+<nonce>` at the end of its local part (`jean+error500@x.fr` -> `jean+error500+1a2b3c4d@x.fr`),
    so the sandbox's triggers and `.invalid` domains keep working and two fixtures that share an email still
    share it (compared lower-cased, like the customer does): the duplicate fixture stays a duplicate within a
    run, while a second run is new to the customer. The phone keeps its country prefix and length and gets new
    last digits derived from the nonce, the person's email and the original number: each person of a run gets
    a phone of their own (a customer may deduplicate on the phone), the duplicate keeps its original's. Values
    that are not valid (invalid fixtures) and surrounding spaces are left as they are.
    """

    def __init__(self, nonce: str | None = None) -> None:
        self.nonce = nonce or secrets.token_hex(4)

    def email(self, value: str) -> str:
        lead, core, trail = _split_spaces(value)
        if not _EMAIL.fullmatch(core):
            return value
        local, domain = core.rsplit("@", 1)
        return f"{lead}{local}+{self.nonce}@{domain}{trail}"

    def phone(self, value: str, person: str = "") -> str:
        """A fresh phone for `person` (the lead's email, compared lower-cased, as the customer compares it)."""
        lead, core, trail = _split_spaces(value)
        if not _PHONE.fullmatch(core):
            return value
        digits = core[1:]
        fresh = min(8, len(digits) - 2)
        seed = f"{self.nonce}:{person.strip().lower()}:{digits}"
        number = int(sha256(seed.encode()).hexdigest(), 16) % 10**fresh
        return f"{lead}+{digits[:-fresh]}{number:0{fresh}d}{trail}"

    def lead_id(self, value: str) -> str:
        """The id with `-<nonce>` after it (the start kept, so the log still names the fixture); within the
        schema's 64 characters. A second run is a new lead to the plug's ledger, not a replay."""
        lead, core, trail = _split_spaces(value)
        if not core:
            return value
        suffix = f"-{self.nonce}"
        return f"{lead}{core[:64 - len(suffix)]}{suffix}{trail}"

    def lead(self, lead: Any) -> Any:
        """A copy of `lead` with id, email and phone rewritten; anything that is not a lead object is returned as
        is."""
        if not isinstance(lead, dict):
            return lead
        fresh = dict(lead)
        if isinstance(fresh.get("id"), str):
            fresh["id"] = self.lead_id(fresh["id"])
        if isinstance(fresh.get("email"), str):
            fresh["email"] = self.email(fresh["email"])
        if isinstance(fresh.get("phone"), str):
            email = lead.get("email")
            fresh["phone"] = self.phone(fresh["phone"], email if isinstance(email, str) else "")
        return fresh


# --- sending -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Result:
    """The plug's answer to one fixture."""

    fixture_id: str
    status: int
    envelope: Any
    elapsed_s: float
    replayed: bool = False  # the plug's ledger answered with the first delivery's answer (Idempotent-Replayed)

    @property
    def state(self) -> str | None:
        if self.status in SUCCESS_REASONS:
            return "accepted"
        return self._error().get("state")

    @property
    def reason(self) -> str | None:
        if self.status in SUCCESS_REASONS:
            return SUCCESS_REASONS[self.status]
        return self._error().get("reason")

    @property
    def customer_lead_id(self) -> Any:
        return self.envelope.get("customer_lead_id") if isinstance(self.envelope, dict) else None

    @property
    def error_message(self) -> str | None:
        return self.envelope.get("error_message") if isinstance(self.envelope, dict) else None

    def _error(self) -> dict[str, Any]:
        error = self.envelope.get("error") if isinstance(self.envelope, dict) else None
        return error if isinstance(error, dict) else {}

    def differences(self, expected: Mapping[str, Any]) -> list[str]:
        """What differs from an expected.json entry (`note` is for people): empty when all is as
        expected."""
        actual = {"status": self.status, "state": self.state, "reason": self.reason, **self._error()}
        return [f"{key}: expected {value!r}, got {actual.get(key)!r}"
                for key, value in expected.items() if key not in FOR_PEOPLE and actual.get(key) != value]


def send(url: str, body: Any, fixture_id: str, timeout_s: float = TIMEOUT_S) -> Result:
    """POST one fixture to the plug as the platform does (UTF-8 JSON) and read its envelope."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    started = time.perf_counter()
    try:
        response = requests.post(url, data=data, headers={"Content-Type": "application/json"}, timeout=timeout_s)
    except requests.exceptions.Timeout:
        raise PlugUnreachableError(f"The plug at {url} did not answer within {timeout_s:.0f} s.") from None
    except (requests.exceptions.ConnectionError, requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema, requests.exceptions.InvalidSchema) as exc:
        why = "connection refused" if "refused" in str(exc).lower() else type(exc).__name__
        raise PlugUnreachableError(f"Cannot reach the plug at {url} ({why}). Is it running? Start it with `make run` "
                              f"(or pass --url).") from None
    elapsed = time.perf_counter() - started
    try:
        envelope: Any = response.json()
    except ValueError:
        envelope = {"body": response.text}
    return Result(fixture_id, response.status_code, envelope, elapsed,
                  replayed=response.headers.get("Idempotent-Replayed") == "true")


# --- printing ------------------------------------------------------------------------------------------------

def send_parser(doc: str | None, unique_help: str) -> argparse.ArgumentParser:
    """The options both send scripts share: where the plug is, --unique and --fixtures."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=DEFAULT_URL, help=f"the plug's send URL (default {DEFAULT_URL})")
    parser.add_argument("--unique", action="store_true", help=unique_help)
    parser.add_argument("--fixtures", type=Path, metavar="DIR",
                        help="a customer's own fixtures folder (its leads beside its expected.json), e.g. "
                             "fixtures/zoho; default: fixtures/leads and fixtures/invalid with fixtures/expected.json")
    return parser


def quiet_broken_pipe() -> None:
    """`./scripts/... | head` ends quietly, as command-line tools do, instead of with a BrokenPipeError."""
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)


def _painter(stream: Any) -> Any:
    colour = hasattr(stream, "isatty") and stream.isatty() and not os.environ.get("NO_COLOR")

    def paint(text: str, code: str) -> str:
        return f"\033[{code}m{text}\033[0m" if colour else text

    return paint


def status_text(status: int) -> str:
    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return str(status)


def state_reason(result: Result) -> str:
    return "/".join(part for part in (result.state, result.reason) if part) or "-"


def describe(result: Result) -> str:
    """One readable paragraph: the status line, then the envelope as indented JSON (accents as they are)."""
    paint = _painter(sys.stdout)
    colour = "32" if 200 <= result.status < 300 else "33" if result.status < 500 else "31"
    line = f"{paint(status_text(result.status), colour)}  {state_reason(result)}"
    if result.customer_lead_id is not None:
        line += f"  customer id {result.customer_lead_id}"
    if result.replayed:
        line += "  (replayed: the plug's ledger had delivered it already)"
    line += f"  ({result.elapsed_s * 1000:.0f} ms)"
    if result.error_message:
        line += f"\n{result.error_message}"
    return f"{line}\n{json.dumps(result.envelope, ensure_ascii=False, indent=2)}"


def table(rows: Iterable[tuple[Result, Mapping[str, Any]]]) -> str:
    """The run's summary: one row per fixture, a mark where the answer is not what expected.json says."""
    header = ("", "fixture", "status", "expected", "state/reason", "customer id", "replayed", "time")
    lines = []
    for result, expected in rows:
        ok = not result.differences(expected)
        lines.append((("ok" if ok else "DIFF"), result.fixture_id, str(result.status), str(expected["status"]),
                      state_reason(result), str(result.customer_lead_id or "-"), "yes" if result.replayed else "-",
                      f"{result.elapsed_s * 1000:.0f} ms"))
    return aligned(header, lines)


def aligned(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    """Columns padded to their widest cell under a dashed rule; a row marked "ok" in green, any other in red."""
    paint = _painter(sys.stdout)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    out = ["  ".join(cell.ljust(width) for cell, width in zip(header, widths, strict=True)).rstrip()]
    out.append("  ".join("-" * width for width in widths))
    for row in rows:
        text = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        out.append(paint(text, "32" if row[0] == "ok" else "31"))
    return "\n".join(out)
