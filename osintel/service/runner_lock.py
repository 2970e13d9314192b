"""One ``osintel run`` per data directory: an exclusive, non-blocking ``flock``.

The lock file (``<data_dir>/osintel-run.lock``) holds the owner's PID for the error message and
for operators. The lock itself is the kernel's ``flock``, not the file's existence: it is released
when the owning process exits for any reason (even ``kill -9``), so a stale file never blocks a
restart.
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from osintel.errors import AlreadyRunningError

log = logging.getLogger(__name__)

#: The lock file's name inside the data directory.
LOCK_FILE = "osintel-run.lock"


def read_lock_pid(path: Path) -> int | None:
    """The PID written into a lock file, or None when it is missing or unreadable."""
    try:
        return int(path.read_text(encoding="ascii").strip() or "0") or None
    except (OSError, ValueError):
        return None


class InstanceLock:
    """An exclusive lock on a data directory. Use as a context manager or acquire/release."""

    def __init__(self, data_dir: str | Path) -> None:
        self.path = Path(data_dir) / LOCK_FILE
        self._fh: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock or raise :class:`AlreadyRunningError` naming the holder's PID."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" so a failed attempt never truncates the holder's PID.
        fh = self.path.open("a+", encoding="ascii")
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            pid = read_lock_pid(self.path)
            holder = f"process {pid}" if pid else "another process"
            raise AlreadyRunningError(
                f"osintel is already running on data directory {self.path.parent} ({holder} holds {self.path})",
                pid=pid,
            ) from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        self._fh = fh
        log.info("took the run lock %s", self.path, extra={"pid": os.getpid()})

    def release(self) -> None:
        """Release the lock (idempotent). The PID is cleared so the file does not mislead."""
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            fh.seek(0)
            fh.truncate()
            fh.flush()
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        finally:
            fh.close()

    @property
    def held(self) -> bool:
        return self._fh is not None

    def __enter__(self) -> InstanceLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
