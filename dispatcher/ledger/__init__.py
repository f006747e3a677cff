"""The delivery ledger, so that a lead is never sent twice across the platform's retries: `Ledger` decides, a
`Store` remembers (SQLite locally, DynamoDB in production). `ledger_from_setting` reads the `LEDGER` variable.

`Ledger`, `Claim` and `Replay` (ledger.py, with the pending settles' worker) are imported the first time they are
asked for (PEP 562's module `__getattr__`): a stage without a ledger never loads them (3.6 ms of cold start)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from dispatcher.errors import ConfigurationError
from dispatcher.ledger.store import Item, Store, StoreUnavailable

if TYPE_CHECKING:
    from dispatcher.ledger.ledger import Claim, Ledger, Replay

__all__ = ["Claim", "Item", "Ledger", "Replay", "Store", "StoreUnavailable", "ledger_from_setting"]
_DECIDING = frozenset({"Claim", "Ledger", "Replay"})


def __getattr__(name: str) -> Any:
    if name in _DECIDING:
        from dispatcher.ledger import ledger

        return getattr(ledger, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def ledger_from_setting(environ: Mapping[str, str], customer: str) -> Ledger | None:
    """The ledger LEDGER names: `sqlite:<path>`, `dynamodb:<table>`, or `off` (None: double sends accepted).

    Unset means `off` on a developer's machine; on Lambda it must be said, and `sqlite:` is refused there:
    a container's disk is not shared by the others. The ledger's modules are imported for a stage that has one.
    """
    on_lambda = bool(environ.get("AWS_LAMBDA_FUNCTION_NAME"))
    setting = (environ.get("LEDGER") or "").strip()
    if not setting:
        if on_lambda:
            raise ConfigurationError("LEDGER must be set on Lambda: dynamodb:<table>, or off to accept double "
                                     "sends when the platform retries")
        return None
    ttl_s = _ttl(environ.get("LEDGER_TTL_S"))  # refused even when off: a wrong setting is said at once
    if setting == "off":
        return None
    kind, _, where = setting.partition(":")
    if kind == "sqlite" and where:
        if on_lambda:
            raise ConfigurationError("LEDGER=sqlite: is refused on Lambda (a container's disk is not shared): "
                                     "use dynamodb:<table>")
        from dispatcher.ledger.ledger import DEFAULT_TTL_S, Ledger
        from dispatcher.ledger.sqlite import SqliteStore

        return Ledger(SqliteStore(os.path.expanduser(where)), customer, ttl_s or DEFAULT_TTL_S)
    if kind == "dynamodb" and where:
        from dispatcher.ledger.dynamodb import DynamoStore
        from dispatcher.ledger.ledger import DEFAULT_TTL_S, Ledger

        return Ledger(DynamoStore(where), customer, ttl_s or DEFAULT_TTL_S)
    raise ConfigurationError(f"LEDGER must be sqlite:<path>, dynamodb:<table> or off, not {setting!r}")


def _ttl(raw: str | None) -> int | None:
    """LEDGER_TTL_S, checked; None when unset: the ledger's own default."""
    if not raw:
        return None
    try:
        ttl = int(raw)
    except ValueError:
        raise ConfigurationError(f"LEDGER_TTL_S must be a whole number of seconds, not {raw!r}") from None
    if ttl < 60:
        raise ConfigurationError("LEDGER_TTL_S must be at least 60 seconds")
    return ttl
