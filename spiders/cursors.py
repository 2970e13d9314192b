"""Per-target paging cursors that never run ahead of what is stored.

A social spider follows several targets (a hashtag, an account, a subreddit, a search, a channel)
and pages through each. For each it keeps a high-water mark in the control store
(``ControlStore.get_cursor`` / ``set_cursor``, key ``<target>``) such as the newest post id or
post time, so the next crawl asks only for newer posts or stops paging where the last one began.
The mark may be written only once everything it covers is in the store; otherwise a crawl that
dies half-way would make the next one skip posts. :class:`CursorKeeper` enforces that:

- the spider calls :meth:`~CursorKeeper.opened` when it creates each request for a target and
  :meth:`~CursorKeeper.closed` when that request's callback (or errback) has finished, so a target
  with a next page still to fetch is never complete;
- it calls :meth:`~CursorKeeper.track` for every item just before yielding it. Scrapy's
  ``item_scraped`` signal, sent after every pipeline stored the item, settles it. Items are held
  by identity together with their target, so items of different targets are never confused;
- it offers candidate marks with :meth:`~CursorKeeper.advance`; the keeper keeps the newest by
  the spider's ``newer`` comparison (ids as numbers, times as ISO strings, ...).

The newest mark is written when the target has no outstanding requests, no unsettled items and
no failure, and only when it is newer than the stored one (a cursor never moves backwards). A
request that fails, a response the spider cannot read, or an item the pipeline fails on or drops
(``item_error``, ``item_dropped``) marks the target failed (:meth:`~CursorKeeper.fail`): its mark
is then not written in this crawl, and the next crawl fetches the same range again (posts are
de-duplicated by id, so that costs requests, never documents).

It also keeps the paging bookkeeping the spiders share: the page limit per target and crawl
(:meth:`~CursorKeeper.page_fetched`), whether a post was stored by an earlier crawl
(:meth:`~CursorKeeper.stored_before`), and why paging stopped (:meth:`~CursorKeeper.finished`).

Stats: ``social/pages``, ``social/posts`` (items yielded), ``social/stopped_at_known``,
``social/page_limit``, ``cursors/updated``, ``cursors/not_updated`` (a target whose mark stayed
where it was because something failed or the crawl ended early).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from scrapy import signals

from osintel.records import document_id_for_post
from osintel.store import ControlStore
from spiders.items import Collected

log = logging.getLogger(__name__)

#: Default number of pages fetched per target and crawl (``options.max_pages_per_target``).
DEFAULT_MAX_PAGES_PER_TARGET = 5

#: Why paging of a target stopped, as passed to :meth:`CursorKeeper.finished`.
END, KNOWN, PAGE_LIMIT = "end", "known", "page-limit"


def _string_newer(a: str, b: str) -> bool:
    return a > b


@dataclass
class _Target:
    previous: str | None  # the mark stored by the last complete crawl
    requests: int = 0
    items: int = 0
    pages: int = 0
    best: str | None = None  # the newest mark offered in this crawl
    written: str | None = None  # the mark this crawl has written
    failed: bool = False


class CursorKeeper:
    """Cursor and paging bookkeeping for one source's spider (see the module docstring).

    Create it once the spider has its crawler (in ``start``). ``max_pages`` bounds the pages
    fetched per target and crawl; ``newer(a, b)`` says whether mark ``a`` is newer than ``b``
    (default: string comparison, right for ISO 8601 UTC times).
    """

    def __init__(self, crawler: Any, source_id: str, *, max_pages: int = DEFAULT_MAX_PAGES_PER_TARGET,
                 newer: Callable[[str, str], bool] = _string_newer) -> None:
        self.source_id = source_id
        self.max_pages = max_pages
        self.newer = newer
        self.stats = crawler.stats
        path = crawler.settings.get("OSINTEL_STORE_PATH")
        url = crawler.settings.get("OSINTEL_STORE_URL", "")
        self.store: ControlStore | None = ControlStore(path, url=url) if path else None
        self.targets: dict[str, _Target] = {}
        self._items: dict[int, tuple[Any, str]] = {}  # id(item) -> (item, target); holding it keeps the id unique
        self._ours: set[str] = set()  # document ids yielded by this crawl
        crawler.signals.connect(self._scraped, signal=signals.item_scraped)
        crawler.signals.connect(self._lost, signal=signals.item_error)
        crawler.signals.connect(self._lost, signal=signals.item_dropped)
        crawler.signals.connect(self._spider_closed, signal=signals.spider_closed)

    def _target(self, target: str) -> _Target:
        state = self.targets.get(target)
        if state is None:
            previous = self.store.get_cursor(self.source_id, target) if self.store is not None else None
            state = self.targets[target] = _Target(previous=previous)
        return state

    # -- reading -------------------------------------------------------------------------------

    def previous_cursor(self, target: str) -> str | None:
        """The mark stored by the last complete crawl of ``target`` (None on a first crawl).

        Read once per crawl: a mark this crawl writes does not change the answer.
        """
        return self._target(target).previous

    def stored_before(self, platform: str, post_id: str) -> bool:
        """True when the post was stored by an earlier crawl (not merely yielded by this one)."""
        doc_id = document_id_for_post(platform, post_id)
        if doc_id in self._ours or self.store is None:
            return False
        return self.store.get_document(doc_id) is not None

    # -- requests and pages --------------------------------------------------------------------

    def opened(self, target: str) -> None:
        """A request for ``target`` was created; call :meth:`closed` when its callback ends."""
        self._target(target).requests += 1

    def closed(self, target: str) -> None:
        """A request for ``target`` finished (callback or errback done)."""
        self._target(target).requests -= 1
        self._maybe_commit(target)

    def page_fetched(self, target: str) -> bool:
        """Count a fetched page of ``target``; False once it has reached the page limit."""
        state = self._target(target)
        state.pages += 1
        self.stats.inc_value("social/pages")
        return state.pages < self.max_pages

    def finished(self, target: str, reason: str) -> None:
        """Paging of ``target`` stopped: ``end``, ``known`` (reached posts stored before) or
        ``page-limit``. Only counted; the mark is written when the target settles."""
        if reason == KNOWN:
            self.stats.inc_value("social/stopped_at_known")
        elif reason == PAGE_LIMIT:
            self.stats.inc_value("social/page_limit")
        log.debug("paging of %s %s stopped (%s)", self.source_id, target, reason,
                  extra={"source_id": self.source_id, "target": target, "reason": reason})

    def fail(self, target: str) -> None:
        """Something of ``target`` failed: this crawl must not move its mark."""
        self._target(target).failed = True

    # -- items and marks -----------------------------------------------------------------------

    def track(self, target: str, item: Any) -> Any:
        """Register ``item`` (about to be yielded) under ``target``; returns it."""
        self._target(target).items += 1
        self._items[id(item)] = (item, target)
        if isinstance(item, Collected):
            self._ours.add(item.document.id)
        self.stats.inc_value("social/posts")
        return item

    def advance(self, target: str, value: str | None) -> None:
        """Offer ``value`` as ``target``'s new mark; the newest offered is kept."""
        if value is None:
            return
        state = self._target(target)
        if state.best is None or self.newer(value, state.best):
            state.best = value
        self._maybe_commit(target)

    # -- signals -------------------------------------------------------------------------------

    def _settle(self, item: Any) -> str | None:
        entry = self._items.pop(id(item), None)
        if entry is None:
            return None
        target = entry[1]
        self.targets[target].items -= 1
        return target

    def _scraped(self, item: Any, **_: Any) -> None:
        target = self._settle(item)
        if target is not None:
            self._maybe_commit(target)

    def _lost(self, item: Any, **_: Any) -> None:
        target = self._settle(item)
        if target is not None:
            self.fail(target)

    def _pending(self, state: _Target) -> str | None:
        """The mark waiting to be written, if any: newer than both the stored and the written one."""
        value = state.best
        if value is None:
            return None
        for old in (state.previous, state.written):
            if old is not None and not self.newer(value, old):
                return None
        return value

    def _maybe_commit(self, target: str) -> None:
        state = self.targets[target]
        if state.failed or state.requests > 0 or state.items > 0 or self.store is None:
            return
        value = self._pending(state)
        if value is None:
            return
        self.store.set_cursor(self.source_id, target, value)
        state.written = value
        self.stats.inc_value("cursors/updated")
        log.info("cursor for %s %s is now %s", self.source_id, target, value,
                 extra={"source_id": self.source_id, "target": target, "cursor": value})

    def _spider_closed(self, spider: Any = None, reason: str = "") -> None:
        for target, state in self.targets.items():
            if self.store is not None and (state.failed or self._pending(state) is not None):
                self.stats.inc_value("cursors/not_updated")
                log.warning("cursor for %s %s left unchanged (%s)", self.source_id, target,
                            "a request or item failed" if state.failed else "crawl ended early",
                            extra={"source_id": self.source_id, "target": target})
        if self.store is not None:
            self.store.close()
            self.store = None
