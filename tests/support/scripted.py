"""A Salesforce-shaped customer that answers what the test scripts, over real HTTP on 127.0.0.1.

For answers the sandbox never gives (a Lead endpoint that 404s, an odd token): the token endpoint
answers `token` (by default a valid token whose instance_url is this server), any other POST answers
`lead`. Every request is kept in `journal`, so tests can count what reached the customer.
"""

from __future__ import annotations

import json
from typing import Any

from sandbox.server import CustomerServer, Handler, Received

TOKEN_PATH = "/services/oauth2/token"


class ScriptedSalesforce(CustomerServer):
    def __init__(self, lead: tuple[int, Any], token: tuple[int, Any] | None = None,
                 lead_headers: dict[str, str] | None = None) -> None:
        super().__init__(0)
        self.lead_answer = lead
        self.token_answer = token
        self.lead_headers = lead_headers or {}

    def route(self, handler: Handler, request: Received) -> None:
        headers: dict[str, str] = {}
        if request.path.split("?")[0] == TOKEN_PATH:
            status, body = self.token_answer or (200, {"access_token": "00Dscripted-token",
                                                       "instance_url": self.base_url, "token_type": "Bearer"})
        else:
            (status, body), headers = self.lead_answer, self.lead_headers
        if isinstance(body, bytes):
            handler.send_body(status, body, "text/html; charset=utf-8", headers)
        else:
            handler.send_body(status, json.dumps(body).encode("utf-8"), "application/json;charset=UTF-8", headers)

    def lead_posts(self) -> list[Received]:
        return [item for item in self.journal.requests if item.path.split("?")[0] != TOKEN_PATH]

