"""TelegramSpider: public channels through the ``t.me/s/<channel>`` web preview, without logging in.

A ``kind: telegram`` source names the preview host in ``urls[0]`` (``https://t.me``) and the
channel usernames in ``targets`` (``@`` optional). Options: ``max_pages_per_target`` (default 5).

The newest page is ``/s/<channel>``; older pages are ``/s/<channel>?before=<id>``, taken from the
page's ``a.tme_messages_more[data-before]`` (or ``link[rel=prev]``), ~20 messages a page.
Each ``div.tgme_widget_message[data-post]`` becomes a :class:`~spiders.social.Post`:

* post id ``<channel>/<id>`` (``data-post``); permalink ``a.tgme_widget_message_date[href]``;
* text from the message's own ``.tgme_widget_message_text.js-message_text`` (not the quoted text
  of a reply block, which reuses the class), ``<br>`` as newlines, link and emoji text kept;
* author: the signature (``.tgme_widget_message_from_author``) or the channel's name
  (``.tgme_widget_message_owner_name``); author handle: the channel username;
* ``reply_to``: ``<channel>/<id>`` of ``a.tgme_widget_message_reply[href]``; ``quote_of``: the
  forwarded-from message (``<channel>/<id>`` from ``a.tgme_widget_message_forwarded_from_name``,
  or the source's name when the original is not linkable);
* media: the ``background-image:url(...)`` of every ``a.tgme_widget_message_photo_wrap``;
* engagement ``views`` as an integer ("1.2K" -> 1200); ``published_at`` from
  ``time[datetime]``. The preview declares no language.

What is not a message of the channel is refused, not mapped: an element whose ``data-post`` is not
``<channel>/<id>`` of the channel asked for is counted (``items/rejected/<reason>``, one log line
per page, :func:`spiders.social.reject`); service messages ("channel created", "pinned") are
skipped and counted (``social/service_messages``). A page that is not a channel preview at all (no
``section.tgme_channel_history``: t.me redirects a channel without a public preview to its
landing page) is a bad response, not an empty channel.

Incremental crawling (:mod:`spiders.cursors`): the cursor is the highest message id of the
last complete crawl; a later crawl fetches the newest page and stops paging back at the first id at
or below it.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from parsel import Selector  # what Response.css() yields (Scrapy's Selector subclasses it)
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from osintel.records import Capture
from osintel.sources import Source
from spiders.base import SourceSpiderMixin
from spiders.cursors import DEFAULT_MAX_PAGES_PER_TARGET, END, KNOWN, PAGE_LIMIT, CursorKeeper
from spiders.extract import parse_date
from spiders.social import Post, post_item, reject, target_failed

log = logging.getLogger(__name__)

PLATFORM = "telegram"
_SUFFIXES = {"K": 1_000, "M": 1_000_000, "B": 1_000_000_000}
# Applied to the value of one CSS ``style`` attribute, never to the page's HTML.
_BACKGROUND_URL = re.compile(r"background-image\s*:\s*url\(\s*(['\"]?)(.*?)\1\s*\)", re.I)
_SKIP_TAGS = {"script", "style", "template"}


def parse_count(text: str | None) -> int | None:
    """A count as the preview prints it: ``"845"``, ``"1.2K"`` -> 1200, ``"3M"``, ``"1 204"``."""
    if not text:
        return None
    value = text.strip().replace(",", ".").replace("\u00a0", "").replace(" ", "").upper()
    multiplier = 1
    if value and value[-1] in _SUFFIXES:
        multiplier = _SUFFIXES[value[-1]]
        value = value[:-1]
    try:
        return int(round(float(value) * multiplier))
    except ValueError:
        return None


def element_text(element: Any) -> str:
    """Text of an lxml element with ``<br>`` as newlines; scripts and styles dropped."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag.lower() in _SKIP_TAGS:
            if node.tail:
                parts.append(node.tail)
            return
        if tag.lower() == "br":
            parts.append("\n")
        elif node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if node.tail and node is not element:
            parts.append(node.tail)

    if element.text:
        parts.append(element.text)
    for child in element:
        walk(child)
    lines = [" ".join(line.split()) for line in "".join(parts).split("\n")]
    return "\n".join(lines).strip()


def _post_ref(href: str | None) -> str | None:
    """``<channel>/<id>`` of a message link such as ``https://t.me/channel/123``."""
    if not href:
        return None
    path = [p for p in urlsplit(href).path.split("/") if p]
    if path and path[0] == "s":
        path = path[1:]
    if len(path) >= 2 and path[-1].isdigit():
        return f"{path[-2]}/{path[-1]}"
    return None


