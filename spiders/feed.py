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

Entries past the crawl's page budget (``max_pages``) are deferred the same way.

**Entries that are part of a page.** Entries whose links differ only by ``#fragment`` (the
comments of a comment feed, the posts of a live blog) are distinct entries, not one page: an
entry whose link carries a fragment is identified by that link *with* its fragment (its document
id and seen key), and de-duplicated by its ``id``/``guid``, never by its text (ten comments
saying "Thanks" are ten entries). Its text is the entry's own content (``content:encoded``,
``content``, ``summary``); without one, the page element the fragment names; without that, the
page's article text. The page is fetched once for all its entries and kept as their evidence.
A fragment that names a place on a page rather than an entry (``#top``, ``#main``, ``#content``,
``#comments``, ``#more-123`` ...; :data:`PLACE_FRAGMENTS`), or an entry whose guid is the page's
own URL, is the page itself, and collapses with it as before.

The feed's size is capped by ``crawl.max_response_bytes`` like any response, before and after
decompression. Stats: ``feeds/fetched``, ``feeds/entries``, ``feeds/malformed``,
``feeds/rejected-xml``, ``feeds/entries_without_link``, ``feeds/entries_bad_link``,
``feeds/entries_deferred``, ``feeds/fragment_entries``.
"""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urldefrag, urljoin

import feedparser
import scrapy
from scrapy.http import Request, Response, TextResponse
from twisted.python.failure import Failure

from osintel.errors import ConfigError
from osintel.records import Capture, Document, canonical_url, document_id_for_url
from osintel.sources import Source
from spiders.base import SourceSpiderMixin, classify_failure
from spiders.extract import extract_article, html_text, parse_date, plain_text
from spiders.items import Collected
from spiders.xmlsafe import unsafe_xml_reason

log = logging.getLogger(__name__)

#: New entries followed per feed per crawl unless ``options.max_items_per_feed`` says otherwise.
DEFAULT_MAX_ITEMS_PER_FEED = 200
_WIDE_BOMS = (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
#: Fragments that name a place on a page (navigation, "read more" anchors), not an entry of it.
PLACE_FRAGMENTS = frozenset({
    "top", "main", "content", "main-content", "maincontent", "page", "start", "article", "body",
    "skip", "skip-link", "nav", "navigation", "menu", "header", "footer", "comments", "respond",
    "more", "read-more", "story", "text",
})
_READ_MORE = re.compile(r"^(more|more-link|readmore|read-more)-\d+$", re.I)


def entry_key(entry: Any, url: str) -> str | None:
    """The identity of a feed entry that is part of a page, or None when it is the page itself.

    ``url`` is the entry's absolute link. Its canonical form *with* the fragment is returned when
    the fragment names an entry (``#comment-12``, ``#post-5f3a``); None when there is no fragment,
    when it names a place (:data:`PLACE_FRAGMENTS`, ``#more-123``), or when the entry's guid is
    the page's own URL.
    """
    page, fragment = urldefrag(url)
    fragment = fragment.strip()
    if not fragment or fragment.lower() in PLACE_FRAGMENTS or _READ_MORE.match(fragment):
        return None
    guid = str(entry.get("id") or "").strip()
    if guid and "#" not in guid and guid.startswith(("http://", "https://")) and (
            canonical_url(guid) == canonical_url(page)):
        return None
    return canonical_url(url, keep_fragment=True)


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
            self.pages_requested += 1
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
        # Entries that are parts of one page, by page URL: the page is fetched once for them all.
        parts: dict[str, list[dict[str, Any]]] = {}
        for index, entry in enumerate(entries):
            if followed >= self.max_items or not self.page_budget_left():
                deferred = len(entries) - index
                self.stats.inc_value("feeds/entries_deferred", deferred)
                log.info("feed %s: followed %d new entries, %d left for later crawls",
                         response.url, followed, deferred,
                         extra={"url": response.url, "source_id": self.source.id})
                break
            link = _entry_link(entry)
            if not link:
                self.stats.inc_value("feeds/entries_without_link")
                continue
            url = urljoin(response.url, link)
            if not url.startswith(("http://", "https://")):
                self.stats.inc_value("feeds/entries_bad_link")
                continue
            key = entry_key(entry, url)
            if not self.should_follow(url, key=key):
                continue
            followed += 1
            metadata = _entry_metadata(entry)
            # The feed's (or the entry's) declared language: a fallback when detection is unsure.
            language = entry.get("language") or parsed.feed.get("language")
            if language:
                metadata["language"] = str(language)[:16]
            if key is None:
                self.take_page()
                yield self.article_request(url, entry=metadata)
                continue
            self.stats.inc_value("feeds/fragment_entries")
            page = urldefrag(url)[0]
            if page not in parts:
                self.take_page()
                parts[page] = []
            parts[page].append({**metadata, "key": key, "link": url, "guid": str(entry.get("id") or ""),
                                "content": _entry_content(entry)})
        for page, page_entries in parts.items():
            # dont_filter: the same page may also be an entry of its own in this feed.
            yield Request(page, callback=self.parse_entries, errback=self.entries_failed, dont_filter=True,
                          cb_kwargs={"entries": page_entries})

    def parse_entries(self, response: Response, entries: list[dict[str, Any]]) -> Iterator[Any]:
        """One document per entry that is part of this page (see the module docstring)."""
        self.stats.inc_value("articles/fetched")
        capture: Capture | None = response.meta.get("capture")
        page_text: str | None = None
        for entry in entries:
            fragment = urldefrag(entry["link"])[1]
            text = entry["content"] or _element_text(response, fragment)
            if not text:
                if page_text is None:
                    body = response.body if isinstance(response, TextResponse) else b""
                    page_text = extract_article(body, response.url).text
                text = page_text
            if not text:
                yield self._failed(entry["link"], "no-text", mark_seen=True, key=entry["key"])
                continue
            doc = Document(
                id=document_id_for_url(entry["key"], keep_fragment=True),
                url=f"{urldefrag(response.url)[0]}#{fragment}",
                canonical_url=entry["key"],
                source=self.source.ref(),
                title=entry.get("title") or "",
                text=text,
                author=entry.get("author"),
                published_at=entry.get("published_at"),
                capture=capture,
                extra={k: v for k, v in (("declared_language", entry.get("language")),
                                         ("feed_entry_id", entry["guid"] or None)) if v},
            )
            # Keyed by the entry's guid, not its text: identical short comments stay distinct.
            yield Collected(document=doc, content_key=f"feed-entry:{entry['guid'] or entry['key']}")

    def entries_failed(self, failure: Failure) -> Iterator[Any]:
        """Errback for a page fetched for its entries: one failure per entry."""
        request = failure.request  # type: ignore[attr-defined]
        reason, permanent = classify_failure(failure, self.stats)
        for entry in request.cb_kwargs.get("entries", []):
            yield self._failed(entry["link"], reason, mark_seen=permanent, key=entry["key"])


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


def _entry_content(entry: Any) -> str:
    """The entry's own text: its fullest ``content`` (``content:encoded``), else its summary."""
    contents = [c.get("value") or "" for c in entry.get("content") or [] if isinstance(c, dict)]
    best = max(contents, key=len, default="")
    return html_text(best or entry.get("summary") or "")


def _element_text(response: Response, fragment: str) -> str:
    """Text of the page element ``#fragment`` names (``id``, or an anchor's ``name``)."""
    if not fragment or not isinstance(response, TextResponse):
        return ""
    found = response.xpath("//*[@id=$f] | //a[@name=$f]", f=fragment)
    return html_text(found[0].root) if found else ""


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
