"""The outbox worker: enrich, index, then ack; failures release rows and lose nothing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from indexer.tantivy_index import TantivyIndex
from osintel.errors import EnrichmentError, IndexBackendError
from osintel.service.pipeline import drain_outbox
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
def store(tmp_path: Path) -> Iterator[ControlStore]:
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


def test_index_outage_stops_loudly_and_the_next_drain_indexes_each_document_once(
    store: ControlStore, tmp_path: Path
) -> None:
    inner = TantivyIndex(tmp_path / "idx")
    flaky = FlakyIndex(inner, failures=store.max_attempts + 3)  # an outage longer than the retry budget
    for _ in range(store.max_attempts + 3):
        with pytest.raises(IndexBackendError):
            drain_outbox(store, LanguageTagger(), flaky, batch_size=5)
    # Released, not lost, and not blamed: an index outage never parks documents as failed.
    assert store.outbox_counts() == {"pending": 10, "done": 0, "failed": 0}
    report = drain_outbox(store, LanguageTagger(), flaky, batch_size=5)
    assert report.indexed == 10
    assert store.outbox_counts()["done"] == 10
    assert inner.count() == 10
    assert inner.search("cocaine", limit=50).total == 10
    inner.close()


class ChokesOn:
    """The NLP stage failing on one particular document, as a real model can on hostile input."""

    def __init__(self, bad_text: str) -> None:
        self.bad_text = bad_text

    def enrich(self, docs: Sequence[Document]) -> list[Document]:
        if any(d.text == self.bad_text for d in docs):
            raise EnrichmentError("model crashed")
        return LanguageTagger().enrich(docs)


def test_one_poisonous_document_is_parked_and_the_rest_of_its_batch_is_indexed(tmp_path: Path) -> None:
    store = ControlStore(tmp_path / "c.sqlite3", max_attempts=2)
    for n in range(6):
        store.add_collected(Document(url=f"https://e.com/{n}", source=SRC, text=f"text {n}"), content_sha256=str(n))
    index = TantivyIndex(tmp_path / "idx")
    report = drain_outbox(store, ChokesOn("text 3"), index, batch_size=6)
    assert index.count() == 5
    assert store.outbox_counts() == {"pending": 0, "done": 5, "failed": 1}
    assert report.failed == 2  # leased twice, then parked with its error
    [row] = store.read("SELECT doc_id, last_error FROM outbox WHERE state = 'failed'")
    assert row[0] == Document(url="https://e.com/3", source=SRC).id and "model crashed" in row[1]
    index.close()
    store.close()
