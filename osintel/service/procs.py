"""Which process owns a crawl run or an outbox lease, and whether that process is still alive.

An owner is recorded as host name, PID and the process's start time (``<boot id>:<clock ticks
after boot>`` from Linux ``/proc``), so a PID the kernel has handed to another process since, or
a PID from before a reboot, is never mistaken for the owner. A process on another host cannot be
checked from here: its liveness is ``unknown`` and callers fall back to a time limit.

``psutil`` would give the same answer portably but is not a dependency; off Linux (no ``/proc``)
the start time is unknown and a PID that exists counts as alive.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

#: What :func:`liveness` returns.
ALIVE, DEAD, UNKNOWN = "alive", "dead", "unknown"

_PROC = Path("/proc")


@lru_cache(maxsize=1)
def _boot_id() -> str:
    try:
        return (_PROC / "sys/kernel/random/boot_id").read_text(encoding="ascii").strip()
    except OSError:
        return ""


def _stat(pid: int) -> tuple[str, str] | None:
    """``(state, start ticks)`` of ``pid`` from ``/proc/<pid>/stat``; None when there is no such process."""
    try:
        text = (_PROC / str(pid) / "stat").read_text(encoding="ascii", errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return None
    except OSError:
        return ("?", "")
    fields = text.rsplit(")", 1)[-1].split()
    # After "pid (comm)": state is field 3 of stat(5), starttime field 22.
    return (fields[0], fields[19]) if len(fields) > 19 else ("?", "")


def start_token(pid: int) -> str | None:
    """The start time of ``pid`` as ``<boot id>:<ticks>``, or None when unknown."""
    stat = _stat(pid)
    if stat is None or not stat[1] or not _boot_id():
        return None
    return f"{_boot_id()}:{stat[1]}"


def hostname() -> str:
    return socket.gethostname()


@dataclass(frozen=True)
class ProcessId:
    """A process, identified so that a reused PID does not match: host, PID, start time."""

    host: str
    pid: int
    started: str | None = None

    @property
    def token(self) -> str:
        """The stable string form stored in the control store: ``host/pid/started``."""
        return f"{self.host}/{self.pid}/{self.started or ''}"

    @classmethod
    def from_token(cls, token: str) -> ProcessId:
        host, _, rest = token.partition("/")
        pid, _, started = rest.partition("/")
        return cls(host, int(pid or 0), started or None)

    def to_dict(self) -> dict[str, Any]:
        return {"host": self.host, "pid": self.pid, "started": self.started}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProcessId:
        return cls(str(data.get("host", "")), int(data.get("pid", 0)), data.get("started") or None)

    def describe(self) -> str:
        return f"process {self.pid} on {self.host}"


def current() -> ProcessId:
    """This process."""
    pid = os.getpid()
    return ProcessId(hostname(), pid, start_token(pid))


def of_pid(pid: int) -> ProcessId:
    """A process on this host (e.g. a child just started)."""
    return ProcessId(hostname(), pid, start_token(pid))


def liveness(owner: ProcessId) -> str:
    """``alive``, ``dead`` (gone, a zombie, or its PID reused) or ``unknown`` (another host)."""
    if owner.host != hostname():
        return UNKNOWN
    if owner.pid <= 0:
        return DEAD
    if not _PROC.is_dir():  # pragma: no cover - not Linux: existence is all we can check
        try:
            os.kill(owner.pid, 0)
        except ProcessLookupError:
            return DEAD
        except PermissionError:
            return ALIVE
        return ALIVE
    stat = _stat(owner.pid)
    if stat is None or stat[0] in ("Z", "X"):
        return DEAD
    if owner.started is not None and start_token(owner.pid) not in (None, owner.started):
        return DEAD  # the PID now belongs to another process
    return ALIVE
