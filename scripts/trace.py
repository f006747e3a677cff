#!/usr/bin/env python3
"""Print the path of one lead from the plug's transition log lines.

    scripts/trace.py LEAD_ID [LOG_FILE]        (standard input when no file)
    scripts/trace.py -- -h plug.log            (`--`: what follows is a lead id and a file, never an option)

A lead id that starts with `-` is taken as an id (`scripts/trace.py -lead-7 plug.log`): the only options are
-h and --help; after `--`, even those are ids.

Reads the plug's own JSON lines, and the same lines as CloudWatch exports them: prefixed by a timestamp
and request id, inside `aws logs filter-log-events` / `get-log-events` JSON ({"events": [{"message": ...}]}),
or as CSV rows of the console's export. Several traces of one lead id (a retry by the platform) are
printed one after the other.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any

FIELDS = {"lead_id", "trace_id", "from", "to", "trigger"}
MAX_FAILED_ATTEMPTS = 256  # a line of ours fails a handful of times at most (a CSV row's inner braces)


def _objects_in(text: str) -> Iterator[dict[str, Any]]:
    """Every JSON object embedded in a line of text, whatever comes before it.

    A line that is not ours (hostile or broken) costs bounded time: each failed attempt costs the line's length
    (the decoder's error counts the lines before it), so a line gives up after MAX_FAILED_ATTEMPTS of them, and
    at once when it is nested deeper than Python's recursion limit.
    """
    decoder = json.JSONDecoder()
    failed = 0
    start = text.find("{")
    while start != -1:
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            failed += 1
            if failed > MAX_FAILED_ATTEMPTS:
                return
            start = text.find("{", start + 1)
            continue
        except RecursionError:
            return  # nested deeper than any log line of ours: nothing of the rest of this line is a record
        if isinstance(value, dict):
            yield value
        start = text.find("{", end)


def _csv_fields(line: str) -> list[str]:
    """The fields of a CSV row (the console's export), none when the line is no CSV row of a sane size."""
    try:
        return next(csv.reader(io.StringIO(line)), [])
    except csv.Error:  # a field over csv's size limit, a NUL: not a row of ours
        return []


def is_transition(value: dict[str, Any]) -> bool:
    return FIELDS <= value.keys()


def log_objects(lines: Iterable[str], wanted: Callable[[dict[str, Any]], bool] = is_transition
                ) -> Iterator[dict[str, Any]]:
    """The JSON objects `wanted` keeps (transition records by default) in log text, unwrapping CloudWatch's
    exports; scripts/report.py reads the metric lines through it as well."""
    for line in lines:
        values = list(_objects_in(line))
        if not any(wanted(value) or "events" in value or "message" in value for value in values) \
                and '""' in line:
            # A CSV export doubles the quotes inside its fields; read that way only when the line as it is
            # holds no record (an id ending in a quote is written \" and looks doubled too).
            values = list(_objects_in(" ".join(_csv_fields(line))))
        for value in values:
            if wanted(value):
                yield value
            for event in value.get("events") or []:
                if isinstance(event, dict) and isinstance(event.get("message"), str):
                    yield from log_objects([event["message"]], wanted)
            if isinstance(value.get("message"), str):
                yield from log_objects([value["message"]], wanted)


def transitions(lines: Iterable[str]) -> Iterator[dict[str, Any]]:
    """The transition records in log text, unwrapping CloudWatch's exports."""
    return log_objects(lines, is_transition)


def lead_paths(records: Iterable[dict[str, Any]], lead_id: str) -> dict[str, list[dict[str, Any]]]:
    paths: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        if record.get("lead_id") == lead_id:
            paths.setdefault(str(record.get("trace_id")), []).append(record)
    return paths


def _number(value: Any) -> float:
    """A record's elapsed_ms for ordering: 0 when it is not a number (a hostile or broken line)."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def describe(trace_id: str, records: list[dict[str, Any]]) -> str:
    # Every value shown as text: a broken line's list or object in a field is printed, not a crash.
    records = [{key: value if value is None else str(value) for key, value in record.items()}
               | {"elapsed": _number(record.get("elapsed_ms"))} for record in records]
    records = sorted(records, key=lambda r: (str(r.get("ts")), r["elapsed"]))
    states = [str(records[0]["from"])] + [str(r["to"]) for r in records]
    last = records[-1]
    ending = f"{last['to']} ({last['reason']})" if last.get("reason") else last["to"]
    lines = [f"trace {trace_id}: {' -> '.join(states)}", f"  ended {ending} after {last.get('elapsed_ms')} ms"]
    for record in records:
        reason = f"  reason={record['reason']}" if record.get("reason") else ""
        lines.append(f"  {record.get('ts')}  {record['from']!s:>10} -> {record['to']!s:<10} "
                     f"by {record['trigger']!s:<15} at {record.get('elapsed_ms')} ms{reason}")
        if record.get("replay_of"):
            lines.append(f"  (replays the delivery of trace {record['replay_of']}: the customer was not called)")
        if record.get("previous_trace_id"):
            lines.append(f"  (trace {record['previous_trace_id']} ended in doubt before this one)")
    return "\n".join(lines)


HELP = ("-h", "--help")


def ids_not_options(argv: list[str]) -> list[str]:
    """The arguments with every one but -h/--help after a `--`: argparse would read `-lead-7` as an option."""
    if "--" in argv:
        return argv
    return [arg for arg in argv if arg in HELP] + ["--"] + [arg for arg in argv if arg not in HELP]


def quiet_on_closed_pipe(main: Callable[[], int]) -> int:
    """main(), ending quietly when the reader of standard output went away (`| head`): no traceback."""
    try:
        code = main()
        sys.stdout.flush()
        return code
    except BrokenPipeError:
        # Python's documented way: point stdout at devnull so that the interpreter's own flush at exit is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lead_id", help="the lead's id as the platform sent it (may start with -)")
    parser.add_argument("log_file", nargs="?", help="a log file or CloudWatch export (default: standard input)")
    args = parser.parse_args(ids_not_options(sys.argv[1:] if argv is None else argv))
    try:
        stream = open(args.log_file, encoding="utf-8", errors="replace") if args.log_file else sys.stdin
    except OSError as exc:
        print(f"trace: cannot read {args.log_file}: {exc.strerror}", file=sys.stderr)
        return 2
    with stream:
        paths = lead_paths(transitions(stream), args.lead_id)
    if not paths:
        print(f"trace: no transition of lead {args.lead_id!r} in the log", file=sys.stderr)
        return 1
    print(f"lead {args.lead_id}: {len(paths)} trace(s)")
    for trace_id, records in paths.items():
        print(describe(trace_id, records))
    return 0


if __name__ == "__main__":
    sys.exit(quiet_on_closed_pipe(main))
