"""The ledger's store in a SQLite file (standard library): the embedded default for local work.

Several processes may share the file (`chalice local`, a second plug): each write is one statement whose
WHERE clause is the compare-and-set, and SQLite serialises writers with its file lock. A locked file is
waited for as long as the lead's deadline allows (`busy_timeout` set from `store.time_left()`), no longer.
The file stays bounded: every `CLEAN_EVERY` new rows, the rows past their expiry are deleted, and the WAL, which
SQLite's automatic checkpoint starts again from its beginning every 1000 pages (about 4.1 MB), is truncated back to
`WAL_LIMIT_BYTES` whenever a long reader made it grow beyond (`journal_size_limit`, set on every connection:
SQLite keeps it per connection, and any thread's may checkpoint). The limit is above what one
checkpoint's WAL reaches: SQLite reuses the WAL file "since overwriting is faster than appending"
(https://sqlite.org/pragma.html#pragma_journal_size_limit), and a limit below it (1 MB before) had the file
truncated and grown again after every checkpoint, about 15 us of the kernel's time a lead.

In WAL mode SQLite answers "database is locked" at once, without waiting, in two documented cases
(https://sqlite.org/wal.html, "Sometimes Queries Return SQLITE_BUSY In WAL Mode"): while the last connection to
the file cleans up the WAL as it closes, and while a new connection recovers the WAL of a killed process.
chalice local closes a connection with each request's thread, so two plugs sharing a file met the first case
under load (one lead of six answered 500 ledger_unavailable). Each process therefore keeps the connection that
prepared the file open for its lifetime (the last connection closes only when the plugs stop), and a statement
met by an immediate "locked" is tried again, with short pauses, while the lead's deadline allows.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from dispatcher.ledger.store import NO_VERSION, RECORD_JSON, Item, Store, StoreUnavailable, time_left, unreadable

CLEAN_EVERY = 200  # new rows between two deletions of the expired ones
WAL_LIMIT_BYTES = 5_000_000  # above a checkpoint's WAL (1000 pages of 4 KiB and their headers)
BUSY_PAUSE_S = (0.005, 0.1)  # the first and the longest pause before trying a locked statement again
_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})  # primary result codes: the file is in use
T = TypeVar("T")
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
        self._created = 0  # new rows since the last clean-up (this process)
        self._keeper: sqlite3.Connection | None = None  # open for the process's life: see the module's docstring

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            try:
                connection = sqlite3.connect(self.path, timeout=time_left(), isolation_level=None)
                # WAL with NORMAL: a commit survives the process (a killed plug), not a power cut: a local ledger
                connection.execute("PRAGMA synchronous=NORMAL")
                # per connection, as SQLite keeps it: whichever thread's connection checkpoints truncates the WAL
                connection.execute(f"PRAGMA journal_size_limit={WAL_LIMIT_BYTES}")
                self._prepare(connection)
            except sqlite3.Error as exc:
                if _busy(exc):
                    raise  # tried again by the caller while time is left
                raise StoreUnavailable(f"the SQLite ledger {self.path} cannot be opened: {exc}"
                                       f"{_os_error(self.path)}") from exc
            self._local.connection = connection
            self._local.busy_ms = -1
        self._bound(connection)
        return connection

    def _bound(self, connection: sqlite3.Connection) -> None:
        """Wait for a locked file no longer than the lead's deadline allows: the busy timeout shrinks as soon as the
        time left does, and grows back only when it doubles (one PRAGMA a lead at most, often none)."""
        left_ms = int(time_left() * 1000)
        busy_ms = left_ms // 100 * 100 if left_ms < 1000 else left_ms // 1000 * 1000  # floored: never beyond
        current = self._local.busy_ms
        if current < 0 or busy_ms < current or busy_ms > 2 * current:  # shrink at once, grow only by much
            connection.execute(f"PRAGMA busy_timeout={busy_ms}")
            self._local.busy_ms = busy_ms

    def _prepare(self, connection: sqlite3.Connection) -> None:
        """The file's mode and table, once per process: each statement takes the file's write lock, which a
        burst of new threads (chalice local serves each request on one) would otherwise contend for."""
        with self._prepare_lock:
            if not self._prepared:
                connection.execute("PRAGMA journal_mode=WAL")  # kept in the file: readers never wait for writers
                connection.execute(_SCHEMA)
                self._prepared = True
                self._keeper = connection

    def _again_when_busy(self, statement: Callable[[], T]) -> T:
        """`statement()`, tried again while SQLite says at once that the file is in use and the deadline allows
        (after `busy_timeout` has run out, no time is left: the error is raised)."""
        pause = BUSY_PAUSE_S[0]
        while True:
            try:
                return statement()
            except sqlite3.OperationalError as exc:
                if not _busy(exc) or time_left() <= pause:
                    raise
            time.sleep(pause)
            pause = min(2 * pause, BUSY_PAUSE_S[1])

    def get(self, key: str) -> Item | None:
        try:
            row = self._again_when_busy(lambda: self._connection().execute(
                "SELECT version, record, expires_at FROM ledger WHERE pk = ?", (key,)).fetchone())
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the SQLite ledger cannot be read: {exc}") from exc
        if row is None:
            return None
        version, raw, expires_at = row
        if not isinstance(version, int):
            return unreadable(key, "its version is not a number", expires_at=_whole(expires_at))
        try:
            record = json.loads(raw)
        except (TypeError, ValueError, RecursionError):
            return unreadable(key, "not JSON", version, _whole(expires_at))
        if not isinstance(record, dict):
            return unreadable(key, "not a JSON object", version, _whole(expires_at))
        return Item(key, version, record, _whole(expires_at))

    def put(self, item: Item, expected_version: int | None) -> bool:
        try:
            return self._again_when_busy(lambda: self._put(self._connection(), item, expected_version))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the SQLite ledger cannot be written: {exc}") from exc

    def _put(self, connection: sqlite3.Connection, item: Item, expected_version: int | None) -> bool:
        record = RECORD_JSON.encode(item.record)
        if expected_version is None:
            cursor = connection.execute(
                "INSERT INTO ledger (pk, version, record, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (pk) DO NOTHING", (item.key, item.version, record, item.expires_at))
            if cursor.rowcount == 1:
                self._clean_now_and_then(connection)
            return cursor.rowcount == 1
        if expected_version == NO_VERSION:
            cursor = connection.execute(
                "UPDATE ledger SET version = ?, record = ?, expires_at = ? WHERE pk = ? "
                "AND typeof(version) != 'integer'", (item.version, record, item.expires_at, item.key))
        else:
            cursor = connection.execute(
                "UPDATE ledger SET version = ?, record = ?, expires_at = ? WHERE pk = ? AND version = ?",
                (item.version, record, item.expires_at, item.key, expected_version))
        return cursor.rowcount == 1

    def put_also(self, item: Item, expected_version: int | None, also: Item) -> bool:
        """One transaction: the compare-and-set, then `also` written over whatever is there."""
        try:
            return self._again_when_busy(lambda: self._put_also(item, expected_version, also))
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"the SQLite ledger cannot be written: {exc}") from exc

    def _put_also(self, item: Item, expected_version: int | None, also: Item) -> bool:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")  # the write lock first: a locked file fails here, nothing done
        try:
            written = self._put(connection, item, expected_version)
            if written:
                connection.execute(
                    "INSERT INTO ledger (pk, version, record, expires_at) VALUES (?, 1, ?, ?) ON CONFLICT (pk) DO "
                    "UPDATE SET version = version + 1, record = excluded.record, expires_at = excluded.expires_at",
                    (also.key, RECORD_JSON.encode(also.record), also.expires_at))
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:  # SQLite may have rolled back by itself
                connection.execute("ROLLBACK")
            raise
        return written

    def _clean_now_and_then(self, connection: sqlite3.Connection) -> None:
        """Every CLEAN_EVERY new rows, delete the expired ones (a failure here is only a delay)."""
        self._created += 1
        if self._created < CLEAN_EVERY:
            return
        self._created = 0
        try:
            connection.execute("DELETE FROM ledger WHERE expires_at < ?", (int(time.time()),))
        except sqlite3.Error:
            self._created = CLEAN_EVERY - 1  # the next new row tries again


def _busy(error: sqlite3.Error) -> bool:
    """SQLite's answer that the file is in use by another connection (its primary result code)."""
    return isinstance(error, sqlite3.OperationalError) and (error.sqlite_errorcode & 0xFF) in _BUSY


def _whole(value: object) -> int:
    """An expiry as stored; one of another type (a hand-edited row) counts as an hour from now."""
    return value if isinstance(value, int) else int(time.time()) + 3600
