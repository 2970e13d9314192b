"""Behaviour specific to the embedded tantivy backend (locking, limits, wiring)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
import tantivy

from indexer import open_index
from indexer import tantivy_geo, tantivy_paging
from indexer.base import Index
from indexer.tantivy_index import MAX_RESULT_WINDOW, TantivyIndex
from indexer.tantivy_query import regex_escape
from indexer.tantivy_schema import GEO_SLOTS, id_key
from osintel.errors import ConfigError, IndexBackendError, QueryError
from osintel.records import Document, Location
from osintel.settings import load_settings

HEAP = 20_000_000


def test_tantivy_index_satisfies_the_protocol(tmp_path: Path) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        assert isinstance(index, Index)


def test_a_second_writer_is_refused_with_a_clear_error(tmp_path: Path, documents: list[Document]) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as first, TantivyIndex(
        tmp_path, writer_heap_bytes=HEAP
    ) as second:
        first.upsert(documents[:1])
        with pytest.raises(IndexBackendError, match="locked by another writer"):
            second.upsert(documents[1:2])


def test_readers_take_no_lock_and_see_other_writers_commits(
    tmp_path: Path, documents: list[Document]
) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as reader:
        assert reader.count() == 0
        with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as writer:
            writer.upsert(documents)
        assert reader.count() == len(documents)
        assert reader.search("rotterdam").total == 1


def test_limit_is_clamped_to_max_page_size(tmp_path: Path, documents: list[Document]) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP, max_page_size=2) as index:
        index.upsert(documents)
        result = index.search("*", limit=100)
        assert result.total == len(documents)
        assert len(result.hits) == 2


def test_paging_too_deep_is_refused(tmp_path: Path) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        with pytest.raises(QueryError, match="cannot page beyond"):
            index.search("*", offset=MAX_RESULT_WINDOW)


def test_unknown_sort_is_refused(tmp_path: Path) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        with pytest.raises(QueryError, match="unknown sort"):
            index.search("*", sort="author")  # type: ignore[arg-type]


def test_a_closed_index_refuses_calls(tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path, writer_heap_bytes=HEAP)
    index.close()
    index.close()  # idempotent
    with pytest.raises(IndexBackendError, match="closed"):
        index.count()


def test_an_index_with_another_schema_is_reported(tmp_path: Path) -> None:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("other", stored=True)
    tantivy.Index(builder.build(), path=str(tmp_path))
    with pytest.raises(IndexBackendError, match="different schema"):
        TantivyIndex(tmp_path, writer_heap_bytes=HEAP)


def test_open_index_builds_the_configured_backend(tmp_path: Path, documents: list[Document]) -> None:
    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path), "index.writer_heap_bytes": HEAP})
    index = open_index(settings)
    try:
        assert isinstance(index, TantivyIndex)
        assert index.path == settings.index_dir
        index.upsert(documents[:2])
        assert index.count() == 2
    finally:
        index.close()


def test_open_index_rejects_an_unknown_backend(tmp_path: Path) -> None:
    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path), "index.backend": "solr"})
    with pytest.raises(ConfigError, match="unknown index backend 'solr'"):
        open_index(settings)


def test_regex_escape_makes_every_symbol_literal() -> None:
    assert regex_escape("drugs.county_lines") == r"drugs\x{2e}county\x{5f}lines"
    assert regex_escape("café") == "café"


def test_id_key_orders_like_the_id() -> None:
    ids = sorted(["", "0", "00", "0a", "a", "ab", "abcdefgh", "abcdefgi", "b", "é", "ü", "zz", "\u4e2d", "~"])
    keys = [id_key(i) for i in ids]
    assert keys == sorted(keys)
    assert id_key("abcdefgh1") == id_key("abcdefgh2")  # ties are broken on the full id


def test_geo_check_reads_stored_locations_past_the_fast_field_slots(
    tmp_path: Path, documents: list[Document]
) -> None:
    # The only location near London is the last of many, beyond the per-slot fast fields.
    far = [Location(name=f"p{i}", lat=-40.0 + i, lon=100.0 + i, mention=f"p{i}") for i in range(GEO_SLOTS + 3)]
    london = Location(name="London", lat=51.5074, lon=-0.1278, mention="London")
    many = documents[0].model_copy(update={"locations": [*far, london]})
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        index.upsert([many])
        assert index.search('near:"51.51,-0.13,5km"').total == 1
        assert index.search('near:"-40,100,5km"').total == 1
        assert index.search('near:"0,0,5km"').total == 0


def test_a_geo_filter_with_too_many_candidates_asks_to_narrow(
    tmp_path: Path, documents: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    london = Location(name="London", lat=51.5074, lon=-0.1278, mention="London")
    docs = [d.model_copy(update={"locations": [london]}) for d in documents]
    monkeypatch.setattr(tantivy_geo, "MAX_GEO_CANDIDATES", 3)
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        index.upsert(docs)
        with pytest.raises(QueryError, match="narrow the area"):
            index.search('near:"51.51,-0.13,5km"')
        # Other clauses of the query shrink the candidates first.
        assert index.search('near:"51.51,-0.13,5km" source:bbc-news').total == 3


def test_relevance_paging_depth_is_capped(
    tmp_path: Path, documents: list[Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tantivy_paging, "MAX_SCORE_SCAN", 3)
    query = "cocaine OR plates OR marseille OR weather"
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        index.upsert(documents)
        first = index.search(query, limit=1)
        assert first.total == 5
        assert first.next_cursor is not None
        with pytest.raises(QueryError, match="sort by date"):
            index.search(query, limit=1, cursor=first.next_cursor)
        # Date orders and filter-only queries have no such limit.
        walked, cursor = 0, None
        while True:
            page = index.search("*", limit=1, cursor=cursor)
            walked += len(page.hits)
            cursor = page.next_cursor
            if cursor is None:
                break
        assert walked == len(documents)


def test_cursor_paging_goes_beyond_the_offset_window(tmp_path: Path, documents: list[Document]) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        index.upsert(documents)
        first = index.search("*", limit=1, sort="-published")
        with pytest.raises(QueryError, match="use the cursor"):
            index.search("*", limit=1, offset=MAX_RESULT_WINDOW, sort="-published")
        assert first.next_cursor is not None
        assert len(index.search("*", limit=1, sort="-published", cursor=first.next_cursor).hits) == 1


def test_a_cursor_of_another_ordering_kind_is_rejected(tmp_path: Path, documents: list[Document]) -> None:
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        index.upsert(documents)
        cursor = index.search("*", limit=1, sort="published").next_cursor
        assert cursor is not None
        with pytest.raises(QueryError, match="different query or sort"):
            index.search("*", limit=1, sort="relevance", cursor=cursor)


def test_a_histogram_with_too_many_buckets_asks_for_a_coarser_interval(
    tmp_path: Path, documents: list[Document]
) -> None:
    old = documents[0].model_copy(update={"id": "old", "published_at": datetime(1900, 1, 1, tzinfo=timezone.utc)})
    with TantivyIndex(tmp_path, writer_heap_bytes=HEAP) as index:
        index.upsert([*documents, old])
        with pytest.raises(QueryError, match="coarser interval"):
            index.search("*", limit=0, histogram="day")
        months = index.search("*", limit=0, histogram="month").histogram
        assert months[0] == ("1900-01-01", 1)
        assert months[-1] == ("2025-01-01", 1)
        assert sum(n for _, n in months) == 5
