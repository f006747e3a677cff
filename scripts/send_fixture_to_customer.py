#!/usr/bin/env python3
"""Send one fixture to the running plug and print its status and envelope.

    ./scripts/send_fixture_to_customer.py fr-b2c-solar-lyon
    ./scripts/send_fixture_to_customer.py fr-b2c-solar-lyon --unique    # fresh email/phone: no 409 the second time
    ./scripts/send_fixture_to_customer.py --fixtures fixtures/zoho 03-refused-invalid-email --url http://localhost:8010/send

Fixtures are fixtures/leads/<id>.json and fixtures/invalid/<id>.json, or <id>.json in the folder --fixtures
names. Exit code: 0 when the plug answered (whatever the status), 2 when the fixture does not exist or the
plug cannot be reached.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, run as a script

from scripts import fixtures_lib as lib


def main(argv: list[str] | None = None) -> int:
    parser = lib.send_parser(__doc__, "rewrite email and phone to fresh valid values, so a customer's "
                                      "deduplication does not answer 409 on the second send")
    parser.add_argument("fixture_id", help="a file name of fixtures/leads or fixtures/invalid (or of the "
                                           "--fixtures folder), without .json")
    args = parser.parse_args(argv)
    lib.quiet_broken_pipe()
    try:
        lead = lib.load_fixture(args.fixture_id, args.fixtures)
        fixture_id = lib.fixture_path(args.fixture_id, args.fixtures).stem
        if args.unique:
            lead = lib.Uniquifier().lead(lead)
        print(f"{fixture_id} -> POST {args.url}", flush=True)
        result = lib.send(args.url, lead, fixture_id)
    except (lib.FixtureError, lib.PlugUnreachableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return lib.CANNOT_RUN
    print(lib.describe(result))
    try:
        expected = lib.load_expected(args.fixtures).get(fixture_id)
    except lib.FixtureError:
        expected = None
    if expected is not None and result.differences(expected):
        note = f" ({expected['note']})" if expected.get("note") else ""
        print(f"\nnote: a full run expects {lib.status_text(expected['status'])}{note}")
    if result.status == 409 and not args.unique:
        print("note: the customer already has this person from an earlier send; --unique sends fresh values")
    return lib.OK


if __name__ == "__main__":
    sys.exit(main())
