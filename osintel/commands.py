"""Plain functions behind the CLI commands; the CLI only parses arguments and prints.

This is where stages are wired together, so every stage import is lazy (inside the function):
the kernel must not import a stage at module level (see DESIGN.md, import directions).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from osintel.pipeline import DrainReport, drain_outbox
from osintel.sources import SourceConfig, load_sources
from osintel.store import ControlStore

if TYPE_CHECKING:
    from osintel.settings import Settings

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def open_store(settings: Settings) -> ControlStore:
    """The control store in the settings' data directory."""
    return ControlStore(settings.store_path)


def open_index(settings: Settings) -> Any:
    """The search index chosen by ``settings.index.backend``."""
    from indexer import open_index as _open_index

    return _open_index(settings)


def build_enricher(settings: Settings) -> Any:
    """The NLP enricher, built once (loads models)."""
    from nlp.enricher import Enricher

    return Enricher.from_settings(settings)


def crawl(
    settings: Settings,
    *,
    source_ids: list[str] | None = None,
    sources: SourceConfig | None = None,
    progress: Progress = _quiet,
) -> list[Any]:
    """Crawl the named sources (all enabled ones when ``source_ids`` is empty) in a child process."""
    from spiders.runner import run_crawl

    sources = sources if sources is not None else load_sources(settings.sources_file)
    selected = [s.id for s in sources.select(source_ids or None)]
    progress(f"crawling {len(selected)} source(s): {', '.join(selected)}")

    def report(result: Any) -> None:
        counts = _crawl_counts(result.stats)
        progress(f"crawled {result.source_id}: {result.status}, new={counts['items/new']}"
                 f" seen={counts['items/seen']} failed={counts['items/failed']}")

    return run_crawl(settings, sources, selected, progress=report)


#: Crawl-run statuses that mean the source was collected as configured.
GOOD_RUN_STATUSES = frozenset({"ok", "page-limit", "skipped-expired"})


def enrich(settings: Settings, *, progress: Progress = _quiet, enricher: Any = None) -> DrainReport:
    """Drain the outbox: enrich pending documents and index them, acking after indexing."""
    store = open_store(settings)
    try:
        pending = store.outbox_counts()["pending"]
        if pending == 0:
            progress("outbox is empty: nothing to enrich")
            return DrainReport()
        started = time.perf_counter()
        progress(f"loading NLP models to enrich {pending} document(s)")
        enricher = enricher or build_enricher(settings)
        progress(f"models loaded in {time.perf_counter() - started:.1f}s")
        index = open_index(settings)
        try:
            def report(rep: DrainReport, counts: dict[str, int]) -> None:
                progress(f"enriched and indexed {rep.indexed}/{pending} (pending {counts['pending']})")

            return drain_outbox(
                store, enricher, index, batch_size=settings.nlp.batch_size, progress=report
            )
        finally:
            index.close()
    finally:
        store.close()


def search(
    settings: Settings, query: str, *, limit: int = 10, offset: int = 0, sort: str = "relevance",
    facets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Run an analyst query; returns ``{"total", "hits": [document fields + score + snippet]}``."""
    index = open_index(settings)
    try:
        result = index.search(query, limit=limit, offset=offset, sort=sort, facets=facets)
    finally:
        index.close()
    out: dict[str, Any] = {
        "total": result.total,
        "hits": [
            {**hit.document.model_dump(mode="json"), "score": hit.score, "snippet": hit.snippet}
            for hit in result.hits
        ],
    }
    if facets:
        out["facets"] = result.facets
    return out


def stats(settings: Settings) -> dict[str, Any]:
    """Counts over the store of record (documents, sources, languages, entities, methods, places)."""
    with open_store(settings) as store:
        return store.stats()


def sources_overview(settings: Settings, sources: SourceConfig | None = None) -> list[dict[str, Any]]:
    """Configured sources with their last crawl run."""
    sources = sources if sources is not None else load_sources(settings.sources_file)
    with open_store(settings) as store:
        rows = []
        for source in sources.sources:
            runs = store.runs(source_id=source.id, limit=1)
            last = runs[0] if runs else None
            rows.append({
                "id": source.id,
                "name": source.name,
                "kind": source.kind,
                "urls": source.urls,
                "grading": source.grading.code,
                "enabled": source.enabled,
                "last_run": None if last is None else {
                    "status": last["status"],
                    "started_at": last["started_at"],
                    "finished_at": last["finished_at"],
                    "items_new": last["stats"].get("items/new", 0),
                    "pages": last["stats"].get("pages_fetched", 0),
                },
            })
        return rows


def serve(settings: Settings, *, port: int | None = None) -> None:
    """Serve the search API until interrupted."""
    import uvicorn

    from search_api.app import create_app

    uvicorn.run(create_app(settings), host=settings.api.host, port=port or settings.api.port, log_level="info")


def start_demo_site(settings: Settings) -> tuple[Any, SourceConfig]:
    """Start the bundled demo site on 127.0.0.1; returns the running site and its sources."""
    from osintel.demo import DemoSite, demo_sources_config
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


def run_demo(settings: Settings, *, progress: Progress = _quiet) -> tuple[Any, dict[str, Any]]:
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
        summary["crawl"] = {r.source_id: {"status": r.status, **_crawl_counts(r.stats)} for r in results}
        summary["queries"] = {}
        for query in DEMO_QUERIES:
            res = search(settings, query, limit=3)
            summary["queries"][query] = {
                "total": res["total"], "top": [h["title"] for h in res["hits"]],
            }
        summary["seconds"] = round(time.perf_counter() - started, 1)
    except BaseException:
        site.stop()
        raise
    return site, summary


def _crawl_counts(stats: dict[str, Any]) -> dict[str, Any]:
    keys = ("items/new", "items/seen", "items/duplicate", "items/failed", "ssrf/blocked")
    return {k: stats.get(k, 0) for k in keys}
