"""Per-target paging cursors that never run ahead of what is stored.

A social spider follows several targets (a hashtag, an account, a subreddit). For each it keeps a
high-water mark in the control store (``ControlStore.get_cursor`` / ``set_cursor``, key
``<target>``) so the next crawl asks only for newer posts. The mark may be written only once
everything it covers is in the store; otherwise a crawl that dies half-way would make the next one
skip posts. :class:`CursorKeeper` enforces that:

- the spider calls :meth:`CursorKeeper.opened` before yielding each request for a target and
  :meth:`CursorKeeper.closed` when that request's callback (or errback) has finished;
- it calls :meth:`CursorKeeper.track` for every item just before yielding it; Scrapy's
  ``item_scraped`` signal (sent after the item pipeline stored the item) settles it;
- it calls :meth:`CursorKeeper.propose` with the new mark once the items it covers were yielded.

The proposed mark is written when the target has no outstanding requests and no unsettled items.
An item the pipeline fails on, or a request that fails, marks the target failed (``fail``): its
mark is then not written in this crawl, and the next crawl fetches the same range again (posts are
de-duplicated by id, so that costs requests, never documents).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from scrapy import signals

from osintel.store import ControlStore

log = logging.getLogger(__name__)


@dataclass
class _Target:
    requests: int = 0
    items: int = 0
    proposed: str | None = None
    failed: bool = False


class CursorKeeper:
    """Cursor bookkeeping for one source's spider (see the module docstring)."""

    def __init__(self, crawler: Any, source_id: str) -> None:
        self.source_id = source_id
        self.stats = crawler.stats
        path = crawler.settings.get("OSINTEL_STORE_PATH")
        self.store = ControlStore(path) if path else None
        self.targets: dict[str, _Target] = {}
        self._items: dict[int, tuple[Any, str]] = {}
        crawler.signals.connect(self._scraped, signal=signals.item_scraped)
        crawler.signals.connect(self._lost, signal=signals.item_error)
        crawler.signals.connect(self._lost, signal=signals.item_dropped)
        crawler.signals.connect(self._closed, signal=signals.spider_closed)

    def _target(self, target: str) -> _Target:
        return self.targets.setdefault(target, _Target())

    def get(self, target: str) -> str | None:
        """The mark stored by an earlier crawl, or None on the first crawl."""
        return self.store.get_cursor(self.source_id, target) if self.store else None

    def opened(self, target: str) -> None:
        self._target(target).requests += 1

    def closed(self, target: str) -> None:
        state = self._target(target)
        state.requests -= 1
        self._maybe_commit(target)

    def track(self, target: str, item: Any) -> Any:
        """Register ``item`` (about to be yielded) under ``target``; returns it."""
        self._target(target).items += 1
        self._items[id(item)] = (item, target)
        return item

    def propose(self, target: str, value: str) -> None:
        """``value`` may be stored once everything yielded so far for ``target`` is stored."""
        self._target(target).proposed = value
        self._maybe_commit(target)

    def fail(self, target: str) -> None:
        self._target(target).failed = True

    def _settle(self, item: Any) -> str | None:
        entry = self._items.pop(id(item), None)
        if entry is None:
            return None
        target = entry[1]
        self._target(target).items -= 1
        return target

    def _scraped(self, item: Any, **_: Any) -> None:
        target = self._settle(item)
        if target is not None:
            self._maybe_commit(target)

    def _lost(self, item: Any, **_: Any) -> None:
        target = self._settle(item)
        if target is not None:
            self.fail(target)

    def _maybe_commit(self, target: str) -> None:
        state = self.targets[target]
        if state.failed or state.requests > 0 or state.items > 0 or state.proposed is None:
            return
        value, state.proposed = state.proposed, None
        if self.store is not None:
            self.store.set_cursor(self.source_id, target, value)
        self.stats.inc_value("cursors/updated")
        log.info("cursor for %s %s is now %s", self.source_id, target, value,
                 extra={"source_id": self.source_id, "target": target, "cursor": value})

    def _closed(self, spider: Any = None, reason: str = "") -> None:
        for target, state in self.targets.items():
            if state.proposed is not None:
                self.stats.inc_value("cursors/not_updated")
                log.warning("cursor for %s %s left unchanged (%s)", self.source_id, target,
                            "a request or item failed" if state.failed else "crawl ended early",
                            extra={"source_id": self.source_id, "target": target})
        if self.store is not None:
            self.store.close()
            self.store = None
