"""RunRecorder: writes a crawl's outcome and Scrapy stats into its ``crawl_runs`` row.

The run row is created by the parent (:func:`spiders.runner.run_crawl`) before the child starts,
so a child that is killed or crashes still leaves a row the parent can close.

A run that finished but collected nothing because everything it fetched was refused or failed
(:func:`osintel.service.health.content_problems`: an XXE feed, a decompression bomb, a 404 feed) is
recorded as ``failed`` with what went wrong, not ``ok``.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured

from osintel.service.health import content_problems
from osintel.store import ControlStore

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

log = logging.getLogger(__name__)

#: Scrapy close reasons mapped to run statuses.
STATUS_BY_REASON = {
    "finished": "ok",
    "closespider_pagecount": "page-limit",
    "closespider_timeout": "time-limit",
    "shutdown": "interrupted",
}


def summarise_stats(stats: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe Scrapy stats plus the summary keys operators read first."""
    out: dict[str, Any] = {}
    for key, value in stats.items():
        out[key] = value.isoformat() if isinstance(value, datetime) else value
    out["pages_fetched"] = int(stats.get("response_received_count", 0))
    out["bytes"] = int(stats.get("downloader/response_bytes", 0))
    out["duration_seconds"] = float(stats.get("elapsed_time_seconds", 0.0))
    for key in ("items/new", "items/seen", "items/duplicate", "items/failed", "items/rejected", "ssrf/blocked",
                "responses/oversize", "feeds/malformed", "robotstxt/forbidden"):
        out.setdefault(key, 0)
    return out


class RunRecorder:
    """Scrapy extension: on ``spider_closed`` finish the run row and report on stdout."""

    def __init__(self, crawler: Crawler, store_path: str, run_id: int, source_id: str) -> None:
        self.crawler = crawler
        self.store_path = store_path
        self.run_id = run_id
        self.source_id = source_id
        self.store_url = ""  # [store] url: PostgreSQL when set, else the SQLite file

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RunRecorder:
        settings = crawler.settings
        if not settings.get("OSINTEL_STORE_PATH") or not settings.get("OSINTEL_RUN_ID"):
            raise NotConfigured("no crawl run to record")
        ext = cls(crawler, settings.get("OSINTEL_STORE_PATH"), settings.getint("OSINTEL_RUN_ID"),
                  settings.get("OSINTEL_SOURCE_ID", ""))
        ext.store_url = settings.get("OSINTEL_STORE_URL", "")
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_closed(self, spider: Spider, reason: str) -> None:
        stats = summarise_stats(self.crawler.stats.get_stats())
        status = STATUS_BY_REASON.get(reason, "failed")
        error = None if status != "failed" else f"spider closed: {reason}"
        problems = content_problems(stats)
        if status == "ok" and problems and all(severity == "error" for _, severity, _ in problems):
            # Everything was refused or failed and nothing was collected: not a healthy run.
            status, error = "failed", "nothing collected: " + "; ".join(msg for _, _, msg in problems)
        with ControlStore(self.store_path, url=self.store_url) as store:
            store.finish_run(self.run_id, status=status, stats=stats, error=error)
        log.info("crawl of %s finished: %s", self.source_id, status,
                 extra={"source_id": self.source_id, "run_id": self.run_id})
        # One JSON line per finished source on stdout: the parent's progress channel.
        print(json.dumps({"event": "source-finished", "source_id": self.source_id,
                          "run_id": self.run_id, "status": status}), flush=True, file=sys.stdout)
