"""What the Lambda runtime hands the plug: an API Gateway REST proxy event for POST /send and a context.

Standard library only: run as a script (`python -I -S lambda_event.py PACKAGE_DIR < body`), it imports `app`
from PACKAGE_DIR alone, as Lambda does from /var/task, calls the handler once and prints the result as JSON
with where each runtime dependency was loaded from.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
import uuid
from typing import Any

RUNTIME_MODULES = ("app", "dispatcher", "chalice", "requests", "urllib3", "jsonschema", "rpds", "transitions",
                   "rollbar", "re2", "aws_lambda_powertools")


class LambdaContext:
    """The two things the plug reads from Lambda's context: the request id and the time left."""

    def __init__(self, request_id: str | None = None, timeout_ms: int = 28_000) -> None:
        self.aws_request_id = request_id or str(uuid.uuid4())
        self._ends = time.monotonic() + timeout_ms / 1000

    def get_remaining_time_in_millis(self) -> int:
        return int((self._ends - time.monotonic()) * 1000)


def proxy_event(body: str, content_type: str = "application/json") -> dict[str, Any]:
    """POST /send as API Gateway's REST proxy integration delivers it to the function."""
    return {
        "resource": "/send", "path": "/send", "httpMethod": "POST", "body": body, "isBase64Encoded": False,
        "headers": {"Content-Type": content_type, "Host": "abc123.execute-api.eu-west-3.amazonaws.com",
                    "User-Agent": "leadplatform/1.0", "X-Forwarded-For": "198.51.100.1"},
        "multiValueHeaders": {}, "queryStringParameters": None, "multiValueQueryStringParameters": None,
        "pathParameters": None, "stageVariables": None,
        "requestContext": {"resourcePath": "/send", "httpMethod": "POST", "path": "/api/send", "stage": "api",
                           "requestId": str(uuid.uuid4()), "requestTimeEpoch": int(time.time() * 1000),
                           "identity": {"sourceIp": "198.51.100.1"}, "apiId": "abc123"},
    }


def _invoke_from_package(package_dir: str) -> None:
    sys.path.insert(0, package_dir)
    import app  # from the package folder only

    answer = app.app(proxy_event(sys.stdin.read()), LambdaContext())
    # Rollbar is loaded at the first failing lead only: import every runtime dependency to see where it is.
    origins = {name: importlib.import_module(name).__file__ for name in RUNTIME_MODULES}
    print(json.dumps({"answer": answer, "origins": origins, "sys_path": sys.path}))


if __name__ == "__main__":
    _invoke_from_package(sys.argv[1])
