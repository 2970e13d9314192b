"""Scrapy settings derived from :class:`osintel.settings.CrawlSettings`.

This is the only place the crawl's Scrapy configuration is decided. Per-source values (run id,
page limit, allow-listed internal hosts) are layered on top by :mod:`spiders.child`.

Our own Scrapy setting names all start with ``OSINTEL_``:

``OSINTEL_STORE_PATH``           control store (SQLite) the pipeline and spiders use
``OSINTEL_STORE_URL``            ``[store] url``: the PostgreSQL control store instead, when not ""
``OSINTEL_DATA_DIR``             data directory; WARC paths are recorded relative to it
``OSINTEL_WARC_DIR``             where the capture middleware writes WARC files
``OSINTEL_SOURCE_ID``            the source this crawler collects
``OSINTEL_RUN_ID``               the crawl run (``crawl_runs.id``) this crawler records into
``OSINTEL_ALLOW_PRIVATE_HOSTS``  ``host:port`` entries the SSRF guard lets through
``OSINTEL_MAX_LINKS_PER_PAGE``   new links a web crawl takes from one page (``crawl.max_links_per_page``)
"""

from __future__ import annotations

from typing import Any

from osintel.settings import CrawlSettings

#: Downloader middleware order. ``process_request`` runs in ascending order, ``process_response``
#: in descending order: the guard refuses a request before anything (robots.txt included) is
#: fetched for it; the peer check and the capture see the response exactly as received, before
#: redirects are followed or bodies decompressed (decompression happens at 590).
DOWNLOADER_MIDDLEWARES: dict[str, int] = {
    "spiders.ssrf.SSRFGuardMiddleware": 50,
    # Before Scrapy's RetryMiddleware (550) sees a 429: waits as Retry-After / X-RateLimit-* ask.
    "spiders.ratelimit.RateLimitMiddleware": 560,
    "spiders.capture.CaptureMiddleware": 950,
    "spiders.ssrf.PeerAddressGuardMiddleware": 960,
}

ITEM_PIPELINES: dict[str, int] = {"spiders.pipelines.OutboxPipeline": 300}

#: Scrapy's built-in extensions a crawl child does not need, switched off by name (each also by
#: its setting below, so a Scrapy that renames one still finds it off). ``RemoteControl`` (Scrapy
#: >= 2.19) and ``TelnetConsole`` are control endpoints: a local port that runs Python given a
#: token, with the token written to a job file under the user's state directory. A crawl child is
#: driven only through its stdin, stdout and signals, so it opens no listening socket at all.
#: ``MemoryUsage`` stays off: memory is bounded by the response size cap and
#: ``crawl.max_links_per_page``, and the parent's ``crawl.process_timeout`` ends a runaway child.
#: Kept on purpose: ``CoreStats`` and ``LogCount`` (the run's stats), ``CloseSpider``
#: (``max_pages``), ``AutoThrottle``, ``LogStats`` (a progress line a minute on stderr).
DISABLED_EXTENSIONS = (
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.memusage.MemoryUsage",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.spiderstate.SpiderState",
)

EXTENSIONS: dict[str, int | None] = {
    **dict.fromkeys(DISABLED_EXTENSIONS),
    # After CoreStats (0) so finish_reason and elapsed time are in the stats it records.
    "spiders.runs.RunRecorder": 1000,
}


def scrapy_settings(crawl: CrawlSettings, *, log_level: str = "INFO") -> dict[str, Any]:
    """Scrapy settings for one crawl, from osintel's crawl settings.

    ``DOWNLOAD_MAXSIZE`` caps both the bytes received and, in Scrapy's
    ``HttpCompressionMiddleware`` (Scrapy >= 2.11.1), the size a compressed body may inflate to,
    so a gzip bomb is dropped during decompression rather than held in memory.
    """
    max_bytes = int(crawl.max_response_bytes)
    return {
        "BOT_NAME": "osintel",
        "USER_AGENT": crawl.user_agent,
        "ROBOTSTXT_OBEY": crawl.obey_robots,
        "CONCURRENT_REQUESTS_PER_DOMAIN": crawl.concurrent_requests_per_domain,
        "DOWNLOAD_DELAY": crawl.download_delay,
        "AUTOTHROTTLE_ENABLED": crawl.autothrottle,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": crawl.autothrottle_target_concurrency,
        "AUTOTHROTTLE_START_DELAY": max(crawl.download_delay, 0.5),
        "DOWNLOAD_MAXSIZE": max_bytes,
        "DOWNLOAD_WARNSIZE": max(max_bytes // 4, 1) if max_bytes else 0,
        "DOWNLOAD_TIMEOUT": crawl.download_timeout,
        # Scrapy's own look-ups (default 60 s) are bounded by the same per-request budget.
        "DNS_TIMEOUT": crawl.download_timeout,
        "RETRY_ENABLED": crawl.retry_times > 0,
        "RETRY_TIMES": crawl.retry_times,
        "CLOSESPIDER_PAGECOUNT": crawl.max_pages,
        "OSINTEL_MAX_LINKS_PER_PAGE": crawl.max_links_per_page,
        "LOG_LEVEL": (log_level or "WARNING").upper(),
        # Control endpoints: none (see DISABLED_EXTENSIONS).
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "COOKIES_ENABLED": False,
        "DOWNLOADER_MIDDLEWARES": dict(DOWNLOADER_MIDDLEWARES),
        "ITEM_PIPELINES": dict(ITEM_PIPELINES),
        "EXTENSIONS": dict(EXTENSIONS),
        # Only http(s) are collected; the SSRF guard refuses the rest as well.
        "DOWNLOAD_HANDLERS": {"file": None, "s3": None, "ftp": None, "data": None},
        "FEED_EXPORTERS": {},
        "MEMUSAGE_ENABLED": False,
        "MEMDEBUG_ENABLED": False,
    }
