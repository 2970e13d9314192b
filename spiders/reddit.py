"""RedditSpider: public subreddit listings and comment trees through Reddit's ``.json`` pages, no login.

Source (``kind: reddit``)::

    - id: reddit-local
      kind: reddit
      urls: ["https://www.reddit.com"]
      targets: ["r/harbourcity", "r/ukscamwatch"]
      options: {comments: true, max_pages_per_target: 5, limit: 100}

A target's ``/r/<sub>/new.json`` Listing is read newest first and paged with ``after`` (and the
informative ``count``) for up to ``max_pages_per_target`` pages. ``raw_json=1`` is always sent so
text arrives unescaped. The cursor (the newest post's fullname, ``t3_...``) is stored through
:class:`~spiders.cursors.CursorKeeper` once the posts (and, with ``comments``, their comments) are
stored; a later crawl stops at the first post not newer than it (Reddit ids are base-36 counters,
so "newer" is a number comparison). When a later crawl runs out of pages before reaching the cursor
the cursor still advances (``reddit/gap`` counts it; raise ``max_pages_per_target``).

With ``comments: true`` each new post with comments has its tree read from
``<permalink>.json`` (``[post Listing, comment Listing]``; ``replies`` is a Listing or ``""``).
``kind: "more"`` stubs are fetched from ``/api/morechildren.json`` (100 ids a request); "continue
this thread" stubs (``id: "_"``) are counted (``reddit/continue_thread``) and not followed.

Posts (``t3``) map to :class:`~spiders.social.Post`: post id = fullname, permalink, title, text =
title + ``selftext``, author and ``u/<author>``, ``created_utc`` as UTC, ``crosspost_parent`` as
``quote_of``, media URLs (``url`` of image/video posts, ``preview`` sources, ``reddit_video``
fallbacks, gallery ``media_metadata``), engagement ``score`` / ``ups`` / ``comments`` /
``crossposts``. Comments (``t1``): post id = fullname, ``reply_to`` = ``parent_id`` (the post or
the parent comment), text = ``body``, engagement ``score``.

Only things of the expected kind and shape are mapped (:func:`thing_problem`): a listing's ``t3``
posts and a tree's ``t1`` comments need a fullname, a permalink (posts) and ``created_utc``;
other kinds (``t2`` accounts, ``t5`` subreddits, ...) and malformed things are refused and counted
(``items/rejected/<reason>``, one log line per page, :func:`spiders.social.reject`).

Stats: ``reddit/posts``, ``reddit/comments``, ``reddit/more``, ``reddit/continue_thread``,
``reddit/gap``, ``reddit/bad_target``, ``reddit/bad_response``, ``reddit/target_failed``, plus
``social/*`` (``social/stopped_at_known`` when a crawl reached the cursor), ``cursors/*`` and
``ratelimit/*``.
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from osintel.sources import Source
from spiders.cursors import DEFAULT_MAX_PAGES_PER_TARGET, END, KNOWN, PAGE_LIMIT, CursorKeeper
from spiders.social import Post, post_item, reject, screen, target_failed

log = logging.getLogger(__name__)

PLATFORM = "reddit"
MAX_LIMIT = 100
MORE_BATCH = 100
_SUB_RE = re.compile(r"^/?(?:r/)?([A-Za-z0-9_]{2,21})/?$")


def id_number(fullname_or_id: str) -> int:
    """The base-36 counter behind a Reddit id or fullname (``t3_1bylc86`` -> int)."""
    return int(fullname_or_id.rpartition("_")[2], 36)


_FULLNAME = re.compile(r"^t[13]_[0-9a-z]+$")


def thing_problem(thing: Any, kind: str) -> str | None:
    """None when ``thing`` is a Reddit thing of ``kind`` (``t3`` or ``t1``) we can map; else why not.

    Reasons: ``not-an-object``, ``kind-<k>`` (another kind: ``kind-t2`` an account, ``kind-t5`` a
    subreddit ...), ``bad-<kind>`` (the kind is right but the fullname, permalink or time is
    missing or malformed).
    """
    if not isinstance(thing, dict):
        return "not-an-object"
    found = thing.get("kind")
    if found != kind:
        return f"kind-{found}" if isinstance(found, str) and re.fullmatch(r"[A-Za-z0-9_]{1,16}", found) else "no-kind"
    data = thing.get("data")
    if not isinstance(data, dict):
        return f"bad-{kind}"
    name = data.get("name")
    if not isinstance(name, str) or not _FULLNAME.match(name) or not name.startswith(f"{kind}_"):
        return f"bad-{kind}"
    if kind == "t3" and not (isinstance(data.get("permalink"), str) and data["permalink"].startswith("/")):
        return f"bad-{kind}"
    if _when(data.get("created_utc")) is None:
        return f"bad-{kind}"
    return None


def _when(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(value), tz=timezone.utc)
    except (TypeError, ValueError, OverflowError):
        return None


def _handle(author: Any) -> str | None:
    return f"u/{author}" if isinstance(author, str) and author and author != "[deleted]" else None


def media_urls(data: dict[str, Any]) -> list[str]:
    """Image, video and gallery URLs of a ``t3`` (never the external link of a link post)."""
    urls: list[str] = []
    hint = data.get("post_hint") or ""
    if data.get("url") and (hint == "image" or data.get("is_video") or hint.startswith("hosted:")):
        urls.append(data["url"])
    for image in (data.get("preview") or {}).get("images") or []:
        source = (image or {}).get("source") or {}
        if source.get("url"):
            urls.append(source["url"])
    for field in ("media", "secure_media"):
        video = (data.get(field) or {}).get("reddit_video") or {}
        if video.get("fallback_url"):
            urls.append(video["fallback_url"])
    for item in (data.get("media_metadata") or {}).values():
        best = (item or {}).get("s") or {}
        found = best.get("u") or best.get("gif")
        if found:
            urls.append(found)
    # preview URLs arrive HTML-escaped unless raw_json=1 was honoured
    return list(dict.fromkeys(html.unescape(u) for u in urls))


class RedditSpider(scrapy.Spider):
    """Collects one ``kind: reddit`` source. Start with ``source=<Source>``."""

    name = "reddit"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source if isinstance(source, Source) else Source.model_validate(source)
        self.base = self.source.urls[0].rstrip("/")
        options = self.source.options
        self.max_pages = int(options.get("max_pages_per_target", DEFAULT_MAX_PAGES_PER_TARGET))
        self.limit = max(1, min(int(options.get("limit", MAX_LIMIT)), MAX_LIMIT))
        self.comments = bool(options.get("comments", False))
        self.keeper: CursorKeeper | None = None

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    async def start(self) -> AsyncIterator[Any]:
        self.keeper = CursorKeeper(self.crawler, self.source.id, max_pages=self.max_pages,
                                   newer=lambda a, b: id_number(a) > id_number(b))
        for target in self.source.targets:
            match = _SUB_RE.match(target.strip())
            if not match:
                self.stats.inc_value("reddit/bad_target")
                log.error("%s: target %r is not r/<subreddit>", self.source.id, target,
                          extra={"source_id": self.source.id, "target": target})
                continue
            key = f"r/{match[1]}"
            cursor = self.keeper.previous_cursor(key)
            state = {"count": 0, "cursor": cursor, "newest": None}
            yield self._request(self._listing_url(match[1], None, 0), key, self.parse_listing, state)

    def parse(self, response: Response, **kwargs: Any) -> Any:  # pragma: no cover - never the callback
        return []

    def _listing_url(self, sub: str, after: str | None, count: int) -> str:
        params: dict[str, Any] = {"limit": self.limit, "raw_json": 1}
        if after:
            params.update(after=after, count=count)
        return f"{self.base}/r/{sub}/new.json?{urlencode(params)}"

    def _request(self, url: str, target: str, callback: Any, state: dict[str, Any]) -> Request:
        assert self.keeper is not None
        self.keeper.opened(target)
        return Request(url, callback=callback, errback=self.target_failed, dont_filter=True,
                       headers={"Accept": "application/json"},
                       cb_kwargs={"target": target, "state": state}, meta={"target": target})

    # -- listings ----------------------------------------------------------------------------

    def parse_listing(self, response: Response, target: str, state: dict[str, Any]) -> Iterator[Any]:
        assert self.keeper is not None
        try:
            listing = json.loads(response.body)
            data = listing["data"]
            children = data["children"]
        except (ValueError, KeyError, TypeError):
            self._bad(response, target)
            return
        if not isinstance(children, list):
            self._bad(response, target)
            return
        capture = response.meta.get("capture")
        cursor = state["cursor"]
        reached = False
        things, refused = screen(children, lambda child: thing_problem(child, "t3"))
        posts = [child["data"] for child in things]
        reject(self, refused, url=response.url, target=target, expected="Reddit posts (t3)")
        if children and not posts:  # not a listing of posts: keep the cursor, page no further
            self._bad(response, target)
            return
        for post in posts:
            if cursor and id_number(post["name"]) <= id_number(cursor):
                reached = True
                break
            if state["newest"] is None or id_number(post["name"]) > id_number(state["newest"]):
                state["newest"] = post["name"]
            self.stats.inc_value("reddit/posts")
            yield self.keeper.track(target, post_item(self.source, self.link_post(post, target), capture=capture))
            if self.comments and int(post.get("num_comments") or 0) > 0:
                url = f"{self.base}{post['permalink'].rstrip('/')}.json?{urlencode({'raw_json': 1})}"
                yield self._request(url, target, self.parse_comments, {"link_id": post["name"]})
        after = data.get("after")
        count = state["count"] + len(posts)
        pages_left = self.keeper.page_fetched(target)
        if not reached and after and pages_left:
            yield self._request(self._listing_url(target[2:], after, count), target, self.parse_listing,
                                {**state, "count": count})
        else:
            self.keeper.finished(target, KNOWN if reached else PAGE_LIMIT if after else END)
            if cursor and not reached and after:
                self.stats.inc_value("reddit/gap")
                log.warning("%s %s: more new posts than %d pages; older new posts are skipped",
                            self.source.id, target, self.max_pages,
                            extra={"source_id": self.source.id, "target": target})
            # Written by the keeper once the listing pages and comment trees are all stored.
            self.keeper.advance(target, state["newest"])
        self.keeper.closed(target)

    # -- comments ----------------------------------------------------------------------------

    def parse_comments(self, response: Response, target: str, state: dict[str, Any]) -> Iterator[Any]:
        assert self.keeper is not None
        try:
            listings = json.loads(response.body)
            tree = listings[1]["data"]["children"]
        except (ValueError, KeyError, TypeError, IndexError):
            self._bad(response, target)
            return
        yield from self._comment_things(tree, target, state["link_id"], response)
        self.keeper.closed(target)

    def parse_more(self, response: Response, target: str, state: dict[str, Any]) -> Iterator[Any]:
        assert self.keeper is not None
        try:
            things = json.loads(response.body)["json"]["data"]["things"]
        except (ValueError, KeyError, TypeError):
            self._bad(response, target)
            return
        yield from self._comment_things(things, target, state["link_id"], response)
        self.keeper.closed(target)

    def _comment_things(self, things: list[Any], target: str, link_id: str, response: Response) -> Iterator[Any]:
        assert self.keeper is not None
        capture = response.meta.get("capture")
        refused = Counter[str]()
        stack = list(reversed(things)) if isinstance(things, list) else [things]
        while stack:
            thing = stack.pop()
            if not isinstance(thing, dict):
                refused["not-an-object"] += 1
                continue
            data = thing.get("data") or {}
            if thing.get("kind") == "t1":
                problem = thing_problem(thing, "t1")
                if problem is not None:
                    refused[problem] += 1
                    continue
                self.stats.inc_value("reddit/comments")
                yield self.keeper.track(target, post_item(self.source, self.comment_post(data, target),
                                                          capture=capture))
                replies = data.get("replies")
                if isinstance(replies, dict):  # a Listing; "" when there are none
                    stack.extend(reversed(replies.get("data", {}).get("children") or []))
            elif thing.get("kind") == "more":
                ids = [str(c) for c in data.get("children") or []]
                if not ids:
                    self.stats.inc_value("reddit/continue_thread")
                    continue
                for start in range(0, len(ids), MORE_BATCH):
                    self.stats.inc_value("reddit/more")
                    params = {"api_type": "json", "link_id": link_id,
                              "children": ",".join(ids[start:start + MORE_BATCH]), "raw_json": 1}
                    yield self._request(f"{self.base}/api/morechildren.json?{urlencode(params)}", target,
                                        self.parse_more, {"link_id": link_id})
            else:
                refused[thing_problem(thing, "t1") or "not-a-comment"] += 1
        reject(self, refused, url=response.url, target=target, expected="Reddit comments (t1)")

    # -- failures ----------------------------------------------------------------------------

    def target_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        target_failed(self, self.keeper, url=request.url, target=request.meta.get("target", ""),
                      failure=failure, counter="reddit/target_failed")

    def _bad(self, response: Response, target: str) -> None:
        target_failed(self, self.keeper, url=response.url, target=target, counter="reddit/bad_response")

    # -- mapping -----------------------------------------------------------------------------

    def link_post(self, data: dict[str, Any], target: str) -> Post:
        """A ``t3`` thing's data as a :class:`Post`."""
        title = data.get("title") or ""
        body = data.get("selftext") or ""
        engagement = {key: int(data[field]) for key, field in (
            ("score", "score"), ("ups", "ups"), ("comments", "num_comments"), ("crossposts", "num_crossposts"))
            if isinstance(data.get(field), int)}
        return Post(
            platform=PLATFORM, post_id=data["name"], permalink=self.base + data["permalink"],
            text="\n\n".join(t for t in (title, body) if t), title=title,
            author=data.get("author") if _handle(data.get("author")) else None,
            author_handle=_handle(data.get("author")), published_at=_when(data.get("created_utc")),
            quote_of=data.get("crosspost_parent"), media_urls=media_urls(data), engagement=engagement,
            target=target,
        )

    def comment_post(self, data: dict[str, Any], target: str) -> Post:
        """A ``t1`` thing's data as a :class:`Post` replying to its parent."""
        return Post(
            platform=PLATFORM, post_id=data["name"],
            permalink=self.base + data["permalink"] if data.get("permalink") else
            f"{self.base}/comments/{data.get('link_id', '').removeprefix('t3_')}/_/{data.get('id')}/",
            text=data.get("body") or "",
            author=data.get("author") if _handle(data.get("author")) else None,
            author_handle=_handle(data.get("author")), published_at=_when(data.get("created_utc")),
            reply_to=data.get("parent_id"),
            engagement={"score": int(data["score"])} if isinstance(data.get("score"), int) else {},
            target=target,
        )
