"""Read connections beside the control store's one writer.

SQLite in WAL mode lets any number of readers run while one connection writes, each reader seeing
the last committed state. :class:`~osintel.store.ControlStore` keeps one connection for writes
(under its lock) and hands plain reads to connections from this pool, so an API-key lookup never
waits behind an audit commit's fsync. Connections are created on demand, one per concurrent
reader, and reused; they are ``query_only``, so a bug cannot write through them.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from osintel.errors import StoreError


class ReadPool:
    """Reusable read-only connections to the SQLite file at ``path``."""

    def __init__(self, path: Path, *, busy_timeout_ms: int = 30000) -> None:
        self.path = path
        self._busy_timeout_ms = busy_timeout_ms
        self._idle: list[sqlite3.Connection] = []
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, timeout=self._busy_timeout_ms / 1000, isolation_level=None,
                                   check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            conn.execute("PRAGMA query_only=ON")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open a read connection to {self.path}: {exc}") from exc
        return conn

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection of this thread's own until the block ends."""
        with self._lock:
            if self._closed:
                raise StoreError(f"control store {self.path} is closed")
            conn = self._idle.pop() if self._idle else None
        if conn is None:
            conn = self._open()
            with self._lock:
                self._all.append(conn)
        try:
            yield conn
        finally:
            with self._lock:
                if self._closed:
                    conn.close()
                else:
                    self._idle.append(conn)

    def close(self) -> None:
        """Close the idle connections; one still in use is closed when its reader hands it back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
