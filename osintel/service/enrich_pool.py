"""Enrichment on every core: N child processes enrich, this process is the one index writer.

``osintel enrich --workers N`` and ``osintel run --workers N`` (setting ``worker.processes``; 0 =
one per core). Each child (:mod:`osintel.service.enrich_child`, started with ``spawn``) loads the
enricher once, leases batches from the outbox in its own name, enriches them and maps them for the
index, and sends ``(seqs, documents, mapped batch)`` here through its own pipe. This process:

1. writes the mapped batches into the index, uncommitted, and commits when
   ``worker.commit_documents`` are waiting or ``worker.commit_seconds`` have passed since the first
   (tantivy allows one writer per directory; one commit per second instead of one per 32
   documents keeps ingest limited by NLP);
2. only after that commit is durable, acknowledges each batch's outbox rows in the name of the
   child that leased them and stores the enriched documents (:meth:`ControlStore.ack`);
3. runs the after-batch hook (alerts) on what was acknowledged.

What a kill -9 does: of a child, its pipe closes and its process ends; this process says so on
stderr, releases the leases the dead child still holds (another child redoes them; a document it
had already sent is still indexed and acknowledged here, and a redone copy is upserted by the
same id) and starts a replacement, up to :data:`MAX_RESTARTS` per slot before the drain fails
loudly. Of this process: the kernel kills the children (``PR_SET_PDEATHSIG``), nothing was
acknowledged without its index commit, and the next command releases the dead holders' leases.

A poisonous document is released by the child that leased it (and parked after
``max_attempts``), as in :func:`osintel.service.pipeline.drain_outbox`; an index failure releases
every waiting row and is raised. A child that reports an error stops the pool with it.

Processes started with ``spawn`` import the parent's ``__main__`` module: a script that calls
:func:`osintel.service.commands.enrich` (or this module) with more than one process must keep its
top-level code under ``if __name__ == "__main__":``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING

from osintel.errors import EnrichmentError, OsintelError, PartialIndexError
from osintel.records import Document
from osintel.service import deadletter, leases
from osintel.service.enrich_child import ChildConfig, main as child_main
from osintel.service.pipeline import DrainReport
from osintel.settings import Settings
from osintel.store import ControlStore

if TYPE_CHECKING:
    from indexer.base import Index, PreparedBatch

log = logging.getLogger(__name__)

#: Replacements per slot before a drain gives up on a child that keeps dying.
MAX_RESTARTS = 3
#: How long the pool waits for a message when nothing is waiting to be committed.
_IDLE_WAIT = 0.5


def cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def process_count(settings: Settings, *, pending: int | None = None) -> int:
    """Enrichment processes to start: ``worker.processes`` (0: one per core), and for a drain of
    ``pending`` documents at most one per ``nlp.batch_size`` of them (a small drain is not worth
    a second model load)."""
    wanted = settings.worker.processes or cores()
    if pending is not None:
        wanted = min(wanted, max(1, pending // max(1, settings.nlp.batch_size)))
    return max(1, wanted)


@dataclass
class _Batch:
    owner: str
    seqs: list[int]
    docs: list[Document]
    prepared: PreparedBatch | None


@dataclass
class _Child:
    slot: int
    process: BaseProcess
    conn: Connection
    token: str | None = None
    cpu_at_ready: float = 0.0
    idle: bool = False  # found nothing to lease since its last batch
    finished: bool = False  # said "idle" (drain done) or was told to stop
    restarts: int = 0


@dataclass
class PoolReport(DrainReport):
    """A :class:`DrainReport` plus the pool's own figures."""

    processes: int = 0
    restarts: int = 0
    commits: int = 0
    #: Seconds from the start until the last child had loaded its models (each load is paid once).
    ready_seconds: float = 0.0
    #: Peak resident memory of each child, MiB, by slot.
    peak_rss_mb: dict[int, float] = field(default_factory=dict)
    #: CPU seconds each child spent after loading its models (enriching and mapping), by slot.
    enrich_cpu_seconds: dict[int, float] = field(default_factory=dict)


