"""How a webhook customer's fields become the request it reads: a JSON or form body, in its charset.

Without a `charset` the body is what `requests` writes (a form in UTF-8, JSON with non-ASCII escaped). With
one (an old PHP form reading Latin-1), the body is written here, byte for byte, and a JSON body says its
charset in its Content-Type; text the charset cannot write makes the lead invalid (webhook_mapping).
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from dispatcher.contract import Lead
from dispatcher.errors import ConfigurationError
from dispatcher.integrations.base import CustomerRequest
from dispatcher.integrations.webhook_mapping import FieldRule, form_body, json_body


@dataclass(frozen=True)
class EncodedRequest(CustomerRequest):
    """A body already written in the customer's charset: `form` holds its bytes and `headers` its Content-Type
    (the transport sends bytes as they are); the envelope shows the fields as text."""

    fields: Mapping[str, Any] = field(default_factory=dict)

    @property
    def details(self) -> dict[str, Any]:
        return dict(self.fields)


def charset_of(name: str | None, where: str) -> str | None:
    """The charset's canonical name (`iso-8859-1` -> `iso8859-1`), None when the file names none."""
    if name is None:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ConfigurationError(f"{where}: {name!r} is not a charset Python knows (utf-8, iso-8859-1, "
                                 "windows-1252...)") from None


def lead_request(fields: tuple[FieldRule, ...], encoding: str, charset: str | None, headers: Mapping[str, str],
                 lead: Lead) -> CustomerRequest:
    """The customer's request for a valid lead; InvalidLead names a field its format or charset cannot take."""
    if charset is None:
        if encoding == "form":
            return CustomerRequest(path="", form=form_body(fields, lead), headers=headers)
        return CustomerRequest(path="", json_body=json_body(fields, lead), headers=headers)
    if encoding == "form":
        form = form_body(fields, lead, charset)
        return EncodedRequest(path="", form=urlencode(form, encoding=charset).encode("ascii"),
                              headers={"Content-Type": "application/x-www-form-urlencoded", **headers}, fields=form)
    body = json_body(fields, lead, charset)
    return EncodedRequest(path="", form=json.dumps(body, ensure_ascii=False).encode(charset),
                          headers={"Content-Type": f"application/json; charset={charset}", **headers}, fields=body)
