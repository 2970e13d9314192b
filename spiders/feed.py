"""FeedSpider: RSS and Atom feeds, then the article each entry links to.

RSS 0.9x, 1.0 (RDF) and 2.0 and Atom 0.3 and 1.0 are parsed from the response bytes by
``feedparser`` (it never fetches anything itself), after :func:`spiders.xmlsafe.unsafe_xml_reason`
has screened them: a feed whose DOCTYPE declares entities (billion laughs, XXE) is rejected
unparsed (``feeds/rejected-xml``). A body that is valid UTF-8 is read as UTF-8 whatever the HTTP
header or XML declaration claims; otherwise feedparser tries the declared encodings and falls
back to windows-1252.

Entry links are resolved against ``xml:base`` and the feed URL; links already in the store's
seen set are skipped (``items/seen``), the others are fetched and extracted. The entry's own
title, author and date win over what is extracted from the page; titles and authors are reduced
to plain text (tags and ``<script>`` stripped, entities decoded). An entry without a date gets
the page's date, or none. Options (all optional)::

    options:
      max_items_per_feed: 200   # new entries followed per feed per crawl; the rest wait for
                                # the next crawl (``feeds/entries_deferred``)

The feed's size is capped by ``crawl.max_response_bytes`` like any response, before and after
decompression. Stats: ``feeds/fetched``, ``feeds/entries``, ``feeds/malformed``,
``feeds/rejected-xml``, ``feeds/entries_without_link``, ``feeds/entries_bad_link``,
``feeds/entries_deferred``.
"""

from __future__ import annotations

import codecs
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import feedparser
import scrapy
from scrapy.http import Request, Response

from osintel.errors import ConfigError
from osintel.sources import Source
from spiders.base import SourceSpiderMixin
from spiders.extract import parse_date, plain_text
from spiders.xmlsafe import unsafe_xml_reason

log = logging.getLogger(__name__)

#: New entries followed per feed per crawl unless ``options.max_items_per_feed`` says otherwise.
DEFAULT_MAX_ITEMS_PER_FEED = 200
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class FeedSpider(SourceSpiderMixin, scrapy.Spider):
    """Collects one ``kind: feed`` source. Start with ``source=<Source>``."""

    name = "feed"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_source(source)
        try:
            self.max_items = int(self.source.options.get("max_items_per_feed", DEFAULT_MAX_ITEMS_PER_FEED))
        except (TypeError, ValueError):
            self.max_items = -1
        if self.max_items < 1:
            raise ConfigError(f"source {self.source.id}: options.max_items_per_feed must be a positive integer")

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
        body = response.body
        reason = unsafe_xml_reason(body)
        if reason is not None:
            self.stats.inc_value("feeds/rejected-xml")
            log.error("rejected feed %s, not parsed: %s", response.url, reason,
                      extra={"url": response.url, "source_id": self.source.id, "reason": reason})
            return
        # Bytes, never str: feedparser.parse() treats a str as a URL or file name to open.
        parsed = feedparser.parse(bytes(body), response_headers={
            "content-location": response.url,
            "content-type": _content_type(response),
        })
        entries = parsed.entries or []
        if parsed.bozo and not entries:
            self.stats.inc_value("feeds/malformed")
            log.error("malformed feed %s: %s", response.url, parsed.get("bozo_exception"),
                      extra={"url": response.url, "source_id": self.source.id})
            return
        self.stats.inc_value("feeds/entries", len(entries))
        followed = 0
        for index, entry in enumerate(entries):
            if followed >= self.max_items:
                deferred = len(entries) - index
                self.stats.inc_value("feeds/entries_deferred", deferred)
                log.info("feed %s: followed %d new entries, %d left for later crawls",
                         response.url, followed, deferred,
                         extra={"url": response.url, "source_id": self.source.id})
                return
            link = _entry_link(entry)
            if not link:
                self.stats.inc_value("feeds/entries_without_link")
                continue
            url = urljoin(response.url, link)
            if not url.startswith(("http://", "https://")):
                self.stats.inc_value("feeds/entries_bad_link")
                continue
            if self.should_follow(url):
                followed += 1
                metadata = _entry_metadata(entry)
                # The feed's (or the entry's) declared language: a fallback when detection is unsure.
                language = entry.get("language") or parsed.feed.get("language")
                if language:
                    metadata["language"] = str(language)[:16]
                yield self.article_request(url, entry=metadata)


def _content_type(response: Response) -> str:
    """The Content-Type to give feedparser: ``charset=utf-8`` when the bytes are valid UTF-8.

    Feeds in the wild mislabel their encoding in the header, the XML declaration or both;
    non-ASCII bytes that decode as UTF-8 are UTF-8 in practice. UTF-16/32 bodies (BOM or NUL
    bytes) are left to feedparser's own detection.
    """
    ctype = (response.headers.get(b"Content-Type") or b"").decode("latin-1")
    body = response.body
    if body.isascii() or body.startswith(_WIDE_BOMS) or b"\x00" in body[:4096]:
        return ctype
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return ctype
    mime = ctype.split(";", 1)[0].strip() or "application/xml"
    return f"{mime}; charset=utf-8"


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
    author = plain_text(entry.get("author"))
    return {
        "title": plain_text(entry.get("title")),
        "author": author or None,
        "published_at": published,
    }
