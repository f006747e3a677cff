#!/usr/bin/env python3
"""Start a code integration (a CRM with its own API) with every file it needs, passing its own tests as written.

    ./scripts/new_integration.py acme_crm --title "Acme CRM"               # an API key (a bearer token)
    ./scripts/new_integration.py acme_crm --title "Acme CRM" --auth oauth  # OAuth 2.0 client credentials

Writes, from scripts/templates/integration/ (Jinja templates): the module (dispatcher/integrations/NAME.py, with
its search for a lead in doubt), a sandbox (sandbox/NAME.py, on the shared base: LeadSandbox for a key, CrmSandbox
and a token endpoint whose tokens expire for OAuth) with the duplicate, refusal, error, slow-answer and no-answer
triggers, the pure tests (tests/unit/test_NAME.py, random answers included), the end-to-end tests through the app
(tests/functional/test_NAME_plug.py, the in-doubt retry included), a fixtures folder (fixtures/NAME/), a docs page
(docs/customers-NAME.md); and the two shared files it changes: a `NAME-dev` stage in .chalice/config.json and the
module map's lines for the module and the sandbox (docs/development.md); the plug finds the module and `make run`
the sandbox by themselves. The stage's timeout (2 s) is shorter than the sandbox's
late answer (3 s), so `+slowanswer` puts a lead in doubt through `chalice local`. Exit code: 0 when written, 2 when
nothing was (a name taken, or not a Python module name).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import keyword
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEEDED = ("jinja2", "ruff")  # to write the files, and to lay them out within the line length


def use_project_venv() -> None:
    """Run again with the project's .venv when this interpreter lacks Jinja or ruff: `./scripts/new_integration.py`
    runs the `python3` on the PATH, and without ruff the generated code would not pass `ruff check` (by
    sys.prefix, not by the interpreter's path: a venv's python is a symlink to the one it was made from)."""
    if all(importlib.util.find_spec(name) for name in NEEDED):
        return
    venv = ROOT / ".venv"
    if (venv / "bin" / "python").exists() and Path(sys.prefix).resolve() != venv.resolve():
        os.execv(venv / "bin" / "python", [str(venv / "bin" / "python"), *sys.argv])
    missing = [name for name in NEEDED if not importlib.util.find_spec(name)]
    raise SystemExit(f"new_integration.py needs {' and '.join(missing)}: run `make run` once (it builds .venv) or "
                     "`pip install -r requirements-dev.txt`")


use_project_venv()
sys.path.insert(0, str(ROOT))  # the sandboxes' ports, read from sandbox/ itself
from jinja2 import Environment, FileSystemLoader, StrictUndefined  # noqa: E402 - after the interpreter is chosen

TEMPLATES = ROOT / "scripts" / "templates" / "integration"
STAGES = ROOT / ".chalice" / "config.json"
MODULE_MAP = ROOT / "docs" / "development.md"  # its module map names every module (tests/unit/test_module_map.py)
DEV_TIMEOUT_S = "2"  # below the sandbox's late answer (LeadSandbox.SLOW_ANSWER_S, 3 s): a lead can be in doubt
WRITTEN = {  # template -> (where it goes, what it holds)
    "module.py.tmpl": ("dispatcher/integrations/{name}.py", "the integration: translate, classify, find, from_env"),
    "sandbox.py.tmpl": ("sandbox/{name}.py", "its sandbox, found by `make run` (MAKE_RUN), port {port}"),
    "test_unit.py.tmpl": ("tests/unit/test_{name}.py", "translate, classify, find, random answers; no I/O"),
    "test_plug.py.tmpl": ("tests/functional/test_{name}_plug.py", "through the app against the sandbox, in doubt"),
    "fixtures/01-created.json.tmpl": ("fixtures/{name}/01-created.json", "a new person (201)"),
    "fixtures/02-duplicate.json.tmpl": ("fixtures/{name}/02-duplicate.json", "the same person again (409)"),
    "fixtures/03-refused-invalid-email.json.tmpl": ("fixtures/{name}/03-refused-invalid-email.json",
                                                    "a refusal (406)"),
    "fixtures/expected.json.tmpl": ("fixtures/{name}/expected.json", "what each fixture must get"),
    "docs.md.tmpl": ("docs/customers-{name}.md", "its page: variables, answers (link it from docs/customers.md)"),
}
_NAME = re.compile(r"[a-z][a-z0-9_]{1,29}")
MAX_CLASS_NAME = 30


class CannotWrite(Exception):
    """Nothing was written; the message says why."""


def next_port() -> int:
    """The port after the highest one a sandbox takes under `make run` (the plug itself holds 8000)."""
    from sandbox.__main__ import discovered

    return max([8000, *(port for _module, _cls, port, _kwargs in discovered().values())]) + 1


def render(template: str, values: dict[str, object]) -> str:
    environment = Environment(loader=FileSystemLoader(TEMPLATES), undefined=StrictUndefined, keep_trailing_newline=True,
                              trim_blocks=True, autoescape=False)
    return environment.get_template(template).render(values)


def formatted(paths: Iterable[Path]) -> None:
    """Lay the generated code out within the line length, whatever the name's length (ruff's formatter and its
    import sorting, from the interpreter `use_project_venv` chose); a failure stops the scaffold."""
    files = list(map(str, paths))
    for command in (["format", "--no-cache", "--quiet"], ["check", "--no-cache", "--quiet", "--fix", "--select", "I"]):
        subprocess.run([sys.executable, "-m", "ruff", *command, *files], cwd=ROOT, check=True, capture_output=True,
                       timeout=120)


def dev_stage(name: str, port: int, oauth: bool) -> dict[str, object]:
    prefix, url = name.upper(), f"http://127.0.0.1:{port}"
    credentials = {f"{prefix}_TOKEN_URL": f"{url}/oauth/token", f"{prefix}_CLIENT_ID": f"sandbox-{name}-client-id",
                   f"{prefix}_CLIENT_SECRET": f"sandbox-{name}-client-secret"} if oauth \
        else {f"{prefix}_TOKEN": f"sandbox-{name}-token"}
    return {"api_gateway_stage": "api", "environment_variables": {
        "ROLLBAR_ACCESS_TOKEN": "", "ROLLBAR_ENVIRONMENT": "dev", "CUSTOMER_TIMEOUT_S": DEV_TIMEOUT_S, "CUSTOMER": name,
        "LEDGER": "sqlite:.ledger.sqlite3", f"{prefix}_API_URL": url, **credentials}}


def mapped(page: str, name: str, title: str) -> str:
    """The development page with the integration's module and sandbox in its module map, each after the last line
    of its folder."""
    lines = page.split("\n")
    for folder, row in (("dispatcher/integrations/", f"| `dispatcher/integrations/{name}.py` | {title}: a lead "
                                                     "becomes its record (scaffolded: say how, in a line) | |"),
                        ("sandbox/", f"| `sandbox/{name}.py` | {title}, as its documentation describes it | - |")):
        last = max(number for number, line in enumerate(lines) if line.startswith(f"| `{folder}"))
        lines.insert(last + 1, row)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", help="the CUSTOMER value and module name: lower case, digits, underscores")
    parser.add_argument("--title", help="the customer's name as people write it, e.g. HubSpot (default: from NAME)")
    parser.add_argument("--auth", choices=("key", "oauth"), default="key",
                        help="key: an API key sent as a bearer token; oauth: OAuth 2.0 client credentials")
    args = parser.parse_args(argv)
    try:
        written = scaffold(args.name, args.title or "".join(part.capitalize() for part in args.name.split("_")),
                           oauth=args.auth == "oauth")
    except CannotWrite as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.name}: written, and its tests pass as they are. Checklist, every file of the integration:")
    for path, what in written:
        print(f"  {path:<48} {what}")
    print(f"\nNext: adapt dispatcher/integrations/{args.name}.py and sandbox/{args.name}.py to the customer's "
          f"documentation, then their tests;\n  .venv/bin/python -m pytest tests/unit/test_{args.name}.py "
          f"tests/functional/test_{args.name}_plug.py;\n  link docs/customers-{args.name}.md from the tables of "
          f"docs/customers.md and README.md; docs/adding-a-customer.md has the rest.")
    return 0


def scaffold(name: str, title: str, *, oauth: bool = False) -> list[tuple[str, str]]:
    """Write the integration `name`; the files written or changed, each with what it holds."""
    class_name = re.sub(r"[^A-Za-z0-9]", "", title)
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise CannotWrite(f"{name!r} is not a module name: lower case letters, digits and underscores, 2 to 30")
    if not class_name.isidentifier() or not class_name[0].isupper() or len(class_name) > MAX_CLASS_NAME:
        raise CannotWrite(f"--title {title!r} does not make a class name (a capital letter first, at most "
                          f"{MAX_CLASS_NAME} letters and digits)")
    stages = json.loads(STAGES.read_text(encoding="utf-8"))
    port = next_port()
    targets = {template: (ROOT / where.format(name=name), what.format(port=port))
               for template, (where, what) in WRITTEN.items()}
    taken = [str(path.relative_to(ROOT)) for path, _ in targets.values() if path.exists()]
    if f"{name}-dev" in stages["stages"] or taken:
        raise CannotWrite(f"{name} is already there ({', '.join(taken) or 'a stage of that name'}): nothing written")
    values = {"name": name, "Name": class_name, "NAME": name.upper(), "title": title, "port": port, "oauth": oauth}
    rendered = {template: render(template, values) for template in targets}
    module_map = mapped(MODULE_MAP.read_text(encoding="utf-8"), name, title)  # before anything is written
    stages["stages"][f"{name}-dev"] = dev_stage(name, port, oauth)
    for template, (path, _) in targets.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(rendered[template], encoding="utf-8")
    STAGES.write_text(json.dumps(stages, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    MODULE_MAP.write_text(module_map, encoding="utf-8")
    formatted(path for path, _ in targets.values() if path.suffix == ".py")
    return [*((str(path.relative_to(ROOT)), what) for path, what in targets.values()),
            (".chalice/config.json", f"the {name}-dev stage, pointed at port {port}, a {DEV_TIMEOUT_S} s timeout"),
            ("docs/development.md", "the module map's lines for the module and the sandbox (say their jobs)")]


if __name__ == "__main__":
    sys.exit(main())
