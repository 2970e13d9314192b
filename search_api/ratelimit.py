"""Per-key rate limits that hold across every API process on the machine.

A token bucket per key: ``rate`` requests per second sustained, bursts up to ``burst``. The
buckets live in a small memory-mapped file table under the data directory
(``api-ratelimit.bin``), locked with ``flock`` for each update, so ``--api-workers 4`` does not
give a key four times its limit. A take costs two system calls and no disk write (the page cache
is shared; nothing is fsynced: the limit protects the service from a runaway client, it is no
accounting record, and a reboot may refill every bucket).

The table has :data:`SLOTS` slots addressed by a hash of the key id with linear probing over
:data:`_PROBE` slots; when all of those hold other keys, the least recently used is taken over
(that key then starts again from a full bucket). Times are ``time.monotonic()``, one clock for
every process of the machine on Linux.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import threading
import time
from pathlib import Path

from osintel.errors import ConfigError

log = logging.getLogger(__name__)

#: Slots in the table (distinct keys tracked at once before the least recently used is dropped).
SLOTS = 4096
_SLOT = struct.Struct("<16sdd")  # key hash, tokens, last update (monotonic seconds)
_PROBE = 32
_EMPTY = bytes(16)


class RateLimiter:
    """Token buckets per key in a table shared through the file at ``path`` (None: this process only).

    ``rate <= 0`` turns limiting off. The file is opened on first use.
    """

    def __init__(self, *, rate: float, burst: int, path: Path | None = None) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.path = path
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._map: mmap.mmap | None = None

    def _table(self) -> mmap.mmap:
        if self._map is not None:
            return self._map
        size = SLOTS * _SLOT.size
        if self.path is None:
            self._map = mmap.mmap(-1, size)
            return self._map
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.fstat(fd).st_size != size:  # new, or from a release with another layout
                    os.ftruncate(fd, 0)
                    os.ftruncate(fd, size)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
            self._map = mmap.mmap(fd, size)
        except OSError as exc:
            raise ConfigError(f"cannot open the rate-limit table {self.path}: {exc}") from exc
        self._fd = fd
        return self._map

    def take(self, key: str) -> float:
        """Spend one token for ``key``; returns 0 when allowed, else the seconds to wait."""
        if self.rate <= 0:
            return 0.0
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
        home = int.from_bytes(digest[:8], "little") % SLOTS
        with self._lock:
            table = self._table()
            if self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                now = time.monotonic()
                slot, tokens, last = self._find(table, home, digest, now)
                tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
                wait = 0.0
                if tokens >= 1.0:
                    tokens -= 1.0
                else:
                    wait = (1.0 - tokens) / self.rate
                _SLOT.pack_into(table, slot * _SLOT.size, digest, tokens, now)
                return wait
            finally:
                if self._fd is not None:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _find(self, table: mmap.mmap, home: int, digest: bytes, now: float) -> tuple[int, float, float]:
        """The slot for ``digest`` and its bucket (a full one for a key new to the table)."""
        oldest, oldest_at = home, float("inf")
        for step in range(_PROBE):
            slot = (home + step) % SLOTS
            held, tokens, last = _SLOT.unpack_from(table, slot * _SLOT.size)
            if held == digest:
                return slot, tokens, min(last, now)  # a last in the future: a reboot since
            if held == _EMPTY:
                return slot, float(self.burst), now
            if last < oldest_at:
                oldest, oldest_at = slot, last
        return oldest, float(self.burst), now

    def close(self) -> None:
        with self._lock:
            if self._map is not None:
                self._map.close()
                self._map = None
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
