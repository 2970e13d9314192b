"""Crawl child process: ``python -m spiders.child`` with a JSON job on stdin.

Twisted's reactor cannot be restarted, so every crawl runs in a fresh process started by
:func:`spiders.runner.run_crawl`. The job is::

    {"settings": {...Settings...}, "sources": {...SourceConfig...},
     "runs": [{"source_id": "...", "run_id": 1}, ...]}

One Scrapy ``CrawlerProcess`` runs one spider per source, concurrently. Each spider's
:class:`~spiders.runs.RunRecorder` closes its run row and prints one JSON line on stdout;
Scrapy's logs go to stderr.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from scrapy.crawler import CrawlerProcess

from osintel.settings import Settings
from osintel.sources import Source, SourceConfig
from spiders.registry import spider_class
from spiders.settings import scrapy_settings


def source_settings(settings: Settings, config: SourceConfig, source: Source, run_id: int) -> dict[str, Any]:
    """The per-source Scrapy settings layered over :func:`spiders.settings.scrapy_settings`."""
    max_pages = source.max_pages if source.max_pages is not None else settings.crawl.max_pages
    return {
        "OSINTEL_STORE_PATH": str(settings.store_path),
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
    for run in job["runs"]:
        source = config.get(run["source_id"])
        base = spider_class(source.kind)
        # A subclass per source: Scrapy applies custom_settings per crawler.
        spidercls = type(
            f"{base.__name__}_{run['run_id']}", (base,),
            {"name": source.id,
             "custom_settings": source_settings(settings, config, source, int(run["run_id"]))},
        )
        process.crawl(spidercls, source=source)
    process.start()


def main() -> int:
    job = json.load(sys.stdin)
    run_job(job)
    return 0


if __name__ == "__main__":
    sys.exit(main())