class EnrichPool:
    """The parent side. ``mode="drain"``: :meth:`run` returns when the outbox has nothing left to
    lease; ``mode="serve"``: it runs until :meth:`stop` (``osintel run``)."""

    def __init__(
        self, settings: Settings, store: ControlStore, index: Index, *, processes: int, mode: str = "drain",
        after_batch: Callable[[Sequence[Document]], None] | None = None,
        progress: Callable[[DrainReport, dict[str, int]], None] | None = None,
        enricher_factory: str | None = None,
    ) -> None:
        if mode not in ("drain", "serve"):
            raise ValueError(f"mode must be 'drain' or 'serve', not {mode!r}")
        self.settings, self.store, self.index = settings, store, index
        self.processes, self.mode = processes, mode
        self.after_batch, self.progress = after_batch, progress
        self.enricher_factory = enricher_factory
        self.report = PoolReport(processes=processes)
        self._ctx = multiprocessing.get_context("spawn")
        self._children: list[_Child] = []
        self._window: list[_Batch] = []
        self._window_docs = 0
        self._window_started = 0.0
        self._started = time.monotonic()
        self._stop = threading.Event()
        self._send_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------

    def _spawn(self, slot: int, restarts: int = 0) -> _Child:
        ours, theirs = self._ctx.Pipe(duplex=True)
        config = ChildConfig(
            settings=self.settings, slot=slot, parent_pid=os.getpid(), mode=self.mode,
            batch_size=self.settings.nlp.batch_size, poll_seconds=self.settings.worker.poll_seconds,
            enricher_factory=self.enricher_factory, log_level=logging.getLevelName(logging.getLogger().level),
        )
        process = self._ctx.Process(target=child_main, args=(theirs, config), name=f"osintel-enrich-{slot}",
                                    daemon=True)
        process.start()
        theirs.close()
        log.info("enrichment process %d started (pid %s)", slot, process.pid)
        return _Child(slot, process, ours, restarts=restarts)

    def start(self) -> None:
        """Start the children (each loads the models: seconds, in parallel)."""
        self._started = time.monotonic()
        self._children = [self._spawn(slot) for slot in range(self.processes)]

    def wake(self) -> None:
        """Tell idle children (``serve`` mode) to lease now rather than at their next poll."""
        self._broadcast("wake")

    def stop(self) -> None:
        """Ask :meth:`run` to finish: children complete their batch, it is committed, they exit."""
        self._stop.set()
        self._broadcast("stop")

    def _broadcast(self, command: str) -> None:
        with self._send_lock:
            for child in self._children:
                if not child.finished:
                    try:
                        child.conn.send(command)
                    except OSError:
                        pass  # it is gone: run() notices its end

    def close(self, *, timeout: float = 30.0) -> None:
        """Stop every child still running and release what they held.

        After :meth:`run` returned normally no child is left. Otherwise (an error) what they are
        doing will not be committed: the pipes are closed, so a child exits at its next message
        (killed after ``timeout``), and its leases are released.
        """
        self._broadcast("stop")
        for child in self._children:
            child.conn.close()
        deadline = time.monotonic() + timeout
        for child in self._children:
            child.process.join(max(0.0, deadline - time.monotonic()))
            if child.process.is_alive():
                log.warning("enrichment process %d did not stop; killing it", child.slot)
                child.process.kill()
                child.process.join(5)
        self._children = []
        self._release_dead()

    # -- the loop -----------------------------------------------------------------------------

    def run(self) -> PoolReport:
        """Receive, write, commit and acknowledge until done (see the class)."""
        if not self._children:
            self.start()
        try:
            while True:
                live = list(self._children)  # a child leaves the list once its end is handled (_ended)
                if not live:
                    break
                timeout = _IDLE_WAIT
                if self._window:
                    timeout = max(0.0, self._window_started + self.settings.worker.commit_seconds - time.monotonic())
                ready = wait([c.conn for c in live] + [c.process.sentinel for c in live], timeout)
                for child in live:
                    if child.conn in ready and child in self._children:
                        self._receive(child)
                for child in live:
                    if (child in self._children and child.process.sentinel in ready
                            and not child.conn.poll(0)):  # messages first: an "idle" comes before the end
                        self._ended(child)
                # Commit by size or time; at once when no child has more coming (a trickle of new
                # documents, e.g. for alerts, does not wait for commit_seconds).
                if self._window and (self._window_docs >= self.settings.worker.commit_documents
                                     or time.monotonic() >= self._window_started + self.settings.worker.commit_seconds
                                     or self._stop.is_set() or all(c.idle for c in self._children)):
                    self._flush()
        except BaseException:
            self._flush_quietly()
            raise
        self._flush()
        self.report.peak_rss_mb = dict(sorted(self.report.peak_rss_mb.items()))
        return self.report

    def _receive(self, child: _Child) -> None:
        try:
            message = child.conn.recv()
        except (EOFError, OSError):
            child.process.join(5)  # the pipe closed: it ended (or is ending)
            self._ended(child)
            return
        kind = message[0]
        if kind == "ready":
            child.token = message[1]
            self.report.ready_seconds = max(self.report.ready_seconds, time.monotonic() - self._started)
            child.cpu_at_ready = message[2][1]
            self._usage(child, message[2])
        elif kind == "batch":
            _, owner, seqs, docs, prepared, failed, errors, seconds, used = message
            child.token, child.idle = owner, False
            self._usage(child, used)
            self.report.failed += failed
            self.report.errors.extend(errors)
            self.report.enrich_seconds += seconds
            if docs:
                if not self._window:
                    self._window_started = time.monotonic()
                self._window.append(_Batch(owner, list(seqs), list(docs), prepared))
                self._window_docs += len(docs)
        elif kind == "idle":
            self._usage(child, message[1])
            child.idle = True
            child.finished = self.mode == "drain"  # it exits now
        elif kind == "error":
            child.finished = True
            child.process.join(5)
            self._release_dead()
            raise EnrichmentError(f"enrichment process {child.slot} (pid {child.process.pid}) failed: {message[1]}")

    def _usage(self, child: _Child, used: tuple[int, float]) -> None:
        rss_kb, cpu = used
        mb = round(rss_kb / 1024.0, 1)
        self.report.peak_rss_mb[child.slot] = max(self.report.peak_rss_mb.get(child.slot, 0.0), mb)
        if child.token is not None:  # a replacement adds to its slot's figure
            spent = self.report.enrich_cpu_seconds.get(child.slot, 0.0)
            self.report.enrich_cpu_seconds[child.slot] = spent + max(0.0, cpu - child.cpu_at_ready)
            child.cpu_at_ready = cpu

    def _ended(self, child: _Child) -> None:
        """A child's process ended: expected after "idle"/"stop"; otherwise it died."""
        child.process.join(5)
        if child.process.exitcode is None:  # closed its pipe but lingers: it is of no use now
            child.process.kill()
            child.process.join(5)
        child.conn.close()
        self._children.remove(child)
        if child.finished:
            return
        why = f"exit code {child.process.exitcode}"
        if child.process.exitcode is not None and child.process.exitcode < 0:
            why = f"killed by signal {-child.process.exitcode}"
        released = self._release_dead()
        log.error("enrichment process %d (pid %s) died (%s); %d of its leased document(s) released",
                  child.slot, child.process.pid, why, released)
        if self._stop.is_set():
            return
        if child.restarts >= MAX_RESTARTS:
            raise EnrichmentError(f"enrichment process {child.slot} died {child.restarts + 1} times (last: {why});"
                                  " giving up (run with --verbose, or --workers 1, to see why)")
        self.report.restarts += 1
        self._children.append(self._spawn(child.slot, child.restarts + 1))

    def _release_dead(self) -> int:
        # Only holders that are provably dead: a live sibling keeps its leases.
        released = leases.release(self.store, actor="system:enrich-pool", dead_only=True)
        return sum(released.values())

    # -- commit and acknowledge ---------------------------------------------------------------

    def _flush_quietly(self) -> None:
        try:
            self._flush()
        except Exception:  # noqa: BLE001 - the error already raised is the one to report
            log.exception("could not commit the documents waiting when the pool failed")

    def _flush(self) -> None:
        batches, self._window, self._window_docs = self._window, [], 0
        if not batches:
            return
        from indexer.base import PreparedBatch

        mapped = [b.prepared for b in batches if b.prepared is not None]
        if not mapped:
            return
        merged = PreparedBatch(mapped[0].backend, tuple(i for m in mapped for i in m.ids),
                               tuple(p for m in mapped for p in m.payload))
        started = time.perf_counter()
        partial: PartialIndexError | None = None
        try:
            self.index.write(merged)  # one commit for the whole window; durable on return
        except PartialIndexError as exc:
            partial = exc
            batches = self._settle_partial(batches, exc)
        except (OsintelError, OSError) as exc:
            for b in batches:
                self.store.release(b.seqs, f"{type(exc).__name__}: {exc}", owner=b.owner, count_attempt=False)
            log.error("indexing %d documents failed; released for retry: %s", len(merged.ids), exc)
            raise
        self.report.index_seconds += time.perf_counter() - started
        self.report.commits += 1
        done: list[Document] = []
        for b in batches:
            self.store.ack(b.seqs, b.docs, owner=b.owner)
            done.extend(b.docs)
        self.report.batches += len(batches)
        self.report.indexed += len(done)
        if partial is not None and partial.retryable:
            raise partial
        if self.after_batch is not None and done:
            try:
                self.after_batch(done)
            except Exception:  # noqa: BLE001 - alerting must never block indexing
                log.exception("after-batch hook failed for %d indexed documents", len(done))
        if self.progress is not None:
            self.progress(self.report, self.store.outbox_counts())

    def _settle_partial(self, batches: list[_Batch], exc: PartialIndexError) -> list[_Batch]:
        """Dead-letter the rejected, release the retryable; the batches cut to what was indexed."""
        seq_of = {doc.id: seq for b in batches for seq, doc in zip(b.seqs, b.docs)}
        deadletter.record(self.store, exc.rejected, stage="index", seqs=seq_of)
        reason = f"PartialIndexError: {next(iter(exc.retryable.values()), '')}"
        self.report.failed += len(exc.rejected)
        self.report.errors.extend(f"{doc_id}: {why}" for doc_id, why in exc.failed.items())
        kept = []
        for b in batches:
            retry = [seq for seq, doc in zip(b.seqs, b.docs) if doc.id in exc.retryable]
            if retry:
                self.store.release(retry, reason, owner=b.owner, count_attempt=False)
            pairs = [(seq, doc) for seq, doc in zip(b.seqs, b.docs) if doc.id not in exc.failed]
            kept.append(_Batch(b.owner, [s for s, _ in pairs], [d for _, d in pairs], None))
        return kept


def drain(
    settings: Settings, store: ControlStore, index: Index, *, processes: int,
    after_batch: Callable[[Sequence[Document]], None] | None = None,
    progress: Callable[[DrainReport, dict[str, int]], None] | None = None,
    enricher_factory: str | None = None,
) -> PoolReport:
    """Drain the outbox with ``processes`` enrichment processes (see the module); the pool is
    stopped however this ends."""
    pool = EnrichPool(settings, store, index, processes=processes, after_batch=after_batch, progress=progress,
                      enricher_factory=enricher_factory)
    try:
        return pool.run()
    finally:
        pool.close()


def describe(report: PoolReport) -> str:
    """One line for stderr: processes, commits and peak memory per process."""
    rss = ", ".join(f"{mb:.0f}" for mb in report.peak_rss_mb.values()) or "-"
    return (f"{report.processes} enrichment process(es), {report.commits} index commit(s),"
            f" {report.restarts} restart(s); peak RSS per process MiB: {rss}")
