from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from osintel.service import procs
from osintel.errors import StoreError
from osintel.records import Document, SourceRef
from osintel.store import ControlStore

OWNER = procs.current().token  # the process leases, acks and releases in its name

SRC = SourceRef(id="s1", name="S1")


def _doc(n: int, text: str | None = None) -> Document:
    return Document(url=f"https://example.com/{n}", source=SRC, title=f"t{n}", text=text or f"text {n}")


@pytest.fixture()
def store(tmp_path: Path, store_url: str) -> Iterator[ControlStore]:
    """The store on each engine (the contract is the same for both)."""
    s = ControlStore(tmp_path / "c.sqlite3", url=store_url)
    yield s
    s.close()


def test_store_uses_wal_and_full_sync(tmp_path: Path) -> None:
    with ControlStore(tmp_path / "c.sqlite3") as store:  # SQLite's own settings
        assert store.read("PRAGMA journal_mode")[0][0] == "wal"
        assert store.read("PRAGMA synchronous")[0][0] == 2  # FULL


def test_add_collected_refuses_same_id_and_same_content(store: ControlStore) -> None:
    assert store.add_collected(_doc(1), content_sha256="h1") is True
    assert store.add_collected(_doc(1), content_sha256="h-other") is False  # same URL id
    assert store.add_collected(_doc(2), content_sha256="h1") is False  # same content elsewhere
    assert store.count_documents() == 1
    assert store.outbox_counts()["pending"] == 1


def test_lease_ack_cycle_stores_enriched_document(store: ControlStore) -> None:
    for n in range(3):
        store.add_collected(_doc(n), content_sha256=f"h{n}")
    items = store.lease(2, owner=OWNER)
    assert [i.document.id for i in items] == [_doc(0).id, _doc(1).id]
    assert store.lease(10, owner=OWNER)[0].document.id == _doc(2).id  # leased rows are not handed out twice
    enriched = items[0].document.model_copy(update={"language": "en"})
    store.ack([items[0].seq], [enriched], owner=OWNER)
    assert store.get_document(enriched.id).language == "en"  # type: ignore[union-attr]
    assert store.outbox_counts() == {"pending": 2, "done": 1, "failed": 0}


def test_expired_lease_makes_rows_available_again(store: ControlStore) -> None:
    store.add_collected(_doc(1), content_sha256="h1")
    assert len(store.lease(5, lease_seconds=-1, owner=OWNER)) == 1  # lease already expired: the worker "died"
    again = store.lease(5, owner=OWNER)
    assert len(again) == 1 and again[0].attempts == 2


def test_release_parks_rows_as_failed_after_max_attempts(tmp_path: Path, store_url: str) -> None:
    store = ControlStore(tmp_path / "c.sqlite3", max_attempts=2, url=store_url)
    store.add_collected(_doc(1), content_sha256="h1")
    for _ in range(2):
        seqs = [i.seq for i in store.lease(5, owner=OWNER)]
        store.release(seqs, "boom", owner=OWNER)
    assert store.outbox_counts() == {"pending": 0, "done": 0, "failed": 1}
    assert store.lease(5, owner=OWNER) == []
    [row] = store.read("SELECT last_error FROM outbox")
    assert row[0] == "boom"


def test_seen_urls_and_runs(store: ControlStore) -> None:
    store.mark_seen("https://example.com/a", source_id="s1")
    store.mark_seen("https://example.com/b", source_id="s2", doc_id="d")
    assert store.is_seen_url("https://example.com/a")
    assert store.seen_urls("s1") == {"https://example.com/a"}
    assert store.seen_urls() == {"https://example.com/a", "https://example.com/b"}
    run = store.start_run("s1", owner=procs.current().to_dict())
    store.finish_run(run, status="finished", stats={"items/new": 3})
    assert store.runs(source_id="s1")[0]["stats"] == {"items/new": 3}


def test_stats_counts_labels_methods_and_languages(store: ControlStore) -> None:
    store.add_collected(_doc(1), content_sha256="h1")
    item = store.lease(1, owner=OWNER)[0]
    enriched = Document.model_validate({
        **item.document.model_dump(), "language": "fr",
        "entities": [{"text": "x", "label": "PHONE", "start": 0, "end": 1, "extractor": "t"}],
        "methods": [{"id": "oic.small_boat", "label": "Small boat", "category": "oic", "confidence": 0.8,
                     "evidence": "x", "matched_by": "pattern:fr"}],
    })
    store.ack([item.seq], [enriched], owner=OWNER)
    store.add_collected(_doc(2), content_sha256="h2")
    item = store.lease(1, owner=OWNER)[0]
    placed = Document.model_validate({**item.document.model_dump(), "language": "fr", "locations": [
        {"name": "Asia", "kind": "continent", "mention": "Asia", "start": 0, "end": 4},
        {"name": "Calais", "kind": "city", "country_code": "FR", "mention": "Calais", "start": 5, "end": 11},
    ]})
    store.ack([item.seq], [placed], owner=OWNER)
    stats = store.stats()
    assert stats["locations_by_country"] == {"FR": 1}  # a continent is no country (it was "??")
    assert stats["by_language"] == {"fr": 2}
    assert stats["entities_by_label"] == {"PHONE": 1}
    assert stats["methods"] == {"oic.small_boat": 1}


