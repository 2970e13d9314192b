"""Behaviour specific to the embedded tantivy backend (locking, limits, wiring)."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from indexer import open_index
from indexer.base import Index
from indexer.tantivy_index import MAX_RESULT_WINDOW, TantivyIndex
from indexer.tantivy_query import regex_escape
from osintel.errors import ConfigError, IndexBackendError, QueryError
from osintel.records import Document
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
