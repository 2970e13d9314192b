"""Plain functions behind the CLI commands; the CLI only parses arguments and prints.

This is where stages are wired together, so every stage import is lazy (inside the function):
the kernel must not import a stage at module level (see DESIGN.md, import directions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from osintel import audit
from osintel.service import enrich_pool
from osintel.service.enrich_stream import enrich_each
from osintel.service.pipeline import DrainReport, SupportsEnrich, drain_outbox
from osintel.records import Document
from osintel.sources import SourceConfig, load_sources
from osintel.store import ControlStore, open_store  # open_store: re-exported for the commands' callers

if TYPE_CHECKING:
    from alerts.service import AlertService
    from demo.site import DemoSite
    from indexer import Index
    from indexer.base import SortOrder
    from nlp.enricher import Enricher
    from osintel.service.adhoc import CaptureReport
    from osintel.service.evidence import VerifyReport
    from osintel.service.recovery import RecoveryReport
    from osintel.settings import Settings
    from spiders.runner import CrawlResult

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def open_index(settings: Settings) -> Index:
    """The search index chosen by ``settings.index.backend``."""
    from indexer import open_index as _open_index

    return _open_index(settings)


def build_enricher(settings: Settings, *, store: ControlStore | None = None,
                   dedup_guard: AbstractContextManager[object] | None = None) -> Enricher:
    """The NLP enricher, built once (loads models).

    With a ``store``, near-duplicates are matched against every fingerprint saved in it (loaded
    now, about 6 KB of memory per document: see :mod:`nlp.dedup`) and new ones are saved to it;
    without, the enricher clusters only what it sees in this process. ``dedup_guard``: the lock
    processes sharing the store hold while they assign near-duplicates (the enrichment pool).
    """
    from nlp.dedup import NearDuplicateIndex
    from nlp.enricher import Enricher

    dedup = NearDuplicateIndex(backing=store, guard=dedup_guard)
    dedup.refresh()
    return Enricher.from_settings(settings, dedup=dedup)


def crawl(
    settings: Settings,
    *,
    source_ids: list[str] | None = None,
    sources: SourceConfig | None = None,
    progress: Progress = _quiet,
) -> list[CrawlResult]:
    """Crawl the named sources (all enabled ones when ``source_ids`` is empty) in a child process."""
    from spiders.runner import run_crawl

    sources = sources if sources is not None else load_sources(settings.sources_file)
    selected = [s.id for s in sources.select(source_ids or None)]
    recover(settings, progress=progress)
    progress(f"crawling {len(selected)} source(s): {', '.join(selected)}")

    def report(result: CrawlResult) -> None:
        counts = crawl_counts(result.stats)
        progress(f"crawled {result.source_id}: {result.status}, new={counts['items/new']}"
                 f" seen={counts['items/seen']} failed={counts['items/failed']}")

    return run_crawl(settings, sources, selected, progress=report)


def build_alerts(settings: Settings, store: ControlStore, index: Index) -> AlertService | None:
    """The alert stage (seeded from ``alerts.watchlists_file``), or None when ``alerts.enabled``
    is off. Its ``after_batch`` goes to :func:`drain_outbox`."""
    if not settings.alerts.enabled:
        return None
    from alerts.service import AlertService

    service = AlertService(settings, store, index)
    service.seed()
    return service


#: Crawl-run statuses that mean the source was collected as configured.
GOOD_RUN_STATUSES = frozenset({"ok", "page-limit"})


def recover(settings: Settings, store: ControlStore | None = None, *, progress: Progress = _quiet) -> RecoveryReport:
    """Clean up after processes that died (:func:`osintel.service.recovery.recover`); every command that
    writes to the data directory calls this first. Returns the :class:`RecoveryReport`."""
    from osintel.service.recovery import recover as _recover

    if store is not None:
        return _recover(settings, store, progress=progress)
    with open_store(settings) as own:
        return _recover(settings, own, progress=progress)


def _leased_elsewhere(store: ControlStore, report: DrainReport, progress: Progress) -> DrainReport:
    """Count (and say) what other processes hold leased; ``report.stuck`` for holders not alive."""
    from osintel.service import leases, procs

    me = procs.current().token
    for holder in leases.holders(store):
        if holder.token == me or holder.expired:
            continue
        report.leased += holder.documents
        if holder.liveness != procs.ALIVE:
            report.stuck += holder.documents
        who = f"{holder.owner.pid}@{holder.owner.host}" if holder.owner else leases.UNRECORDED
        progress(f"{holder.describe()}: not enriched by this run"
                 + ("" if holder.liveness == procs.ALIVE else
                    f"; they are retried once the lease expires, or now with `osintel outbox release --owner {who}"
                    " --force` if that process is gone"))
    return report

#: How often long work reports progress on stderr.
PROGRESS_SECONDS = 10.0


def enrich(settings: Settings, *, progress: Progress = _quiet, enricher: SupportsEnrich | None = None) -> DrainReport:
    """Drain the outbox: enrich pending documents and index them, acking after indexing.

    Leases of dead processes are released first (:func:`recover`); documents other processes
    still hold are counted in ``leased`` (and ``stuck`` when the holder is not confirmed alive).
    Without an ``enricher``, :func:`osintel.service.enrich_pool.process_count` processes enrich
    (``worker.processes``); with more than one it returns a :class:`~osintel.service.enrich_pool.PoolReport`,
    and a calling script must keep its top level under ``if __name__ == "__main__":`` (spawn).
    """
    store = open_store(settings)
    try:
        recover(settings, store, progress=progress)
        pending = store.outbox_counts()["pending"]
        if pending == 0:
            progress("outbox is empty: nothing to enrich")
            return DrainReport()
        held = _leased_elsewhere(store, DrainReport(), _quiet)
        if held.leased >= pending:
            return _leased_elsewhere(store, DrainReport(), progress)
        started = time.perf_counter()
        processes = 1 if enricher is not None else enrich_pool.process_count(settings, pending=pending - held.leased)
        if processes == 1:  # enrich here; more: N child processes load the models (enrich_pool)
            progress(f"loading NLP models to enrich {pending} document(s)")
            enricher = enricher or build_enricher(settings, store=store)
            progress(f"models loaded in {time.perf_counter() - started:.1f}s")
        index = open_index(settings)
        try:
            last = [time.monotonic()]

            def report(rep: DrainReport, counts: dict[str, int]) -> None:
                # A line every PROGRESS_SECONDS and at the end, not one per batch of 32.
                if counts["pending"] == 0 or time.monotonic() - last[0] >= PROGRESS_SECONDS:
                    last[0] = time.monotonic()
                    progress(f"enriched and indexed {rep.indexed}/{pending} (pending {counts['pending']})")

            alerts = build_alerts(settings, store, index)
            hook = alerts.after_batch if alerts else None
            if enricher is None:
                progress(f"starting {processes} enrichment processes for {pending} document(s)")
                pooled = enrich_pool.drain(settings, store, index, processes=processes, progress=report,
                                           after_batch=hook)
                progress(enrich_pool.describe(pooled))
                drained: DrainReport = pooled
            else:
                drained = drain_outbox(store, enricher, index, batch_size=settings.nlp.batch_size, progress=report,
                                       after_batch=hook)
            if alerts is not None:
                sent = alerts.dispatch()  # one attempt now; retries go out with the next run
                alerts.dispatcher.close()
                if sent.sent or sent.retried or sent.dead:
                    progress(f"alerts: {sent.sent} message(s) sent, {sent.retried} to retry, {sent.dead} dead")
            return _leased_elsewhere(store, drained, progress)
        finally:
            index.close()
    finally:
        store.close()


def reprocess(
    settings: Settings, query: str, *, limit: int | None = None, progress: Progress = _quiet,
    enricher: SupportsEnrich | None = None,
) -> dict[str, Any]:
    """Re-enrich the documents an analyst query selects, after a model or taxonomy change.

    Every match is selected from the index (paged), then re-enriched from the store of record
    (the captured text is never changed) in batches; each batch is upserted to the index and then
    saved to the store, the order :func:`~osintel.service.pipeline.drain_outbox` uses. No outbox is
    involved: reprocessing is an explicit operator action that can simply be re-run, and a crash
    between the two writes leaves the index ahead of the store until it is. It needs the index
    writer, so run it while ``osintel run`` is stopped.

    Returns counts and, per document whose enrichment versions or method ids changed, what
    changed: ``{"versions": {name: [before, after]}, "methods_added": [...], ...}``.
    """
    index = open_index(settings)
    store = open_store(settings)
    try:
        ids = _select_ids(index, query, limit=limit, page=settings.index.max_page_size)
        report: dict[str, Any] = {"query": query, "matched": len(ids), "reprocessed": 0, "missing": 0,
                                  "failed": 0, "changed": 0, "version_changes": {}, "documents": []}
        progress(f"{len(ids)} document(s) match {query!r}")
        if not ids:
            return report
        if enricher is None:
            progress("loading NLP models")
            enricher = build_enricher(settings, store=store)
        size = settings.nlp.batch_size
        for start in range(0, len(ids), size):
            before = [doc for doc in (store.get_document(i) for i in ids[start : start + size]) if doc is not None]
            report["missing"] += min(size, len(ids) - start) - len(before)
            good, bad = enrich_each(enricher, before)
            for n, error in bad.items():
                log.error("document %s could not be re-enriched: %s", before[n].id, error)
            report["failed"] += len(bad)
            enriched = [good[n] for n in sorted(good)]
            if enriched:
                index.upsert(enriched)
                # Re-enrichment combines data anew: logged for oversight with the save (DPA s.62).
                store.save_documents(enriched, audit_event={
                    "actor": audit.cli_actor(), "action": "combination",
                    "detail": {"kind": "reprocess", "query": query, "doc_ids": [d.id for d in enriched],
                               "enrichment": enriched[0].enrichment},
                })
            for n in sorted(good):
                change = _enrichment_change(before[n], good[n])
                if change:
                    report["changed"] += 1
                    report["documents"].append({"id": before[n].id, "title": before[n].title, **change})
                    for name, (old, new) in change.get("versions", {}).items():
                        key = f"{old} -> {new}"
                        counts = report["version_changes"].setdefault(name, {})
                        counts[key] = counts.get(key, 0) + 1
            report["reprocessed"] += len(enriched)
            progress(f"reprocessed {report['reprocessed']}/{len(ids)} ({report['changed']} changed)")
        return report
    finally:
        store.close()
        index.close()


def _select_ids(index: Index, query: str, *, limit: int | None, page: int) -> list[str]:
    """Ids of every document matching ``query`` (at most ``limit``), collected before any write."""
    ids: list[str] = []
    seen: set[str] = set()
    offset = 0
    while limit is None or len(ids) < limit:
        want = page if limit is None else min(page, limit - len(ids))
        result = index.search(query, limit=want, offset=offset)
        for hit in result.hits:
            if hit.id not in seen:
                seen.add(hit.id)
                ids.append(hit.id)
        offset += len(result.hits)
        if not result.hits or offset >= result.total:
            break
    return ids if limit is None else ids[:limit]


def _enrichment_change(before: Document, after: Document) -> dict[str, Any]:
    """What re-enrichment changed: model versions and method ids (empty when nothing did)."""
    change: dict[str, Any] = {}
    names = sorted(set(before.enrichment) | set(after.enrichment))
    versions = {k: [before.enrichment.get(k), after.enrichment.get(k)] for k in names
                if before.enrichment.get(k) != after.enrichment.get(k)}
    if versions:
        change["versions"] = versions
    old_methods = {m.id for m in before.methods}
    new_methods = {m.id for m in after.methods}
    if old_methods != new_methods:
        change["methods_added"] = sorted(new_methods - old_methods)
        change["methods_removed"] = sorted(old_methods - new_methods)
    return change


def capture(
    settings: Settings, urls: list[str], *, grading: str = "2CP", progress: Progress = _quiet,
    enricher: SupportsEnrich | None = None,
) -> CaptureReport:
    """Capture ``urls`` now (WARC evidence, extraction), then enrich and index them.

    Returns an :class:`osintel.service.adhoc.CaptureReport`: one outcome per URL and the resulting
    documents, enriched, as stored. See :mod:`osintel.service.adhoc` for grading and the SSRF allow-list.
    """
    from osintel.service.adhoc import load_documents, run_capture
    from spiders.runner import run_crawl

    recover(settings, progress=progress)
    report = run_capture(settings, urls, run_crawl=run_crawl, grading=grading, progress=progress)
    if any(o.doc_id for o in report.outcomes):
        enrich(settings, progress=progress, enricher=enricher)
    load_documents(settings, report)
    return report


def verify_evidence(settings: Settings, *, progress: Progress = _quiet) -> VerifyReport:
    """Re-hash every WARC record and document capture: an :class:`osintel.service.evidence.VerifyReport`."""
    from osintel.service.evidence import verify_warcs

    return verify_warcs(settings, progress=progress)


def search(
    settings: Settings, query: str, *, limit: int = 10, offset: int = 0, sort: SortOrder = "best_match",
    facets: tuple[str, ...] = (), collapse: bool = True, actor: str | None = None, purpose: str | None = None,
) -> dict[str, Any]:
    """Run an analyst query; returns ``{"total", "stories", "stories_exact", "hits": [document
    fields + score + snippet + display_title + copies]}``.

    With ``collapse`` (the default) each hit stands for one story and ``copies`` counts its
    matching near-duplicates (``offset`` counts stories); ``stories`` is ``None`` without it.

    Like every API search, the consultation is written to the oversight record before anything is
    returned: who (``actor``, by default the operator's login as :func:`osintel.audit.cli_actor`
    names it), why (``purpose``), the query and the ids shown. If the record cannot be written,
    nothing is returned.
    """
    index = open_index(settings)
    try:
        result = index.search(query, limit=limit, offset=offset, sort=sort, facets=facets, collapse=collapse)
    finally:
        index.close()
    with open_store(settings) as store:
        audit.log_event(store, actor=actor or audit.cli_actor(), action="consultation", purpose=purpose, detail={
            "kind": "search", "interface": "cli", "q": query, "sort": sort, "collapse": collapse, "offset": offset,
            "limit": limit,
            "total": result.total, "returned": [hit.document.id for hit in result.hits],
        })
    out: dict[str, Any] = {
        "total": result.total,
        "stories": result.stories,
        "stories_exact": result.stories_exact,
        "hits": [
            {**hit.document.model_dump(mode="json"), "score": hit.score, "snippet": hit.snippet,
             "display_title": hit.document.display_title(), "copies": hit.copies}
            for hit in result.hits
        ],
    }
    if facets:
        out["facets"] = result.facets
    return out


def stats(settings: Settings) -> dict[str, Any]:
    """Counts over the store of record (documents, sources, languages, entities, methods, places),
    plus documents per crime type and per group (``crime_types``) and who holds outbox leases
    (``outbox_leases``, see :func:`osintel.service.leases.status`)."""
    from osintel.service import leases

    with open_store(settings) as store:
        data = store.stats()
        data["outbox_leases"] = leases.status(store)["holders"]
    data["crime_types"] = crime_type_counts(settings)
    return data


def crime_type_counts(settings: Settings) -> dict[str, int]:
    """Documents per crime type (``violence.homicide``) and group (``violence``), most first.

    Counted by the search index's ``crimetype`` facet: one aggregation over a fast field, where
    the store of record would have to read every document's JSON.
    """
    from indexer.base import MatchAll

    index = open_index(settings)
    try:
        result = index.search(MatchAll(), limit=0, facets=("crimetype",), facet_size=100)
    finally:
        index.close()
    return dict(result.facets.get("crimetype", {}))


def sources_overview(settings: Settings, sources: SourceConfig | None = None) -> list[dict[str, Any]]:
    """Configured sources with their last crawl run and health (flags), as ``--json`` prints them."""
    from osintel.service.health import sources_report

    sources = sources if sources is not None else load_sources(settings.sources_file)
    # Before the first crawl there is no data directory: list the configuration, create nothing.
    with open_store(settings) if settings.data_dir.is_dir() else ControlStore(":memory:") as store:
        return sources_report(store, sources, settings)


def serve(settings: Settings, *, port: int | None = None) -> None:
    """Serve the search API until interrupted."""
    import uvicorn

    from search_api.app import create_app
    from search_api.workers import run_pool

    if settings.api.workers > 1:
        return run_pool(settings, port=settings.api.port if port is None else port)
    uvicorn.run(create_app(settings), host=settings.api.host, port=port or settings.api.port, log_level="info")


def run_service(
    settings: Settings,
    *,
    port: int | None = None,
    api: bool = True,
    exit_after: float | None = None,
    sources: SourceConfig | None = None,
    progress: Progress = _quiet,
) -> None:
    """``osintel run``: the scheduler, the enrichment worker and the API, until stopped.

    Refuses to start (:class:`~osintel.errors.AlreadyRunningError`) while another ``osintel run``
    holds the data directory. Ctrl-C or SIGTERM stops everything: no new crawls are scheduled,
    running crawls get ``schedule.shutdown_grace_seconds`` to finish before their processes are
    terminated, and the worker stops after its current batch. ``exit_after`` (seconds) stops the
    service on its own; tests use it.
    """
    import signal
    import threading

    from osintel.service.runner_lock import InstanceLock
    from osintel.service.worker import EnrichmentWorker, PooledEnrichmentWorker
    from spiders.scheduler import CollectionScheduler

    lock = InstanceLock(settings.data_dir)
    lock.acquire()
    cleanup: list[Callable[[], None]] = [lock.release]
    try:
        sources = sources if sources is not None else load_sources(settings.sources_file)
        store = open_store(settings)
        cleanup.append(store.close)
        recover(settings, store, progress=progress)
        index = open_index(settings)  # one index object: the embedded index allows one writer
        cleanup.append(index.close)
        worker_store = open_store(settings)
        cleanup.append(worker_store.close)
        processes = enrich_pool.process_count(settings)  # > 1: child processes load the models
        progress("loading NLP models" + (f" in {processes} enrichment processes" if processes > 1 else ""))
        enricher = build_enricher(settings, store=worker_store) if processes == 1 else None
        alerts = build_alerts(settings, worker_store, index)
        if alerts is not None:
            alerts.start()
            cleanup.append(alerts.stop)  # stopped after the worker (cleanup runs in reverse)
        hook = alerts.after_batch if alerts else None
        worker: EnrichmentWorker | PooledEnrichmentWorker = (
            EnrichmentWorker(settings, worker_store, enricher, index, after_batch=hook) if enricher is not None
            else PooledEnrichmentWorker(settings, worker_store, index, processes=processes, after_batch=hook))
        worker.start()
        cleanup.append(worker.stop)

        def crawled(source_id: str, result: CrawlResult) -> None:
            worker.wake()

        scheduler = CollectionScheduler(settings, sources, on_finished=crawled)
        scheduler.start()
        cleanup.append(scheduler.shutdown)
        for job in scheduler.jobs():
            progress(f"scheduled {job['id']} ({job['schedule']}); next run {job['next_run_time']}")
        stop = threading.Event()

        def on_signal(signum: int, frame: Any) -> None:
            log.info("received signal %d; stopping", signum)
            stop.set()

        if threading.current_thread() is threading.main_thread():
            # Installed before uvicorn's, which restores and re-raises them when it stops: the
            # re-raised SIGTERM must reach this handler, not the default one that kills at once.
            previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

            def restore_signals() -> None:
                for sig, handler in previous.items():
                    signal.signal(sig, handler)

            cleanup.append(restore_signals)
        if api and settings.api.workers > 1:  # API processes of their own; this one keeps the writer
            from search_api.workers import run_pool

            progress(f"search API on port {settings.api.port if port is None else port}, "
                     f"{settings.api.workers} processes (Ctrl-C to stop)")
            run_pool(settings, port=settings.api.port if port is None else port, sources=sources, stop=stop,
                     exit_after=exit_after)
        elif api:
            import uvicorn

            from search_api.app import create_app

            app = create_app(settings, index=index, store=store)
            app.state.sources = sources
            app.state.worker = worker
            app.state.alerts = alerts
            app.state.scheduler = scheduler
            bind_port = settings.api.port if port is None else port
            server = uvicorn.Server(uvicorn.Config(app, host=settings.api.host, port=bind_port, log_level="info"))
            if exit_after is not None:
                timer = threading.Timer(exit_after, lambda: setattr(server, "should_exit", True))
                timer.daemon = True
                timer.start()
            progress(f"search API at http://{settings.api.host}:{bind_port}/api/sources (Ctrl-C to stop)")
            server.run()  # handles SIGINT/SIGTERM itself and returns
        else:
            progress("running without the API (Ctrl-C to stop)")
            stop.wait(exit_after)
        progress("stopping: scheduler, running crawls, enrichment worker")
    finally:
        for step in reversed(cleanup):
            try:
                step()
            except Exception:  # noqa: BLE001 - keep releasing the rest
                log.exception("error while stopping %s", getattr(step, "__qualname__", step))


def start_demo_site(settings: Settings) -> tuple[DemoSite, SourceConfig]:
    """Start the bundled demo site on 127.0.0.1; returns the running site and its sources."""
    from demo import DemoSite, demo_sources_config
    from osintel.sources import parse_sources

    site = DemoSite(seed=settings.demo.seed, port=settings.demo.site_port)
    base_url = site.start()
    return site, parse_sources(demo_sources_config(base_url), origin="demo sources")


#: Queries the demo summary runs to show the index answering.
DEMO_QUERIES = (
    "firearms AND method:firearms.*",
    'method:drugs.county_lines',
    "category:ml AND wallet:*",
    "language:fr OR language:es OR language:de",
)


def run_demo(settings: Settings, *, progress: Progress = _quiet) -> tuple[DemoSite, dict[str, Any]]:
    """Start the demo site, crawl it, enrich and index everything, and summarise.

    Returns the running demo site (the caller stops it) and the summary.
    """
    started = time.perf_counter()
    site, sources = start_demo_site(settings)
    progress(f"demo site serving at {site.base_url}")
    try:
        results = crawl(settings, sources=sources, progress=progress)
        failed = [r for r in results if r.status not in GOOD_RUN_STATUSES]
        if failed:
            progress(f"warning: {len(failed)} crawl run(s) did not finish: "
                     + ", ".join(f"{r.source_id}={r.status}" for r in failed))
        enrich(settings, progress=progress)
        summary = stats(settings)
        summary["crawl"] = {r.source_id: {"status": r.status, **crawl_counts(r.stats)} for r in results}
        summary["queries"] = {}
        for query in DEMO_QUERIES:
            res = search(settings, query, limit=3, purpose="osintel demo: summary searches")
            summary["queries"][query] = {
                "total": res["total"], "top": [h["title"] for h in res["hits"]],
            }
        summary["seconds"] = round(time.perf_counter() - started, 1)
    except BaseException:
        site.stop()
        raise
    return site, summary


def demo_key(settings: Settings) -> str:
    """A fresh analyst API key for the demo's web UI and API (the secret is returned once)."""
    from osintel import apikeys

    with open_store(settings) as store:
        return apikeys.create_key(store, role="analyst", name="demo analyst", actor="cli:demo")[1]


def crawl_counts(stats: dict[str, Any]) -> dict[str, Any]:
    keys = ("items/new", "items/seen", "items/duplicate", "items/failed", "ssrf/blocked")
    return {k: stats.get(k, 0) for k in keys}