def test_unwritable_store_is_a_store_error(tmp_path: Path) -> None:
    target = tmp_path / "dir-not-file"
    target.mkdir()
    with pytest.raises(StoreError, match="cannot open control store"):
        ControlStore(target)


def test_a_failed_transaction_rolls_back(store: ControlStore) -> None:
    with pytest.raises(StoreError):
        with store.transaction() as tx:
            tx.execute("INSERT INTO meta(key, value) VALUES ('x', '1')")
            tx.execute("INSERT INTO meta(key, value) VALUES ('x', '2')")  # primary key clash
    assert store.read("SELECT COUNT(*) FROM meta WHERE key = 'x'")[0][0] == 0


def test_cursors_persist_per_source_and_key(tmp_path: Path, store_url: str) -> None:
    with ControlStore(tmp_path / "c.sqlite3", url=store_url) as store:
        assert store.get_cursor("m1", "tag:drugs") is None
        store.set_cursor("m1", "tag:drugs", "110")
        store.set_cursor("m1", "tag:drugs", "120")
        store.set_cursor("m2", "tag:drugs", "7")
    with ControlStore(tmp_path / "c.sqlite3", url=store_url) as store:
        assert store.get_cursor("m1", "tag:drugs") == "120"
        assert store.get_cursor("m2", "tag:drugs") == "7"


def test_a_document_and_its_seen_urls_are_written_together(store: ControlStore) -> None:
    doc = _doc(1)
    assert store.add_collected(doc, content_sha256="h1", seen=[doc.canonical_url, "https://example.com/feed-link"])
    assert store.is_seen_url(doc.canonical_url) and store.is_seen_url("https://example.com/feed-link")
    # A duplicate stores no document but still records that its URL was fetched.
    assert not store.add_collected(_doc(2, text="text 1"), content_sha256="h1", seen=[_doc(2).canonical_url])
    assert store.is_seen_url(_doc(2).canonical_url)
    # A failing transaction writes neither.
    with pytest.raises(StoreError):
        with store.transaction() as tx:
            from osintel.store import _record_seen
            _record_seen(tx, ["https://example.com/x"], source_id="s1", doc_id=None, content_sha256=None)
            tx.execute("INSERT INTO meta(key, value) VALUES ('schema_version', 'clash')")
    assert not store.is_seen_url("https://example.com/x")


def test_a_regrade_made_while_the_worker_holds_the_document_survives_the_ack(store: ControlStore) -> None:
    from osintel.grading import regrade
    from osintel.records import Grading

    store.add_collected(_doc(1), content_sha256="h1")
    [item] = store.lease(10, owner=OWNER)
    regrade(store, item.document.id, Grading.parse("1AC"), actor="test", reason="corroborated")
    enriched = item.document.model_copy(update={"language": "en"})  # the worker's copy: old grading
    store.ack([item.seq], [enriched], owner=OWNER)
    stored = store.get_document(item.document.id)
    assert stored is not None and stored.grading is not None and stored.grading.code == "1AC"
    assert stored.language == "en"
    # Back in the outbox, so the index and the relevance score catch up with the new grading.
    [again] = store.lease(10, owner=OWNER)
    assert again.document.id == item.document.id
    assert again.document.grading is not None and again.document.grading.code == "1AC"


def test_the_grading_column_the_ack_compares_follows_every_write_of_a_document(store: ControlStore) -> None:
    from osintel.grading import regrade
    from osintel.records import Grading

    def column_and_body() -> list[tuple[str, str]]:
        return [(r[0], r[1]) for r in store.read(
            "SELECT grading, json_extract(body, '$.grading.source') || json_extract(body, '$.grading.intelligence')"
            " || json_extract(body, '$.grading.handling') FROM documents ORDER BY id")]

    graded = SourceRef(id="s2", name="S2", grading=Grading.parse("3EC"))
    store.add_collected(Document(url="https://example.com/g", source=graded, text="g"), content_sha256="hg")
    store.add_collected(_doc(1), content_sha256="h1")
    assert sorted(column_and_body()) == [("2CP", "2CP"), ("3EC", "3EC")]
    [first, second] = store.lease(10, owner=OWNER)
    regrade(store, first.document.id, Grading.parse("1AC"), actor="test", reason="corroborated")
    regraded_by_worker = second.document.model_copy(update={"grading": Grading.parse("1BP")})
    store.ack([first.seq, second.seq], [first.document, regraded_by_worker], owner=OWNER)
    store.save_documents([second.document.model_copy(update={"grading": Grading.parse("2DC")})])
    store.recapture_document(_doc(1), content_sha256="h1-again")
    rows = column_and_body()
    assert all(column == body for column, body in rows) and {c for c, _ in rows} == {"1AC", "2DC"}


def test_a_python_bool_parameter_is_the_integer_flag_on_every_engine(store: ControlStore) -> None:
    # Owners store flags as INTEGER 0/1 (SQLite's booleans); PostgreSQL must not see a boolean.
    assert [tuple(r) for r in store.read("SELECT ? + 1 AS n, ? + 1 AS m", (True, False))] == [(2, 1)]
