"""The API served by several processes on one port (``--api-workers N``, setting ``api.workers``).

One Python process serves about one core's worth of searches (the GIL); :class:`ApiWorkers` binds
the listening socket once and starts N uvicorn processes that all accept on it, so the kernel
spreads connections among them. Each process opens the control store (SQLite WAL: many readers,
writers take turns; the audit chain serialises on its head row) and the search index for reading:
it reloads before every search, so commits of the enrichment worker, which holds the index's only
writer, show at once. A write an API route would make to the index (a regrade) is queued in the
outbox instead, for that writer (:class:`OutboxIndexWrites`). Rate limits are shared through a
file table (:mod:`search_api.ratelimit`).

Supervision: a worker that dies is logged at ERROR and restarted. One that keeps dying
(:data:`RESTART_LIMIT` restarts within :data:`RESTART_WINDOW` seconds) stops the pool with
:class:`~osintel.errors.ApiWorkerError`: the operator sees a failed service, never a pool quietly
down to fewer workers. Workers exit when their parent dies (they watch its pid).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Sequence
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from osintel.errors import ApiWorkerError

if TYPE_CHECKING:
    from indexer import Index
    from osintel.records import Document
    from osintel.settings import Settings
    from osintel.sources import SourceConfig
    from osintel.store import ControlStore

log = logging.getLogger(__name__)

#: Restarts of dead workers allowed within :data:`RESTART_WINDOW` seconds before the pool gives up.
RESTART_LIMIT = 5
RESTART_WINDOW = 60.0
_CHECK_SECONDS = 0.5


class OutboxIndexWrites:
    """The search index for an API worker process: reads go to ``index``; ``upsert`` queues the
    documents in the outbox, whose worker holds the index's one writer and re-indexes them."""

    def __init__(self, index: Index, store: ControlStore) -> None:
        self._index = index
        self._store = store

    def upsert(self, docs: Sequence[Document]) -> None:
        self._store.queue_documents([doc.id for doc in docs])

    def __getattr__(self, name: str) -> Any:
        return getattr(self._index, name)


