#!/usr/bin/env python3
"""Start a code integration (a CRM with its own API) with every file it needs, passing its own tests as written.

    ./scripts/new_integration.py hubspot --title HubSpot

Writes, from scripts/templates/integration/: the module (dispatcher/integrations/NAME.py), a sandbox on the
shared sandbox base (sandbox/NAME.py), the pure tests (tests/unit/test_NAME.py), the end-to-end tests through
the app (tests/functional/test_NAME_plug.py), a fixtures folder (fixtures/NAME/ with its expected.json); and
registers it: the CUSTOMER registry line, the sandbox and its port under `make run`, a `NAME-dev` stage in
.chalice/config.json, a random-answer check in tests/unit/test_classify_any_answer.py. The template speaks a
generic JSON API (bearer token, POST /leads): adapt the module and its sandbox to the customer's documentation,
then the tests. Exit code: 0 when written, 2 when nothing was (a name taken, or not a Python module name).
"""

from __future__ import annotations

import argparse
import json
import keyword
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "scripts" / "templates" / "integration"
REGISTRY = ROOT / "dispatcher" / "integrations" / "__init__.py"
SANDBOXES = ROOT / "sandbox" / "__main__.py"
STAGES = ROOT / ".chalice" / "config.json"
CLASSIFY_CHECKS = ROOT / "tests" / "unit" / "test_classify_any_answer.py"
WRITTEN = {  # template -> where it goes
    "module.py.tmpl": "dispatcher/integrations/{name}.py",
    "sandbox.py.tmpl": "sandbox/{name}.py",
    "test_unit.py.tmpl": "tests/unit/test_{name}.py",
    "test_plug.py.tmpl": "tests/functional/test_{name}_plug.py",
    "fixtures/01-created.json.tmpl": "fixtures/{name}/01-created.json",
    "fixtures/02-duplicate.json.tmpl": "fixtures/{name}/02-duplicate.json",
    "fixtures/03-refused-invalid-email.json.tmpl": "fixtures/{name}/03-refused-invalid-email.json",
    "fixtures/expected.json.tmpl": "fixtures/{name}/expected.json",
}
_NAME = re.compile(r"[a-z][a-z0-9_]{1,29}")
_MODULES_BLOCK = re.compile(r"^MODULES = \{\n(?P<lines>(?:    .*\n)*)\}", re.MULTILINE)
_SANDBOXES_BLOCK = re.compile(r"^SANDBOXES: .* = \{\n(?P<lines>(?:    .*\n)*)\}", re.MULTILINE)
_PORT = re.compile(r", (\d{4,5}), ")


class CannotWrite(Exception):
    """Nothing was written; the message says why."""


def render(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def with_line(block: re.Pattern[str], text: str, line: str, *, sort: bool) -> str:
    """`text` with `line` added to the dict literal `block` finds (sorted, or at its end)."""
    found = block.search(text)
    if found is None:
        raise CannotWrite(f"cannot find where to register the integration ({block.pattern[:20]}...)")
    lines = [*found["lines"].splitlines(keepends=True), line + "\n"]
    return text[:found.start("lines")] + "".join(sorted(lines) if sort else lines) + text[found.end("lines"):]


def next_port(sandboxes: str) -> int:
    """The port after the highest one a sandbox takes under `make run` (the plug itself holds 8000)."""
    found = _SANDBOXES_BLOCK.search(sandboxes)
    ports = [int(port) for port in _PORT.findall(found["lines"])] if found else []
    return max([8000, *ports]) + 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="the CUSTOMER value and module name: lower case, digits, underscores")
    parser.add_argument("--title", help="the customer's name as people write it, e.g. HubSpot (default: from NAME)")
    args = parser.parse_args(argv)
    try:
        written = scaffold(args.name, args.title or "".join(part.capitalize() for part in args.name.split("_")))
    except CannotWrite as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name}: written, and its tests pass as they are. Checklist, every file of the integration:")
    for path, what in written:
        print(f"  {path:<48} {what}")
    print(f"\nNext: adapt dispatcher/integrations/{args.name}.py and sandbox/{args.name}.py to the customer's "
          f"documentation, then their tests;\n  .venv/bin/python -m pytest tests/unit/test_{args.name}.py "
          f"tests/functional/test_{args.name}_plug.py; docs/adding-a-customer.md has the rest.")
    return 0


def scaffold(name: str, title: str) -> list[tuple[str, str]]:
    """Write the integration `name`; the files written or changed, each with what it holds."""
    class_name = re.sub(r"[^A-Za-z0-9]", "", title)
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise CannotWrite(f"{name!r} is not a module name: lower case letters, digits and underscores, 2 to 30")
    if not class_name.isidentifier() or not class_name[0].isupper():
        raise CannotWrite(f"--title {title!r} does not make a class name (it starts with a capital letter)")
    registry, sandboxes = REGISTRY.read_text(encoding="utf-8"), SANDBOXES.read_text(encoding="utf-8")
    stages = json.loads(STAGES.read_text(encoding="utf-8"))
    targets = [ROOT / target.format(name=name) for target in WRITTEN.values()]
    taken = [str(path.relative_to(ROOT)) for path in targets if path.exists()]
    if f'"{name}":' in registry or f'"{name}":' in sandboxes or f"{name}-dev" in stages["stages"] or taken:
        raise CannotWrite(f"{name} is already there ({', '.join(taken) or 'registered'}): nothing written")
    port = next_port(sandboxes)
    values = {"name": name, "Name": class_name, "NAME": name.upper(), "title": title}
    registry = with_line(_MODULES_BLOCK, registry, f'    "{name}": "dispatcher.integrations.{name}",', sort=True)
    sandboxes = with_line(_SANDBOXES_BLOCK, sandboxes,
                          f'    "{name}": ("sandbox.{name}", "{class_name}Sandbox", {port}, {{}}),', sort=False)
    stages["stages"][f"{name}-dev"] = {"api_gateway_stage": "api", "environment_variables": {
        "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "dev", "CUSTOMER_TIMEOUT_S": "20", "CUSTOMER": name,
        "LEDGER": "sqlite:.ledger.sqlite3", f"{name.upper()}_API_URL": f"http://127.0.0.1:{port}",
        f"{name.upper()}_TOKEN": f"sandbox-{name}-token"}}
    for template, path in zip(WRITTEN, targets, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render((TEMPLATES / template).read_text(encoding="utf-8"), values), encoding="utf-8")
    REGISTRY.write_text(registry, encoding="utf-8")
    SANDBOXES.write_text(sandboxes, encoding="utf-8")
    STAGES.write_text(json.dumps(stages, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    with CLASSIFY_CHECKS.open("a", encoding="utf-8") as checks:
        checks.write(render((TEMPLATES / "classify_check.py.tmpl").read_text(encoding="utf-8"), values))
    what = ["the integration: translate, classify, from_env", "its sandbox, on sandbox/server.py's LeadSandbox",
            "translate and classify, table-driven, no I/O", "through the app in process, against the sandbox",
            "a new person (201)", "the same person again (409)", "a refusal (406)", "what each fixture must get"]
    return [*((str(path.relative_to(ROOT)), text) for path, text in zip(targets, what, strict=True)),
            ("dispatcher/integrations/__init__.py", f"CUSTOMER={name}: the registry line"),
            ("sandbox/__main__.py", f"its sandbox under `make run`, on port {port}"),
            (".chalice/config.json", f"the {name}-dev stage, pointed at that port"),
            ("tests/unit/test_classify_any_answer.py", "classify never raises, whatever the answer")]


if __name__ == "__main__":
    sys.exit(main())
