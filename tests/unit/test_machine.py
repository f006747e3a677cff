"""The lead state machine: only the declared moves, terminal ends, one log line per move."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from transitions import MachineError

from dispatcher.machine import MACHINE, STATES, TERMINAL, journey
from tests.support.translog import transition_lines

TRIGGERS = ("validate", "translate", "send", "accept", "refuse", "mark_duplicate", "replay", "find", "fail")
NON_TERMINAL = ("received", "validated", "translated", "sent")
# The way to each non-terminal state from `received`.
WAY_TO = {"received": (), "validated": ("validate",), "translated": ("validate", "translate"),
          "sent": ("validate", "translate", "send")}
# The only moves the contract allows: (state, trigger) -> next state.
ALLOWED = {
    ("received", "validate"): "validated",
    ("validated", "translate"): "translated",
    ("translated", "send"): "sent",
    ("translated", "replay"): "accepted",  # the ledger replays an accepted delivery: nothing is sent
    ("translated", "find"): "accepted",  # the customer's search finds the lead an attempt in doubt delivered
    ("sent", "accept"): "accepted",
    ("sent", "refuse"): "refused",
    ("sent", "mark_duplicate"): "duplicate",
    **{(state, "fail"): "failed" for state in NON_TERMINAL},
}
LOG_FIELDS = {"lead_id", "trace_id", "from", "to", "trigger", "reason", "elapsed_ms", "ts"}


def walk(lead_journey, triggers) -> None:
    for trigger in triggers:
        assert lead_journey.trigger(trigger) is True


def test_the_machine_has_the_states_of_the_spec_and_no_automatic_moves():
    assert set(STATES) == {"received", "validated", "translated", "sent", "accepted", "refused", "duplicate",
                           "failed"}
    assert set(TERMINAL) == {"accepted", "refused", "duplicate", "failed"}
    with journey("trace", "lead-auto") as lead_journey:
        assert lead_journey.state == "received"
        assert not hasattr(lead_journey, "to_accepted")
        with pytest.raises(AttributeError):
            lead_journey.trigger("to_accepted")


@pytest.mark.parametrize(("end", "reason"), [
    pytest.param("accepted", "created", id="accepted"),
    pytest.param("refused", "FIELD_CUSTOM_VALIDATION_EXCEPTION", id="refused"),
    pytest.param("duplicate", "duplicate", id="duplicate"),
    pytest.param("failed", "customer_error", id="failed"),
])
def test_the_whole_path_reaches_every_terminal_state(end, reason):
    with journey("trace", "lead-path") as lead_journey:
        walk(lead_journey, WAY_TO["sent"])
        lead_journey.end(end, reason)
        assert lead_journey.state == end
        assert lead_journey.reason == reason


@pytest.mark.parametrize("start", [pytest.param(state, id=state) for state in NON_TERMINAL])
def test_fail_is_allowed_from_every_non_terminal_state(start):
    with journey("trace", "lead-fail") as lead_journey:
        walk(lead_journey, WAY_TO[start])
        lead_journey.end("failed", "internal_error")
        assert lead_journey.state == "failed"


@pytest.mark.parametrize(("start", "trigger"), [
    pytest.param(state, trigger, id=f"{state}-{trigger}")
    for state in NON_TERMINAL for trigger in TRIGGERS if (state, trigger) not in ALLOWED
])
def test_an_undeclared_move_raises(start, trigger):
    with journey("trace", "lead-undeclared") as lead_journey:
        walk(lead_journey, WAY_TO[start])
        with pytest.raises(MachineError):
            lead_journey.trigger(trigger)
        assert lead_journey.state == start


@pytest.mark.parametrize(("end", "trigger"), [
    pytest.param(end, trigger, id=f"{end}-{trigger}") for end in sorted(TERMINAL) for trigger in TRIGGERS
])
def test_a_terminal_state_has_no_way_out(end, trigger):
    with journey("trace", "lead-terminal") as lead_journey:
        walk(lead_journey, WAY_TO["sent"])
        lead_journey.end(end, "some_reason")
        with pytest.raises(MachineError):
            lead_journey.trigger(trigger)
        assert lead_journey.state == end


def test_the_shared_machine_never_holds_a_journey():
    before = len(MACHINE.models)
    with journey("trace", "lead-detached") as lead_journey:
        walk(lead_journey, WAY_TO["sent"])
        assert lead_journey not in MACHINE.models  # nothing to leak, nothing to lock for chalice local's threads
    assert len(MACHINE.models) == before


def test_the_shared_machine_holds_no_journey_when_one_raises():
    before = len(MACHINE.models)
    with pytest.raises(MachineError), journey("trace", "lead-raising") as lead_journey:
        lead_journey.trigger("send")
    assert len(MACHINE.models) == before
    assert lead_journey not in MACHINE.models


def test_two_journeys_at_once_keep_their_own_states():
    with journey("trace-a", "lead-a") as first, journey("trace-b", "lead-b") as second:
        walk(first, WAY_TO["sent"])
        second.end("failed", "invalid_lead")
        assert (first.state, second.state) == ("sent", "failed")


@pytest.mark.parametrize(("steps", "end", "reason"), [
    pytest.param(("validate", "translate", "send"), "accepted", "created", id="accepted"),
    pytest.param(("validate", "translate", "send"), "refused", "INVALID_EMAIL_ADDRESS", id="refused"),
    pytest.param(("validate", "translate", "send"), "duplicate", "duplicate", id="duplicate"),
    pytest.param(("validate", "translate"), "failed", "internal_error", id="failed-after-translation"),
    pytest.param((), "failed", "invalid_lead", id="failed-at-reception"),
])
def test_every_transition_is_one_json_log_line_with_the_spec_fields(steps, end, reason, caplog):
    with journey("trace-log", "lead-log") as lead_journey:
        walk(lead_journey, steps)
        lead_journey.end(end, reason)
    lines = transition_lines(caplog)
    assert len(lines) == len(steps) + 1
    states = ["received", *(ALLOWED[(s, t)] for s, t in _pairs(steps)), end]
    assert [(line["from"], line["to"]) for line in lines] == list(itertools.pairwise(states))
    assert [line["trigger"] for line in lines] == [*steps, {"accepted": "accept", "refused": "refuse",
                                                           "duplicate": "mark_duplicate", "failed": "fail"}[end]]
    for line in lines:
        assert set(line) == LOG_FIELDS
        assert (line["lead_id"], line["trace_id"]) == ("lead-log", "trace-log")
        assert isinstance(line["elapsed_ms"], (int, float)) and line["elapsed_ms"] >= 0
        assert datetime.fromisoformat(line["ts"].replace("Z", "+00:00")).tzinfo is not None
    assert [line["reason"] for line in lines[:-1]] == [None] * len(steps)  # reason: terminal only
    assert lines[-1]["reason"] == reason
    assert [line["elapsed_ms"] for line in lines] == sorted(line["elapsed_ms"] for line in lines)


def test_a_refused_move_writes_no_log_line(caplog):
    with journey("trace", "lead-nolog") as lead_journey:
        with pytest.raises(MachineError):
            lead_journey.trigger("accept")
    assert transition_lines(caplog) == []


def _pairs(steps):
    state = "received"
    for trigger in steps:
        yield state, trigger
        state = ALLOWED[(state, trigger)]
