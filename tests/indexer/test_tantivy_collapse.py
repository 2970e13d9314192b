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

import pytest

import indexer.tantivy_collapse as collapse_module
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
