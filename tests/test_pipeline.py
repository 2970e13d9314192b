"""The outbox worker: enrich, index, then ack; failures release rows and lose nothing."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from indexer.tantivy_index import TantivyIndex
from osintel.errors import IndexBackendError
from osintel.pipeline import drain_outbox
from osintel.records import Document, SourceRef
from osintel.store import ControlStore

SRC = SourceRef(id="s1", name="S1")


class LanguageTagger:
    """A stand-in for the NLP stage: the worker's contract is what is under test here."""

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        return [d.model_copy(update={"language": "en", "enrichment": {"test": "1"}}) for d in docs]


class FlakyIndex:
    """A real tantivy index that refuses its first ``failures`` writes, like a store that is down."""

    def __init__(self, inner: TantivyIndex, failures: int) -> None:
        self.inner = inner
        self.failures = failures

    def upsert(self, docs: Sequence[Document]) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise IndexBackendError("index unavailable")
        self.inner.upsert(docs)


@pytest.fixture()
def store(tmp_path: Path) -> ControlStore:
    s = ControlStore(tmp_path / "c.sqlite3")
    for n in range(10):
        s.add_collected(Document(url=f"https://e.com/{n}", source=SRC, text=f"cocaine seizure {n}"), content_sha256=str(n))
    yield s
    s.close()


def test_drain_indexes_everything_once_and_acks_after_indexing(store: ControlStore, tmp_path: Path) -> None:
    index = TantivyIndex(tmp_path / "idx")
    report = drain_outbox(store, LanguageTagger(), index, batch_size=4)
    assert report.indexed == 10 and report.batches == 3
    assert store.outbox_counts() == {"pending": 0, "done": 10, "failed": 0}
    assert index.count() == 10
    assert all(d.language == "en" for d in store.iter_documents())
    index.close()


def test_index_outage_releases_rows_and_a_retry_indexes_each_document_once(store: ControlStore, tmp_path: Path) -> None:
    inner = TantivyIndex(tmp_path / "idx")
    flaky = FlakyIndex(inner, failures=2)
    report = drain_outbox(store, LanguageTagger(), flaky, batch_size=5)
    assert report.failed == 10  # two failed attempts of one batch each
    assert store.outbox_counts()["done"] == 10
    assert inner.count() == 10
    assert inner.search("cocaine", limit=50).total == 10
    inner.close()


def test_persistent_index_failure_raises_and_keeps_rows_pending(store: ControlStore, tmp_path: Path) -> None:
    flaky = FlakyIndex(TantivyIndex(tmp_path / "idx"), failures=100)
    with pytest.raises(IndexBackendError):
        drain_outbox(store, LanguageTagger(), flaky, batch_size=5)
    counts = store.outbox_counts()
    assert counts["done"] == 0 and counts["pending"] + counts["failed"] == 10
    flaky.inner.close()
