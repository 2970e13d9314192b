"""Results that depend only on the index's contents, kept while the index does not change.

Counting facets, a histogram or the stories of a broad query walks every match: at a million
documents that costs more than the search itself, and an analyst's UI asks the same counts again
and again (paging, returning to a query, a dashboard). Resolving a geo filter's cells costs a few
milliseconds of Python. Both are kept here per *index version*: the bytes of tantivy's
``meta.json``, which every commit (ours or another process's) and every merge rewrites with a new
opstamp or segment list. A searcher is tagged with the version read before and after it was
opened; if the two differ (a commit landed meanwhile) the searcher has no version and nothing is
cached or served for it. A new version drops every entry of the old one.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from pathlib import Path

#: Entries kept for the current version (least recently used dropped first).
MAX_ENTRIES = 256


def read_version(index_path: Path) -> bytes | None:
    """The current version of the index at ``index_path`` (``None`` if unreadable)."""
    try:
        return (index_path / "meta.json").read_bytes()
    except OSError:
        return None


class VersionCache:
    """A small thread-safe LRU map whose entries belong to one index version."""

    def __init__(self, *, max_entries: int = MAX_ENTRIES) -> None:
        self._max = max_entries
        self._version: bytes | None = None
        self._entries: OrderedDict[Hashable, object] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, version: bytes | None, key: Hashable) -> object | None:
        """The value stored for ``key`` at ``version``, else ``None``."""
        if version is None:
            return None
        with self._lock:
            if version != self._version:
                self.misses += 1
                return None
            value = self._entries.get(key)
            if value is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return value

    def put(self, version: bytes | None, key: Hashable, value: object) -> None:
        """Keep ``value`` for ``key`` at ``version`` (dropping every older version's entry)."""
        if version is None:
            return
        with self._lock:
            if version != self._version:
                self._entries.clear()
                self._version = version
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