def _serve(settings: Settings, sock: socket.socket, number: int, parent: int,
           sources: SourceConfig | None) -> None:
    """One worker process: the app under uvicorn on the inherited socket, until told to stop."""
    import uvicorn

    from indexer import open_index
    from osintel.store import ControlStore
    from search_api.app import create_app

    # A terminal's Ctrl-C goes to the supervisor alone, which stops the workers in order (they
    # would otherwise exit on it first and be taken for dead ones to restart).
    os.setpgrp()
    level = (settings.log_level or "WARNING").upper()
    logging.basicConfig(level=level,
                        format=f"%(asctime)s api-worker-{number} %(levelname)s %(name)s: %(message)s")
    store = ControlStore(settings.store_path)
    index = open_index(settings)
    app = create_app(settings, index=OutboxIndexWrites(index, store), store=store)
    if sources is not None:
        app.state.sources = sources
    # X-API-Worker names the process that answered (which of N an operator's request met).
    server = uvicorn.Server(uvicorn.Config(app, log_level=level.lower(), access_log=False,
                                           headers=[("X-API-Worker", str(number))]))

    def watch_parent() -> None:
        while not server.should_exit:
            if os.getppid() != parent:  # orphaned: the supervisor is gone, so is the service
                log.error("api worker %d: parent %d is gone; stopping", number, parent)
                server.should_exit = True
            time.sleep(1.0)

    threading.Thread(target=watch_parent, name="parent-watch", daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        index.close()
        store.close()


class ApiWorkers:
    """``workers`` API processes accepting on one socket bound to ``host``:``port``."""

    def __init__(self, settings: Settings, *, workers: int, host: str, port: int,
                 sources: SourceConfig | None = None, restart_limit: int = RESTART_LIMIT) -> None:
        if workers < 1:
            raise ApiWorkerError(f"api.workers must be at least 1, not {workers}")
        self.settings = settings
        self.workers = workers
        self.host = host
        self.port = port
        self.sources = sources
        self.restart_limit = restart_limit
        self.restarts: list[float] = []  # monotonic times of restarts, for the limit
        self._procs: list[BaseProcess | None] = [None] * workers
        self._sock: socket.socket | None = None
        self._ctx = multiprocessing.get_context("spawn")  # never fork a process with threads
        self._stopping = threading.Event()

    @property
    def pids(self) -> list[int | None]:
        """The worker processes' ids, by worker number."""
        return [p.pid if p is not None else None for p in self._procs]

    def start(self) -> None:
        """Bind the port and start every worker. Raises ApiWorkerError when the port is taken."""
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise ApiWorkerError(f"cannot listen on {self.host}:{self.port}: {exc}") from exc
        sock.listen(2048)
        sock.set_inheritable(True)
        self._sock = sock
        self.port = int(sock.getsockname()[1])
        for number in range(self.workers):
            self._spawn(number)

    def _spawn(self, number: int) -> None:
        assert self._sock is not None
        proc = self._ctx.Process(target=_serve, name=f"osintel-api-{number}", daemon=False,
                                 args=(self.settings, self._sock, number, os.getpid(), self.sources))
        proc.start()
        self._procs[number] = proc
        log.info("api worker %d started (pid %s) on %s:%d", number, proc.pid, self.host, self.port)

    def check(self) -> int:
        """Restart dead workers; returns how many were restarted.

        Raises :class:`ApiWorkerError` when they died more than ``restart_limit`` times in
        :data:`RESTART_WINDOW` seconds (the pool is then stopped).
        """
        restarted = 0
        for number, proc in enumerate(self._procs):
            if self._stopping.is_set() or proc is None or proc.is_alive():
                continue
            code = proc.exitcode
            log.error("api worker %d (pid %s) died with exit code %s; restarting it", number, proc.pid, code,
                      extra={"api_worker": number, "exitcode": code})
            now = time.monotonic()
            self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW] + [now]
            if len(self.restarts) > self.restart_limit:
                self.stop()
                raise ApiWorkerError(f"api worker {number} died (exit code {code}) and API workers died "
                                     f"{len(self.restarts)} times in {RESTART_WINDOW:.0f} s: giving up")
            self._spawn(number)
            restarted += 1
        return restarted

    def supervise(self, stop: threading.Event, *, deadline: float | None = None) -> None:
        """Keep the workers running until ``stop`` is set (or ``deadline``, monotonic, passes)."""
        while not stop.wait(_CHECK_SECONDS):
            self.check()
            if deadline is not None and time.monotonic() >= deadline:
                return

    def stop(self, *, grace: float = 10.0) -> None:
        """SIGTERM every worker (uvicorn finishes the requests in flight), kill any left after
        ``grace`` seconds, close the socket."""
        self._stopping.set()
        live = [p for p in self._procs if p is not None and p.is_alive()]
        for proc in live:
            if proc.pid is not None:
                try:
                    os.kill(proc.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        end = time.monotonic() + grace
        for proc in live:
            proc.join(max(0.0, end - time.monotonic()))
            if proc.is_alive():
                log.error("api worker pid %s did not stop in %.0f s; killing it", proc.pid, grace)
                proc.kill()
                proc.join(5)
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def run_pool(settings: Settings, *, port: int, sources: SourceConfig | None = None,
             stop: threading.Event | None = None, exit_after: float | None = None) -> None:
    """Serve the API with ``settings.api.workers`` processes until ``stop`` is set (or SIGINT/SIGTERM
    when no ``stop`` is given, or ``exit_after`` seconds). Raises ApiWorkerError (see the module)."""
    from indexer import open_index
    from osintel.store import ControlStore

    # Created (and migrated) once here, before N processes race to do it.
    ControlStore(settings.store_path).close()
    open_index(settings).close()
    own_stop = stop is None
    stop = stop if stop is not None else threading.Event()
    previous: dict[int, Any] = {}
    if own_stop and threading.current_thread() is threading.main_thread():
        previous = {sig: signal.signal(sig, lambda signum, frame: stop.set())
                    for sig in (signal.SIGINT, signal.SIGTERM)}
    pool = ApiWorkers(settings, workers=settings.api.workers, host=settings.api.host, port=port, sources=sources)
    pool.start()
    log.info("search API at http://%s:%d/ with %d worker processes (pids %s)", settings.api.host, pool.port,
             pool.workers, pool.pids)
    try:
        deadline = None if exit_after is None else time.monotonic() + exit_after
        pool.supervise(stop, deadline=deadline)
    finally:
        pool.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
