"""BlueskySpider: public posts from a Bluesky AppView over XRPC, without logging in.

A ``kind: bluesky`` source names the AppView in ``urls[0]`` (``https://public.api.bsky.app``) and
follows ``targets``:

* ``author:<handle or did>``: ``GET /xrpc/app.bsky.feed.getAuthorFeed?actor=&limit=&cursor=``,
  the account's posts, replies and reposts, newest first;
* ``search:<query>``: ``GET /xrpc/app.bsky.feed.searchPosts?q=&limit=&cursor=&sort=latest``.

Options: ``page_size`` (``limit``, 1-100, default 50), ``max_pages_per_target`` (default 5) and
``web_base`` (where permalinks point, default ``https://bsky.app``).

Each ``postView`` becomes a :class:`~spiders.social.Post`: the post id is the at-uri (unique, and
what replies and quotes refer to), the permalink ``<web_base>/profile/<handle>/post/<rkey>``,
``reply_to`` the parent's at-uri, ``quote_of`` the quoted record's at-uri, ``media_urls`` the
images' ``fullsize`` URLs (and a video's playlist), engagement ``replies``/``reposts``/``likes``/
``quotes``, ``published_at`` the record's ``createdAt`` and ``language`` its first ``langs``
entry. A repost in an author feed (``reason`` ``app.bsky.feed.defs#reasonRepost``) is a post of its
own by the reposter: id the repost record's at-uri, ``quote_of`` the reposted post, text the
reposted text, time the repost's ``indexedAt``.

Only post views are mapped (:func:`post_view_problem`: an ``at://`` uri in the
``app.bsky.feed.post`` collection, an author, and a record of type ``app.bsky.feed.post`` with its
text); anything else in ``feed`` or ``posts`` (a profile, a feed generator, a list, a blocked or
deleted post's stub) is refused and counted (``items/rejected/<reason>``, one log line per page,
:func:`spiders.social.reject`). An answer with neither ``feed`` nor ``posts`` is a bad response.

Paging and cursors follow :mod:`spiders.cursors`: the first crawl pages back up to the page
limit; later crawls stop at the first post stored by an earlier crawl that is not newer than the
saved cursor (the newest sort time seen by the last complete crawl). HTTP 429 answers with
``Retry-After`` are the rate-limit middleware's business; a page that still fails is counted
(``fetch/failed/<reason>``) and keeps the target's cursor where it was.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from osintel.records import Capture
from osintel.sources import Source
from spiders.base import SourceSpiderMixin
from spiders.cursors import DEFAULT_MAX_PAGES_PER_TARGET, END, KNOWN, PAGE_LIMIT, CursorKeeper
from spiders.extract import parse_date
from spiders.social import Post, post_item, reject, target_failed

log = logging.getLogger(__name__)

PLATFORM = "bluesky"
AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
SEARCH_POSTS = "/xrpc/app.bsky.feed.searchPosts"
REASON_REPOST = "app.bsky.feed.defs#reasonRepost"
POST_RECORD = "app.bsky.feed.post"


def post_view_problem(view: Any) -> str | None:
    """None when ``view`` has the shape of an ``app.bsky.feed.defs#postView``; else why not.

    Reasons: ``not-an-object``, ``not-a-post`` (no post at-uri: a profile, a feed generator, a
    list, a not-found or blocked stub), ``no-author``, ``bad-record`` (the record is not an
    ``app.bsky.feed.post`` with text).
    """
    if not isinstance(view, dict):
        return "not-an-object"
    uri = view.get("uri")
    if not isinstance(uri, str) or not uri.startswith("at://") or f"/{POST_RECORD}/" not in uri:
        return "not-a-post"
    author = view.get("author")
    if not isinstance(author, dict) or not (author.get("did") or author.get("handle")):
        return "no-author"
    record = view.get("record")
    if (not isinstance(record, dict) or record.get("$type", POST_RECORD) != POST_RECORD
            or not isinstance(record.get("text"), str)):
        return "bad-record"
    return None


def rkey(uri: str) -> str:
    """The record key of an at-uri (``at://did/collection/rkey``)."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def _embed_parts(embed: dict[str, Any] | None) -> tuple[list[str], str | None]:
    """(media URLs, quoted at-uri) of a post's embed view."""
    if not isinstance(embed, dict):
        return [], None
    kind = str(embed.get("$type", ""))
    media: list[str] = []
    quoted: str | None = None
    if kind.startswith("app.bsky.embed.images"):
        media = [str(img.get("fullsize") or img.get("thumb")) for img in embed.get("images") or []
                 if img.get("fullsize") or img.get("thumb")]
    elif kind.startswith("app.bsky.embed.video"):
        media = [str(embed[k]) for k in ("playlist",) if embed.get(k)]
    elif kind.startswith("app.bsky.embed.recordWithMedia"):
        media, _ = _embed_parts(embed.get("media"))
        _, quoted = _embed_parts(embed.get("record"))
    elif kind.startswith("app.bsky.embed.record"):
        record = embed.get("record") or {}
        # recordWithMedia nests the record view one level deeper ({"record": {"record": ...}}).
        if isinstance(record.get("record"), dict) and "uri" not in record:
            record = record["record"]
        quoted = record.get("uri")
    return media, quoted


class BlueskySpider(SourceSpiderMixin, scrapy.Spider):
    """Collects one ``kind: bluesky`` source. Start with ``source=<Source>``."""

    name = "bluesky"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._init_source(source)
        options = self.source.options
        self.api_base = self.source.urls[0].rstrip("/")
        self.web_base = str(options.get("web_base", "https://bsky.app")).rstrip("/")
        self.page_size = max(1, min(int(options.get("page_size", 50)), 100))
        self.max_pages = int(options.get("max_pages_per_target", DEFAULT_MAX_PAGES_PER_TARGET))
        self.paging: CursorKeeper | None = None

    async def start(self) -> AsyncIterator[Any]:
        for request in self.start_requests():
            yield request

    def start_requests(self) -> Iterator[Request]:
        self.paging = CursorKeeper(self.crawler, self.source.id, max_pages=self.max_pages)
        for target in self.source.targets:
            kind, _, value = target.partition(":")
            if kind not in ("author", "search") or not value.strip():
                self.stats.inc_value("social/bad_target")
                log.error("bad bluesky target %r (want author:<handle> or search:<query>)", target,
                          extra={"source_id": self.source.id, "target": target})
                continue
            yield self._page_request(target, None)

    def _page_request(self, target: str, cursor: str | None) -> Request:
        assert self.paging is not None
        self.paging.opened(target)
        kind, _, value = target.partition(":")
        if kind == "author":
            params: dict[str, Any] = {"actor": value.strip(), "limit": self.page_size}
            path = AUTHOR_FEED
        else:
            params = {"q": value.strip(), "limit": self.page_size, "sort": "latest"}
            path = SEARCH_POSTS
        if cursor:
            params["cursor"] = cursor
        return Request(f"{self.api_base}{path}?{urlencode(params)}", callback=self.parse_page,
                       errback=self.page_failed, cb_kwargs={"target": target}, dont_filter=True,
                       headers={"Accept": "application/json"})

    def parse(self, response: Response, **kwargs: Any) -> Iterator[Any]:
        return self.parse_page(response, target=kwargs["target"])

    def parse_page(self, response: Response, target: str) -> Iterator[Any]:
        assert self.paging is not None
        paging = self.paging
        try:
            data = json.loads(response.body)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.stats.inc_value("fetch/failed/bad-json")
            log.error("not an XRPC JSON answer from %s", response.url, extra={"url": response.url})
            paging.fail(target)
            paging.closed(target)
            return
        items = data.get("feed") if "feed" in data else data.get("posts")
        if not isinstance(items, list):
            target_failed(self, paging, url=response.url, target=target, counter="fetch/failed/bad-response")
            return
        capture: Capture | None = response.meta.get("capture")
        refused = Counter[str]()
        if "feed" in data:
            entries = [self._feed_post(item, target, refused) for item in items]
        else:
            entries = [self._post(view, target, refused) for view in items]
        reject(self, refused, url=response.url, target=target, expected="Bluesky posts")
        if items and all(e is None for e in entries):  # not a post feed at all: keep the cursor
            target_failed(self, paging, url=response.url, target=target, counter="fetch/failed/bad-response")
            return
        previous = paging.previous_cursor(target)
        stop = False
        for post, sort_key in (e for e in entries if e is not None):
            paging.advance(target, sort_key)
            if paging.stored_before(PLATFORM, post.post_id):
                self.stats.inc_value("social/posts_known")
                if previous is not None and sort_key <= previous:
                    stop = True
                continue
            yield paging.track(target, post_item(self.source, post, capture=capture))
        more = paging.page_fetched(target)
        next_cursor = data.get("cursor")
        if stop:
            paging.finished(target, KNOWN)
        elif not next_cursor or not entries:
            paging.finished(target, END)
        elif not more:
            paging.finished(target, PAGE_LIMIT)
        else:
            yield self._page_request(target, str(next_cursor))
        paging.closed(target)

    def page_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        target_failed(self, self.paging, url=request.url, target=request.cb_kwargs.get("target", ""),
                      failure=failure)

    # -- mapping -------------------------------------------------------------------------------

    def _feed_post(self, item: Any, target: str, refused: Counter[str]) -> tuple[Post, str] | None:
        """A ``feedViewPost`` as (post, sort key); a repost becomes the reposter's post."""
        if not isinstance(item, dict) or "post" not in item:
            refused["not-a-feed-item"] += 1
            return None
        mapped = self._post(item["post"], target, refused)
        if mapped is None:
            return None
        post, sort_key = mapped
        reason = item.get("reason") or {}
        if not isinstance(reason, dict) or reason.get("$type") != REASON_REPOST:
            return mapped
        by = reason.get("by") or {}
        indexed = str(reason.get("indexedAt") or sort_key)
        repost_uri = reason.get("uri") or f"at://{by.get('did', '')}/app.bsky.feed.repost/{rkey(post.post_id)}"
        repost = Post(
            platform=PLATFORM, post_id=str(repost_uri), permalink=post.permalink, text=post.text,
            author=by.get("displayName") or None, author_handle=by.get("handle") or None,
            published_at=parse_date(indexed), quote_of=post.post_id, media_urls=list(post.media_urls),
            target=target, language=post.language,
        )
        return repost, indexed

    def _post(self, view: Any, target: str, refused: Counter[str]) -> tuple[Post, str] | None:
        """A ``postView`` as (post, sort key), or None (counted in ``refused``) when it is not one."""
        problem = post_view_problem(view)
        if problem is not None:
            refused[problem] += 1
            return None
        uri = view["uri"]
        record = view["record"]
        author = view["author"]
        handle = author.get("handle") or author.get("did") or ""
        media, quoted = _embed_parts(view.get("embed"))
        if quoted is None:
            _, quoted = _embed_parts(record.get("embed"))
        reply = record.get("reply") or {}
        langs = record.get("langs") or []
        created = record.get("createdAt") or view.get("indexedAt")
        engagement = {name: int(view[key]) for name, key in (
            ("replies", "replyCount"), ("reposts", "repostCount"), ("likes", "likeCount"),
            ("quotes", "quoteCount")) if isinstance(view.get(key), int)}
        post = Post(
            platform=PLATFORM, post_id=str(uri),
            permalink=f"{self.web_base}/profile/{handle}/post/{rkey(str(uri))}",
            text=str(record.get("text") or ""),
            author=author.get("displayName") or None, author_handle=handle or None,
            published_at=parse_date(created) if created else None,
            reply_to=(reply.get("parent") or {}).get("uri"), quote_of=quoted,
            media_urls=media, engagement=engagement, target=target,
            language=str(langs[0]) if langs else None,
        )
        return post, str(view.get("indexedAt") or created or "")
