"""MastodonSpider: public hashtag and account timelines of one Mastodon instance, no login.

Source (``kind: mastodon``)::

    - id: fedi-watch
      kind: mastodon
      urls: ["https://mastodon.example"]        # the instance
      targets: ["tag:countylines", "account:109876000000000001", "account:@harbourwatch"]
      options: {max_pages_per_target: 5, limit: 40, exclude_reblogs: false}

``tag:<name>`` reads ``/api/v1/timelines/tag/<name>``; ``account:<id>`` reads
``/api/v1/accounts/<id>/statuses`` (``account:@user`` first resolves the id with
``/api/v1/accounts/lookup``). Paging uses the ``Link`` header, never ids guessed from the body
(Mastodon's own advice): the first crawl of a target walks back through ``rel="next"``
(``max_id``) for up to ``max_pages_per_target`` pages; later crawls start at ``min_id=<cursor>``
and walk forward through ``rel="prev"``, which returns the page *immediately* above the cursor, so
nothing is skipped however many statuses arrived in between. The cursor (newest status id stored)
is written through :class:`~spiders.cursors.CursorKeeper`, only after the statuses are stored.

Each status becomes a :class:`~spiders.social.Post`: post id ``<instance host>/<status id>`` (ids
are per instance), permalink ``url`` (``uri`` for a boost), text from the HTML ``content`` (with
``spoiler_text`` first), author ``display_name`` and handle ``@user@instance``, ``created_at`` in
UTC, ``in_reply_to_id`` as ``reply_to``, media attachment URLs, and ``replies_count`` /
``reblogs_count`` / ``favourites_count``. A boost yields the boosted status as its own post and a
post for the boost itself (``quote_of`` = the boosted status, same text): who amplified what, when.

Only Status entities are mapped (:func:`status_problem`: an ``id``, ``uri``, ``created_at``,
``content`` and an ``account`` object; a ``reblog`` that is a Status too). Anything else a
timeline answer holds (Account entities, Notifications, ...) is refused and counted
(``items/rejected/<reason>``, one log line per page, :func:`spiders.social.reject`), and never
moves the cursor; a page with nothing but such objects is a bad response. A lookup answer that is
not an Account is a bad response too.

Stats: ``mastodon/statuses``, ``mastodon/reblogs``, ``mastodon/bad_target``,
``mastodon/bad_response``, ``mastodon/target_failed``, ``items/rejected``, plus ``social/*``,
``cursors/*`` and ``ratelimit/*``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import lxml.html
import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from osintel.records import utc
from osintel.sources import Source
from spiders.cursors import DEFAULT_MAX_PAGES_PER_TARGET, END, PAGE_LIMIT, CursorKeeper
from spiders.social import Post, post_item, reject, screen, target_failed

log = logging.getLogger(__name__)

PLATFORM = "mastodon"
MAX_LIMIT = 40
_LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="?([a-z]+)"?', re.I)


def html_to_text(markup: str | None) -> str:
    """Plain text of Mastodon's status HTML: paragraphs become blank lines, ``<br>`` a newline."""
    if not markup or not markup.strip():
        return ""
    root = lxml.html.fragment_fromstring(markup, create_parent="div")
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    blocks = [child for child in root if child.tag == "p"]
    texts = [b.text_content().strip() for b in blocks] if blocks else [root.text_content().strip()]
    return "\n\n".join(t for t in texts if t)


def parse_link_header(value: str | None) -> dict[str, str]:
    """``{rel: url}`` from an RFC 8288 ``Link`` header."""
    return {rel.lower(): url for url, rel in _LINK_RE.findall(value or "")}


