"""The embedded index keeps facet counts and resolved geo filters until the index changes.

Counts of engine calls are taken with a profile hook on the real ``tantivy.Searcher`` methods;
the commits come from a second :class:`TantivyIndex` on the same directory, as they would from
the enrichment worker while the API serves searches.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from indexer.tantivy_cache import VersionCache
from indexer.tantivy_index import TantivyIndex
from osintel.records import Document, Location, SourceRef

WHEN = datetime(2025, 3, 1, tzinfo=timezone.utc)
NEAR = 'near:"51.51,-0.13,50km"'


class EngineCalls:
    """Counts calls of ``tantivy.Searcher`` methods made by this thread while active."""

    def __init__(self) -> None:
        self.count: Counter[str] = Counter()

    def _hook(self, frame: FrameType, event: str, arg: Any) -> None:
        name = getattr(arg, "__qualname__", "")
        if event == "c_call" and name.startswith("Searcher."):
            self.count[name.split(".", 1)[1]] += 1

    def __enter__(self) -> EngineCalls:
        self.count = Counter()
        sys.setprofile(self._hook)
        return self

    def __exit__(self, *exc: object) -> None:
        sys.setprofile(None)


def _doc(n: int, source: str, lat: float, lon: float) -> Document:
    return Document(url=f"https://cache.example/{n}", source=SourceRef(id=source, name=source, kind="feed"),
                    title=f"Seizure {n}", text=f"Cocaine seized at the port, report {n}.", published_at=WHEN,
                    locations=[Location(name="Somewhere", mention="Somewhere", lat=lat, lon=lon, country_code="GB")])


@pytest.fixture
def indexes(tmp_path: Path) -> Iterator[tuple[TantivyIndex, TantivyIndex]]:
    """A writer with 30 documents (London and Leeds) and a reader of the same directory."""
    writer = TantivyIndex(tmp_path, writer_heap_bytes=20_000_000)
    writer.upsert([_doc(i, f"source-{i % 3}", *((51.5, -0.1) if i % 2 else (53.8, -1.55))) for i in range(30)])
    reader = TantivyIndex(tmp_path)
    yield writer, reader
    reader.close()
    writer.close()


def test_facets_asked_again_are_not_counted_again_until_a_commit(
    indexes: tuple[TantivyIndex, TantivyIndex],
) -> None:
    writer, reader = indexes
    calls = EngineCalls()
    with calls:
        first = reader.search("cocaine", facets=["source"], histogram="day")
    assert calls.count["aggregate"] == 1
    with calls:
        again = reader.search("cocaine", facets=["source"], histogram="day")
    assert calls.count["aggregate"] == 0
    assert again.facets == first.facets == {"source": {"source-0": 10, "source-1": 10, "source-2": 10}}
    assert again.histogram == first.histogram
    # Another facet, or the same facet of another query, is counted.
    with calls:
        reader.search("cocaine", facets=["language"])
        reader.search("port", facets=["source"])
    assert calls.count["aggregate"] == 2

    writer.upsert([_doc(100, "source-new", 51.5, -0.1)])
    with calls:
        after = reader.search("cocaine", facets=["source"], histogram="day")
    assert calls.count["aggregate"] == 1
    assert after.facets["source"]["source-new"] == 1 and after.total == 31
    assert after.histogram == [(WHEN.date().isoformat(), 31)]


def test_a_caller_changing_its_facets_does_not_change_the_next_answer(
    indexes: tuple[TantivyIndex, TantivyIndex],
) -> None:
    _, reader = indexes
    reader.search("cocaine", facets=["source"]).facets["source"]["source-0"] = 999
    assert reader.search("cocaine", facets=["source"]).facets["source"]["source-0"] == 10


def test_a_geo_filter_is_resolved_once_per_index_version(indexes: tuple[TantivyIndex, TantivyIndex]) -> None:
    writer, reader = indexes
    calls = EngineCalls()
    with calls:
        first = reader.search(NEAR, limit=50)
    assert calls.count["doc_freq"] > 0 and first.total == 15
    with calls:
        again = reader.search(NEAR, limit=50)
    assert calls.count["doc_freq"] == 0
    assert [h.id for h in again.hits] == [h.id for h in first.hits]

    writer.upsert([_doc(200, "source-0", 51.52, -0.12), _doc(201, "source-0", 53.8, -1.55)])
    with calls:
        after = reader.search(NEAR, limit=50)
    assert calls.count["doc_freq"] > 0
    assert after.total == 16 and _doc(200, "source-0", 0, 0).id in {h.id for h in after.hits}


def test_nothing_is_cached_for_a_searcher_opened_while_a_commit_landed() -> None:
    cache = VersionCache(max_entries=2)
    cache.put(None, "k", 1)
    assert cache.get(None, "k") is None
    cache.put(b"v1", "a", 1)
    cache.put(b"v1", "b", 2)
    cache.put(b"v1", "c", 3)  # over max_entries: the least recently used goes
    assert (cache.get(b"v1", "a"), cache.get(b"v1", "c")) == (None, 3)
    cache.put(b"v2", "d", 4)  # a new version drops the old one's entries
    assert (cache.get(b"v1", "c"), cache.get(b"v2", "c"), cache.get(b"v2", "d")) == (None, None, 4)
