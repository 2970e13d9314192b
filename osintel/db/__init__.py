"""The control store's database engines behind one interface (:class:`osintel.schema.Database`).

SQLite (:mod:`osintel.db.sqlite`) is the embedded default; PostgreSQL (:mod:`osintel.db.postgres`)
is the shared store of record when several machines work on one state. Owners write their SQL once,
in SQLite's dialect; :mod:`osintel.db.dialect` is the one place that rewrites it for PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from osintel.schema import AddColumn, Row, Transaction


class Engine(Protocol):
    """What :class:`osintel.store.ControlStore` needs of a database engine, beyond
    :class:`osintel.schema.Database`: schema inspection, migration steps and the lease lock."""

    #: The store named in messages (a path, or a URL without its password).
    label: str
    #: Appended to the outbox lease query to lock the rows it takes ("" where writers are serial).
    lease_lock: str
    #: Appended to a ``SELECT`` of rows a transaction reads and then rewrites, so a concurrent writer
    #: waits for it instead of losing its update ("" where writers are serial).
    row_lock: str

    def transaction(self) -> AbstractContextManager[Transaction]: ...
    def read(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...
    def has_table(self, name: str) -> bool: ...
    def serialise_migrations(self, tx: Transaction) -> None: ...
    def apply(self, tx: Transaction, step: str | AddColumn) -> None: ...
    def close(self) -> None: ...
