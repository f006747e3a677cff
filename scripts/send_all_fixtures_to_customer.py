#!/usr/bin/env python3
"""Send every fixture to the running plug, in the order of its expected.json, and compare the answers.

    ./scripts/send_all_fixtures_to_customer.py            # fixtures/expected.json, against a fresh sandbox
    ./scripts/send_all_fixtures_to_customer.py --unique   # fresh emails/phones: run it as often as you like
    ./scripts/send_all_fixtures_to_customer.py --fixtures fixtures/zoho --unique --url http://localhost:8010/send

Prints one progress line per fixture, then a table (fixture, status, expected, state/reason, customer id,
time). Exit code: 0 when every answer is what expected.json says, 1 when one differs, 2 when the plug cannot
be reached or the fixtures are inconsistent.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, run as a script

from scripts import fixtures_lib as lib


def main(argv: list[str] | None = None) -> int:
    parser = lib.send_parser(__doc__, "rewrite emails and phones to fresh valid values (the same way for the "
                                      "whole run, so a duplicate fixture stays a duplicate), so a second run gets "
                                      "no unexpected 409")
    args = parser.parse_args(argv)
    lib.quiet_broken_pipe()
    try:
        expected = lib.load_expected(args.fixtures)
        expected_name = lib.shown(lib.expected_path(args.fixtures))
        unlisted = sorted(set(lib.all_fixture_ids(args.fixtures)) - set(expected))
        if unlisted:
            raise lib.FixtureError(f"{expected_name} does not say what to expect of {', '.join(unlisted)}")
        leads = {fixture_id: lib.load_fixture(fixture_id, args.fixtures) for fixture_id in expected}
    except lib.FixtureError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return lib.CANNOT_RUN

    uniquifier = lib.Uniquifier() if args.unique else None
    print(f"Sending {len(leads)} fixtures to {args.url}"
          + (f" (--unique: emails and phones rewritten with {uniquifier.nonce})" if uniquifier else ""), flush=True)
    rows = []
    width = len(str(len(leads)))
    for number, (fixture_id, lead) in enumerate(leads.items(), start=1):
        try:
            result = lib.send(args.url, uniquifier.lead(lead) if uniquifier else lead, fixture_id)
        except lib.PlugUnreachableError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return lib.CANNOT_RUN
        rows.append((result, expected[fixture_id]))
        mark = "ok" if not result.differences(expected[fixture_id]) else "DIFF"
        print(f"[{number:>{width}}/{len(leads)}] {fixture_id}: {result.status} {lib.state_reason(result)} {mark}",
              flush=True)

    print()
    print(lib.table(rows))
    different = [(result, wanted) for result, wanted in rows if result.differences(wanted)]
    if not different:
        print(f"\nAll {len(rows)} answers are as {expected_name} says.")
        return lib.OK
    print(f"\n{len(different)} of {len(rows)} answers differ from {expected_name}:")
    for result, wanted in different:
        print(f"- {result.fixture_id}: {'; '.join(result.differences(wanted))}")
        if result.error_message:
            print(f"  {result.error_message}")
    if not args.unique and any(result.status == 409 and wanted["status"] != 409 for result, wanted in different):
        print("\nUnexpected 409s: the customer already has these people from an earlier run. "
              "Run again with --unique.")
    return lib.DIFFERENT


if __name__ == "__main__":
    sys.exit(main())
