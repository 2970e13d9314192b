"""The shared engine: a PostgreSQL database (``[store] url = "postgresql://…"``), through psycopg 3.

Owners' SQL arrives in SQLite's dialect and is rewritten by :mod:`osintel.db.dialect`. A process
keeps one writer connection (a lock keeps one transaction at a time on it, as the SQLite engine
does) and one read connection in autocommit mode; inside this thread's own transaction, reads run
on the writer so they see its uncommitted rows. Writers in other processes and on other machines
run concurrently under PostgreSQL's row locks (``READ COMMITTED``); the outbox lease takes its rows
with ``FOR UPDATE SKIP LOCKED`` (:data:`PostgresEngine.lease_lock`) so two workers never share one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.rows import BaseRowFactory, RowMaker

from osintel import schema
from osintel.db import dialect
from osintel.db.url import redact
from osintel.errors import StoreError
from osintel.schema import Row, Transaction

CONNECT_TIMEOUT_SECONDS = 10
#: The advisory lock key migrations hold (any constant; "osintel" in ASCII, as a number).
MIGRATION_LOCK = 0x6F73696E74656C


class PgRow(tuple[Any, ...]):
    """A result row read by column name (``row["id"]``) or position (``row[0]``), like ``sqlite3.Row``."""

    _names: dict[str, int]

    def __new__(cls, values: Sequence[Any], names: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._names = names
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return super().__getitem__(self._names[key])
            except KeyError:
                raise IndexError(f"no column named {key!r}") from None
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


def _rows(cursor: Any) -> RowMaker[PgRow]:  # a psycopg cursor (its base class is private)
    names = {column.name: i for i, column in enumerate(cursor.description or ())}
    return lambda values: PgRow(values, names)


_ROWS: BaseRowFactory[PgRow] = _rows


class _BoolAsInt(Dumper):
    """Owners pass ``True``/``False`` for SQLite's 0/1 flag columns (``INTEGER`` in both engines)."""

    oid = psycopg.adapters.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class PostgresTransaction:
    """:class:`osintel.schema.Transaction` on the engine's writer connection, until its block ends."""

    def __init__(self, conn: psycopg.Connection[PgRow]) -> None:
        self._conn: psycopg.Connection[PgRow] | None = conn

    @property
    def open(self) -> bool:
        return self._conn is not None

    def end(self) -> None:
        """Used after this, every call raises StoreError (the block is over)."""
        self._conn = None

    def _live(self) -> psycopg.Connection[PgRow]:
        if self._conn is None:
            raise StoreError("this control store transaction has ended (write inside `with store.transaction()`)")
        return self._conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._live().execute(dialect.statement(sql), tuple(params)).rowcount

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> int:
        if not rows:
            return 0
        with self._live().cursor() as cursor:
            cursor.executemany(dialect.statement(sql), [tuple(r) for r in rows])
            return cursor.rowcount

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        row = self._live().execute(dialect.returning(sql), tuple(params)).fetchone()
        return int(row[0]) if row is not None else 0

    def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        return self._live().execute(dialect.statement(sql), tuple(params)).fetchone()

    def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return self._live().execute(dialect.statement(sql), tuple(params)).fetchall()

    def serialise(self, key: int) -> None:
        """Wait for, then hold until this transaction ends, the advisory lock ``key``: transactions
        taking the same key run one after the other, on any connection of any machine."""
        self._live().execute("SELECT pg_advisory_xact_lock(%s)", (key,))


class PostgresEngine:
    """The control store in a PostgreSQL database; raises StoreError naming the URL (never its
    password) when the server cannot be reached or refuses the connection."""

    #: Appended to the outbox lease query: rows another worker is leasing are skipped, not waited for.
    lease_lock = " FOR UPDATE OF o SKIP LOCKED"
    #: Appended to a read-then-rewrite ``SELECT``: the rows stay locked until COMMIT, and a writer
    #: already holding them is waited for (and its change then read), so no update is lost.
    row_lock = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self.url = url
        self.label = redact(url)
        self._lock = threading.RLock()
        self._read_lock = threading.Lock()
        self._writer: int | None = None
        self._conn = self._connect()
        try:
            self._reader = self._connect()
        except StoreError:
            self._conn.close()
            raise

    def _connect(self) -> psycopg.Connection[PgRow]:
        try:
            conn = psycopg.connect(self.url, autocommit=True, row_factory=_ROWS,
                                   connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="osintel")
        except psycopg.Error as exc:
            raise StoreError(f"cannot open control store {self.label}: {_reason(exc)}") from None
        conn.adapters.register_dumper(bool, _BoolAsInt)
        return conn

    def _writer_connection(self) -> psycopg.Connection[PgRow]:
        """The writer, reconnected if the server dropped it (a restart must not wedge a long run)."""
        if self._conn.broken or self._conn.closed:
            self._conn = self._connect()
        return self._conn

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """``BEGIN`` … ``COMMIT`` on the writer connection, rolled back if the block raises."""
        with self._lock:
            conn = self._writer_connection()
            tx = PostgresTransaction(conn)
            self._writer = threading.get_ident()
            try:
                with conn.transaction():
                    yield tx
            except psycopg.Error as exc:
                raise StoreError(f"control store write failed ({self.label}): {_reason(exc)}") from exc
            finally:
                tx.end()
                self._writer = None

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Rows of one query (the last commit; this thread's uncommitted rows inside its transaction)."""
        try:
            if self._writer == threading.get_ident():
                with self._lock:
                    return self._conn.execute(dialect.statement(sql), tuple(params)).fetchall()
            with self._read_lock:
                if self._reader.broken or self._reader.closed:
                    self._reader = self._connect()
                return self._reader.execute(dialect.statement(sql), tuple(params)).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"control store query failed ({self.label}): {_reason(exc)}") from exc

    def has_table(self, name: str) -> bool:
        return self.read("SELECT to_regclass(?) IS NOT NULL", (name,))[0][0] is True

    def serialise_migrations(self, tx: Transaction) -> None:
        """Make processes starting together migrate one after the other: the second waits, then
        finds the schema current (``CREATE … IF NOT EXISTS`` alone races on the catalogue)."""
        tx.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))

    def apply(self, tx: Transaction, step: str | schema.AddColumn) -> None:
        """Run one migration step, its DDL rewritten for PostgreSQL (``tx`` rewrites the rest)."""
        for sql in dialect.ddl(step) if isinstance(step, str) else [dialect.add_column(step)]:
            tx.execute(sql)

    def close(self) -> None:
        with self._lock:
            self._conn.close()
        with self._read_lock:
            self._reader.close()


def _reason(exc: psycopg.Error) -> str:
    """The server's message, first line: the detail an operator needs, with no password in it."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
