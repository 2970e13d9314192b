"""Relevance paging on the embedded index costs one engine search per page, in the same order.

Measured on a real index: the ``search_calls`` fixture counts calls of the real
``tantivy.Searcher.search`` (see ``conftest.py``).
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from indexer import tantivy_paging
from indexer.tantivy_index import TantivyIndex
from osintel.records import Document, SourceRef

SOURCE = SourceRef(id="paging-calls", name="Paging calls", kind="feed")
WHEN = datetime(2024, 6, 1, 12, tzinfo=timezone.utc)
QUERY = "smuggling OR port"


@pytest.fixture
def ranked(tmp_path: Path) -> Any:
    """60 documents whose scores mostly differ (term counts and lengths vary), with a few ties
    (identical texts)."""
    docs = []
    for i in range(60):
        text = "smuggling " * (1 + i % 5) + "through the port " * (1 + i % 3) + "words " * (i % 11)
        docs.append(Document(url=f"https://ranked.example/{i}", source=SOURCE, title=f"report {i}",
                             text=text, published_at=WHEN, collected_at=WHEN, language="en"))
    with TantivyIndex(tmp_path, writer_heap_bytes=20_000_000) as index:
        index.upsert(docs)
        yield index


def test_each_relevance_page_is_one_engine_search(ranked: TantivyIndex, search_calls: Any) -> None:
    everything = [hit.id for hit in ranked.search(QUERY, limit=100).hits]
    assert len(everything) == 60
    walked: list[str] = []
    cursor = None
    pages = 0
    while True:
        with search_calls:
            page = ranked.search(QUERY, limit=7, cursor=cursor)
        assert search_calls.count == 1, f"page {pages} took {search_calls.count} searches"
        assert page.total == 60
        walked.extend(hit.id for hit in page.hits)
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 9
    assert walked == everything  # the order is the one a single page of everything has
    with search_calls:
        by_offset = ranked.search(QUERY, limit=7, offset=14)
    assert search_calls.count == 1
    assert [hit.id for hit in by_offset.hits] == everything[14:21]


def test_a_tie_wider_than_the_margin_still_pages_exactly(
    ranked: TantivyIndex, search_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_paging, "TIE_MARGIN", 0)
    everything = [hit.id for hit in ranked.search(QUERY, limit=100).hits]
    with search_calls:
        first = ranked.search(QUERY, limit=7)
    # Without a margin the boundary tie group is dropped and the page searched again, wider.
    assert search_calls.count == 2
    assert [hit.id for hit in first.hits] == everything[:7]


def test_a_wide_tie_is_completed_by_searches_four_times_wider(
    tmp_path: Path, search_calls: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_paging, "TIE_MARGIN", 0)
    docs = [Document(url="https://tie.example/top", source=SOURCE, title="report", text="smuggling smuggling",
                     published_at=WHEN, collected_at=WHEN, language="en")]
    docs += [Document(url=f"https://tie.example/{i}", source=SOURCE, title="report", text="smuggling words",
                      published_at=WHEN, collected_at=WHEN, language="en") for i in range(40)]
    with TantivyIndex(tmp_path, writer_heap_bytes=20_000_000) as index:
        index.upsert(docs)
        with search_calls:
            page = index.search("smuggling", limit=5)
        # 6 rows fetched: the top one and 5 of the 40 tied, cut; then 24, still cut; then 96.
        # Doubling took 4 searches (6, 12, 24, 48).
        assert search_calls.count == 3
        tied = sorted(doc.id for doc in docs[1:])
        assert [hit.id for hit in page.hits] == [docs[0].id, *tied[:4]]
