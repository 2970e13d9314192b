"""Run crawls from the parent process: :func:`run_crawl`.

The crawl itself runs in a child process (``python -m spiders.child``) because Twisted's reactor
cannot be restarted; the parent creates a ``crawl_runs`` row per source, hands the child its job
on stdin, enforces ``crawl.process_timeout`` as a wall-clock limit (the child is killed and its
unfinished runs are recorded as ``timeout``), and reads the results back from the store.

Run statuses: ``ok``, ``page-limit`` (stopped at ``max_pages``), ``time-limit``, ``interrupted``,
``failed``, ``timeout`` (child killed), ``skipped-expired`` (authorisation expired).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from osintel.service import procs, recovery
from osintel.errors import ConfigError
from osintel.records import utcnow
from osintel.settings import Settings
from osintel.sources import Source, SourceConfig
from osintel.store import ControlStore, open_store
from spiders.registry import SPIDERS

log = logging.getLogger(__name__)

#: The directory that holds the ``spiders`` package: a checkout, or site-packages for an installed
#: osintel. The crawl child runs there because ``python -m`` puts its working directory first on
#: ``sys.path``: it imports this same code, never a same-named folder where the user happens to be.
_IMPORT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class CrawlResult:
    """The outcome of crawling one source, as recorded in the control store."""

    source_id: str
    run_id: int
    status: str
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


Progress = Callable[[CrawlResult], None]


def _result(store: ControlStore, source_id: str, run_id: int) -> CrawlResult:
    row = store.get_run(run_id)
    if row is None:
        return CrawlResult(source_id, run_id, "unknown", {}, "run row not found")
    return CrawlResult(source_id, run_id, row["status"], row["stats"], row["error"])


def authorisation_expired(source: Source) -> bool:
    """True when the source's authorisation ended before today (UTC)."""
    expires = source.authorisation_expires
    return expires is not None and expires < utcnow().date()


def run_crawl(
    settings: Settings,
    sources: SourceConfig,
    source_ids: list[str],
    *,
    progress: Progress | None = None,
    log_file: Path | None = None,
) -> list[CrawlResult]:
    """Crawl ``source_ids`` (all enabled sources when empty) in one child process.

    Returns one :class:`CrawlResult` per source, in the order given. ``progress`` is called
    once per source as it finishes. The child's logs go to ``log_file`` when given, otherwise
    to this process's stderr.
    """
    selected = sources.select(source_ids)
    missing = sorted({s.kind for s in selected if s.kind not in SPIDERS})
    if missing:
        # Refuse before anything starts, rather than a child that dies on its first source.
        raise ConfigError(f"no spider registered for source kind(s) {', '.join(missing)}; "
                          f"available: {', '.join(sorted(SPIDERS))}")
    store = open_store(settings)
    try:
        runs: list[tuple[Source, int]] = []
        order: list[tuple[str, int]] = []
        for source in selected:
            run_id = store.start_run(source.id, owner=procs.current().to_dict())
            order.append((source.id, run_id))
            if authorisation_expired(source):
                log.warning("skipping %s: authorisation expired on %s", source.id,
                            source.authorisation_expires, extra={"source_id": source.id})
                store.finish_run(run_id, status="skipped-expired", stats={},
                                 error=f"authorisation expired on {source.authorisation_expires}")
                if progress:
                    progress(_result(store, source.id, run_id))
                continue
            runs.append((source, run_id))
        if runs:
            _run_child(settings, sources, runs, store, progress=progress, log_file=log_file)
        return [_result(store, sid, rid) for sid, rid in order]
    finally:
        store.close()


def _run_child(settings: Settings, sources: SourceConfig, runs: list[tuple[Source, int]],
               store: ControlStore, *, progress: Progress | None, log_file: Path | None) -> None:
    job = {
        "settings": settings.model_dump(mode="json"),
        "sources": sources.model_dump(mode="json"),
        "runs": [{"source_id": s.id, "run_id": r} for s, r in runs],
        # The child stops when this process exits (spiders.lifecycle).
        "parent_pid": os.getpid(),
    }
    log_fh: IO[bytes] | None = None
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        log_fh = log_file.open("ab")
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "spiders.child"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log_fh,
            cwd=_IMPORT_ROOT,
        )
        reader = threading.Thread(
            target=_read_progress, args=(proc.stdout, settings, progress), daemon=True
        )
        reader.start()
        # The child owns the runs too (a killed parent leaves it running them); recorded before
        # it gets its job, so no run is ever crawled by an unrecorded process.
        recovery.add_run_owner(store, [r for _, r in runs], procs.of_pid(proc.pid))
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(job).encode("utf-8"))
            proc.stdin.close()
        except BrokenPipeError:
            pass
        timeout = settings.crawl.process_timeout
        try:
            returncode = proc.wait(timeout=timeout if timeout > 0 else None)
            status, error = "failed", f"crawl process exited with status {returncode} before finishing"
        except subprocess.TimeoutExpired:
            log.error("crawl process exceeded %ss; killing it", timeout, extra={"pid": proc.pid})
            proc.kill()
            proc.wait()
            status, error = "timeout", f"crawl process killed after {timeout}s"
        reader.join(timeout=5)
    finally:
        if log_fh is not None:
            log_fh.close()
    # Runs the child did not close (killed, crashed, spider failed to start): their WARC files
    # were never closed either, so they are sealed as found.
    for source, run_id in runs:
        result = _result(store, source.id, run_id)
        if result.status == "running":
            recovery.seal_run_warcs(store, settings, run_id, source.id, reason=f"run {run_id}: {error}")
            store.finish_run(run_id, status=status, stats=result.stats, error=error)
            if progress:
                progress(_result(store, source.id, run_id))


def _read_progress(stream: IO[bytes] | None, settings: Settings, progress: Progress | None) -> None:
    if stream is None:
        return
    for raw in stream:
        line = raw.decode("utf-8", "replace").strip()
        try:
            event = json.loads(line)
        except ValueError:
            log.info("crawl child: %s", line)
            continue
        if event.get("event") == "source-finished" and progress is not None:
            with open_store(settings) as store:
                progress(_result(store, event["source_id"], int(event["run_id"])))
