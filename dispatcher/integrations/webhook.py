"""A webhook customer (CUSTOMER=webhook): a configuration file, not code: its field mapping, its answer
rules (no rule for an answer never makes it a success) and its examples, checked when the plug starts.

WEBHOOK_CONFIG names the file (relative paths start at the project root, which is also the top of the
Lambda package: `customers/` reaches it through the `vendor/customers` symlink). The file is checked
against `contracts/webhook-config.schema.json`, then for what a schema cannot say (regular expressions,
regex groups, time zones, charsets, an example for every rule, secrets present in the environment), all when
the plug starts: a wrong file stops the plug with a message naming the mistake, never at the first lead.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from dispatcher.contract import CONTRACTS_DIR, Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.auth import StaticAuth
from dispatcher.integrations.base import CustomerRequest, http_family_outcome, search_failed
from dispatcher.integrations.webhook_body import charset_of, lead_request
from dispatcher.integrations.webhook_examples import check_examples, examples_of
from dispatcher.integrations.webhook_mapping import FieldRule, field_rules, nesting_conflict
from dispatcher.integrations.webhook_rules import Rule, classify, compile_rule
from dispatcher.jsonpath import lookup
from dispatcher.reasons import Outcome
from dispatcher.transport import Answer

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = CONTRACTS_DIR / "webhook-config.schema.json"
_SCHEMA = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
_LEAD_PATH_PATTERN = _SCHEMA["$defs"]["lead_path"]["pattern"]
_validator = Draft202012Validator(_SCHEMA)


@dataclass(frozen=True)
class Finder:
    """A webhook customer's search: GET `url` with the lead's values as parameters, the id at `id_path`."""

    url: str
    params: Mapping[str, str]
    id_path: str


class Webhook:
    name = "webhook"

    def __init__(self, *, customer: str, required_fields: tuple[str, ...], fields: tuple[FieldRule, ...],
                 encoding: str, headers: Mapping[str, str], rules: tuple[Rule, ...], auth: StaticAuth,
                 finder: Finder | None = None, charset: str | None = None) -> None:
        self.customer = customer
        self.charset = charset  # None: as requests writes it (UTF-8 form, ASCII-escaped JSON)
        self.required_fields = required_fields
        self.fields = fields
        self.encoding = encoding
        self.headers = dict(headers)
        self.rules = rules
        self.auth = auth
        self.finder = finder

    def translate(self, lead: Lead) -> CustomerRequest:
        """The lead as the customer's body; InvalidLead names a field its format or charset cannot take."""
        return lead_request(self.fields, self.encoding, self.charset, self.headers, lead)

    def classify(self, answer: Answer) -> Outcome:
        return classify(self.rules, answer, self.customer)

    def find_request(self, lead: Lead, since: datetime) -> CustomerRequest | None:
        """The file's `find` request for this lead, None when the file declares none."""
        if self.finder is None:
            return None
        params = {name: str(value) for name, path in self.finder.params.items()
                  if (value := lookup(lead, path)) not in (None, "")}
        return CustomerRequest(path=self.finder.url, method="GET", params=params)

    def found(self, answer: Answer, since: datetime) -> str | int | None:
        """The customer's id at the file's path in a 2xx answer; none there, or a 404: not found."""
        assert self.finder is not None
        if 200 <= answer.status < 300:
            found = lookup(answer.json(), self.finder.id_path)
            return found if isinstance(found, (str, int)) and not isinstance(found, bool) and found != "" else None
        if answer.status == 404:
            return None
        raise search_failed(classify(self.rules, answer, self.customer) if answer.status in (401, 403)
                            else http_family_outcome(answer, f"{self.customer}'s search"), answer, self.customer)


def config_path(value: str) -> Path:
    """WEBHOOK_CONFIG as a path: absolute as given, relative from the project root (the package's top)."""
    path = Path(value)
    return path if path.is_absolute() else PROJECT_ROOT / path


