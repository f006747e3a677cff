"""The ledger's store in a SQLite file (standard library): the embedded default for local work.

Several processes may share the file (`chalice local`, a second plug): each write is one statement whose
WHERE clause is the compare-and-set, and SQLite serialises writers with its file lock.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path

from dispatcher.ledger.store import Item, Store, StoreUnavailable

BUSY_TIMEOUT_S = 2.0
_SCHEMA = """CREATE TABLE IF NOT EXISTS ledger (
    pk TEXT PRIMARY KEY, version INTEGER NOT NULL, record TEXT NOT NULL, expires_at INTEGER NOT NULL)"""


def _os_error(path: str) -> str:
    """The operating system's own reason (sqlite3 says only "unable to open database file"), if it gives one."""
    try:
        with open(path, "ab"):
            return ""
    except OSError as exc:
        return f" ([Errno {exc.errno}] {exc.strerror})"


class SqliteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._local = threading.local()  # a sqlite3 connection belongs to the thread that made it
        self._prepared = False
        self._prepare_lock = threading.Lock()

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
                # WAL with NORMAL: a commit survives the process (a killed plug), not a power cut: a local ledger
                connection.execute("PRAGMA synchronous=NORMAL")
                self._prepare(connection)
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"the SQLite ledger {self.path} cannot be opened: {exc}"
                                       f"{_os_error(self.path)}") from exc
            self._local.connection = connection
        return connection

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """The file's mode and table, once per process: each statement takes the file's write lock, which a
        burst of new threads (chalice local serves each request on one) would otherwise contend for."""
        with self._prepare_lock:
            if not self._prepared:
                connection.execute("PRAGMA journal_mode=WAL")  # kept in the file: readers never wait for writers
                connection.execute(_SCHEMA)
                self._prepared = True

    def get(self, key: str) -> Item | None:
        try:
            row = self._connection().execute(
                "SELECT version, record, expires_at FROM ledger WHERE pk = ?", (key,)).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the SQLite ledger cannot be read: {exc}") from exc
        return None if row is None else Item(key, row[0], json.loads(row[1]), row[2])

    def put(self, item: Item, expected_version: int | None) -> bool:
        record = json.dumps(item.record, separators=(",", ":"))
        try:
            if expected_version is None:
                cursor = self._connection().execute(
                    "INSERT INTO ledger (pk, version, record, expires_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (pk) DO NOTHING", (item.key, item.version, record, item.expires_at))
            else:
                cursor = self._connection().execute(
                    "UPDATE ledger SET version = ?, record = ?, expires_at = ? WHERE pk = ? AND version = ?",
                    (item.version, record, item.expires_at, item.key, expected_version))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the SQLite ledger cannot be written: {exc}") from exc
        return cursor.rowcount == 1
