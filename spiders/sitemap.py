"""SitemapSpider: sitemap indexes and url sets (``robots.txt`` ``Sitemap:`` lines too).

Built on Scrapy's :class:`scrapy.spiders.SitemapSpider` (lxml with entity resolution off).
Gzipped sitemaps (``.xml.gz``) are inflated by Scrapy up to ``DOWNLOAD_MAXSIZE``; one that
inflates past it is dropped and counted (``responses/oversize``). The bytes are screened by
:func:`spiders.xmlsafe.unsafe_xml_reason` before lxml sees them: a sitemap whose DOCTYPE declares
entities is rejected (``sitemaps/rejected-xml``). Sub-sitemaps of an index are always fetched;
page ``<loc>``s already seen are skipped (``items/seen``), and those past the crawl's page budget
(``max_pages``) wait for a later crawl (``sitemaps/entries_deferred``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.http import Request, Response
from scrapy.spiders import SitemapSpider as ScrapySitemapSpider
from scrapy.utils.gz import gzip_magic_number

from osintel.sources import Source
from spiders.base import SourceSpiderMixin
from spiders.xmlsafe import unsafe_xml_reason

log = logging.getLogger(__name__)


class SitemapSpider(SourceSpiderMixin, ScrapySitemapSpider):
    """Collects one ``kind: sitemap`` source. Start with ``source=<Source>``."""

    name = "sitemap"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        self._init_source(source)
        self.sitemap_urls = list(self.source.urls)
        super().__init__(*args, **kwargs)

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        self.load_seen()
        for url in self.sitemap_urls:
            self.pages_requested += 1
            yield Request(url, callback=self._parse_sitemap, errback=self.fetch_failed, dont_filter=True)

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        kind = getattr(entries, "type", None)
        for entry in entries:
            if kind == "urlset":
                self.stats.inc_value("sitemaps/entries")
                if not self.page_budget_left():
                    self.stats.inc_value("sitemaps/entries_deferred")
                    continue
                if not self.should_follow(entry["loc"]):
                    continue
                self.take_page()
            yield entry

    def _parse_sitemap(self, response: Response) -> Iterator[Any]:
        self.stats.inc_value("sitemaps/fetched")
        for item in super()._parse_sitemap(response):
            if isinstance(item, Request) and item.callback == self.parse:
                # Page links: extract as articles (errback classifies and counts failures).
                yield self.article_request(item.url)
            elif isinstance(item, Request):
                yield item.replace(errback=self.fetch_failed)
            else:
                yield item

    def _get_sitemap_body(self, response: Response) -> bytes | None:
        body = super()._get_sitemap_body(response)
        if body is None:
            if gzip_magic_number(response):
                # Scrapy gives up inflating at DOWNLOAD_MAXSIZE and returns None.
                self.stats.inc_value("responses/oversize")
                log.warning("dropped gzipped sitemap %s: it inflates past DOWNLOAD_MAXSIZE",
                            response.url, extra={"url": response.url, "source_id": self.source.id})
            return None
        reason = unsafe_xml_reason(body)
        if reason is not None:
            self.stats.inc_value("sitemaps/rejected-xml")
            log.error("rejected sitemap %s, not parsed: %s", response.url, reason,
                      extra={"url": response.url, "source_id": self.source.id, "reason": reason})
            return None
        return body

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return self.parse_article(response, entry={}, link=response.url)
