"""POST /send keeps its contract for any input: schemathesis generates leads (valid and not) and bodies
from contracts/openapi.yaml, sends them to `chalice local`, and runs every default check plus ours
(tests/fuzz/checks.py: never 504, the envelope of the status, no credential in an envelope).
"""

from __future__ import annotations

import pytest
import schemathesis

from tests.fuzz.harness import TALLY, load_contract

contract = load_contract()


@pytest.mark.slow
@contract.parametrize()
def test_post_send_keeps_its_contract(case: schemathesis.Case, fuzz_plug: str) -> None:
    # No session is passed: each case opens its own connection. `chalice local` (http.server) writes the
    # headers and the body of an answer in two segments, so on a kept-alive connection Nagle's algorithm
    # and the client's delayed ACK cost about 40 ms a request; a fresh connection is acknowledged at once.
    response = case.call(base_url=fuzz_plug)
    TALLY.add(case.meta.phase.name.value if case.meta else "explicit", response.status_code)
    case.validate_response(response)
