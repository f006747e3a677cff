"""Rollbar reports: a 500 as an error with its traceback, a 502 as a warning, flushed before the answer leaves.

Rollbar is imported at the first report only (cold starts stay small). Local-variable capture is off and
every string of an item is masked (`privacy.mask_deep`): items carry lead id, state, reason and status.
"""

from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from dispatcher.privacy import mask_deep

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
_configure_lock = threading.Lock()
MIN_REPORT_S = 0.3  # with less time left before the answer must leave, the item is not sent
_configured_for: tuple[str, str, str] | None = None


def _scrub_payload(payload: dict[str, Any], **_: Any) -> dict[str, Any]:
    return mask_deep(payload)


def _rollbar(access_token: str, environment: str, endpoint: str) -> Any:
    """The rollbar module, set up for this deployment (pyrollbar ignores a second init, hence SETTINGS)."""
    global _configured_for
    import rollbar

    wanted = (access_token, environment, endpoint)
    with _configure_lock:
        if _configured_for != wanted:
            if _configured_for is None:
                rollbar.init(access_token, environment, handler="blocking", locals={"enabled": False},
                             capture_ip=False, capture_email=False, capture_username=False,
                             include_request_body=False, suppress_reinit_warning=True)
                rollbar.events.add_payload_handler(_scrub_payload)
            rollbar.SETTINGS.update(access_token=access_token, environment=environment,
                                    endpoint=endpoint or rollbar.DEFAULT_ENDPOINT)
            _configured_for = wanted
    return rollbar


@dataclass(frozen=True)
class Reporter:
    access_token: str = ""
    environment: str = "development"
    endpoint: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.access_token)

    def report(self, level: str, message: str, facts: dict[str, Any], exc_info: ExcInfo | None = None,
               timeout_s: float = 1.0) -> None:
        """Send one item, waiting at most `timeout_s` (capped at 1 s); a reporting failure never changes the
        lead's answer. pyrollbar's own timeout bounds each socket operation, not the whole send (nor DNS),
        so the send runs in a thread the answer waits for no longer than the budget."""
        if not self.enabled or timeout_s < MIN_REPORT_S:
            return
        budget = min(1.0, timeout_s)
        # the thread sees the lead's personal values, so that the payload handler can mask them
        send = contextvars.copy_context().run
        worker = threading.Thread(target=send, args=(self._send, level, message, facts, exc_info, budget),
                                  name="rollbar-report", daemon=True)
        worker.start()
        worker.join(budget)

    def _send(self, level: str, message: str, facts: dict[str, Any], exc_info: ExcInfo | None,
              budget: float) -> None:
        try:
            rollbar = _rollbar(self.access_token, self.environment, self.endpoint)
            rollbar.SETTINGS["timeout"] = budget
            if exc_info is not None:
                rollbar.report_exc_info(exc_info, extra_data=facts, level=level)
            else:
                rollbar.report_message(message, level=level, extra_data=facts)
        except Exception:  # noqa: BLE001 - Rollbar down must not turn a lead's answer into a crash
            pass
