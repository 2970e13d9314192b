"""Contract: near-duplicate copies collapse into one hit per story, and the sort orders by name,
on every backend.

A story is the ``cluster_id`` that near-duplicate detection gives copies of one text (the first
copy's id), else a document's own id. Collapsed, the first copy of each story in the sort order
stands for it, with the number of matching copies; pages count stories, never repeat one, and
the result says both how many documents and how many stories match.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from indexer.base import Index
from osintel.errors import QueryError
from osintel.records import Document, SourceRef

START = datetime(2025, 2, 1, 8, tzinfo=timezone.utc)
SORTS = ("best_match", "relevance_score", "-published", "published")
WIRE = SourceRef(id="wire", name="Wire", kind="feed")
LOCAL = SourceRef(id="local-paper", name="Local paper", kind="feed")
SOCIAL = SourceRef(id="mastodon-uk", name="Mastodon", kind="social", platform="mastodon")


def _doc(n: int, text: str, *, source: SourceRef = WIRE, title: str | None = None, days: int | None = None,
         relevance: float = 0.5) -> Document:
    return Document(
        url=f"https://collapse.example/{n}", source=source, title=f"Report {n}" if title is None else title,
        text=text, published_at=None if days is None else START + timedelta(days=days),
        collected_at=START, language="en", relevance=relevance,
    )


def _copy_of(original: Document, n: int, **kwargs: object) -> Document:
    doc = _doc(n, **kwargs)  # type: ignore[arg-type]
    return doc.model_copy(update={"cluster_id": original.id, "duplicate_of": original.id})


@pytest.fixture
def stories() -> list[Document]:
    """Eleven documents telling seven stories: one story in four copies, one in two, the rest
    single (one of them never assessed for duplicates, one an untitled post)."""
    ferry = _doc(0, "Cocaine smuggling ring found on the Dover ferry by border officers.", days=3,
                 relevance=0.8).model_copy()
    ferry = ferry.model_copy(update={"cluster_id": ferry.id})
    port = _doc(5, "Smuggling of cigarettes through the port of Hull, said customs.", days=1, relevance=0.4)
    port = port.model_copy(update={"cluster_id": port.id})
    return [
        ferry,
        _copy_of(ferry, 1, text="Cocaine smuggling ring found on the Dover ferry by border officers, police said.",
                 source=LOCAL, days=4, relevance=0.8),
        _copy_of(ferry, 2, text="Cocaine smuggling smuggling ring found on the Dover ferry (agency copy).",
                 source=SOCIAL, title="", days=2, relevance=0.7),
        _copy_of(ferry, 3, text="Cocaine smuggling ring found on the Dover ferry; updated with a photo.",
                 source=LOCAL, relevance=0.8),
        _doc(4, "Smuggling gang jailed for moving firearms in lorries.", days=6, relevance=0.9),
        port,
        _copy_of(port, 6, text="Smuggling of cigarettes through the port of Hull, customs said today.",
                 source=LOCAL, days=7, relevance=0.45),
        _doc(7, "Short smuggling note.", days=5, relevance=0.1),  # not assessed: no cluster_id
        _doc(8, "Smuggling smuggling smuggling: three boats stopped off Kent.", days=0, relevance=0.6),
        _doc(9, "Heard about smuggling of fuel at the border again tonight, anyone else?", source=SOCIAL,
             title="", days=8, relevance=0.2),
        _doc(10, "Smuggling of exotic birds: a zoo keeper charged.", relevance=0.3),
    ]


@pytest.fixture
def collapsible(index: Index, stories: list[Document]) -> Index:
    index.upsert(stories)
    return index


def story_of(doc: Document) -> str:
    return doc.cluster_id or doc.id


def first_copies(index: Index, query: str, sort: str, by_id: dict[str, Document]) -> list[str]:
    """The full (uncollapsed) listing reduced to the first copy of each story."""
    full = index.search(query, limit=50, sort=sort)  # type: ignore[arg-type]
    assert full.next_cursor is None
    seen: set[str] = set()
    firsts = []
    for hit in full.hits:
        if story_of(by_id[hit.id]) not in seen:
            seen.add(story_of(by_id[hit.id]))
            firsts.append(hit.id)
    return firsts


@pytest.mark.parametrize("sort", SORTS)
def test_collapse_lists_each_story_once_by_its_first_copy_with_copies_counted(
    collapsible: Index, stories: list[Document], sort: str
) -> None:
    by_id = {d.id: d for d in stories}
    result = collapsible.search("smuggling", limit=50, sort=sort, collapse=True)  # type: ignore[arg-type]
    assert [h.id for h in result.hits] == first_copies(collapsible, "smuggling", sort, by_id)
    per_story = Counter(story_of(d) for d in stories)
    assert {story_of(by_id[h.id]): h.copies for h in result.hits} == per_story
    assert (result.total, result.stories, result.stories_exact) == (11, 7, True)
    assert result.next_cursor is None


@pytest.mark.parametrize("sort", SORTS)
def test_collapsed_cursor_pages_never_repeat_a_story(collapsible: Index, stories: list[Document], sort: str) -> None:
    by_id = {d.id: d for d in stories}
    expected = first_copies(collapsible, "smuggling", sort, by_id)
    ids: list[str] = []
    cursor = None
    for _ in range(10):
        page = collapsible.search("smuggling", limit=3, sort=sort, cursor=cursor, collapse=True)  # type: ignore[arg-type]
        assert (page.total, page.stories) == (11, 7)
        ids += [h.id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            assert page.stories_exact
            break
    assert ids == expected
    assert len({story_of(by_id[i]) for i in ids}) == len(ids) == 7


def test_collapsed_offset_pages_agree_with_cursor_pages(collapsible: Index) -> None:
    first = collapsible.search("smuggling", limit=3, sort="-published", collapse=True)
    by_cursor = collapsible.search("smuggling", limit=3, sort="-published", collapse=True, cursor=first.next_cursor)
    by_offset = collapsible.search("smuggling", limit=3, offset=3, sort="-published", collapse=True)
    assert [h.id for h in by_cursor.hits] == [h.id for h in by_offset.hits]
    assert [h.copies for h in by_cursor.hits] == [h.copies for h in by_offset.hits]


def test_copies_are_counted_among_the_matches_only(collapsible: Index, stories: list[Document]) -> None:
    # "police" and "agency" each appear in one copy of the ferry story; "photo" in another.
    result = collapsible.search("police OR agency", limit=10, collapse=True)
    assert [h.copies for h in result.hits] == [2]
    assert (result.total, result.stories) == (2, 1)


def test_cluster_query_lists_every_copy_of_one_story(collapsible: Index, stories: list[Document]) -> None:
    ferry = stories[0]
    result = collapsible.search(f"cluster:{ferry.id}", limit=10, sort="published")
    assert sorted(h.id for h in result.hits) == sorted(d.id for d in stories if story_of(d) == ferry.id)
    # A document never assessed for duplicates is a story of its own.
    lone = stories[7]
    assert [h.id for h in collapsible.search(f'cluster:"{lone.id}"', limit=10).hits] == [lone.id]


def test_relevance_score_sorts_by_assessed_relevance_highest_first(
    collapsible: Index, stories: list[Document]
) -> None:
    expected = [d.id for d in sorted(stories, key=lambda d: (-d.relevance, d.id))]
    assert [h.id for h in collapsible.search("*", limit=50, sort="relevance_score").hits] == expected
    ids: list[str] = []
    cursor = None
    while True:
        page = collapsible.search("smuggling", limit=4, sort="relevance_score", cursor=cursor)
        ids += [h.id for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == expected


def test_relevance_is_the_old_name_of_best_match(collapsible: Index) -> None:
    old = collapsible.search("cocaine smuggling", limit=2, sort="relevance")  # type: ignore[arg-type]
    new = collapsible.search("cocaine smuggling", limit=2, sort="best_match")
    assert [(h.id, h.score) for h in old.hits] == [(h.id, h.score) for h in new.hits]
    assert old.hits[0].score > 0
    # A cursor from one name continues the listing of the other.
    rest = collapsible.search("cocaine smuggling", limit=2, sort="best_match", cursor=old.next_cursor)
    assert [h.id for h in rest.hits] == [h.id for h in collapsible.search(
        "cocaine smuggling", limit=2, offset=2, sort="best_match").hits]


def test_cursors_do_not_cross_between_collapsed_and_full_listings(collapsible: Index) -> None:
    collapsed = collapsible.search("smuggling", limit=2, sort="published", collapse=True)
    full = collapsible.search("smuggling", limit=2, sort="published")
    with pytest.raises(QueryError, match="cursor"):
        collapsible.search("smuggling", limit=2, sort="published", cursor=collapsed.next_cursor)
    with pytest.raises(QueryError, match="cursor"):
        collapsible.search("smuggling", limit=2, sort="published", cursor=full.next_cursor, collapse=True)


def test_collapsed_paging_stops_at_the_story_window_with_a_clear_error(collapsible: Index) -> None:
    with pytest.raises(QueryError, match="beyond story 10000.*--all-copies"):
        collapsible.search("smuggling", limit=1, offset=10_000, collapse=True)


def test_unknown_sort_names_the_known_ones(collapsible: Index) -> None:
    with pytest.raises(QueryError, match="best_match, relevance_score"):
        collapsible.search("smuggling", sort="score")  # type: ignore[arg-type]
