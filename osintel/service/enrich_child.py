"""One enrichment process of the worker pool (:mod:`osintel.service.enrich_pool`): the child side.

Started with the ``spawn`` method, so it shares nothing with its parent but a duplex pipe. It loads
the enricher once, then loops: lease a batch from the outbox in its own name (its own
:func:`osintel.service.procs.current` token), enrich it (a failing batch is retried one document
at a time, a poisonous document released with its error, as in
:func:`osintel.service.pipeline.drain_outbox`), map it for the index (:func:`indexer.prepare_batch`:
the mapping moves off the single writer) and send ``(seqs, documents, mapped batch)`` to the
parent. The child never writes the index and never acknowledges: the parent, the one index writer,
acks in the child's name once its index commit is durable.

It exits when its parent dies (the kernel kills it: ``PR_SET_PDEATHSIG``; a closed pipe or a new
parent PID are the fall-backs), so a SIGKILLed ``osintel enrich`` leaves only dead lease holders,
whose rows the next command releases. When the outbox has nothing left for it to lease it says
``idle``; then in ``drain`` mode it exits, in ``serve`` mode (``osintel run``) it waits for the
parent's wake-up or the poll.

Messages to the parent (tuples, first item the kind): ``("ready", token, usage)``, ``("batch",
token, seqs, documents, prepared, failed, errors, enrich_seconds, usage)``, ``("idle", usage)``,
``("error", text)``, where ``usage`` is ``(peak RSS KiB, CPU seconds so far)``. From the parent:
``"wake"`` and ``"stop"``.
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import importlib
import logging
import os
import resource
import signal
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from osintel.service import procs
from osintel.service.pipeline import SupportsEnrich, _enrich_isolating_failures
from osintel.settings import Settings
from osintel.store import ControlStore, open_store

log = logging.getLogger(__name__)

#: ``prctl`` option: a signal the kernel sends this process when its parent dies (Linux).
_PR_SET_PDEATHSIG = 1

#: The file, in the data directory, whose ``flock`` serialises near-duplicate assignment.
DEDUP_LOCK_FILE = "dedup.lock"


@dataclass(frozen=True)
class ChildConfig:
    """What a pool child needs; picklable (it crosses the ``spawn`` boundary)."""

    settings: Settings
    slot: int
    parent_pid: int
    mode: str  # "drain": exit when nothing is left to lease; "serve": wait for wake-ups
    batch_size: int
    poll_seconds: float
    #: ``"module:function"`` building the enricher from ``(settings, store, dedup_guard)``;
    #: None: :func:`osintel.service.commands.build_enricher`.
    enricher_factory: str | None = None
    log_level: str = "WARNING"


class FileGuard:
    """An exclusive ``flock`` on a file, held for a ``with`` block; the kernel drops it if the
    holder dies, so a SIGKILLed child never leaves its siblings waiting."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = path.open("a+b")

    def __enter__(self) -> FileGuard:
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self._fh.fileno(), fcntl.LOCK_UN)

    def close(self) -> None:
        self._fh.close()


def usage() -> tuple[int, float]:
    """This process's peak resident set size in KiB (Linux reports ``ru_maxrss`` in KiB) and the
    CPU seconds it has used."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    return int(own.ru_maxrss), own.ru_utime + own.ru_stime


def _die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies; exit now if it already has."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the pipe check remains
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable")
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(3)


def _build_enricher(config: ChildConfig, store: ControlStore, guard: FileGuard) -> SupportsEnrich:
    if config.enricher_factory:
        module, _, name = config.enricher_factory.partition(":")
        factory: Callable[..., SupportsEnrich] = getattr(importlib.import_module(module), name)
        return factory(config.settings, store, guard)
    from osintel.service.commands import build_enricher

    return build_enricher(config.settings, store=store, dedup_guard=guard)


class _ParentGone(Exception):
    """The parent closed the pipe or died: stop at once (the parent acks nothing of ours now)."""


def _commands(conn: Connection, timeout: float) -> Iterator[str]:
    """Commands waiting from the parent (waits up to ``timeout`` seconds for the first)."""
    try:
        while conn.poll(timeout):
            timeout = 0.0
            yield str(conn.recv())
    except (EOFError, OSError) as exc:
        raise _ParentGone() from exc


def main(conn: Connection, config: ChildConfig) -> None:
    """The child's entry point (``multiprocessing`` target)."""
    _die_with_parent(config.parent_pid)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    logging.basicConfig(level=config.log_level.upper(), stream=sys.stderr,
                        format=f"%(asctime)s %(levelname)s worker-{config.slot} %(name)s: %(message)s")
    try:
        _serve(conn, config)
    except _ParentGone:
        os._exit(0)
    except BaseException as exc:  # noqa: BLE001 - the parent must hear why, then we exit non-zero
        with contextlib.suppress(OSError):
            conn.send(("error", f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"))
        os._exit(1)
    conn.close()


def _serve(conn: Connection, config: ChildConfig) -> None:
    from indexer import prepare_batch

    settings = config.settings
    owner = procs.current().token
    store = open_store(settings)
    guard = FileGuard(settings.data_dir / DEDUP_LOCK_FILE)
    try:
        enricher = _build_enricher(config, store, guard)
        _send(conn, ("ready", owner, usage()))
        idle = False
        while True:
            if "stop" in _commands(conn, 0.0):
                return
            items = store.lease(config.batch_size, owner=owner)
            if not items:
                if not idle:  # once per idle spell: the parent commits at once when every child is idle
                    _send(conn, ("idle", usage()))
                    idle = True
                if config.mode == "drain" or "stop" in _commands(conn, config.poll_seconds):
                    return
                continue
            idle = False
            started = time.perf_counter()
            good, bad = _enrich_isolating_failures(enricher, items)
            errors = []
            for item, error in bad:
                store.release([item.seq], error, owner=owner)
                log.error("document %s could not be enriched and was released: %s", item.document.id, error)
                errors.append(error)
            documents = [doc for _, doc in good]
            seqs = [item.seq for item, _ in good]
            try:
                prepared = prepare_batch(settings, documents) if documents else None
            except Exception:
                store.release(seqs, "mapping for the index failed", owner=owner, count_attempt=False)
                raise
            _send(conn, ("batch", owner, seqs, documents, prepared, len(bad), errors,
                         time.perf_counter() - started, usage()))
    finally:
        guard.close()
        store.close()


def _send(conn: Connection, message: tuple[Any, ...]) -> None:
    try:
        conn.send(message)
    except (BrokenPipeError, EOFError, ConnectionResetError) as exc:
        raise _ParentGone() from exc