def status_problem(obj: Any) -> str | None:
    """None when ``obj`` has the shape of a Mastodon Status; otherwise why it is not one.

    Reasons: ``not-an-object``, ``account`` (an Account entity), ``notification`` (a Notification
    entity), ``not-a-status`` (anything else lacking a Status's fields), ``bad-reblog``.
    """
    if not isinstance(obj, dict):
        return "not-an-object"
    has_id = isinstance(obj.get("id"), (str, int)) and not isinstance(obj.get("id"), bool) and str(obj["id"]).strip()
    if not (has_id and isinstance(obj.get("uri"), str) and isinstance(obj.get("created_at"), str)
            and isinstance(obj.get("content"), str) and isinstance(obj.get("account"), dict)):
        if "acct" in obj or "username" in obj:
            return "account"
        if "type" in obj and ("status" in obj or "account" in obj):
            return "notification"
        return "not-a-status"
    reblog = obj.get("reblog")
    if reblog is not None and (not isinstance(reblog, dict) or status_problem(reblog) is not None):
        return "bad-reblog"
    return None


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


class MastodonSpider(scrapy.Spider):
    """Collects one ``kind: mastodon`` source. Start with ``source=<Source>``."""

    name = "mastodon"

    def __init__(self, *args: Any, source: Source | dict[str, Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.source = source if isinstance(source, Source) else Source.model_validate(source)
        self.base = self.source.urls[0].rstrip("/")
        self.instance = urlsplit(self.base).netloc
        options = self.source.options
        self.max_pages = int(options.get("max_pages_per_target", DEFAULT_MAX_PAGES_PER_TARGET))
        self.limit = max(1, min(int(options.get("limit", MAX_LIMIT)), MAX_LIMIT))
        self.exclude_reblogs = bool(options.get("exclude_reblogs", False))
        self.keeper: CursorKeeper | None = None

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    async def start(self) -> AsyncIterator[Any]:
        self.keeper = CursorKeeper(self.crawler, self.source.id, max_pages=self.max_pages,
                                   newer=lambda a, b: int(a) > int(b))
        for target in self.source.targets:
            request = self.target_request(target)
            if request is not None:
                yield request

    def parse(self, response: Response, **kwargs: Any) -> Any:  # pragma: no cover - never the callback
        return []

    # -- requests ----------------------------------------------------------------------------

    def target_request(self, target: str) -> Request | None:
        kind, _, value = target.partition(":")
        value = value.strip()
        if kind == "tag" and value:
            return self._timeline(target, f"/api/v1/timelines/tag/{quote(value.lstrip('#'), safe='')}")
        if kind == "account" and value.isdigit():
            return self._timeline(target, f"/api/v1/accounts/{value}/statuses")
        if kind == "account" and value:
            url = f"{self.base}/api/v1/accounts/lookup?{urlencode({'acct': value.lstrip('@')})}"
            return self._request(url, target, self.parse_lookup, {})
        self.stats.inc_value("mastodon/bad_target")
        log.error("%s: target %r is neither tag:<name> nor account:<id|@user>", self.source.id, target,
                  extra={"source_id": self.source.id, "target": target})
        return None

    def _timeline(self, target: str, path: str) -> Request:
        assert self.keeper is not None
        params: dict[str, Any] = {"limit": self.limit}
        if self.exclude_reblogs and "/accounts/" in path:
            params["exclude_reblogs"] = "true"
        cursor = self.keeper.previous_cursor(target)
        if cursor:
            params["min_id"] = cursor
        state = {"forward": bool(cursor), "newest": cursor}
        return self._request(f"{self.base}{path}?{urlencode(params)}", target, self.parse_timeline, state)

    def _request(self, url: str, target: str, callback: Any, state: dict[str, Any]) -> Request:
        assert self.keeper is not None
        self.keeper.opened(target)
        return Request(url, callback=callback, errback=self.target_failed, dont_filter=True,
                       headers={"Accept": "application/json"},
                       cb_kwargs={"target": target, "state": state}, meta={"target": target})

    # -- callbacks ---------------------------------------------------------------------------

    def parse_lookup(self, response: Response, target: str, state: dict[str, Any]) -> Iterator[Any]:
        assert self.keeper is not None
        try:
            account = json.loads(response.body)
            account_id = str(account["id"])
            if not account_id or not isinstance(account.get("acct", account.get("username")), str):
                raise ValueError("not an Account entity")
        except (ValueError, KeyError, TypeError):
            self._bad(response, target)
            return
        yield self._timeline(target, f"/api/v1/accounts/{quote(account_id, safe='')}/statuses")
        self.keeper.closed(target)

    def parse_timeline(self, response: Response, target: str, state: dict[str, Any]) -> Iterator[Any]:
        assert self.keeper is not None
        try:
            statuses = json.loads(response.body)
            if not isinstance(statuses, list):
                raise ValueError("not a list")
        except ValueError:
            self._bad(response, target)
            return
        accepted, refused = screen(statuses, status_problem)
        reject(self, refused, url=response.url, target=target, expected="Mastodon statuses")
        if statuses and not accepted:  # not a timeline at all: keep the cursor, page no further
            self._bad(response, target)
            return
        capture = response.meta.get("capture")
        for status in accepted:
            for post in self.status_posts(status, target):
                yield self.keeper.track(target, post_item(self.source, post, capture=capture))
        ids = [int(s["id"]) for s in accepted if str(s["id"]).isdigit()]
        if ids and (state["newest"] is None or max(ids) > int(state["newest"])):
            state["newest"] = str(max(ids))
        links = parse_link_header((response.headers.get("Link") or b"").decode("latin-1"))
        pages_left = self.keeper.page_fetched(target)
        follow = links.get("prev" if state["forward"] else "next") if len(statuses) >= self.limit else None
        # The keeper writes the newest id only once this target has no page left to fetch and
        # every status is stored: a crawl dying half-way leaves the old cursor behind.
        self.keeper.advance(target, state["newest"])
        if follow and pages_left:
            yield self._request(follow, target, self.parse_timeline, dict(state))
        else:
            self.keeper.finished(target, PAGE_LIMIT if follow else END)
        self.keeper.closed(target)

    def target_failed(self, failure: Failure) -> None:
        request = failure.request  # type: ignore[attr-defined]
        target_failed(self, self.keeper, url=request.url, target=request.meta.get("target", ""),
                      failure=failure, counter="mastodon/target_failed")

    def _bad(self, response: Response, target: str) -> None:
        target_failed(self, self.keeper, url=response.url, target=target, counter="mastodon/bad_response")

    # -- mapping -----------------------------------------------------------------------------

    def status_posts(self, status: dict[str, Any], target: str) -> list[Post]:
        """The posts a timeline entry stands for: the status, or a boost and what it boosted.

        ``status`` must have passed :func:`status_problem`; anything else gives no post.
        """
        if status_problem(status) is not None:
            return []
        boosted = status.get("reblog")
        if isinstance(boosted, dict):
            self.stats.inc_value("mastodon/reblogs")
            original = self.status_post(boosted, target)
            boost = self.status_post(status, target)
            boost.quote_of = original.post_id
            boost.text = original.text
            boost.language = original.language
            return [original, boost]
        self.stats.inc_value("mastodon/statuses")
        return [self.status_post(status, target)]

    def status_post(self, status: dict[str, Any], target: str) -> Post:
        account = status.get("account") or {}
        acct = str(account.get("acct") or account.get("username") or "")
        handle = f"@{acct}" if "@" in acct else f"@{acct}@{self.instance}"
        text = html_to_text(status.get("content"))
        if status.get("spoiler_text"):
            text = f"{status['spoiler_text']}\n\n{text}".strip()
        media = [m.get("url") or m.get("remote_url") for m in status.get("media_attachments") or []]
        reply = status.get("in_reply_to_id")
        return Post(
            platform=PLATFORM,
            post_id=self.qualified(status["id"]),
            permalink=status.get("url") or status.get("uri") or f"{self.base}/statuses/{status['id']}",
            text=text,
            author=account.get("display_name") or account.get("username"),
            author_handle=handle if acct else None,
            published_at=parse_time(status.get("created_at")),
            reply_to=self.qualified(reply) if reply else None,
            media_urls=[m for m in media if m],
            engagement={key: int(status[field]) for key, field in (
                ("replies", "replies_count"), ("reblogs", "reblogs_count"), ("favourites", "favourites_count"))
                if isinstance(status.get(field), int)},
            target=target,
            language=status.get("language"),
        )

    def qualified(self, status_id: Any) -> str:
        """A status id made unique across instances: ``<instance host>/<id>``."""
        return f"{self.instance}/{status_id}"
