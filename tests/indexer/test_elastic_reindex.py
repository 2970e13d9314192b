"""``osintel reindex --to elasticsearch``: a mapping change is a new versioned index filled from
the store of record, then one atomic alias swap; searches keep working throughout."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer import open_index
from indexer.elastic import ElasticIndex, ElasticOptions
from indexer.es_mapping import MAPPING_VERSION
from osintel.service import procs
from osintel.service.reindex import reindex
from osintel.records import Document, SourceRef
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore

OWNER = procs.current().token  # the process leases, acks and releases in its name

SRC = SourceRef(id="s1", name="S1")


@pytest.fixture
def settings(tmp_path: Path, es_url: str, es_prefix: str) -> Settings:
    settings = load_settings(
        env={"OSINTEL_INDEX": "elasticsearch", "OSINTEL_ES_URL": es_url},
        overrides={"data_dir": str(tmp_path), "elasticsearch.index_prefix": es_prefix},
    )
    with ControlStore(settings.store_path) as store:
        docs = [Document(url=f"https://e.com/{i}", source=SRC, text=f"firearms cache {i}") for i in range(12)]
        for doc in docs:
            store.add_collected(doc, content_sha256=doc.id)
        items = store.lease(12, owner=OWNER)
        store.ack([i.seq for i in items], [i.document.model_copy(update={"language": "en"}) for i in items],
                  owner=OWNER)
    return settings


def test_reindex_builds_the_new_version_and_swaps_both_aliases(settings: Settings, es_url: str, es_prefix: str) -> None:
    old = ElasticIndex(ElasticOptions(urls=(es_url,), index_prefix=es_prefix), create=False)
    # An index of an older mapping version holds the aliases and one stale document.
    old.put_template()
    old_name = old.create_versioned_index(MAPPING_VERSION - 1, aliases=True)
    old.upsert([Document(url="https://e.com/stale", source=SRC, text="stale firearms")])
    assert old.alias_target() == old_name

    lines: list[str] = []
    summary = reindex(settings, to="elasticsearch", batch_size=5, progress=lines.append)
    assert summary["written"] == 12 and summary["swapped_from"] == old_name
    assert summary["index"] == old.index_name(MAPPING_VERSION)
    assert any("now point to" in line for line in lines)

    # Reads and writes both follow the swap; the old index is kept until asked to drop it.
    assert old.alias_target() == old.index_name(MAPPING_VERSION)
    with open_index(settings) as index:
        assert isinstance(index, ElasticIndex)
        assert index.search("firearms", limit=50).total == 12
        index.upsert([Document(url="https://e.com/new", source=SRC, text="firearms new")])
        assert index.count() == 13
    assert old.client.indices.exists(index=old_name)
    old.close()


def test_reindex_can_drop_the_old_index(settings: Settings, es_url: str, es_prefix: str) -> None:
    with ElasticIndex(ElasticOptions(urls=(es_url,), index_prefix=es_prefix), create=False) as es:
        es.put_template()
        old_name = es.create_versioned_index(MAPPING_VERSION - 1, aliases=True)
        reindex(settings, to="elasticsearch", delete_old=True)
        assert not es.client.indices.exists(index=old_name)
        assert es.count() == 12


def test_open_index_picks_the_elasticsearch_backend_from_settings(settings: Settings) -> None:
    with open_index(settings) as index:
        assert isinstance(index, ElasticIndex)
        assert index.read_alias == f"{settings.elasticsearch.index_prefix}-documents"
        assert index.alias_target() == index.index_name(MAPPING_VERSION)


def test_documents_indexed_by_the_worker_during_a_reindex_are_not_lost(
    settings: Settings, es_url: str, es_prefix: str
) -> None:
    live = ElasticIndex(ElasticOptions(urls=(es_url,), index_prefix=es_prefix), create=False)
    live.put_template()
    live.create_versioned_index(MAPPING_VERSION - 1, aliases=True)
    # Its id sorts before every other, so the id-ordered fill has passed it when it arrives.
    late = Document(id="0000-late", url="https://e.com/late", source=SRC, text="firearms arriving late")

    def worker_meanwhile(message: str) -> None:
        # What the enrichment worker does mid-reindex: index through the write alias, then ack.
        if message.startswith("reindex: 5/") and live.get(late.id) is None:
            live.upsert([late])
            with ControlStore(settings.store_path) as store:
                store.add_collected(late, content_sha256="late")
                (item,) = store.lease(1, owner=OWNER)
                store.ack([item.seq], [late], owner=OWNER)

    summary = reindex(settings, to="elasticsearch", batch_size=5, progress=worker_meanwhile)
    assert summary["caught_up"] == 1 and summary["written"] == 12
    assert live.alias_target() == live.index_name(MAPPING_VERSION)
    assert live.get(late.id) == late  # read through the swapped alias: it is in the new index
    live.close()
