"""The enrichment worker of ``osintel run``: a thread that keeps draining the outbox.

It loops :func:`osintel.service.pipeline.drain_outbox` with one enricher (models loaded once by the
caller) and one index object (shared with the API, because the embedded index allows a single
writer per directory). When the outbox is empty it sleeps ``worker.poll_seconds``. It never dies
silently: an error is logged with its traceback and counted, and the loop retries after a back-off
that doubles up to ``worker.max_backoff_seconds``; meanwhile the outbox visibly grows
(``GET /health``), and :meth:`EnrichmentWorker.status` says why.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from osintel.service.pipeline import SupportsEnrich, SupportsUpsert, drain_outbox
from osintel.records import Document, utcnow
from osintel.settings import Settings
from osintel.store import ControlStore
from osintel.wakeup import WakeListener

log = logging.getLogger(__name__)


@dataclass
class WorkerStatus:
    """Counters an operator greps for: ``worker/indexed``, ``worker/errors``..."""

    running: bool = False
    drains: int = 0
    indexed: int = 0
    failed: int = 0
    errors: int = 0
    consecutive_errors: int = 0
    last_error: str | None = None
    last_error_at: str | None = None
    last_indexed_at: str | None = None

    def record_error(self, exc: BaseException, *, backoff: float, max_backoff: float) -> float:
        """Count a failed drain; returns the back-off before the next (doubling, capped)."""
        self.errors += 1
        self.consecutive_errors += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        self.last_error_at = utcnow().isoformat()
        return float(min(backoff * 2.0 ** (self.consecutive_errors - 1), max_backoff))


class EnrichmentWorker:
    """Drain the outbox in a background thread until :meth:`stop`."""

    def __init__(self, settings: Settings, store: ControlStore, enricher: SupportsEnrich,
                 index: SupportsUpsert, *, poll_seconds: float | None = None,
                 after_batch: Callable[[Sequence[Document]], None] | None = None) -> None:
        self.store = store
        self.after_batch = after_batch  # the alert stage's hook, see drain_outbox
        self.enricher = enricher
        self.index = index
        self.batch_size = settings.nlp.batch_size
        self.poll_seconds = settings.worker.poll_seconds if poll_seconds is None else poll_seconds
        self.backoff_seconds = settings.worker.error_backoff_seconds
        self.max_backoff_seconds = settings.worker.max_backoff_seconds
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._status = WorkerStatus()
        # Collectors in other processes (the crawl child) poke this after each commit, so new work
        # is drained at once; the poll is the fallback when a poke is lost.
        self._listener = WakeListener(store.path, self.wake)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="osintel-enrichment", daemon=True)
        self._status.running = True
        self._listener.start()
        self._thread.start()

    def wake(self) -> None:
        """Drain now instead of after the poll interval (e.g. after a crawl finished)."""
        self._wake.set()

    def stop(self, *, timeout: float = 30.0) -> None:
        """Stop after the current batch; waits up to ``timeout`` seconds."""
        self._stop.set()
        self._wake.set()
        self._listener.close()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("enrichment worker still busy after %ss; leaving it (its leases expire)", timeout)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._status)

    def _loop(self) -> None:
        log.info("enrichment worker started (poll every %ss)", self.poll_seconds)
        try:
            self._warm_up()
            while not self._stop.is_set():
                delay = self._drain_once()
                self._wake.wait(delay)
                self._wake.clear()
        finally:
            with self._lock:
                self._status.running = False
            log.info("enrichment worker stopped")

    def _warm_up(self) -> None:
        """Load the models before the first document arrives, so the first alert after a start
        is not seconds late; a failure here is logged and left to the first drain to report."""
        warm = getattr(self.enricher, "warm_up", None)
        if warm is None:
            return
        started = time.perf_counter()
        try:
            warm()
        except Exception:  # noqa: BLE001 - the drain will meet (and report) the same fault
            log.exception("enrichment worker: warm-up failed")
            return
        log.info("enrichment worker: models loaded in %.1fs", time.perf_counter() - started)

    def _drain_once(self) -> float:
        """One drain; returns how long to sleep before the next."""
        try:
            report = drain_outbox(self.store, self.enricher, self.index, batch_size=self.batch_size,
                                  after_batch=self.after_batch)
        except Exception as exc:  # noqa: BLE001 - the worker must survive anything and say so
            with self._lock:
                delay = self._status.record_error(exc, backoff=self.backoff_seconds,
                                                  max_backoff=self.max_backoff_seconds)
                errors = self._status.errors
            log.exception("enrichment worker: drain failed (error %d); retrying in %.1fs", errors, delay,
                          extra={"worker_errors": errors})
            return delay
        with self._lock:
            st = self._status
            st.drains += 1
            st.consecutive_errors = 0
            st.indexed += report.indexed
            st.failed += report.failed
            if report.indexed:
                st.last_indexed_at = utcnow().isoformat()
        if report.indexed or report.failed:
            log.info("enrichment worker: indexed %d, failed %d", report.indexed, report.failed,
                     extra={"worker_indexed": report.indexed, "worker_failed": report.failed})
            return 0.0  # more may have arrived meanwhile
        return self.poll_seconds


class PooledEnrichmentWorker:
    """The worker of ``osintel run --workers N`` (N > 1): an :class:`~osintel.service.enrich_pool.EnrichPool`
    in ``serve`` mode, run by a thread of this process (the one index writer, shared with the API).

    Same interface and status as :class:`EnrichmentWorker`. The children load the NLP models, so
    this process does not. Wake-ups are forwarded to the children; if the pool fails (a child's
    error, the index down, a child that keeps dying) it is logged, counted and started again after
    the same doubling back-off.
    """

    def __init__(self, settings: Settings, store: ControlStore, index: Any, *, processes: int,
                 after_batch: Callable[[Sequence[Document]], None] | None = None) -> None:
        from osintel.service.enrich_pool import EnrichPool

        self._pool_class = EnrichPool
        self.settings, self.store, self.index = settings, store, index
        self.processes = processes
        self.after_batch = after_batch
        self.backoff_seconds = settings.worker.error_backoff_seconds
        self.max_backoff_seconds = settings.worker.max_backoff_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._pool: Any = None
        self._status = WorkerStatus()
        self._base_indexed = self._base_failed = 0
        self._peak_rss_mb: dict[int, float] = {}
        self._listener = WakeListener(store.path, self.wake)

    def start(self) -> None:
        # The thread starts the children: the kernel kills them when it ends (PR_SET_PDEATHSIG).
        self._thread = threading.Thread(target=self._loop, name="osintel-enrich-pool", daemon=True)
        self._status.running = True
        self._listener.start()
        self._thread.start()

    def wake(self) -> None:
        pool = self._pool
        if pool is not None:
            pool.wake()

    def stop(self, *, timeout: float = 30.0) -> None:
        """Children finish their batch, it is committed and acknowledged, then they exit."""
        self._stop.set()
        self._listener.close()
        pool = self._pool
        if pool is not None:
            pool.stop()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("enrichment pool still busy after %ss; leaving it (its leases expire)", timeout)

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {**asdict(self._status), "processes": self.processes, "peak_rss_mb": dict(self._peak_rss_mb)}

    def _progress(self, report: Any, counts: dict[str, int]) -> None:
        with self._lock:
            st = self._status
            st.indexed = self._base_indexed + report.indexed
            st.failed = self._base_failed + report.failed
            st.consecutive_errors = 0
            st.last_indexed_at = utcnow().isoformat()
            self._peak_rss_mb.update(report.peak_rss_mb)
            indexed, failed = st.indexed, st.failed
        log.info("enrichment worker: indexed %d, failed %d (%d processes)", indexed, failed, self.processes,
                 extra={"worker_indexed": indexed, "worker_failed": failed})

    def _loop(self) -> None:
        log.info("enrichment pool of %d processes starting", self.processes)
        try:
            while not self._stop.is_set():
                pool = self._pool_class(self.settings, self.store, self.index, processes=self.processes,
                                        mode="serve", after_batch=self.after_batch, progress=self._progress)
                self._pool = pool
                try:
                    pool.start()
                    if self._stop.is_set():
                        pool.stop()
                    report = pool.run()
                    self._settle(report)
                except Exception as exc:  # noqa: BLE001 - the worker must survive anything and say so
                    self._settle(pool.report)
                    with self._lock:
                        delay = self._status.record_error(exc, backoff=self.backoff_seconds,
                                                          max_backoff=self.max_backoff_seconds)
                    log.exception("enrichment pool failed; starting it again in %.1fs", delay)
                    self._stop.wait(delay)
                finally:
                    self._pool = None
                    pool.close()
        finally:
            with self._lock:
                self._status.running = False
            log.info("enrichment pool stopped")

    def _settle(self, report: Any) -> None:
        with self._lock:
            self._base_indexed += report.indexed
            self._base_failed += report.failed
            self._status.indexed, self._status.failed = self._base_indexed, self._base_failed
            self._peak_rss_mb.update(report.peak_rss_mb)
