"""Wake-ups across processes: whoever queues work in the outbox pokes the worker that drains it.

The crawl runs in a child process and writes documents to the outbox; the enrichment worker of
``osintel run`` lives in another. Without a signal the worker finds new work only at its next
poll (``worker.poll_seconds``), and every alert waits for it. With one, a document is enriched,
indexed and alerted on as soon as its transaction commits.

The signal is a datagram on a Linux abstract Unix socket named after the control store's path:
no file to clean up, nothing that survives the listener, local to this machine. A poke with no
listener is dropped (the worker's poll is the fallback), so writers never wait or fail on it.
"""

from __future__ import annotations

import hashlib
import logging
import socket
import sys
import threading
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

#: Whether this platform has abstract Unix sockets (Linux); elsewhere the worker only polls.
SUPPORTED = sys.platform.startswith("linux")


def address(store_path: Path) -> str:
    """The abstract socket address of the worker that drains the store at ``store_path``."""
    digest = hashlib.sha256(str(Path(store_path).resolve()).encode()).hexdigest()[:32]
    return f"\0osintel-wake-{digest}"


def poke(store_path: Path) -> None:
    """Tell the worker of ``store_path`` that the outbox has work (never raises, never waits)."""
    if not SUPPORTED:
        return
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(b"!", address(store_path))
    except OSError:
        pass  # nobody listening (or its queue is full, so it is awake already): the poll covers it


class WakeListener:
    """Calls ``on_wake`` from a daemon thread whenever :func:`poke` is called for ``store_path``."""

    def __init__(self, store_path: Path, on_wake: Callable[[], None]) -> None:
        self.store_path = Path(store_path)
        self.on_wake = on_wake
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Listen; False (logged) when wake-ups are unavailable and the worker only polls."""
        if not SUPPORTED:
            log.info("wake-ups unavailable on %s: the worker polls the outbox", sys.platform)
            return False
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.bind(address(self.store_path))
        except OSError as exc:
            sock.close()
            log.warning("wake-ups off (%s: another worker listens for %s?): the worker polls the outbox",
                        exc, self.store_path)
            return False
        self._sock = sock
        self._thread = threading.Thread(target=self._listen, args=(sock,), name="osintel-wake", daemon=True)
        self._thread.start()
        return True

    def _listen(self, sock: socket.socket) -> None:
        while True:
            try:
                sock.recv(64)
            except OSError:
                return  # closed by close()
            self.on_wake()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._thread is not None:
            self._thread.join(2.0)
