"""Behaviour shared by the web spiders: the seen-URL skip, article pages to documents, failures.

Spiders receive their :class:`~osintel.sources.Source` as a keyword argument and read the store
path from the crawler settings (``OSINTEL_STORE_PATH``).

The page budget: a crawl of a source fetches at most ``max_pages`` pages (Scrapy's
``CLOSESPIDER_PAGECOUNT``), so a spider creates at most that many page requests
(:meth:`SourceSpiderMixin.take_page`); links beyond it are not scheduled and wait for a later crawl
(they are not marked seen).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from scrapy.exceptions import DownloadCancelledError, IgnoreRequest
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.defer import CancelledError
from twisted.python.failure import Failure

from osintel.records import Capture, Document, canonical_url
from osintel.sources import Source
from osintel.store import ControlStore
from spiders.extract import extract_article
from spiders.items import Collected, PageFailed

log = logging.getLogger(__name__)

#: HTTP statuses after which a page is not tried again on later crawls.
PERMANENT_STATUSES = {404, 410}


class SourceSpiderMixin:
    """Mixin for spiders that collect articles for one configured source."""

    source: Source
    seen: set[str]
    crawler: Any
    logger: Any

    def _init_source(self, source: Source | dict[str, Any]) -> None:
        self.source = source if isinstance(source, Source) else Source.model_validate(source)
        self.seen = set()
        self._seen_loaded = False
        self.pages_requested = 0

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def load_seen(self) -> None:
        """Load every source's seen URLs once, so an article collected anywhere is not refetched."""
        if self._seen_loaded:
            return
        path = self.crawler.settings.get("OSINTEL_STORE_PATH")
        if path:
            with ControlStore(path, url=self.crawler.settings.get("OSINTEL_STORE_URL", "")) as store:
                self.seen = store.seen_urls()
        self._seen_loaded = True

    def should_follow(self, url: str, *, key: str | None = None) -> bool:
        """True when ``url`` (or ``key``, its identity when given) has not been seen; counts
        ``items/seen`` otherwise.

        URLs are claimed as they are scheduled, so two feeds of one source linking the same
        article (perhaps with different tracking parameters) fetch it once.
        """
        key = key or canonical_url(url)
        if key in self.seen:
            self.stats.inc_value("items/seen")
            return False
        self.seen.add(key)
        return True

    @property
    def page_limit(self) -> int:
        """This crawl's ``max_pages`` (0: no limit)."""
        return int(self.crawler.settings.getint("CLOSESPIDER_PAGECOUNT", 0))

    def page_budget_left(self) -> bool:
        """True while fewer than ``max_pages`` page requests have been created."""
        limit = self.page_limit
        return limit <= 0 or self.pages_requested < limit

    def take_page(self) -> bool:
        """Claim one page request from the budget; False (nothing claimed) once it is spent."""
        if not self.page_budget_left():
            return False
        self.pages_requested += 1
        return True

    def article_request(self, url: str, *, entry: dict[str, Any] | None = None) -> Request:
        return Request(
            url, callback=self.parse_article, errback=self.article_failed,
            cb_kwargs={"entry": entry or {}, "link": url},
        )

    def parse_article(self, response: Response, entry: dict[str, Any], link: str) -> Iterator[Any]:
        """Build a :class:`Document` from an article page; prefer the feed entry's metadata."""
        self.stats.inc_value("articles/fetched")
        capture: Capture | None = response.meta.get("capture")
        body = response.body if hasattr(response, "text") else b""
        fields = extract_article(body, response.url)
        if not fields.text:
            yield self._failed(response.url, "no-text", mark_seen=True, also=link)
            return
        title = entry.get("title") or fields.title
        doc = Document(
            url=response.url,
            source=self.source.ref(),
            title=title or "",
            text=fields.text,
            author=entry.get("author") or fields.author,
            published_at=entry.get("published_at") or fields.published_at,
            capture=capture,
            # What the feed or page declares: the enricher's fallback when detection is unsure.
            extra={"declared_language": lang} if (lang := entry.get("language") or fields.language) else {},
        )
        also = [canonical_url(link)] if canonical_url(link) != doc.canonical_url else []
        yield Collected(document=doc, also_seen=also)

    def _failed(self, url: str, reason: str, *, mark_seen: bool, also: str | None = None,
                key: str | None = None) -> PageFailed:
        # A link our own policy refused (robots.txt, SSRF guard) is not a failure of the source;
        # counting it as one would make every healthy run look broken.
        kind = "refused" if reason in POLICY_REFUSALS else "failed"
        self.stats.inc_value(f"items/{kind}")
        self.stats.inc_value(f"items/{kind}/{reason}")
        log.log(logging.INFO if kind == "refused" else logging.WARNING, "no document from %s: %s", url, reason,
                extra={"url": url, "source_id": self.source.id, "reason": reason})
        return PageFailed(url=also or url, source_id=self.source.id, reason=reason, mark_seen=mark_seen,
                          key=key)

    def article_failed(self, failure: Failure) -> Iterator[Any]:
        """Errback for article requests: classify, count, and decide whether to retry later."""
        request = failure.request  # type: ignore[attr-defined]
        url = request.cb_kwargs.get("link", request.url)
        reason, permanent = classify_failure(failure, self.stats)
        yield self._failed(url, reason, mark_seen=permanent)

    def fetch_failed(self, failure: Failure) -> None:
        """Errback for feed and sitemap requests: count and log, never crash."""
        request = failure.request  # type: ignore[attr-defined]
        reason, _ = classify_failure(failure, self.stats)
        self.stats.inc_value(f"fetch/failed/{reason}")
        log.error("could not fetch %s: %s", request.url, reason,
                  extra={"url": request.url, "source_id": self.source.id, "reason": reason})


#: Failure reasons that are our own policy at work, not a fault of the source.
POLICY_REFUSALS = frozenset({"robots", "blocked"})


def classify_failure(failure: Failure, stats: Any) -> tuple[str, bool]:
    """``(reason, permanent)`` for a failed request; counts oversize responses."""
    error = failure.value
    if isinstance(error, HttpError):
        status = error.response.status
        return f"http-{status}", status in PERMANENT_STATUSES
    message = str(error)
    # Scrapy cancels a download past DOWNLOAD_MAXSIZE (DownloadCancelledError when the declared
    # length is too big, CancelledError when the received bytes are) and raises IgnoreRequest
    # when a compressed body inflates past it; nothing else cancels downloads in our crawls.
    if isinstance(error, (DownloadCancelledError, CancelledError)) or (
        isinstance(error, IgnoreRequest) and "DOWNLOAD_MAXSIZE" in message
    ):
        stats.inc_value("responses/oversize")
        return "oversize", True
    if isinstance(error, IgnoreRequest):
        if "SSRF" in message:
            return "blocked", False
        if "robots.txt" in message.lower():
            return "robots", False
        return "ignored", False
    return failure.type.__name__ if failure.type else "error", False
