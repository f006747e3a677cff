"""Lead Plug's routes. The logic lives in `dispatcher/` (packaged through the `vendor/dispatcher` symlink)."""

from __future__ import annotations

import os
from contextvars import ContextVar
from typing import Any

from chalice import Chalice, Response
from chalice.app import Request

from dispatcher import current_plug, deliver
from dispatcher.envelopes import method_not_allowed_envelope

app = Chalice(app_name="lead-plug")
# In prod API Gateway requires an x-api-key (the CLI imports this file with the stage's variables).
API_KEY_REQUIRED = os.environ.get("API_KEY_REQUIRED", "").lower() == "true"
current_plug()  # a wrong configuration stops the plug (and `chalice deploy`) now, not at the first lead

# chalice local serves requests on threads but keeps `app.current_request` app-wide: a middleware pins
# each request (and its Lambda context) to the context of the thread that serves it.
_request: ContextVar[Request] = ContextVar("request")


@app.middleware("http")
def pin_request(event: Request, get_response: Any) -> Response:
    token = _request.set(event)
    try:
        return get_response(event)
    finally:
        _request.reset(token)


@app.route("/send", methods=["POST"], content_types=["*/*"],
           api_key_required=API_KEY_REQUIRED)
def send_lead() -> Response:
    """One lead in, one envelope out; the raw body is read as JSON whatever the Content-Type says."""
    request = _request.get()
    request_epoch_ms = (request.context or {}).get("requestTimeEpoch")
    delivery = deliver(request.raw_body, request.lambda_context, request_epoch_ms)
    return Response(body=delivery.envelope, status_code=delivery.status,
                    headers={"Content-Type": "application/json"})


@app.route("/send", methods=["GET", "PUT", "PATCH", "DELETE", "OPTIONS"], content_types=["*/*"],
           api_key_required=API_KEY_REQUIRED)
def send_lead_wrong_method() -> Response:
    """Any other method gets a 405 that is still an envelope, and says which method to use."""
    return Response(body=method_not_allowed_envelope(), status_code=405,
                    headers={"Content-Type": "application/json", "Allow": "POST"})
