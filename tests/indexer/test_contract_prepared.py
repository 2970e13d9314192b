"""Documents mapped in another process (an enrichment worker) and written by the one index writer
are indexed exactly as ``upsert`` indexes them, on every backend."""

from __future__ import annotations

import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from indexer import PreparedBatch, prepare_batch
from indexer.base import Index
from indexer.tantivy_index import TantivyIndex
from osintel.errors import IndexBackendError
from osintel.records import Document
from osintel.settings import Settings, load_settings

QUERIES = ["*", "cocaine", 'phone:"+447700900123"', "method:drugs.*", "country:GB", "entity:*"]


def _settings(index: Index) -> Settings:
    backend = "tantivy" if isinstance(index, TantivyIndex) else "elasticsearch"
    return load_settings(env={}, overrides={"index.backend": backend})


def _prepare_elsewhere(settings_json: str, docs_json: list[str]) -> bytes:
    """Runs in a spawned process, as an enrichment worker would."""
    settings = Settings.model_validate_json(settings_json)
    return pickle.dumps(prepare_batch(settings, [Document.from_json(d) for d in docs_json]))


def _ids(index: Index, query: str) -> list[str]:
    return sorted(h.document.id for h in index.search(query, limit=50).hits)


def test_a_batch_mapped_in_another_process_indexes_what_upsert_indexes(
    index: Index, documents: list[Document]
) -> None:
    settings = _settings(index)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        payload = pool.submit(_prepare_elsewhere, settings.model_dump_json(), [d.to_json() for d in documents]).result()
    batch = pickle.loads(payload)
    assert isinstance(batch, PreparedBatch) and len(batch.ids) == len({d.id for d in documents})
    index.write(batch)
    index.write(batch)  # idempotent by id: writing twice changes nothing
    assert index.count() == len(batch.ids)
    written = {query: _ids(index, query) for query in QUERIES}
    assert written["*"] and written["method:drugs.*"] and written['phone:"+447700900123"']
    for doc in documents:
        got = index.get(doc.id)
        assert got is not None and got.to_json() == doc.to_json()
    index.upsert(documents)  # the same documents mapped in this process replace them: nothing moves
    assert index.count() == len(batch.ids)
    assert {query: _ids(index, query) for query in QUERIES} == written


def test_a_batch_mapped_for_another_backend_is_refused(index: Index, documents: list[Document]) -> None:
    other = "elasticsearch" if isinstance(index, TantivyIndex) else "tantivy"
    batch = prepare_batch(load_settings(env={}, overrides={"index.backend": other}), documents)
    with pytest.raises(IndexBackendError, match="mapped for"):
        index.write(batch)
    assert index.count() == 0
