"""How a crawl child stops: promptly on SIGTERM or SIGINT, and never outliving its parent.

:class:`ChildLifecycle` is installed by :mod:`spiders.child` in place of Scrapy's own signal
handlers:

- The first SIGTERM or SIGINT asks Scrapy to stop every crawler (``stop``): spiders close with
  reason ``shutdown`` and :class:`~spiders.runs.RunRecorder` records their runs as
  ``interrupted`` with their stats. Scrapy waits for requests already in flight before it closes a
  spider, and a callback busy on a huge page holds the reactor, so the wait is bounded: if the
  process is still alive :data:`STOP_GRACE_SECONDS` later, or on a second signal, ``force`` records
  the runs still open as ``interrupted`` from a separate thread and the process exits at once
  (:data:`FORCED_EXIT_STATUS`). The run's WARC file is then left as after a kill: readable up to
  its last record, not yet made read-only.
- The child dies with its parent. On Linux ``prctl(PR_SET_PDEATHSIG, SIGTERM)`` has the kernel
  send SIGTERM when the parent exits, however it exits (SIGKILL included); elsewhere, or if
  ``prctl`` fails, a watchdog thread polls ``os.getppid()`` and stops the crawl when it changes.
  Either way the parent's death is a SIGTERM-like stop, recorded as ``interrupted``.

No work happens inside a signal handler beyond setting a flag and starting a thread: the
interrupted code may hold a lock (logging, SQLite) the handler would need.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

#: Seconds a graceful stop may take before the runs are recorded and the process exits.
STOP_GRACE_SECONDS = 5.0
#: How often the portable watchdog checks that the parent is still there, in seconds.
PARENT_POLL_SECONDS = 0.5
#: Exit status of a forced stop (128 + SIGTERM, what a shell reports for a process it ended).
FORCED_EXIT_STATUS = 128 + signal.SIGTERM
_PR_SET_PDEATHSIG = 1


def set_parent_death_signal(sig: int = signal.SIGTERM) -> bool:
    """Linux only: have the kernel send ``sig`` to this process when its parent exits.

    Returns False where that is unavailable (not Linux, no libc, ``prctl`` refused).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        return int(libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


class ChildLifecycle:
    """Signal handling and parent watching for one crawl child (see the module docstring).

    ``stop()`` starts a graceful stop and must be safe to call from any thread (e.g. it hands
    ``CrawlerProcess.stop`` to ``reactor.callFromThread``). ``force(reason)`` records whatever is
    still open; it runs in its own thread, after which the process exits.
    """

    def __init__(self, *, stop: Callable[[], None], force: Callable[[str], None],
                 parent_pid: int | None = None, grace: float = STOP_GRACE_SECONDS) -> None:
        self._stop = stop
        self._force = force
        self.parent_pid = parent_pid
        self.grace = grace
        self._stopping = threading.Event()
        self._forced = threading.Lock()
        self._reason = ""

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    # -- installing ----------------------------------------------------------------------------

    def watch_parent(self) -> None:
        """Stop the crawl when the parent exits: ``PR_SET_PDEATHSIG``, else a polling thread.

        Call it as early as possible. If the parent is already gone (it died before ``prctl``
        took effect) the stop starts at once.
        """
        parent = self.parent_pid if self.parent_pid is not None else os.getppid()
        self.parent_pid = parent
        if set_parent_death_signal(signal.SIGTERM):
            if os.getppid() != parent:  # the parent exited before prctl: no signal will come
                self.request_stop("parent process exited")
            return
        threading.Thread(target=self._poll_parent, name="parent-watchdog", daemon=True).start()

    def install_signal_handlers(self) -> None:
        """Handle SIGTERM and SIGINT (and Windows' SIGBREAK) here; call from the main thread."""
        for name in ("SIGTERM", "SIGINT", "SIGBREAK"):
            sig = getattr(signal, name, None)
            if sig is not None:
                signal.signal(sig, self._on_signal)

    # -- stopping ------------------------------------------------------------------------------

    def request_stop(self, reason: str) -> None:
        """Start a graceful stop (once); later calls do nothing."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self._reason = reason
        threading.Thread(target=self._graceful, name="crawl-stop", daemon=True).start()

    def parent_exited(self) -> bool:
        return self.parent_pid is not None and os.getppid() != self.parent_pid

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._stopping.is_set():
            # The kernel repeats the parent-death signal as each thread of the dying parent exits
            # (the child is handed from thread to thread): that is not an operator insisting.
            if not self.parent_exited():
                threading.Thread(target=self._run_force, args=(f"{name} received while stopping",),
                                 name="crawl-force", daemon=True).start()
            return
        self.request_stop(f"{name} received")

    def _explained(self, reason: str) -> str:
        if self.parent_exited() and "parent" not in reason:
            return f"{reason} (the parent process exited)"
        return reason

    def _graceful(self) -> None:
        reason = self._explained(self._reason)
        log.warning("%s: stopping the crawl; runs still open after %.0fs are recorded as interrupted",
                    reason, self.grace, extra={"reason": reason})
        try:
            self._stop()
        except Exception:  # noqa: BLE001 - the forced stop below still ends the process
            log.exception("graceful stop failed")
        if not threading.Event().wait(self.grace):
            self._run_force(f"{self._explained(self._reason)}; the crawl did not close within {self.grace:.0f}s")

    def _run_force(self, reason: str) -> None:
        if not self._forced.acquire(blocking=False):
            return
        log.warning("forcing the crawl to stop: %s", reason, extra={"reason": reason})
        try:
            self._force(reason)
        except Exception:  # noqa: BLE001 - exit regardless; the parent closes runs left open
            log.exception("could not record the interrupted runs")
        finally:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            os._exit(FORCED_EXIT_STATUS)

    def _poll_parent(self) -> None:
        while not self._stopping.is_set():
            if os.getppid() != self.parent_pid:
                self.request_stop("parent process exited")
                return
            self._stopping.wait(PARENT_POLL_SECONDS)
