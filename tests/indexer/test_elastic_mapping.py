"""The generated cluster mapping: versioned index behind aliases, language fields, strictness."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from indexer.elastic import ElasticIndex, ElasticOptions
from indexer.es_mapping import MAPPING_VERSION, to_source
from osintel.errors import IndexBackendError
from osintel.records import Document, SourceRef

SRC = SourceRef(id="s1", name="S1")


@pytest.fixture
def index(es_url: str, es_prefix: str) -> Iterator[ElasticIndex]:
    with ElasticIndex(ElasticOptions(urls=(es_url,), index_prefix=es_prefix)) as idx:
        yield idx


def test_opening_creates_a_versioned_index_behind_a_read_and_a_write_alias(index: ElasticIndex) -> None:
    aliases = index.client.indices.get_alias(index=index.index_name(MAPPING_VERSION)).body
    held = aliases[index.index_name(MAPPING_VERSION)]["aliases"]
    assert set(held) == {index.read_alias, index.write_alias}
    assert held[index.write_alias].get("is_write_index") is True
    mapping = index.client.indices.get_mapping(index=index.read_alias).body
    (body,) = mapping.values()
    assert body["mappings"]["_meta"]["osintel_mapping_version"] == MAPPING_VERSION
    assert body["mappings"]["properties"]["places"]["type"] == "nested"


def test_french_documents_are_also_searchable_with_the_french_analyser(index: ElasticIndex) -> None:
    french = Document(url="https://e.fr/1", source=SRC, language="fr",
                      text="Les réseaux de passeurs ont été démantelés à Calais.")
    english = Document(url="https://e.com/1", source=SRC, language="en", text="The réseaux word in English text.")
    index.upsert([french, english])
    hits = index.client.search(index=index.read_alias, query={"match": {"text_fr": "réseau"}})["hits"]["hits"]
    assert [h["_id"] for h in hits] == [french.id]
    # Indexed, not stored twice: the record comes back exactly as written.
    assert "text_fr" not in hits[0]["_source"]
    assert index.get(french.id) == french


def test_reopening_keeps_the_existing_index(es_url: str, es_prefix: str) -> None:
    options = ElasticOptions(urls=(es_url,), index_prefix=es_prefix)
    with ElasticIndex(options) as first:
        first.upsert([Document(url="https://e.com/2", source=SRC, text="kept")])
    with ElasticIndex(options) as second:
        assert second.count() == 1
        assert second.alias_target() == second.index_name(MAPPING_VERSION)


def test_the_opensearch_distribution_talks_to_an_opensearch_engine_without_a_proxy(
    osmem: object, es_url: str, es_prefix: str
) -> None:
    # osmem-server answers like OpenSearch: the plain client's media types are refused (406)...
    with pytest.raises(IndexBackendError, match="406"):
        ElasticIndex(ElasticOptions(urls=(osmem.url,), index_prefix=es_prefix))  # type: ignore[attr-defined]
    # ...and the opensearch distribution's compat node makes the same client work.
    options = ElasticOptions(urls=(osmem.url,), index_prefix=es_prefix, distribution="opensearch")  # type: ignore[attr-defined]
    doc = Document(url="https://e.com/os", source=SRC, text="heroin route through the port")
    with ElasticIndex(options) as index:
        index.upsert([doc])
        assert index.get(doc.id) == doc
        (hit,) = index.search("port", facets=["source"]).hits
        assert "<b>port</b>" in hit.snippet


def test_records_of_mapping_version_2_read_back_with_their_dotted_keys(index: ElasticIndex) -> None:
    # Version 2 stored the record as an object in `doc`; osmem-server, like any engine free to,
    # returns its dotted keys ("method:drugs.x") expanded into nested objects.
    doc = Document(url="https://e.com/v2", source=SRC, text="container cocaine", relevance=0.5,
                   relevance_explanation={"method:drugs.container_importation": 0.45, "grading": 0.05},
                   enrichment={"spacy.en": "en_core_web_md-3.8.0"})
    source = to_source(doc) | {"doc": json.loads(doc.to_json())}
    index.client.index(index=index.write_alias, id=doc.id, document=source, refresh=True)
    raw = index.client.get(index=index.read_alias, id=doc.id)["_source"]["doc"]
    assert "method:drugs.container_importation" not in raw["relevance_explanation"]  # expanded
    assert index.get(doc.id) == doc
    assert [hit.document for hit in index.search("cocaine").hits] == [doc]


def test_a_hit_without_a_valid_record_is_an_index_error_not_a_crash(index: ElasticIndex) -> None:
    doc = Document(url="https://e.com/bad", source=SRC, text="cocaine")
    broken = to_source(doc) | {"doc": {"json": '{"url": 7}'}}
    index.client.index(index=index.write_alias, id=doc.id, document=broken, refresh=True)
    with pytest.raises(IndexBackendError, match="not a valid record.*osintel reindex"):
        index.search("cocaine")
