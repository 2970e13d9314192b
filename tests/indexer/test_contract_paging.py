"""Contract: cursor (``search_after``) paging and stable orders, on every backend.

Orders are total: ``published``/``-published`` break ties on the id (undated documents last),
``relevance`` sorts by score, then id.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta, timezone

import pytest

from indexer.base import Index
from osintel.errors import QueryError
from osintel.records import Document, SourceRef

SOURCE = SourceRef(id="paging-test", name="Paging test", kind="feed")
START = datetime(2024, 1, 1, 9, tzinfo=timezone.utc)
COUNT = 23


@pytest.fixture
def paging_docs() -> list[Document]:
    """23 documents: publication times in groups of three equal ones, every 7th undated, and
    texts that repeat so that many relevance scores tie."""
    docs = []
    for i in range(COUNT):
        published = None if i % 7 == 3 else START + timedelta(hours=i // 3)
        docs.append(
            Document(
                url=f"https://paging.example/{i}",
                source=SOURCE,
                title=f"report {i % 4}",
                text="smuggling " * (1 + i % 2) + "through the port of entry",
                published_at=published,
                collected_at=START,
                language="en",
            )
        )
    return docs


@pytest.fixture
def paged(index: Index, paging_docs: list[Document]) -> Index:
    index.upsert(paging_docs)
    return index


def expected_order(docs: list[Document], sort: str) -> list[str]:
    dated = [d for d in docs if d.published_at is not None]
    undated = sorted(d.id for d in docs if d.published_at is None)
    if sort == "published":
        dated.sort(key=lambda d: (d.published_at, d.id))
    else:
        dated.sort(key=lambda d: (-d.published_at.timestamp(), d.id))  # type: ignore[union-attr]
    return [d.id for d in dated] + undated


def walk(index: Index, query: str, *, sort: str, limit: int) -> tuple[list[str], list[int]]:
    """Every hit id, page by page through next_cursor, and the total each page reported."""
    ids: list[str] = []
    totals: list[int] = []
    cursor = None
    for _ in range(100):
        page = index.search(query, limit=limit, sort=sort, cursor=cursor)  # type: ignore[arg-type]
        ids.extend(hit.id for hit in page.hits)
        totals.append(page.total)
        cursor = page.next_cursor
        if cursor is None:
            return ids, totals
        assert isinstance(cursor, str) and cursor
    raise AssertionError("the cursor never ran out")


@pytest.mark.parametrize("sort", ["published", "-published"])
def test_date_orders_break_ties_on_id_and_put_undated_last(
    paged: Index, paging_docs: list[Document], sort: str
) -> None:
    page = paged.search("*", limit=50, sort=sort)  # type: ignore[arg-type]
    assert [hit.id for hit in page.hits] == expected_order(paging_docs, sort)


@pytest.mark.parametrize("sort", ["published", "-published"])
@pytest.mark.parametrize("limit", [1, 2, 4, 22])
def test_cursor_walks_a_date_order_once_in_order(
    paged: Index, paging_docs: list[Document], sort: str, limit: int
) -> None:
    ids, totals = walk(paged, "*", sort=sort, limit=limit)
    assert ids == expected_order(paging_docs, sort)
    assert set(totals) == {COUNT}


@pytest.mark.parametrize("query", ["*", "smuggling", "smuggling port", "title:report"])
def test_cursor_walks_relevance_order_once_in_order(paged: Index, query: str) -> None:
    whole = paged.search(query, limit=50)
    ids, _ = walk(paged, query, sort="relevance", limit=4)
    assert ids == [hit.id for hit in whole.hits]
    assert len(ids) == whole.total == len(set(ids)) > 0
    keys = [(-hit.score, hit.id) for hit in whole.hits]
    assert keys == sorted(keys)  # score descending, ties by id


def test_cursor_continues_a_filtered_query(paged: Index, paging_docs: list[Document]) -> None:
    query = "published:[2024-01-01T10:00:00Z TO *] title:report"
    ids, totals = walk(paged, query, sort="published", limit=3)
    expected = [
        d.id
        for d in sorted(paging_docs, key=lambda d: (d.published_at or START, d.id))
        if d.published_at is not None and d.published_at >= START + timedelta(hours=1)
    ]
    assert ids == expected
    assert set(totals) == {len(expected)}


def test_offset_pages_and_cursor_pages_agree(paged: Index) -> None:
    first = paged.search("*", limit=5, offset=5, sort="-published")
    by_offset = [h.id for h in paged.search("*", limit=5, offset=10, sort="-published").hits]
    assert first.next_cursor is not None
    by_cursor = [h.id for h in paged.search("*", limit=5, sort="-published", cursor=first.next_cursor).hits]
    assert by_cursor == by_offset


def test_last_page_has_no_next_cursor(paged: Index) -> None:
    assert paged.search("*", limit=COUNT).next_cursor is None
    assert paged.search("*", limit=COUNT - 1).next_cursor is not None
    assert paged.search("nothing-matches-this").next_cursor is None


def test_facets_and_histogram_cover_every_match_on_cursor_pages(paged: Index) -> None:
    first = paged.search("*", limit=2, sort="published")
    second = paged.search("*", limit=2, sort="published", cursor=first.next_cursor, facets=["source"], histogram="day")
    assert second.total == COUNT
    assert second.facets == {"source": {"paging-test": COUNT}}
    assert second.histogram == [("2024-01-01", COUNT - 3)]  # three are undated


def test_documents_added_between_pages_do_not_repeat_hits(paged: Index, paging_docs: list[Document]) -> None:
    first = paged.search("*", limit=5, sort="-published")
    newest = paging_docs[0].model_copy(update={"id": "zz-new", "published_at": START + timedelta(days=30)})
    oldest = paging_docs[0].model_copy(update={"id": "zz-old", "published_at": START - timedelta(days=30)})
    paged.upsert([newest, oldest])
    rest: list[str] = []
    cursor = first.next_cursor
    while cursor is not None:
        page = paged.search("*", limit=5, sort="-published", cursor=cursor)
        rest.extend(hit.id for hit in page.hits)
        cursor = page.next_cursor
    seen = [hit.id for hit in first.hits] + rest
    assert len(seen) == len(set(seen)) == COUNT + 1
    assert "zz-old" in rest  # sorts after the cursor
    assert "zz-new" not in seen  # sorts before it


def test_a_cursor_only_continues_its_own_query_and_sort(paged: Index) -> None:
    cursor = paged.search("smuggling", limit=2, sort="-published").next_cursor
    assert cursor is not None
    with pytest.raises(QueryError, match="cursor"):
        paged.search("port", limit=2, sort="-published", cursor=cursor)
    with pytest.raises(QueryError, match="cursor"):
        paged.search("smuggling", limit=2, sort="published", cursor=cursor)


@pytest.mark.parametrize(
    "cursor",
    ["", "not a cursor", "bm90IGpzb24", base64.urlsafe_b64encode(b'{"v": 1}').decode(), "x" * 5000],
)
def test_malformed_cursors_are_query_errors(paged: Index, cursor: str) -> None:
    with pytest.raises(QueryError, match="cursor"):
        paged.search("*", limit=2, sort="-published", cursor=cursor)


def test_a_tampered_cursor_is_refused_or_still_pages_safely(paged: Index) -> None:
    cursor = paged.search("*", limit=2, sort="-published").next_cursor
    assert cursor is not None
    for position in range(0, len(cursor), 7):
        swapped = "A" if cursor[position] != "A" else "B"
        tampered = cursor[:position] + swapped + cursor[position + 1 :]
        try:
            page = paged.search("*", limit=2, sort="-published", cursor=tampered)
        except QueryError:
            continue
        assert page.total == COUNT  # never an internal error


def test_offset_and_cursor_together_are_refused(paged: Index) -> None:
    cursor = paged.search("*", limit=2).next_cursor
    with pytest.raises(QueryError, match="offset"):
        paged.search("*", limit=2, offset=2, cursor=cursor)


def test_large_groups_of_equal_keys_and_shared_id_prefixes_page_by_full_id(index: Index) -> None:
    # Ids that agree on their first bytes, all published at once: only the full id orders them.
    template = Document(url="https://paging.example/same", source=SOURCE, title="same", text="same text",
                        published_at=START, collected_at=START)
    ids = [f"mastodon:{n}" for n in (5, 40, 1, 300, 22, 7, 1000, 9, 31, 2, 18, 64, 3)] + ["a", "mastodon"]
    index.upsert([template.model_copy(update={"id": doc_id}) for doc_id in ids])
    for sort in ("published", "-published", "relevance"):
        for query in ("*", "same"):
            walked, totals = walk(index, query, sort=sort, limit=2)
            assert walked == sorted(ids), (sort, query)
            assert set(totals) == {len(ids)}
