"""How the plug authenticates to a customer, for webhook files and code integrations alike.

- `StaticAuth`: credentials that do not expire (a bearer token, a key in a header or the query, basic).
- `OAuthToken`: an OAuth 2.0 token fetched with a form POST, cached between leads until shortly before its
  `expires_in` runs out, and refreshed at most once per lead when the API says it expired. Salesforce (client
  credentials) and Zoho (refresh token) name the API's base URL in the token answer (`base_url_key`); Entra ID
  (Dynamics 365) does not: its API's address is fixed by configuration (`base_url`).
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Callable, Mapping

from dispatcher.deadline import Deadline
from dispatcher.errors import AnsweredFailure, ConfigurationError, CustomerFailure
from dispatcher.integrations.base import CustomerSession, http_family_outcome
from dispatcher.reasons import Outcome, Reason
from dispatcher.transport import Answer, Transport

# What can travel back in a header and a URL: visible ASCII only (RFC 6750's b64token is a subset).
_TOKEN = re.compile(r"[\x21-\x7e]{1,4096}")
_BASE_URL = re.compile(r"https?://[\x21-\x7e]+")
EXPIRY_MARGIN_S = 60.0  # a token this close to its expiry is replaced before a lead uses it
MIN_LIFETIME_S = 1.0  # however short-lived a token says it is, one lead may use it


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

    def __init__(self, *, customer: str, token_url: str, form: Mapping[str, str], scheme: str,
                 is_expired: Callable[[Answer], bool], base_url_key: str = "", base_url: str = "") -> None:
        if bool(base_url_key) == bool(base_url):
            raise ValueError("OAuthToken needs either base_url_key (the token answer names the API) or base_url")
        self.customer = customer
        self.token_url = token_url
        self._form = dict(form)
        self._base_url_key = base_url_key
        self._base_url = base_url.rstrip("/")
        self._scheme = scheme
        self._is_expired = is_expired
        self._lock = threading.Lock()
        self._session: CustomerSession | None = None
        self._token = ""
        self._renew_at = float("inf")  # monotonic instant after which the cached token is replaced

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
            if self._session is not None and self._session is not stale and time.monotonic() < self._renew_at:
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
            token = data.get("access_token")
            base_url = data.get(self._base_url_key) if self._base_url_key else self._base_url
            if isinstance(token, str) and _TOKEN.fullmatch(token) and isinstance(base_url, str) \
                    and _BASE_URL.fullmatch(base_url):
                self._token = token
                self._renew_at = _renew_at(data.get("expires_in"))
                return CustomerSession(base_url=base_url.rstrip("/"),
                                       headers={"Authorization": f"{self._scheme} {token}"})
        raise AnsweredFailure(self._token_outcome(answer, data), answer)

    def _token_outcome(self, answer: Answer, data: object) -> Outcome:
        error = data.get("error") if isinstance(data, dict) else None
        if answer.status in (400, 401) or (answer.status == 200 and isinstance(error, str)):
            return Outcome.of(Reason.UNAUTHORIZED, f"{self.customer} rejected our credentials"
                                                  + (f" ({error})" if isinstance(error, str) else ""))
        return http_family_outcome(answer, f"{self.customer}'s token endpoint")


def _renew_at(expires_in: object) -> float:
    """When to replace a token that lives `expires_in` seconds (a number, or its text as some servers write it):
    a margin before its end, so a lead never sets off with a token about to expire; unsaid: when refused."""
    try:
        lifetime = float(expires_in) if isinstance(expires_in, (int, float, str)) \
            and not isinstance(expires_in, bool) else None
    except ValueError:
        lifetime = None
    if lifetime is None or not lifetime > 0 or lifetime == float("inf"):
        return float("inf")
    return time.monotonic() + max(MIN_LIFETIME_S, lifetime - min(EXPIRY_MARGIN_S, lifetime / 10))
