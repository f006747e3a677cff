#!/usr/bin/env python3
"""Check a webhook customer's file before any lead goes through it, and see what its rules make of answers.

    ./scripts/check_customer.py customers/acme-json.json                    # the file and its examples
    ./scripts/check_customer.py customers/acme-json.json --stage acme-dev   # and that stage's variables
    ./scripts/check_customer.py customers/acme-json.json --env              # and this shell's variables
    ./scripts/check_customer.py customers/solaris-form.json --status 200 --body 'ERREUR DOUBLON'   # one answer
    ./scripts/check_customer.py customers/solaris-form.json --lead fixtures/webhook/solaris-form/01-created.json

Prints a table of the file's examples (the rule that matched each, the outcome, the status the platform would
get), then one line per mistake: an example the rules get wrong, a rule no example reaches. With --lead, the
exact request that lead becomes (method, URL and headers with the secrets masked, the body in its charset);
nothing is sent. Exit code: 0 when all is right, 1 when the file, its examples or the variables have a
mistake, 2 when the check cannot run (no such file, lead or stage). It runs with the project's .venv
whatever python3 starts it, from any directory (`make check-customer` builds .venv first).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_VENV = Path(__file__).resolve().parent.parent / ".venv"
if (_VENV / "bin" / "python").exists() and Path(sys.prefix).resolve() != _VENV.resolve():
    os.execv(_VENV / "bin" / "python", [str(_VENV / "bin" / "python"), __file__, *sys.argv[1:]])  # the project's own

import argparse  # noqa: E402 - after the switch to the project's interpreter
import json  # noqa: E402
from collections.abc import Mapping  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, run as a script

from scripts import fixtures_lib as lib  # noqa: E402

try:
    import requests

    from dispatcher.contract import validate_lead
    from dispatcher.errors import ConfigurationError, InvalidLead
    from dispatcher.integrations.webhook import (
        Webhook,
        build,
        config_path,
        schema_mistakes,
        variable_mistakes,
        variables_named,
    )
    from dispatcher.integrations.webhook_examples import Example, Run, example_mistakes, examples_of, run_examples
    from dispatcher.integrations.webhook_rules import first_match
    from dispatcher.reasons import ending_of
    from dispatcher.transport import Transport
except ModuleNotFoundError as missing:  # pragma: no cover - no .venv yet, and this python3 lacks a requirement
    print(f"error: this needs the project's requirements ({missing.name} is missing): run "
          "`make check-customer FILE=...`, which builds .venv first", file=sys.stderr)
    sys.exit(lib.CANNOT_RUN)

CONFIG = lib.ROOT / ".chalice" / "config.json"


class CannotRun(Exception):
    """The check itself cannot be made; the message says why."""


def stage_variables(stage: str) -> dict[str, str]:
    """A stage's variables as Chalice sets them: the top-level ones, overridden by the stage's own."""
    try:
        config = json.loads(CONFIG.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CannotRun(f"cannot read .chalice/config.json: {exc}") from None
    stages = config.get("stages", {})
    if stage not in stages:
        raise CannotRun(f"no stage {stage!r} in .chalice/config.json (there are {', '.join(sorted(stages))})")
    return {**config.get("environment_variables", {}), **stages[stage].get("environment_variables", {})}


def placeholders(config: Mapping[str, Any]) -> dict[str, str]:
    """Values for the variables the file names, when no stage is given: only the file itself is checked."""
    url = config["url"]["env"] if isinstance(config["url"], dict) else None
    return {name: "https://customer.example/leads" if name == url else "placeholder"
            for name in variables_named(config)}


def stage_mistakes(stage: str, variables: Mapping[str, str], path: Path) -> list[str]:
    """Whether the stage serves this file at all."""
    if (variables.get("CUSTOMER") or "").strip().lower() != "webhook":
        return [f"stage {stage}: CUSTOMER is {variables.get('CUSTOMER')!r}, not 'webhook'"]
    named = variables.get("WEBHOOK_CONFIG") or ""
    if not named or config_path(named).resolve() != path.resolve():
        return [f"stage {stage}: WEBHOOK_CONFIG is {named!r}, not this file"]
    return []


def plug_status(run: Run) -> str:
    """The status the platform gets for this outcome."""
    return str(ending_of(run.outcome.state, run.outcome.reason).status)


def examples_table(runs: list[Run]) -> str:
    rows = [("ok" if run.mistake is None else "FAIL", f"{run.example.where} {run.example.name}".rstrip(),
             run.example.shown_answer, run.rule or "no rule", run.got, plug_status(run), run.example.expected)
            for run in runs]
    return lib.aligned(("", "example", "answer", "rule", "outcome", "plug", "must be"), rows)


def http_status(text: str) -> int:
    """An HTTP status from the command line, 100 to 599."""
    if not text.isdigit() or not 100 <= int(text) <= 599:
        raise argparse.ArgumentTypeError(f"{text!r} is not an HTTP status (100 to 599)")
    return int(text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", help="the customer's file, e.g. customers/acme-json.json")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stage", help="check the variables of this stage of .chalice/config.json")
    where.add_argument("--env", action="store_true", help="check the variables of this shell's environment")
    parser.add_argument("--status", type=http_status, help="try one answer with this HTTP status (and --body)")
    parser.add_argument("--body", help="the body of the answer to try, as the customer sends it")
    parser.add_argument("--lead", type=Path, metavar="FILE",
                        help="print the exact request this lead (a fixture, e.g. "
                             "fixtures/leads/fr-b2c-solar-lyon.json) becomes; nothing is sent")
    args = parser.parse_args(argv)
    if args.body is not None and args.status is None:
        parser.error("--body goes with --status")
    if args.lead is not None and args.status is not None:
        parser.error("--lead shows a request, --status tries an answer: one at a time")
    lib.quiet_broken_pipe()
    try:
        return check(args)
    except CannotRun as exc:
        print(f"error: {exc}", file=sys.stderr)
        return lib.CANNOT_RUN


def check(args: argparse.Namespace) -> int:
    path = Path(args.file)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CannotRun(f"cannot read {args.file}: {exc.strerror if isinstance(exc, OSError) else exc}") from None
    variables = stage_variables(args.stage) if args.stage else dict(os.environ) if args.env else None
    lead = read_lead(args.lead) if args.lead is not None else None
    try:
        config = json.loads(text)
    except ValueError as exc:
        return report([f"{path.name}: not valid JSON ({exc})"])
    mistakes = [f"{path.name}: {mistake}" for mistake in schema_mistakes(config)]
    if mistakes:
        return report(mistakes, "the format is contracts/webhook-config.schema.json")
    try:
        integration = build(config, placeholders(config), path.name, with_examples=False)
    except ConfigurationError as exc:
        return report([str(exc)])
    try:
        examples = examples_of(config, path.name)
    except ConfigurationError as exc:
        return report([str(exc)])
    runs = run_examples(integration.rules, examples, integration.customer)
    print(f"{integration.customer} ({args.file}): {len(integration.rules)} answer rules, {len(examples)} examples")
    notes = []
    if variables is None:
        notes.append(f"variables not checked ({', '.join(variables_named(config)) or 'none'}): "
                     "give --stage NAME or --env")
    else:
        if args.stage:
            mistakes += stage_mistakes(args.stage, variables, path)
        mistakes += variable_mistakes(config, variables, path.name)
    if lead is not None:
        staged = build(config, variables, path.name, with_examples=False) if variables is not None and not mistakes \
            else integration
        print(preview(staged, lead))
        if staged is integration:
            notes.append("the URL and the secrets above are placeholders: give --stage NAME or --env for the stage's")
    elif args.status is None:
        print(examples_table(runs) if runs else "no examples: the file does not say what its answers must give")
    else:
        tried = Example("your answer", args.status, args.body or "", state="")
        rule, outcome = first_match(integration.rules, tried.answer(), integration.customer)
        run = Run(tried, rule.where if rule else None, outcome)
        decided = f"{run.rule} makes it" if run.rule else "no rule matches it, which makes it"
        print(f"{tried.shown_answer}: {decided} {run.got} (the plug answers {plug_status(run)})")
    mistakes += [f"{path.name}: {mistake}" for mistake in example_mistakes(integration.rules, runs)]
    return report(mistakes, *notes)


def read_lead(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CannotRun(f"cannot read the lead {path}: {exc.strerror if isinstance(exc, OSError) else exc}") from None


def preview(integration: Webhook, body: Any) -> str:
    """The exact request the lead becomes, as the plug's transport would send it; the secrets masked."""
    try:
        request = integration.translate(validate_lead(body, integration.required_fields))
    except InvalidLead as invalid:
        fields = ", ".join(f"{name}: {', '.join(values)}" for name, values in
                           (("missing", invalid.missing_fields), ("invalid", invalid.invalid_fields)) if values)
        return f"the plug answers 400 invalid_lead ({fields}) and sends nothing: {invalid.message}"
    session = integration.auth.open(None, None)  # type: ignore[arg-type]  # a static session needs no exchange
    prepared = Transport().session.prepare_request(requests.Request(
        request.method, request.url(session.base_url), headers={**session.headers, **request.headers},
        json=request.json_body, data=request.form, params={**session.params, **request.params} or None))
    secrets = [secret for secret in integration.auth.credentials if secret]

    def masked(text: str) -> str:
        for secret in secrets:
            for form in {secret, requests.utils.quote(secret, safe=""), requests.utils.quote(secret)}:
                text = text.replace(form, "****")
        return text

    sent = prepared.body
    body_bytes = sent if isinstance(sent, bytes) else sent.encode("utf-8") if isinstance(sent, str) else b""
    charset = integration.charset or "utf-8"
    lines = [f"{prepared.method} {masked(prepared.url or '')}"]
    lines += [f"{name}: {masked(str(value))}" for name, value in prepared.headers.items()]
    lines += ["", body_bytes.decode(charset, "replace"), "",
              f"({len(body_bytes)} bytes in {charset}; nothing was sent)"]
    return "\n".join(lines)


def report(mistakes: list[str], *notes: str) -> int:
    """Notes, then one line per mistake, then the verdict."""
    for note in notes:
        print(f"note: {note}")
    for mistake in mistakes:
        print(mistake)
    if mistakes:
        print(f"{len(mistakes)} mistake(s)")
        return lib.DIFFERENT
    print("no mistakes")
    return lib.OK


if __name__ == "__main__":
    sys.exit(main())
