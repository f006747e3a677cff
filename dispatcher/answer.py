"""A customer's answer as the plug keeps it: status, headers, the body read no further than the size cap.

An integration sees all three: an id may come only in a header (Dataverse's `OData-EntityId` on a 204),
`Retry-After` says when to come back, and a text body is decoded in the charset its `Content-Type` declares
(an old form endpoint answers Latin-1), UTF-8 when it declares none.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property
from typing import Any

from requests.structures import CaseInsensitiveDict
from urllib3.util.retry import Retry

MAX_ANSWER_DEPTH = 64  # deeper JSON is shown as text: walking it (secrets, envelope) must not recurse forever


@dataclass(frozen=True)
class Answer:
    """What the customer answered, read no further than the size cap."""

    status: int
    body: bytes
    content_type: str = ""
    truncated: bool = False
    headers: Mapping[str, str] = field(default_factory=CaseInsensitiveDict, hash=False)

    def __post_init__(self) -> None:
        headers = CaseInsensitiveDict(self.headers)
        if self.content_type and "Content-Type" not in headers:
            headers["Content-Type"] = self.content_type
        object.__setattr__(self, "headers", headers)  # looked up case-insensitively, as HTTP says
        object.__setattr__(self, "content_type", headers.get("Content-Type", ""))

    def header(self, name: str) -> str | None:
        """A header's value, whatever case the customer wrote its name in."""
        return self.headers.get(name)

    @cached_property
    def charset(self) -> str:
        """The charset the answer declares (`text/html; charset=ISO-8859-1`), UTF-8 when none or unknown."""
        message = Message()
        message["Content-Type"] = self.content_type or "application/octet-stream"
        declared = message.get_content_charset()
        try:
            return codecs.lookup(declared).name if declared else "utf-8"
        except LookupError:
            return "utf-8"

    @cached_property
    def retry_after_s(self) -> int | None:
        """Seconds until the customer asks us to come back (`Retry-After`: seconds or an HTTP date), if it says."""
        value = self.header("Retry-After")
        if not value:
            return None
        try:
            return max(0, math.ceil(Retry().parse_retry_after(value)))
        except Exception:  # noqa: BLE001 - urllib3 raises its own InvalidHeader on a value it cannot read
            return None

    @cached_property
    def _parsed(self) -> Any:
        if self.truncated:
            return None
        try:  # utf-8-sig: a byte order mark before the JSON (ASP.NET writes one) is not part of it
            value = json.loads(self.body.decode("utf-8-sig"), parse_constant=_not_json, parse_float=_finite,
                               parse_int=_integer)
        except (ValueError, RecursionError):
            return None
        return value if _depth_within(value, MAX_ANSWER_DEPTH) else None

    def json(self) -> Any:
        """The body as JSON, or None when it is not JSON (a customer's HTML error page, say)."""
        return self._parsed

    def text(self, limit: int = 10_000) -> str:
        """The body as text in its declared charset (a UTF-8 byte order mark is not text)."""
        charset = "utf-8-sig" if self.charset == "utf-8" else self.charset
        return self.body[:limit].decode(charset, "replace")


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # NaN would make the envelope itself invalid JSON


def _finite(text: str) -> float | str:
    """A number beyond a double's range (1e400) is kept as its text: Infinity is not JSON (RFC 8259)."""
    value = float(text)
    return value if math.isfinite(value) else text


def _integer(text: str) -> int | str:
    """An integer too long for Python to convert (over 4,300 digits) is kept as its text."""
    try:
        return int(text)
    except ValueError:
        return text


def _depth_within(value: Any, depth: int) -> bool:
    if depth < 0:
        return False
    if isinstance(value, dict):
        return all(_depth_within(item, depth - 1) for item in value.values())
    if isinstance(value, list):
        return all(_depth_within(item, depth - 1) for item in value)
    return True
