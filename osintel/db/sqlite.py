"""The embedded engine: one SQLite file in WAL mode (the default control store).

Several processes use one file (a crawl child process writes documents while the enrichment worker
drains the outbox), so every connection sets a busy timeout; inside one process a lock keeps a
single writer. Evidence-grade writes use ``synchronous=FULL``.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from osintel import schema
from osintel.errors import StoreError
from osintel.readpool import ReadPool
from osintel.schema import Row, Transaction


class SQLiteTransaction:
    """:class:`osintel.schema.Transaction` on the engine's connection, until its block ends."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._conn: sqlite3.Connection | None = db

    @property
    def open(self) -> bool:
        return self._conn is not None

    def end(self) -> None:
        """Used after this, every call raises StoreError (the block is over)."""
        self._conn = None

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError("this control store transaction has ended (write inside `with store.transaction()`)")
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._live().execute(sql, params).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        return self._live().executemany(sql, rows).rowcount

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._live().execute(sql, params).lastrowid or 0)

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._live().execute(sql, params).fetchone()

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._live().execute(sql, params).fetchall()

    def serialise(self, key: int) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already made this the file's only writer."""
        self._live()


class SQLiteEngine:
    """The control store's SQLite file: write transactions under one lock, reads beside them."""

    #: Appended to the outbox lease query; SQLite's ``BEGIN IMMEDIATE`` already serialises writers.
    lease_lock = ""
    #: Appended to a read-then-rewrite ``SELECT``; nothing needed under the single writer.
    row_lock = ""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.label = str(path)
        self._lock = threading.RLock()
        self._writer: int | None = None  # the thread inside transaction(): its reads see its writes
        # Plain reads use connections of their own (WAL: readers never wait for the writer).
        self._reads = None if str(path) == ":memory:" or str(path).startswith("file:") else ReadPool(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open control store {path}: {exc}") from exc

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` under the engine's lock, rolled back if the block raises."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"cannot write to control store {self.path}: {exc}") from exc
            tx = SQLiteTransaction(self._db)
            self._writer = threading.get_ident()
            try:
                yield tx
            except BaseException as exc:
                tx.end()
                self._writer = None
                try:
                    self._db.execute("ROLLBACK")
                except sqlite3.Error as err:
                    raise StoreError(f"control store transaction failed: {err}") from err
                if isinstance(exc, sqlite3.Error):
                    raise StoreError(f"control store write failed: {exc}") from exc
                raise
            tx.end()
            self._writer = None
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as err:
                raise StoreError(f"control store transaction failed: {err}") from err

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query, on a read connection (the last commit); inside this thread's own
        :meth:`transaction`, on the writer (its uncommitted rows)."""
        try:
            if self._reads is None or self._writer == threading.get_ident():
                with self._lock:
                    return self._db.execute(sql, params).fetchall()
            with self._reads.connection() as conn:
                return conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"control store query failed: {exc}") from exc

    def has_table(self, name: str) -> bool:
        return bool(self.read("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))

    def serialise_migrations(self, tx: Transaction) -> None:
        """Nothing to do: ``BEGIN IMMEDIATE`` already made this the only writer of the file."""

    def apply(self, tx: Transaction, step: str | schema.AddColumn) -> None:
        """Run one migration step; an added column a store from before the migration list has already
        is left alone (SQLite has no ``ADD COLUMN IF NOT EXISTS``)."""
        if isinstance(step, str):
            tx.execute(step)
        elif step.column not in {row[1] for row in tx.fetch_all(f"PRAGMA table_info({step.table})")}:
            tx.execute(f"ALTER TABLE {step.table} ADD COLUMN {step.column} {step.declaration}")

    def close(self) -> None:
        if self._reads is not None:
            self._reads.close()
        with self._lock:
            self._db.close()
