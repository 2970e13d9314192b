"""SitemapSpider: sitemap indexes and url sets (``robots.txt`` ``Sitemap:`` lines too).

Built on Scrapy's :class:`scrapy.spiders.SitemapSpider` (lxml with entity resolution off,
gzip sitemaps capped by ``DOWNLOAD_MAXSIZE``). Sub-sitemaps of an index are always fetched;
page ``<loc>``s already seen are skipped (``items/seen``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from scrapy.http import Request, Response
from scrapy.spiders import SitemapSpider as ScrapySitemapSpider

from osintel.sources import Source
from spiders.base import SourceSpiderMixin


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
            yield Request(url, callback=self._parse_sitemap, errback=self.fetch_failed, dont_filter=True)

    def sitemap_filter(self, entries: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        kind = getattr(entries, "type", None)
        for entry in entries:
            if kind == "urlset":
                self.stats.inc_value("sitemaps/entries")
                if not self.should_follow(entry["loc"]):
                    continue
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

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return self.parse_article(response, entry={}, link=response.url)
