"""How the plug authenticates to a customer, for webhook files and code integrations alike.

- `StaticAuth`: credentials that do not expire (a bearer token, a key in a header or the query, basic).
- `OAuthToken`: an OAuth 2.0 token fetched with a form POST, cached between leads and refreshed at most once
  per lead. Salesforce (client credentials) and Zoho (refresh token) both work this way; they differ in the
  form, the key that gives the API's base URL and the Authorization scheme.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Callable, Mapping

from dispatcher.answer import Answer
from dispatcher.deadline import Deadline
from dispatcher.errors import AnsweredFailure, ConfigurationError, CustomerFailure
from dispatcher.integrations.base import CustomerSession, http_family_outcome
from dispatcher.outcome import Outcome
from dispatcher.reasons import Reason
from dispatcher.transport import Transport

# What can travel back in a header and a URL: visible ASCII only (RFC 6750's b64token is a subset).
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")
_BASE_URL = re.compile(r"https?://[\x21-\x7e]+")


class StaticAuth:
    """Credentials that do not expire: the session never needs refreshing."""

    def __init__(self, base_url: str, *, headers: Mapping[str, str] | None = None,
                 params: Mapping[str, str] | None = None, secrets: tuple[str, ...] = ()) -> None:
        self._session = CustomerSession(base_url=base_url, headers=dict(headers or {}), params=dict(params or {}))
        self.credentials = secrets  # every secret value sent, masked wherever a customer echoes it

    @classmethod
    def bearer(cls, base_url: str, token: str) -> StaticAuth:
        return cls(base_url, headers={"Authorization": f"Bearer {_header_safe(token)}"}, secrets=(token,))

    @classmethod
    def header(cls, base_url: str, name: str, value: str, prefix: str = "") -> StaticAuth:
        return cls(base_url, headers={name: prefix + _header_safe(value)}, secrets=(value,))

    @classmethod
    def query(cls, base_url: str, name: str, value: str) -> StaticAuth:
        return cls(base_url, params={name: _header_safe(value)}, secrets=(value,))

    @classmethod
    def basic(cls, base_url: str, username: str, password: str) -> StaticAuth:
        pair = base64.b64encode(f"{_header_safe(username)}:{_header_safe(password)}".encode("ascii")).decode()
        return cls(base_url, headers={"Authorization": f"Basic {pair}"}, secrets=(password, pair))

    def open(self, transport: Transport, deadline: Deadline, *,
             stale: CustomerSession | None = None) -> CustomerSession:
        return self._session

    def is_expired(self, answer: Answer) -> bool:
        return False


def _header_safe(value: str) -> str:
    """A credential that can travel in a header or a query: printable ASCII, else a configuration error."""
    if not (value.isascii() and value.isprintable()):
        raise ConfigurationError("a credential holds a control or non-ASCII character (a stray newline?); "
                                 "HTTP headers and query keys carry printable ASCII only")
    return value


class OAuthToken:
    """The token of one deployment; thread-safe, since chalice local serves leads concurrently."""

    def __init__(self, *, customer: str, token_url: str, form: Mapping[str, str], base_url_key: str,
                 scheme: str, is_expired: Callable[[Answer], bool]) -> None:
        self.customer = customer
        self.token_url = token_url
        self._form = dict(form)
        self._base_url_key = base_url_key
        self._scheme = scheme
        self._is_expired = is_expired
        self._lock = threading.Lock()
        self._session: CustomerSession | None = None
        self._token = ""

    @property
    def credentials(self) -> tuple[str, ...]:
        """The secrets of the form and the current token, masked wherever a customer echoes them."""
        form_secrets = (value for key, value in self._form.items() if key in ("client_secret", "refresh_token"))
        return (*form_secrets, self._token) if self._token else tuple(form_secrets)

    def is_expired(self, answer: Answer) -> bool:
        return self._is_expired(answer)

    def open(self, transport: Transport, deadline: Deadline, *,
             stale: CustomerSession | None = None) -> CustomerSession:
        if not self._lock.acquire(timeout=max(deadline.remaining(), 0.001)):
            raise CustomerFailure(Reason.CUSTOMER_TIMEOUT, f"Waiting for the {self.customer} token took too long")
        try:
            # A session another lead already refreshed is reused, not refreshed again.
            if self._session is not None and self._session is not stale:
                return self._session
            self._session = None
            answer = transport.post(self.token_url, deadline, form=self._form)
            self._session = self._session_from(answer)
            return self._session
        finally:
            self._lock.release()

    def _session_from(self, answer: Answer) -> CustomerSession:
        data = answer.json()
        if isinstance(data, dict) and answer.status == 200:
            token, base_url = data.get("access_token"), data.get(self._base_url_key)
            if isinstance(token, str) and _TOKEN.fullmatch(token) and isinstance(base_url, str) \
                    and _BASE_URL.fullmatch(base_url):
                self._token = token
                return CustomerSession(base_url=base_url.rstrip("/"),
                                       headers={"Authorization": f"{self._scheme} {token}"})
        raise AnsweredFailure(self._token_outcome(answer, data), answer)

    def _token_outcome(self, answer: Answer, data: object) -> Outcome:
        error = data.get("error") if isinstance(data, dict) else None
        if answer.status in (400, 401) or (answer.status == 200 and isinstance(error, str)):
            return Outcome.of(Reason.UNAUTHORIZED, f"{self.customer} rejected our credentials"
                                                  + (f" ({error})" if isinstance(error, str) else ""))
        return http_family_outcome(answer, f"{self.customer}'s token endpoint")
