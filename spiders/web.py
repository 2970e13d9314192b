"""WebSpider: a rule-based site crawl from a source's start URLs (``kind: web``).

Every fetched page is run through article extraction. A page with article-like text becomes a
:class:`~osintel.records.Document` and its URL is marked seen, so later crawls do not fetch it
again. A page with little text, or text that is mostly link labels (a section front, an index,
a tag page) is a *listing*: it produces no document (``pages/listing``) and is never marked seen,
so every crawl re-fetches it and discovers what was added since.

Links are followed while the page's depth is below ``options.depth``. Options (all optional)::

    options:
      depth: 2                      # link hops from a start URL (0 = the start URLs only)
      allow: ['/news/', '/crime/']  # regexes; a link must match one (default: any)
      deny: ['/tag/', '\\?page=']   # regexes; a link matching one is never followed
      allow_domains: [example.org]  # host names (and their subdomains) in scope; default: the
                                    # start URLs' host:port exactly
      min_article_chars: 200        # shorter extracted text is a listing, not an article
      max_links_per_page: 1000      # new links taken from one page (default: the setting
                                    # crawl.max_links_per_page)
      recapture: false              # analyst capture: fetch even seen URLs, replace the stored
                                    # document, and make a document of every page fetched

Links are read lazily in document order, and a page gives at most ``max_links_per_page`` new
in-scope links; the rest are left for later crawls (a listing is re-fetched every crawl and its
links already collected are skipped, so later crawls reach further down). ``max_pages`` (the
source's page limit) stops the crawl through Scrapy's ``CLOSESPIDER_PAGECOUNT``, and no more
than ``max_pages`` page requests are ever scheduled. A page of a million links therefore costs
its parse and ``max_links_per_page`` requests, not a million.

Stats: ``pages/fetched``, ``pages/article``, ``pages/listing``, ``pages/non_html``,
``links/followed``, ``links/out_of_scope``, ``items/seen``, ``links/capped`` (pages whose further
links were left at ``max_links_per_page``), ``links/over_page_limit`` (pages whose further links
were not scheduled because ``max_pages`` requests were made).

With ``recapture`` (used by ``osintel capture``), each start URL's outcome is kept in the stats
under ``capture/outcomes`` (``{url: {"status", "doc_id", "reason"}}``) for the caller to report.
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Request, Response, TextResponse
from scrapy.linkextractors import LinkExtractor
from scrapy.utils.response import get_base_url
from scrapy.utils.url import url_has_any_extension
from twisted.python.failure import Failure
from w3lib.html import strip_html5_whitespace
from w3lib.url import safe_url_string

from osintel.errors import ConfigError
from osintel.records import Capture, Document, canonical_url
from osintel.sources import Source
from spiders.base import SourceSpiderMixin, classify_failure
from spiders.extract import extract_article, normalise_text
from spiders.items import Collected

log = logging.getLogger(__name__)

DEFAULT_DEPTH = 2
#: Used when the crawler settings carry no ``OSINTEL_MAX_LINKS_PER_PAGE`` (crawl.max_links_per_page).
DEFAULT_MAX_LINKS_PER_PAGE = 1000
DEFAULT_MIN_ARTICLE_CHARS = 200
#: Above this share of the extracted text made of link labels, a page is a listing.
MAX_LINK_TEXT_SHARE = 0.5
#: A page with more links than this whose visible text is mostly link labels is a listing, told
#: from its DOM alone: article extraction of a 10 MB page of links takes a minute and a gigabyte.
LINK_PAGE_ANCHORS = 500
#: Above this many distinct link labels, their share of the text is measured by whole lines.
MAX_LABELS_SEARCHED = 2000
_WS = re.compile(r"\s+")


def _mostly_links(response: TextResponse) -> bool:
    """True for a page of more than :data:`LINK_PAGE_ANCHORS` links whose visible text is mostly
    their labels (counted in non-space characters, scripts and styles left out)."""
    root = response.selector.root
    anchors = link_chars = 0
    for anchor in root.iter("a"):
        anchors += 1
        link_chars += len(_WS.sub("", anchor.text_content()))
    if anchors <= LINK_PAGE_ANCHORS:
        return False
    hidden = sum(len(_WS.sub("", el.text_content())) for el in root.iter("script", "style", "noscript", "template"))
    visible = len(_WS.sub("", root.text_content())) - hidden
    return link_chars > MAX_LINK_TEXT_SHARE * max(visible, 1)


def _positive_int(value: Any, source_id: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1 or isinstance(value, bool):
        raise ConfigError(f"source {source_id}: options.max_links_per_page must be a positive integer")
    return number


def _str_list(value: Any, name: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"options.{name} must be a string or a list of strings")


class WebSpider(SourceSpiderMixin, scrapy.Spider):
    """Collects one ``kind: web`` source. Start with ``source=<Source>``."""

    name = "web"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_source(source)
        opts = self.source.options
        self.max_depth = int(opts.get("depth", DEFAULT_DEPTH))
        if self.max_depth < 0:
            raise ConfigError(f"source {self.source.id}: options.depth must be >= 0")
        self.min_article_chars = int(opts.get("min_article_chars", DEFAULT_MIN_ARTICLE_CHARS))
        self.recapture = bool(opts.get("recapture", False))
        allow, deny = _str_list(opts.get("allow"), "allow"), _str_list(opts.get("deny"), "deny")
        for pattern in allow + deny:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"source {self.source.id}: bad regex {pattern!r}: {exc}") from None
        self.allow_domains = [d.lower().lstrip(".") for d in _str_list(opts.get("allow_domains"), "allow_domains")]
        self.start_netlocs = {urlsplit(u).netloc.lower() for u in self.source.urls}
        self.links = LinkExtractor(allow=allow, deny=deny, unique=True)
        self._max_links_option = opts.get("max_links_per_page")
        self.max_links_per_page = DEFAULT_MAX_LINKS_PER_PAGE
        if self._max_links_option is not None:
            self.max_links_per_page = _positive_int(self._max_links_option, self.source.id)
        self._scheduled: set[str] = set()
        self.outcomes: dict[str, dict[str, Any]] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> WebSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider._max_links_option is None:
            spider.max_links_per_page = crawler.settings.getint(
                "OSINTEL_MAX_LINKS_PER_PAGE", DEFAULT_MAX_LINKS_PER_PAGE)
        return spider

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        if not self.recapture:
            self.load_seen()
        for url in self.source.urls:
            self._scheduled.add(canonical_url(url))
            self.pages_requested += 1
            # Start URLs are fetched on every crawl: they are where new links appear.
            yield Request(url, callback=self.parse_page, errback=self.page_failed, dont_filter=True,
                          cb_kwargs={"link": url})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return self.parse_page(response, link=response.url)

    # -- scope --------------------------------------------------------------------------------

    def in_scope(self, url: str) -> bool:
        """Same site as a start URL (or within ``options.allow_domains``)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            return False
        if self.allow_domains:
            host = (parts.hostname or "").lower()
            return any(host == d or host.endswith("." + d) for d in self.allow_domains)
        return parts.netloc.lower() in self.start_netlocs

    # -- pages --------------------------------------------------------------------------------

    def parse_page(self, response: Response, link: str) -> Iterator[Any]:
        self.stats.inc_value("pages/fetched")
        if not isinstance(response, TextResponse):
            self.stats.inc_value("pages/non_html")
            if self.recapture:
                yield from self._page_document(response, link, "", "")
            return
        if not self.recapture and _mostly_links(response):
            self.stats.inc_value("pages/listing")
            yield from self._follow(response)
            return
        fields = extract_article(response.body, response.url)
        if self._is_article(response, fields.text):
            self.stats.inc_value("pages/article")
            doc = self._document(response, link, fields.title, fields.text,
                                 author=fields.author, published_at=fields.published_at)
            yield self._collected(doc, link)
        else:
            self.stats.inc_value("pages/listing")
            if self.recapture:
                # An analyst asked for this page: keep whatever text it shows.
                yield from self._page_document(response, link, fields.title, fields.text)
        yield from self._follow(response)

    def _is_article(self, response: TextResponse, text: str) -> bool:
        if len(text) < self.min_article_chars:
            return False
        labels = {label for a in response.selector.root.iter("a") for t in a.itertext()
                  if len(label := _WS.sub(" ", t).strip()) >= 12}
        if len(labels) <= MAX_LABELS_SEARCHED:
            covered = sum(len(t) for t in labels if t in text)
        else:  # one substring search per label would be labels x text long
            covered = sum(len(line) for line in {ln.strip() for ln in text.splitlines()} if line in labels)
        return covered / len(text) <= MAX_LINK_TEXT_SHARE

    def _follow(self, response: TextResponse) -> Iterator[Request]:
        depth = int(response.meta.get("depth", 0))
        if depth >= self.max_depth:
            return
        taken = 0
        for url in self._page_links(response):
            if not self.in_scope(url):
                self.stats.inc_value("links/out_of_scope")
                continue
            key = canonical_url(url)
            if key in self._scheduled:
                continue
            if not self.recapture and key in self.seen:
                self._scheduled.add(key)
                self.stats.inc_value("items/seen")
                continue
            if taken >= self.max_links_per_page:
                self.stats.inc_value("links/capped")
                log.info("%s: took %d links from %s; the rest wait for a later crawl (max_links_per_page)",
                         self.source.id, taken, response.url,
                         extra={"source_id": self.source.id, "url": response.url})
                return
            if not self.take_page():
                self.stats.inc_value("links/over_page_limit")
                log.info("%s: %d page requests made (max_pages); no further links taken from %s",
                         self.source.id, self.pages_requested, response.url,
                         extra={"source_id": self.source.id, "url": response.url})
                return
            self._scheduled.add(key)
            taken += 1
            self.stats.inc_value("links/followed")
            yield Request(url, callback=self.parse_page, errback=self.page_failed, cb_kwargs={"link": url})

    def _page_links(self, response: TextResponse) -> Iterator[str]:
        """Absolute URLs of the page's ``<a>``/``<area>`` links that pass ``allow``/``deny``, lazily.

        The same filtering as Scrapy's ``LinkExtractor.extract_links`` (stripped ``href``, joined
        to the page's base URL, made safe, allow/deny patterns, file extensions that are not
        pages), but one link at a time, so a page's links cost only as far as they are taken.
        """
        base = get_base_url(response)
        deny_extensions = self.links.deny_extensions
        for element in response.selector.root.iter("a", "area"):
            href = element.get("href")
            if href is None:
                continue
            try:
                url = safe_url_string(urljoin(base, strip_html5_whitespace(href)), encoding=response.encoding)
            except ValueError:
                continue
            if not self.links.matches(url) or url_has_any_extension(url, deny_extensions):
                continue
            yield url

    def _document(self, response: Response, link: str, title: str, text: str, **fields: Any) -> Document:
        capture: Capture | None = response.meta.get("capture")
        extra = {"requested_url": link} if self.recapture else {}
        return Document(url=response.url, source=self.source.ref(), title=title or "", text=text,
                        capture=capture, extra=extra, **fields)

    def _collected(self, doc: Document, link: str) -> Collected:
        also = [canonical_url(link)] if canonical_url(link) != doc.canonical_url else []
        if self.recapture:
            self._outcome(link, "captured", doc_id=doc.id)
            # Keyed by URL, not text: a capture is evidence of this URL at this time, even when
            # the same words were collected elsewhere.
            return Collected(document=doc, also_seen=also, content_key=f"capture:{doc.id}", replace=True)
        return Collected(document=doc, also_seen=also)

    def _page_document(self, response: Response, link: str, title: str, text: str) -> Iterator[Any]:
        if not text and isinstance(response, TextResponse):
            parts = response.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall()
            text = normalise_text("\n".join(p for p in parts if p.strip()))
        if not title and isinstance(response, TextResponse):
            title = (response.css("title::text").get() or "").strip()
        doc = self._document(response, link, title, text)
        yield self._collected(doc, link)

    def page_failed(self, failure: Failure) -> Iterator[Any]:
        """Errback: classify and count; only permanent failures (404/410) are marked seen."""
        request = failure.request  # type: ignore[attr-defined]
        link = request.cb_kwargs.get("link", request.url)
        if self.recapture:
            reason, _ = classify_failure(failure, self.stats)
            self._outcome(link, "failed", reason=reason)
            self.stats.inc_value("items/failed")
            self.stats.inc_value(f"items/failed/{reason}")
            log.info("capture of %s failed: %s", link, reason, extra={"url": link, "reason": reason})  # the parent reports it
            return
        yield from self.article_failed(failure)

    def _outcome(self, link: str, status: str, *, doc_id: str | None = None, reason: str | None = None) -> None:
        self.outcomes[link] = {"status": status, "doc_id": doc_id, "reason": reason}
        self.stats.set_value("capture/outcomes", dict(self.outcomes))
