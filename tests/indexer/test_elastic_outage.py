"""A cluster outage: collection goes on, the outbox grows, health says so; on return every
document is indexed exactly once. The cluster is osmem-server behind a proxy this test stops."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from indexer.elastic import ElasticIndex, ElasticOptions
from osintel.service.health import index_health
from osintel.records import Document, SourceRef
from osintel.settings import load_settings
from osintel.store import ControlStore
from osintel.service.worker import EnrichmentWorker

SRC = SourceRef(id="s1", name="S1")


class Tagger:
    """Stands in for the NLP stage; what is under test is indexing."""

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        return [d.model_copy(update={"language": "en", "enrichment": {"t": "1"}}) for d in docs]


def _collect(store: ControlStore, start: int, n: int) -> None:
    for i in range(start, start + n):
        doc = Document(url=f"https://e.com/{i}", source=SRC, text=f"cocaine seizure number {i}")
        store.add_collected(doc, content_sha256=doc.id)


def _wait(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_outage_keeps_collecting_then_indexes_everything_exactly_once(
    own_proxy: Any, es_url: str, es_prefix: str, tmp_path: Path
) -> None:
    settings = load_settings(env={}, overrides={
        "data_dir": str(tmp_path), "worker.error_backoff_seconds": 0.05, "worker.max_backoff_seconds": 0.2,
        "nlp.batch_size": 4,
    })
    options = ElasticOptions(urls=(own_proxy.url,), index_prefix=es_prefix, request_timeout=2.0,
                             bulk_max_retries=1, bulk_initial_backoff=0.01)
    own_proxy.stop()  # down before the service even starts
    with ControlStore(settings.store_path) as store:
        index = ElasticIndex(options)  # starts although the cluster is unreachable
        worker = EnrichmentWorker(settings, store, Tagger(), index, poll_seconds=0.05)
        worker.start()
        try:
            _collect(store, 0, 6)
            worker.wake()
            _wait(lambda: worker.status()["consecutive_errors"] >= 2)
            _collect(store, 6, 4)  # collection goes on during the outage
            health = index_health(store, index, worker=worker.status())
            assert health["status"] == "error"
            assert {f["code"] for f in health["flags"]} >= {"index-unreachable", "indexing-failing"}
            assert health["outbox"]["pending"] == 10 and health["index"]["reachable"] is False

            own_proxy.start()  # the cluster is back, on the same address
            worker.wake()
            _wait(lambda: store.outbox_counts()["done"] == 10)
        finally:
            worker.stop()
        assert store.outbox_counts() == {"pending": 0, "done": 10, "failed": 0}
        health = index_health(store, index, worker=worker.status())
        assert health["status"] == "ok" and health["index"]["documents"] == 10

    # Exactly once: the ten collected documents, each under its own id, nothing more.
    with ElasticIndex(ElasticOptions(urls=(es_url,), index_prefix=es_prefix), create=False) as check:
        assert check.count() == 10
        result = check.search("cocaine", limit=50)
        assert sorted(h.id for h in result.hits) == sorted(d.id for d in _stored(settings.store_path))
    index.close()


def _stored(store_path: Path) -> list[Document]:
    with ControlStore(store_path) as store:
        return list(store.iter_documents())
