"""Crawl child process: ``python -m spiders.child`` with a JSON job on stdin.

Twisted's reactor cannot be restarted, so every crawl runs in a fresh process started by
:func:`spiders.runner.run_crawl`. The job is::

    {"settings": {...Settings...}, "sources": {...SourceConfig...},
     "runs": [{"source_id": "...", "run_id": 1}, ...]}

(plus ``"parent_pid"``, the process that started it). One Scrapy ``CrawlerProcess`` runs one
spider per source, concurrently. Each spider's :class:`~spiders.runs.RunRecorder` closes its run
row and prints one JSON line on stdout; Scrapy's logs go to stderr.

SIGTERM and SIGINT stop the crawl within :data:`spiders.lifecycle.STOP_GRACE_SECONDS` with every
run recorded as ``interrupted``, and the child stops the same way when its parent dies
(:class:`spiders.lifecycle.ChildLifecycle`).
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime, timezone
from typing import Any

from scrapy.crawler import Crawler, CrawlerProcess

from osintel.settings import Settings
from osintel.sources import Source, SourceConfig
from osintel.store import open_store
from spiders.lifecycle import ChildLifecycle
from spiders.registry import spider_class
from spiders.runs import summarise_stats
from spiders.settings import scrapy_settings

log = logging.getLogger(__name__)


def source_settings(settings: Settings, config: SourceConfig, source: Source, run_id: int) -> dict[str, Any]:
    """The per-source Scrapy settings layered over :func:`spiders.settings.scrapy_settings`."""
    max_pages = source.max_pages if source.max_pages is not None else settings.crawl.max_pages
    return {
        "OSINTEL_STORE_PATH": str(settings.store_path),
        "OSINTEL_STORE_URL": settings.store.url,
        "OSINTEL_DATA_DIR": str(settings.data_dir),
        "OSINTEL_WARC_DIR": str(settings.warc_dir),
        "OSINTEL_SOURCE_ID": source.id,
        "OSINTEL_RUN_ID": str(run_id),
        "OSINTEL_ALLOW_PRIVATE_HOSTS": list(config.allow_private_hosts),
        "CLOSESPIDER_PAGECOUNT": max_pages,
    }


def run_job(job: dict[str, Any]) -> None:
    """Run every source of ``job`` in one CrawlerProcess and return when all have closed."""
    settings = Settings.model_validate(job["settings"])
    config = SourceConfig.model_validate(job["sources"])
    process = CrawlerProcess(scrapy_settings(settings.crawl, log_level=settings.log_level))
    crawlers: dict[int, tuple[str, Crawler]] = {}
    for run in job["runs"]:
        source = config.get(run["source_id"])
        base = spider_class(source.kind)
        # A subclass per source: Scrapy applies custom_settings per crawler.
        spidercls = type(
            f"{base.__name__}_{run['run_id']}", (base,),
            {"name": source.id,
             "custom_settings": source_settings(settings, config, source, int(run["run_id"]))},
        )
        crawler = process.create_crawler(spidercls)
        crawlers[int(run["run_id"])] = (source.id, crawler)
        process.crawl(crawler, source=source)

    from twisted.internet import reactor  # the reactor CrawlerProcess installed

    lifecycle = ChildLifecycle(
        stop=lambda: reactor.callFromThread(process.stop),
        force=lambda reason: record_interrupted(settings, crawlers, reason),
        parent_pid=job.get("parent_pid"),
    )
    lifecycle.watch_parent()
    lifecycle.install_signal_handlers()
    process.start(install_signal_handlers=False)


def record_interrupted(settings: Settings, crawlers: dict[int, tuple[str, Crawler]], reason: str) -> None:
    """Close every run still ``running`` as ``interrupted``, with the stats gathered so far.

    Called from :class:`~spiders.lifecycle.ChildLifecycle`'s own thread when a stop could not
    finish gracefully; runs the spiders closed themselves are left as they recorded them.
    """
    with open_store(settings) as store:
        for run_id, (source_id, crawler) in crawlers.items():
            row = store.get_run(run_id)
            if row is None or row["status"] != "running":
                continue
            stats = summarise_stats(_stats_snapshot(crawler))
            store.finish_run(run_id, status="interrupted", stats=stats, error=f"stopped: {reason}")
            log.warning("crawl of %s interrupted: %s", source_id, reason,
                        extra={"source_id": source_id, "run_id": run_id})
            try:
                print(json.dumps({"event": "source-finished", "source_id": source_id, "run_id": run_id,
                                  "status": "interrupted"}), flush=True, file=sys.stdout)
            except (BrokenPipeError, ValueError):  # the parent has gone: nobody to tell
                pass


def _stats_snapshot(crawler: Crawler) -> dict[str, Any]:
    """A copy of ``crawler``'s stats, taken from another thread while the crawl may still run."""
    stats: dict[str, Any] = {}
    for _ in range(5):  # the reactor thread may add a key while we copy
        try:
            stats = dict(crawler.stats.get_stats()) if crawler.stats is not None else {}
            break
        except RuntimeError:
            continue
    started = stats.get("start_time")
    if isinstance(started, datetime) and "elapsed_time_seconds" not in stats:
        stats["elapsed_time_seconds"] = (datetime.now(timezone.utc) - started).total_seconds()
    stats.setdefault("finish_reason", "shutdown")
    return stats


def main() -> int:
    job = json.load(sys.stdin)
    run_job(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
