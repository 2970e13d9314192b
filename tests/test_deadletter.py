"""Dead letters: refused documents are parked with their reason, listed, and can be requeued."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from osintel.service import deadletter, procs
from osintel.records import Document, SourceRef
from osintel.store import ControlStore

OWNER = procs.current().token  # the process leases, acks and releases in its name

SRC = SourceRef(id="s1", name="S1")


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[ControlStore]:
    with ControlStore(tmp_path / "c.sqlite3") as s:
        for n in range(3):
            s.add_collected(Document(url=f"https://e.com/{n}", source=SRC, text=f"t {n}"), content_sha256=str(n))
        yield s


def test_record_parks_the_outbox_rows_and_keeps_the_reason(store: ControlStore) -> None:
    items = store.lease(3, owner=OWNER)
    seqs = {item.document.id: item.seq for item in items}
    bad = items[0].document.id
    assert deadletter.record(store, {bad: "400 mapper_parsing_exception: bad date"}, seqs=seqs) == 1
    store.ack([i.seq for i in items[1:]], owner=OWNER)
    assert store.outbox_counts() == {"pending": 0, "done": 2, "failed": 1}
    (letter,) = deadletter.list_letters(store)
    assert (letter.doc_id, letter.stage, letter.outbox_seq) == (bad, "index", seqs[bad])
    assert letter.reason == "400 mapper_parsing_exception: bad date"
    assert deadletter.count_open(store) == 1
    # The document itself stays in the store of record.
    assert store.get_document(bad) is not None


def test_requeue_puts_dead_letters_back_in_the_outbox_once(store: ControlStore) -> None:
    items = store.lease(3, owner=OWNER)
    seqs = {item.document.id: item.seq for item in items}
    deadletter.record(store, {d: "rejected" for d in list(seqs)[:2]}, seqs=seqs)
    assert store.outbox_counts()["failed"] == 2
    assert deadletter.requeue(store) == 2
    assert deadletter.requeue(store) == 0
    assert deadletter.count_open(store) == 0
    assert len(deadletter.list_letters(store, include_requeued=True)) == 2
    again = store.lease(10, owner=OWNER)
    assert {i.document.id for i in again} == set(list(seqs)[:2])
    assert all(i.attempts == 1 for i in again)


def test_nothing_to_record_writes_nothing(store: ControlStore) -> None:
    assert deadletter.record(store, {}) == 0
    assert deadletter.list_letters(store) == []


def test_deadletters_command_lists_and_requeues(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys

    data_dir = tmp_path / "data"
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        doc = Document(url="https://e.com/x", source=SRC, text="x")
        store.add_collected(doc, content_sha256="x")
        (item,) = store.lease(1, owner=OWNER)
        deadletter.record(store, {doc.id: "400 mapper_parsing_exception"}, seqs={doc.id: item.seq})
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "osintel", "deadletters", "--requeue", "--json", "--data-dir", str(data_dir)],
        capture_output=True, text=True, cwd=root, check=False, timeout=120, env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert [x["doc_id"] for x in out["letters"]] == [doc.id] and out["requeued"] == 1
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        assert deadletter.count_open(store) == 0
        assert store.outbox_counts() == {"pending": 1, "done": 0, "failed": 0}


def test_index_health_flags_dead_letters(store: ControlStore, tmp_path: Path) -> None:
    from indexer.tantivy_index import TantivyIndex
    from osintel.service.health import index_health

    with TantivyIndex(tmp_path / "idx", writer_heap_bytes=20_000_000) as index:
        assert index_health(store, index)["status"] == "ok"
        (item, *_) = store.lease(3, owner=OWNER)
        deadletter.record(store, {item.document.id: "rejected"}, seqs={item.document.id: item.seq})
        health = index_health(store, index)
    assert health["status"] == "warning" and health["dead_letters"] == 1
    assert [f["code"] for f in health["flags"]] == ["dead-letters"]
    assert health["index"] == {"reachable": True, "documents": 0}
