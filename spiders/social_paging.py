"""Incremental paging for the social spiders: per-target cursors that never skip a post.

A social spider follows several targets (an account, a search, a channel) and pages back through
each. :class:`TargetPaging` keeps, per target:

* the cursor stored by the last *complete* crawl (``store.get_cursor(source_id, target)``): a
  high-water mark such as the newest message id or post time;
* whether a post was stored by an earlier crawl (so a later crawl stops paging there);
* how many posts were handed to the pipeline and how many it has stored (Scrapy's
  ``item_scraped`` signal fires only after every pipeline has processed the item).

The new cursor is written only when the target's paging ended cleanly (no failed page) *and* every
post yielded for it has been stored. A crawl that dies part-way therefore leaves the old cursor in
place, and the next crawl pages back over the gap instead of stopping above it.

Stats: ``social/pages``, ``social/posts``, ``social/posts_known`` (already stored, skipped),
``social/stopped_at_known``, ``social/page_limit``, ``social/cursor_saved``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scrapy import signals

from osintel.records import document_id_for_post
from osintel.store import ControlStore
from spiders.items import Collected

log = logging.getLogger(__name__)

#: Default number of pages fetched per target and crawl (``options.max_pages_per_target``).
DEFAULT_MAX_PAGES_PER_TARGET = 5


@dataclass
class _Target:
    previous: str | None
    pages: int = 0
    yielded: int = 0
    stored: int = 0
    finished: bool = False
    failed: bool = False
    new_cursor: str | None = None
    saved: bool = False


class TargetPaging:
    """Per-target paging state and cursor commits for one spider (see the module docstring)."""

    def __init__(self, crawler: Any, source_id: str, *, max_pages: int) -> None:
        self.crawler = crawler
        self.source_id = source_id
        self.max_pages = max_pages
        path = crawler.settings.get("OSINTEL_STORE_PATH")
        self.store: ControlStore | None = ControlStore(path) if path else None
        self._targets: dict[str, _Target] = {}
        self._ours: set[str] = set()
        crawler.signals.connect(self._item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self._item_failed, signal=signals.item_error)
        crawler.signals.connect(self._item_failed, signal=signals.item_dropped)

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    def close(self) -> None:
        if self.store is not None:
            self.store.close()
            self.store = None

    def target(self, name: str) -> _Target:
        state = self._targets.get(name)
        if state is None:
            previous = self.store.get_cursor(self.source_id, name) if self.store is not None else None
            state = self._targets[name] = _Target(previous=previous)
        return state

    def previous_cursor(self, name: str) -> str | None:
        """The cursor saved by the last complete crawl of ``name`` (None on a first crawl)."""
        return self.target(name).previous

    def page_fetched(self, name: str) -> bool:
        """Count a fetched page; False once the target has reached its page limit."""
        state = self.target(name)
        state.pages += 1
        self.stats.inc_value("social/pages")
        return state.pages < self.max_pages

    def stored_before(self, platform: str, post_id: str) -> bool:
        """True when the post was stored by an earlier crawl (not merely yielded by this one)."""
        doc_id = document_id_for_post(platform, post_id)
        if doc_id in self._ours or self.store is None:
            return False
        return self.store.get_document(doc_id) is not None

    def yielded(self, name: str, item: Collected) -> Collected:
        """Record that ``item`` (a post of target ``name``) goes to the pipeline; returns it."""
        self.target(name).yielded += 1
        self._ours.add(item.document.id)
        self.stats.inc_value("social/posts")
        return item

    def advance(self, name: str, value: str | None, *, newer: Any = None) -> None:
        """Offer ``value`` as the target's new cursor; ``newer(a, b)`` says whether a beats b."""
        if value is None:
            return
        state = self.target(name)
        if state.new_cursor is None or (newer(value, state.new_cursor) if newer else value > state.new_cursor):
            state.new_cursor = value

    def failed(self, name: str) -> None:
        """A page of ``name`` failed: this crawl must not move its cursor."""
        self.target(name).failed = True

    def finished(self, name: str, reason: str) -> None:
        """Paging of ``name`` ended (``end``, ``known`` or ``page-limit``)."""
        state = self.target(name)
        state.finished = True
        if reason == "known":
            self.stats.inc_value("social/stopped_at_known")
        elif reason == "page-limit":
            self.stats.inc_value("social/page_limit")
        self._maybe_commit(name)

    # -- signals -------------------------------------------------------------------------------

    def _target_of(self, item: Any) -> str | None:
        if isinstance(item, Collected) and item.document.id in self._ours:
            target = item.document.extra.get("target")
            return str(target) if target is not None else None
        return None

    def _item_scraped(self, item: Any, **_: Any) -> None:
        name = self._target_of(item)
        if name is not None and name in self._targets:
            self._targets[name].stored += 1
            self._maybe_commit(name)

    def _item_failed(self, item: Any, **_: Any) -> None:
        name = self._target_of(item)
        if name is not None and name in self._targets:
            self._targets[name].failed = True

    def _maybe_commit(self, name: str) -> None:
        state = self._targets[name]
        if (state.saved or not state.finished or state.failed or state.stored < state.yielded
                or state.new_cursor is None or self.store is None):
            return
        if state.previous is not None and state.new_cursor == state.previous:
            state.saved = True
            return
        self.store.set_cursor(self.source_id, name, state.new_cursor)
        state.saved = True
        self.stats.inc_value("social/cursor_saved")
        log.info("cursor of %s/%s is now %s", self.source_id, name, state.new_cursor,
                 extra={"source_id": self.source_id, "target": name, "cursor": state.new_cursor})
