"""Rollbar reports: a 500 as an error with its traceback, a 502 as a warning, flushed before the answer leaves.

Rollbar is imported at the first report only (cold starts stay small). Local-variable capture is off and
every string of an item is masked with the lead's `Masker`, handed to `report`: items carry the customer's id
(`custom.customer_id`), the deployed `code_version`, lead id, state, reason and status.

`log_failure` writes the cause of one of our own 500s as one JSON line on standard output, masked with the lead's
`Masker`, whether or not Rollbar is set up: the deployment's own log always says why.
"""

from __future__ import annotations

import json
import logging
import threading
import traceback
from types import TracebackType
from typing import Any, NamedTuple, cast

from dispatcher.machine import JSON_LINE
from dispatcher.privacy import NO_LEAD, Masker

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
_configure_lock = threading.Lock()
MIN_REPORT_S = 0.3  # with less time left before the answer must leave, the item is not sent
_configured_for: tuple[str, str, str, str] | None = None

# A child of `leadplug`: its lines reach the plug's one handler (machine.py), written as they are (JSON_LINE)
_failures = logging.getLogger("leadplug.failures")


def log_failure(event: str, exc_info: ExcInfo | tuple[None, None, None], masker: Masker, **facts: Any) -> None:
    """One JSON line: the event, `facts` (customer, trace id...) and the cause (exception type, message and
    traceback, masked like a Rollbar item): `{"level": "error", "event": "internal_error", ...}`."""
    kind, error, trace = exc_info
    cause: dict[str, Any] = {}
    if kind is not None:
        cause = {"exception": kind.__name__, "message": masker.mask_text(str(error)),
                 "traceback": masker.mask_text("".join(traceback.format_exception(kind, error, trace)))}
    line = {"level": "error", "event": event, **masker.mask_deep(facts), **cause}
    _failures.error(json.dumps(line, ensure_ascii=False, default=str), extra=JSON_LINE)


# pyrollbar's payload handlers are process-wide: the report's own thread (one per item, see `Reporter.report`)
# names the masker of the lead it reports, and the handler, called in that thread, masks with it.
_reporting = threading.local()


def _scrub_payload(payload: dict[str, Any], **_: Any) -> dict[str, Any]:
    masker: Masker = getattr(_reporting, "masker", NO_LEAD)
    return masker.mask_deep(payload)


def _rollbar(access_token: str, environment: str, endpoint: str, code_version: str = "") -> Any:
    """The rollbar module, set up for this deployment (pyrollbar ignores a second init, hence SETTINGS)."""
    global _configured_for
    import rollbar

    wanted = (access_token, environment, endpoint, code_version)
    with _configure_lock:
        if _configured_for != wanted:
            if _configured_for is None:
                rollbar.init(access_token, environment, handler="blocking", locals={"enabled": False},
                             capture_ip=False, capture_email=False, capture_username=False,
                             include_request_body=False, suppress_reinit_warning=True)
                rollbar.events.add_payload_handler(_scrub_payload)
            settings = cast(dict[str, Any], rollbar.SETTINGS)  # a TypedDict in pyrollbar's types, without these keys
            settings.update(access_token=access_token, environment=environment,
                            endpoint=endpoint or rollbar.DEFAULT_ENDPOINT, code_version=code_version or None)
            _configured_for = wanted
    return rollbar


class Reporter(NamedTuple):
    """Where a failure is reported (Rollbar), and for which deployment (a named tuple: a cheaper class to make
    at a cold start than a frozen dataclass)."""

    access_token: str = ""
    environment: str = "development"
    endpoint: str = ""
    customer: str = ""  # the deployment's customer id (plug.customer_id): every item carries it
    code_version: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.access_token)

    def report(self, level: str, message: str, facts: dict[str, Any], masker: Masker,
               exc_info: ExcInfo | None = None, timeout_s: float = 1.0) -> None:
        """Send one item, waiting at most `timeout_s` (capped at 1 s); a reporting failure never changes the
        lead's answer. pyrollbar's own timeout bounds each socket operation, not the whole send (nor DNS),
        so the send runs in a thread the answer waits for no longer than the budget."""
        if not self.enabled or timeout_s < MIN_REPORT_S:
            return
        budget = min(1.0, timeout_s)
        worker = threading.Thread(target=self._send, args=(level, message, facts, masker, exc_info, budget),
                                  name="rollbar-report", daemon=True)
        worker.start()
        worker.join(budget)

    def _send(self, level: str, message: str, facts: dict[str, Any], masker: Masker, exc_info: ExcInfo | None,
              budget: float) -> None:
        _reporting.masker = masker
        try:
            rollbar = _rollbar(self.access_token, self.environment, self.endpoint, self.code_version)
            rollbar.SETTINGS["timeout"] = budget
            facts = {"customer_id": self.customer, **facts}
            if exc_info is not None:
                rollbar.report_exc_info(exc_info, extra_data=facts, level=level)
            else:
                rollbar.report_message(message, level=level, extra_data=facts)
        except Exception:  # noqa: BLE001 - Rollbar down must not turn a lead's answer into a crash
            pass
