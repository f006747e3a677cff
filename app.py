"""Lead Plug's routes. The logic lives in `dispatcher/` (packaged through the `vendor/dispatcher` symlink).

`app` imports with no variable set (Chalice's test idiom: `from app import app`, then `Client(app,
stage_name=...)`); with the stage's variables set (`chalice local`, `chalice deploy`, `chalice package`), a
wrong configuration stops the import with a message naming the variable. `create_app()` gives a fresh app,
with a plug of its own, to tests that run several stages in one process.
"""

import os
from contextvars import ContextVar
from typing import Any

# requests (with urllib3) is imported here, first, at the top of the import stack as any handler using it does,
# not deep under dispatcher.delivery (through chain, integrations, transport): urllib3 compiles its URL patterns
# as it is imported, and `re`'s recursive parser, run that deep, crossed one of CPython's 16 KiB frame-stack
# chunks, which CPython maps and unmaps again for every call across it (1,300 mmap/munmap pairs and 3,000 page
# faults: 15 to 30 ms of system CPU at every cold start; docs/performance.md#cold-start).
import requests  # noqa: F401
from chalice import Chalice, Response
from chalice.app import Request

from dispatcher.delivery import deliver
from dispatcher.errors import ConfigurationError
from dispatcher.plug import PlugHolder
from dispatcher.reasons import ENDINGS, Reason, method_not_allowed_envelope

JSON = {"Content-Type": "application/json"}


def _raw_body(request: Request) -> bytes | str | None:
    """The body as sent. Chalice cannot encode a Lambda event's body string that holds a lone surrogate: that
    body is passed on as text, and refused as a lead like any other body that is not UTF-8 JSON."""
    try:
        return request.raw_body
    except UnicodeEncodeError:
        return request.to_original_event().get("body")


def create_app() -> Chalice:
    """The Chalice app and its routes, with one plug built once (see `PlugHolder`)."""
    app = Chalice(app_name="lead-plug")
    plug = PlugHolder()
    # In prod API Gateway requires an x-api-key (the CLI imports this file with the stage's variables).
    api_key_required = os.environ.get("API_KEY_REQUIRED", "").lower() == "true"
    # chalice local serves requests on threads but keeps `app.current_request` app-wide: a middleware pins
    # each request (and its Lambda context) to the context of the thread that serves it.
    current: ContextVar[Request] = ContextVar("request")

    @app.middleware("http")
    def pin_request(event: Request, get_response: Any) -> Response:
        token = current.set(event)
        try:
            return get_response(event)
        finally:
            current.reset(token)

    @app.route("/send", methods=["POST"], content_types=["*/*"], api_key_required=api_key_required)
    def send_lead() -> Response:
        """One lead in, one envelope out; the raw body is read as JSON whatever the Content-Type says."""
        request = current.get()
        request_epoch_ms = (request.context or {}).get("requestTimeEpoch")
        delivery = deliver(_raw_body(request), plug.get, request.lambda_context, request_epoch_ms)
        return Response(body=delivery.envelope, status_code=delivery.status, headers={**JSON, **delivery.headers})

    @app.route("/send", methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"], content_types=["*/*"],
               api_key_required=api_key_required)
    def send_lead_wrong_method() -> Response:
        """Any other method gets a 405 that is still an envelope, and says which method to use."""
        return Response(body=method_not_allowed_envelope(), status_code=ENDINGS[Reason.METHOD_NOT_ALLOWED].status,
                        headers={**JSON, "Allow": "POST"})

    return app


try:
    app = create_app()
except ConfigurationError as error:  # one line naming the variable, not a traceback, for the CLI's user
    raise SystemExit(f"Lead Plug cannot start: {error}") from None