def read_config(path: Path) -> dict[str, Any]:
    """The file's content, valid by the schema; ConfigurationError names the first mistake and where it is."""
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(f"WEBHOOK_CONFIG: no file at {path} (a relative path starts at the project "
                                 f"root, {PROJECT_ROOT})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"WEBHOOK_CONFIG: cannot read {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigurationError(f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                 f"{exc.msg})") from None
    mistakes = schema_mistakes(config)
    if mistakes:
        others = f" (and {len(mistakes) - 1} more mistake(s))" if len(mistakes) > 1 else ""
        raise ConfigurationError(f"{path.name}: {mistakes[0]}{others}; the format is contracts/{SCHEMA_PATH.name}")
    return config


def schema_mistakes(config: Any) -> list[str]:
    """Every way the content breaks the schema, one line each, the most telling first."""
    errors = list(_validator.iter_errors(config))
    if not errors:
        return []
    best = best_match(errors)
    lines = [_describe(best), *(_describe(best_match([error])) for error in errors)]
    return list(dict.fromkeys(lines))


def _describe(error: ValidationError) -> str:
    error = _precise(error)
    message = error.message
    if error.validator == "pattern" and error.validator_value == _LEAD_PATH_PATTERN:
        message = f"{error.instance!r} is not a field of the lead (contracts/lead.schema.json), dotted for " \
                  "nested ones: address.postal_code, extra.<name>"
    return f"at {error.json_path}: {message}"


def _leaves(error: ValidationError) -> list[ValidationError]:
    return [leaf for sub in error.context for leaf in _leaves(sub)] if error.context else [error]


def _precise(error: ValidationError) -> ValidationError:
    """Inside a "not valid under any of the given schemas", the mistake itself: the deepest error of a branch
    whose type fits (a wrong key of an object rather than "it is not a string")."""
    fitting = [leaf for leaf in _leaves(error) if leaf.validator != "type"]
    return max(fitting, key=lambda leaf: len(leaf.absolute_path)) if fitting else error


def _secret(environ: Mapping[str, str], name: str, where: str) -> str:
    value = environ.get(name)
    if not value:
        raise ConfigurationError(f"{where} names the environment variable {name}, which is not set in this "
                                 "stage (set it in .chalice/config.json, or from the vault at release)")
    if not value.isprintable():
        raise ConfigurationError(f"{where}: the environment variable {name} holds a control character "
                                 "(a stray newline?)")
    if not value.isascii():
        raise ConfigurationError(f"{where}: the environment variable {name} holds a non-ASCII character; "
                                 "HTTP headers and query keys carry ASCII only")
    return value


def _url(value: str | Mapping[str, str], environ: Mapping[str, str], where: str) -> str:
    """A URL of the file: as written, or read from the stage variable it names."""
    if isinstance(value, str):
        return value
    url = _secret(environ, value["env"], where)
    if not url.startswith(("http://", "https://")) or any(c.isspace() for c in url):
        raise ConfigurationError(f"{where}: the variable {value['env']} must hold an http(s) URL")
    return url


def _finder(config: Mapping[str, Any], environ: Mapping[str, str], file_name: str) -> Finder | None:
    find = config.get("find")
    if find is None:
        return None
    return Finder(url=_url(find["url"], environ, f"{file_name}: $.find.url"), params=dict(find["params"]),
                  id_path=find["found"]["json"])


def _auth(config: Mapping[str, Any], environ: Mapping[str, str], file_name: str) -> StaticAuth:
    url = _url(config["url"], environ, f"{file_name}: $.url")
    auth = config.get("auth") or {"type": "none"}
    where = f"{file_name}: $.auth"
    if auth["type"] == "bearer":
        return StaticAuth.bearer(url, _secret(environ, auth["env"], where))
    if auth["type"] == "header":
        return StaticAuth.header(url, auth["name"], _secret(environ, auth["env"], where), auth.get("prefix", ""))
    if auth["type"] == "basic":
        user = auth["username"] if "username" in auth else _secret(environ, auth["username_env"], where)
        return StaticAuth.basic(url, user, _secret(environ, auth["password_env"], where))
    if auth["type"] == "query":
        return StaticAuth.query(url, auth["name"], _secret(environ, auth["env"], where))
    return StaticAuth(url)


def variables_named(config: Mapping[str, Any]) -> list[str]:
    """The environment variables a schema-valid file reads (its URL's and its secrets), in file order."""
    auth = config.get("auth") or {}
    names = [config["url"]["env"]] if isinstance(config["url"], dict) else []
    return names + [auth[key] for key in ("username_env", "env", "password_env") if key in auth]


def variable_mistakes(config: Mapping[str, Any], environ: Mapping[str, str], file_name: str) -> list[str]:
    """What is wrong with the stage's variables for this file, one line per variable."""
    mistakes = []
    for name in variables_named(config):
        try:
            _secret(environ, name, f"{file_name}: {'$.url' if config['url'] == {'env': name} else '$.auth'}")
        except ConfigurationError as exc:
            mistakes.append(str(exc))
    if not mistakes:
        try:
            _auth(config, environ, file_name)
        except ConfigurationError as exc:
            mistakes.append(str(exc))
    return mistakes


def build(config: Mapping[str, Any], environ: Mapping[str, str], file_name: str, *,
          with_examples: bool = True) -> Webhook:
    """The integration for a schema-valid configuration, checking what the schema cannot; `with_examples`
    runs the file's examples through its rules, and wants one for each rule (the check command runs and
    prints them itself)."""
    charset = charset_of(config.get("charset"), f"{file_name}: $.charset")
    fields = field_rules(config["fields"], file_name, charset)
    if config["body"] == "json" and (conflict := nesting_conflict([f.name for f in fields])):
        raise ConfigurationError(f"{file_name}: $.fields: {conflict!r} is both a field and the parent of "
                                 "another (a dot in a JSON field name nests)")
    try:
        rules = tuple(compile_rule(rule, index) for index, rule in enumerate(config["answers"]))
    except ConfigurationError as exc:
        raise ConfigurationError(f"{file_name}: {exc}") from None
    if with_examples:
        check_examples(rules, examples_of(config, file_name), config["name"], file_name)
    for name, value in config.get("headers", {}).items():
        if not (f"{name}{value}".isascii() and f"{name}{value}".isprintable()):
            raise ConfigurationError(f"{file_name}: $.headers.{name}: a header holds ASCII without control "
                                     "characters only")
    return Webhook(customer=config["name"], required_fields=tuple(config.get("required_fields", ())),
                   fields=fields, encoding=config["body"], headers=config.get("headers", {}), rules=rules,
                   auth=_auth(config, environ, file_name), finder=_finder(config, environ, file_name),
                   charset=charset)


def from_env(environ: Mapping[str, str]) -> Webhook:
    """Build the integration from WEBHOOK_CONFIG and the secrets the file names."""
    value = environ.get("WEBHOOK_CONFIG")
    if not value:
        raise ConfigurationError("CUSTOMER=webhook needs WEBHOOK_CONFIG, the path of the customer's file "
                                 "(e.g. customers/acme-json.json)")
    path = config_path(value)
    return build(read_config(path), environ, path.name)