class TelegramSpider(SourceSpiderMixin, scrapy.Spider):
    """Collects one ``kind: telegram`` source. Start with ``source=<Source>``."""

    name = "telegram"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_source(source)
        self.base = self.source.urls[0].rstrip("/")
        self.max_pages = int(self.source.options.get("max_pages_per_target", DEFAULT_MAX_PAGES_PER_TARGET))
        self.paging: CursorKeeper | None = None

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        self.paging = CursorKeeper(self.crawler, self.source.id, max_pages=self.max_pages,
                                   newer=lambda a, b: int(a) > int(b))
        for target in self.source.targets:
            channel = target.strip().lstrip("@")
            if not re.fullmatch(r"[A-Za-z0-9_]{3,64}", channel):
                self.stats.inc_value("social/bad_target")
                log.error("bad telegram channel %r", target, extra={"source_id": self.source.id, "target": target})
                continue
            yield self._page_request(channel, None)

    def _page_request(self, channel: str, before: int | None) -> Request:
        assert self.paging is not None
        self.paging.opened(channel)
        url = f"{self.base}/s/{channel}" + (f"?before={before}" if before is not None else "")
        return Request(url, callback=self.parse_page, errback=self.page_failed,
                       cb_kwargs={"channel": channel}, dont_filter=True)

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return self.parse_page(response, channel=kwargs["channel"])

    def parse_page(self, response: Response, channel: str) -> Iterator[Any]:
        assert self.paging is not None
        paging = self.paging
        if not response.css("section.tgme_channel_history"):
            target_failed(self, paging, url=response.url, target=channel, counter="fetch/failed/bad-response")
            return
        capture: Capture | None = response.meta.get("capture")
        messages = response.css("div.tgme_widget_message[data-post]")
        refused = Counter[str]()
        previous = paging.previous_cursor(channel)
        floor = int(previous) if previous and previous.isdigit() else None
        lowest: int | None = None
        stop = False
        # Newest first, so a later crawl can stop at the first message the last one covered.
        for message in reversed(messages):
            post = self._post(message, response, channel, refused)
            if post is None:
                continue
            number = int(post.post_id.rsplit("/", 1)[1])
            lowest = number if lowest is None else min(lowest, number)
            paging.advance(channel, str(number))
            if floor is not None and number <= floor:
                stop = True
            if paging.stored_before(PLATFORM, post.post_id):
                self.stats.inc_value("social/posts_known")
                continue
            yield paging.track(channel, post_item(self.source, post, capture=capture))
        reject(self, refused, url=response.url, target=channel, expected="messages of this channel")
        more = paging.page_fetched(channel)
        before = self._older(response, lowest)
        if stop:
            paging.finished(channel, KNOWN)
        elif before is None:
            paging.finished(channel, END)
        elif not more:
            paging.finished(channel, PAGE_LIMIT)
        else:
            yield self._page_request(channel, before)
        paging.closed(channel)

    def _older(self, response: Response, lowest: int | None) -> int | None:
        """The ``before`` id of the next older page, or None on the oldest page."""
        if lowest is None:
            return None
        value = response.css("a.tme_messages_more[data-before]::attr(data-before)").get()
        if value is None:
            href = response.css('link[rel="prev"]::attr(href)').get()
            query = urlsplit(urljoin(response.url, href)).query if href else ""
            value = next((v for k, _, v in (p.partition("=") for p in query.split("&")) if k == "before"), None)
        if value is None or not value.strip().isdigit():
            return None
        before = int(value)
        # Never loop: the next page must be strictly older than everything already seen.
        return min(before, lowest)

    def page_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        target_failed(self, self.paging, url=request.url, target=request.cb_kwargs.get("channel", ""),
                      failure=failure)

    # -- mapping -------------------------------------------------------------------------------

    def _post(self, message: Selector, response: Response, channel: str, refused: Counter[str]) -> Post | None:
        data_post = (message.attrib.get("data-post") or "").strip()
        name, _, number = data_post.rpartition("/")
        if not name or not number.isdigit():
            refused["no-post-id"] += 1
            return None
        if name.lower() != channel.lower():
            refused["other-channel"] += 1
            return None
        if "service_message" in (message.attrib.get("class") or "").split():
            self.stats.inc_value("social/service_messages")
            return None
        bubble = message.css(".tgme_widget_message_bubble") or [message]
        texts = bubble[0].xpath(
            "./div[contains(concat(' ', normalize-space(@class), ' '), ' tgme_widget_message_text ')"
            " and contains(concat(' ', normalize-space(@class), ' '), ' js-message_text ')]")
        text = element_text(texts[0].root) if texts else ""
        permalink = message.css("a.tgme_widget_message_date::attr(href)").get()
        permalink = urljoin(response.url, permalink) if permalink else f"{self.base}/{data_post}"
        stamp = message.css(".tgme_widget_message_date time::attr(datetime)").get()
        owner = message.css(".tgme_widget_message_owner_name").xpath("string()").get()
        signature = message.css(".tgme_widget_message_from_author").xpath("string()").get()
        forwarded = message.css("a.tgme_widget_message_forwarded_from_name")
        quote_of = None
        if forwarded:
            quote_of = _post_ref(forwarded.attrib.get("href")) or " ".join(forwarded.xpath("string()").get("").split())
        elif message.css(".tgme_widget_message_forwarded_from"):
            quote_of = " ".join(message.css(".tgme_widget_message_forwarded_from").xpath("string()").get("").split())
            quote_of = quote_of.removeprefix("Forwarded from").strip() or None
        media = []
        for style in message.css("a.tgme_widget_message_photo_wrap::attr(style)").getall():
            found = _BACKGROUND_URL.search(style)
            if found:
                media.append(urljoin(response.url, found.group(2)))
        views = parse_count(message.css(".tgme_widget_message_views::text").get())
        if not text and not media:
            self.stats.inc_value("social/posts_without_text")
        return Post(
            platform=PLATFORM, post_id=f"{name}/{number}", permalink=permalink, text=text,
            author=(" ".join((signature or owner or "").split()) or None),
            author_handle=name,
            published_at=parse_date(stamp) if stamp else None,
            reply_to=_post_ref(message.css("a.tgme_widget_message_reply::attr(href)").get()),
            quote_of=quote_of, media_urls=media,
            engagement={"views": views} if views is not None else {},
            target=channel,
        )

