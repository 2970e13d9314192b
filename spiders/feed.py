"""FeedSpider: RSS and Atom feeds, then the article each entry links to.

The feed bytes are parsed by ``feedparser`` here (it never fetches anything itself). Entry links
are resolved against the feed URL; links already in the store's seen set are skipped
(``items/seen``), the others are fetched and extracted. The entry's own title, author and date
win over what is extracted from the page.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import feedparser
import scrapy
from scrapy.http import Request, Response

from osintel.sources import Source
from spiders.base import SourceSpiderMixin
from spiders.extract import parse_date

log = logging.getLogger(__name__)


class FeedSpider(SourceSpiderMixin, scrapy.Spider):
    """Collects one ``kind: feed`` source. Start with ``source=<Source>``."""

    name = "feed"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_source(source)

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        self.load_seen()
        for url in self.source.urls:
            yield Request(url, callback=self.parse_feed, errback=self.fetch_failed, dont_filter=True)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return self.parse_feed(response)

    def parse_feed(self, response: Response) -> Iterator[Any]:
        self.stats.inc_value("feeds/fetched")
        parsed = feedparser.parse(response.body, response_headers={
            "content-location": response.url,
            "content-type": (response.headers.get(b"Content-Type") or b"").decode("latin-1"),
        })
        entries = parsed.entries or []
        if parsed.bozo and not entries:
            self.stats.inc_value("feeds/malformed")
            log.error("malformed feed %s: %s", response.url, parsed.get("bozo_exception"),
                      extra={"url": response.url, "source_id": self.source.id})
            return
        self.stats.inc_value("feeds/entries", len(entries))
        for entry in entries:
            link = _entry_link(entry)
            if not link:
                self.stats.inc_value("feeds/entries_without_link")
                continue
            url = urljoin(response.url, link)
            if not url.startswith(("http://", "https://")):
                self.stats.inc_value("feeds/entries_bad_link")
                continue
            if self.should_follow(url):
                yield self.article_request(url, entry=_entry_metadata(entry))


def _entry_link(entry: Any) -> str | None:
    link = entry.get("link")
    if link:
        return str(link).strip()
    for candidate in entry.get("links") or []:
        if candidate.get("rel", "alternate") == "alternate" and candidate.get("href"):
            return str(candidate["href"]).strip()
    return None


def _entry_metadata(entry: Any) -> dict[str, Any]:
    published = None
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        if entry.get(key):
            published = parse_date(entry[key])
            break
    if published is None:
        published = parse_date(entry.get("published") or entry.get("updated"))
    author = entry.get("author") or None
    return {
        "title": (entry.get("title") or "").strip(),
        "author": author.strip() if isinstance(author, str) and author.strip() else None,
        "published_at": published,
    }
