"""Rollbar reports: a 500 as an error with its traceback, a 502 as a warning, flushed before the answer leaves.

Rollbar is imported at the first report only (cold starts stay small). Local-variable capture is off and
every string of an item is masked (`privacy.mask_deep`): items carry lead id, state, reason and status.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from dispatcher.privacy import mask_deep

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]
_configure_lock = threading.Lock()
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
               timeout_s: float = 3.0) -> None:
        """Send one item now; a reporting failure never changes the lead's answer."""
        if not self.enabled:
            return
        try:
            rollbar = _rollbar(self.access_token, self.environment, self.endpoint)
            rollbar.SETTINGS["timeout"] = max(0.2, min(1.0, timeout_s))  # a slow Rollbar must not hold the answer
            if exc_info is not None:
                rollbar.report_exc_info(exc_info, extra_data=facts, level=level)
            else:
                rollbar.report_message(message, level=level, extra_data=facts)
        except Exception:  # noqa: BLE001 - Rollbar down must not turn a lead's answer into a crash
            pass
