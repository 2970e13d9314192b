"""The embedded index collapses large result sets from a bounded scan.

Up to ``EXACT_SCAN`` matches are read in one pass and counted exactly; beyond, rows are read from
the start of the order only until the page's stories are found (doubling), copies are counted per
story and the stories estimated; past ``MAX_COLLAPSE_SCAN`` rows the search is refused. The
bounds are lowered here so that a small real index takes the large-set path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

import indexer.tantivy_collapse as collapse_module
import indexer.tantivy_paging as paging_module
from indexer.query import parse_query
from indexer.tantivy_index import TantivyIndex
from osintel.errors import QueryError
from osintel.records import Document, SourceRef

START = datetime(2025, 1, 1, tzinfo=timezone.utc)
SOURCE = SourceRef(id="wire", name="Wire", kind="feed")


@pytest.fixture
def index(tmp_path: Path) -> Iterator[TantivyIndex]:
    """20 copies of one story, all newer than 20 single stories."""
    docs = [
        Document(url=f"https://bounded.example/single/{i}", source=SOURCE, title=f"Single {i}",
                 text=f"Seizure number {i} of heroin at the airport.", published_at=START + timedelta(hours=i))
        for i in range(20)
    ]
    first = Document(url="https://bounded.example/copy/0", source=SOURCE, title="Big story",
                     text="Heroin seizure at the airport, copy 0.", published_at=START + timedelta(days=5))
    first = first.model_copy(update={"cluster_id": first.id})
    copies = [first] + [
        Document(url=f"https://bounded.example/copy/{i}", source=SOURCE, title="Big story",
                 text=f"Heroin seizure at the airport, copy {i}.", published_at=START + timedelta(days=5, hours=i),
                 ).model_copy(update={"cluster_id": first.id, "duplicate_of": first.id})
        for i in range(1, 20)
    ]
    index = TantivyIndex(tmp_path / "index", writer_heap_bytes=20_000_000)
    index.upsert(docs + copies)
    yield index
    index.close()


def _page(index: TantivyIndex, **kwargs: object) -> list[tuple[str, int]]:
    result = index.search("heroin", limit=3, sort="-published", collapse=True, **kwargs)  # type: ignore[arg-type]
    return [(h.id, h.copies) for h in result.hits]


def test_a_large_result_set_collapses_from_a_bounded_scan_to_the_same_page(
    index: TantivyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    exact = index.search("heroin", limit=3, sort="-published", collapse=True)
    assert exact.stories_exact and exact.stories == 21 and exact.hits[0].copies == 20
    second_exact = _page(index, cursor=exact.next_cursor)

    monkeypatch.setattr(collapse_module, "EXACT_SCAN", 5)
    monkeypatch.setattr(collapse_module, "_MIN_SCAN", 2)
    bounded = index.search("heroin", limit=3, sort="-published", collapse=True)
    assert [(h.id, h.copies) for h in bounded.hits] == [(h.id, h.copies) for h in exact.hits]
    assert bounded.total == 40
    # The stories are the engine's estimate, no fewer than those already seen.
    assert not bounded.stories_exact and 4 <= (bounded.stories or 0) <= 40
    assert _page(index, cursor=bounded.next_cursor) == second_exact


def test_a_story_with_more_copies_than_the_scan_bound_is_refused_with_a_way_out(
    index: TantivyIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(collapse_module, "EXACT_SCAN", 5)
    monkeypatch.setattr(collapse_module, "MAX_COLLAPSE_SCAN", 16)
    with pytest.raises(QueryError, match="too many copies to collapse.*--all-copies"):
        index.search("heroin", limit=3, sort="-published", collapse=True)
    # Every copy can still be listed.
    assert len(index.search("heroin", limit=50, sort="-published").hits) == 40


def test_a_bounded_collapsed_page_counts_its_copies_in_one_engine_search(
    index: TantivyIndex, monkeypatch: pytest.MonkeyPatch, search_calls: Any
) -> None:
    exact = index.search("heroin", limit=3, sort="-published", collapse=True)
    monkeypatch.setattr(collapse_module, "EXACT_SCAN", 5)
    monkeypatch.setattr(collapse_module, "_MIN_SCAN", 2)
    with search_calls:
        bounded = index.search("heroin", limit=3, sort="-published", collapse=True)
    # 16 rows (which also count the matches) hold only the big story, 32 hold enough; then one
    # search counts the copies of the page's three stories. It was a count, the two pages and
    # one count per story: 6.
    assert search_calls.count == 3
    assert [(h.id, h.copies) for h in bounded.hits] == [(h.id, h.copies) for h in exact.hits]
    assert bounded.total == 40 and bounded.hits[0].copies == 20 and not bounded.stories_exact


def _tiered(tmp_path: Path) -> TantivyIndex:
    """Stories in three tiers of relevance; within a tier every copy has the same text, so the
    same score: tier 5 has 2 stories x 3 copies, tier 4 has 3 x 3, tier 3 has 4 x 3."""
    docs: list[Document] = []
    for tier, stories in ((5, 2), (4, 3), (3, 4)):
        text = " ".join(["heroin"] * tier + ["seized"] * (8 - tier))
        for story in range(stories):
            first = None
            for copy in range(3):
                doc = Document(url=f"https://tiers.example/{tier}/{story}/{copy}", source=SOURCE,
                               title="Airport", text=text, published_at=START)
                first = first or doc
                docs.append(doc.model_copy(update={"cluster_id": first.id,
                                                   "duplicate_of": None if doc is first else first.id}))
    tiered = TantivyIndex(tmp_path / "tiered", writer_heap_bytes=20_000_000)
    tiered.upsert(docs)
    return tiered


def test_a_relevance_page_stops_at_a_complete_prefix_that_holds_its_stories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, search_calls: Any
) -> None:
    with _tiered(tmp_path) as tiered:
        exact = [tiered.search("heroin", limit=3, collapse=True)]
        while exact[-1].next_cursor:
            exact.append(tiered.search("heroin", limit=3, collapse=True, cursor=exact[-1].next_cursor))
        monkeypatch.setattr(collapse_module, "EXACT_SCAN", 5)
        monkeypatch.setattr(collapse_module, "_MIN_SCAN", 2)
        monkeypatch.setattr(paging_module, "TIE_MARGIN", 1)
        # 16 rows asked, 18 fetched: the tier-3 group straddles the cut and is dropped; the 15
        # rows of tiers 5 and 4 are a complete prefix with the 4 stories the page needs.
        with search_calls:
            bounded = tiered.search("heroin", limit=3, collapse=True)
        assert search_calls.count == 2  # the prefix, then the copies: no wider search
        assert [(h.id, h.copies) for h in bounded.hits] == [(h.id, h.copies) for h in exact[0].hits]
        pages = [bounded]
        while pages[-1].next_cursor:
            pages.append(tiered.search("heroin", limit=3, collapse=True, cursor=pages[-1].next_cursor))
    assert [[(h.id, h.copies) for h in p.hits] for p in pages] == [[(h.id, h.copies) for h in p.hits] for p in exact]
    assert sum(len(p.hits) for p in pages) == 9 and all(h.copies == 3 for p in pages for h in p.hits)
    assert not pages[0].stories_exact and exact[0].stories_exact and exact[0].stories == 9


def test_copies_of_many_stories_are_counted_by_one_engine_search(
    index: TantivyIndex, search_calls: Any
) -> None:
    searcher = index._searcher()
    query = index._compiler.compile(parse_query("heroin"))
    everything = index.search("heroin", limit=50, sort="-published").hits
    stories = list(dict.fromkeys(hit.document.story_id for hit in everything))
    with search_calls:
        copies = collapse_module.count_copies(searcher, index._schema, query, stories)
    assert search_calls.count == 1
    assert copies == [sum(1 for hit in everything if hit.document.story_id == story) for story in stories]
    assert sorted(copies) == [1] * 20 + [20]
