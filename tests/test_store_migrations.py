"""Migrations: a data directory made by an earlier release opens and upgrades in place, nothing lost.

The fixtures under ``tests/fixtures/store/`` are the earlier releases' DDL copied verbatim (see
their headers); the rows are written with plain SQL, as those releases wrote them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from osintel import audit, schema
from osintel.errors import StoreError
from osintel.records import Document, SourceRef
from osintel.service import deadletter, procs
from osintel.store import ControlStore
from alerts.state import AlertStore

OWNER = procs.current().token  # the process leases, acks and releases in its name

FIXTURES = Path(__file__).parent / "fixtures" / "store"
DOC = Document(url="https://example.com/a", source=SourceRef(id="s1", name="S1"), title="t", text="text a",
               grading="1AC")
T0 = "2026-01-01T00:00:00+00:00"


def _legacy_store(path: Path, release: str, version: int) -> None:
    """A store as ``release`` left it, with a row in most tables."""
    db = sqlite3.connect(path)
    db.executescript((FIXTURES / f"release_{release}.sql").read_text(encoding="utf-8"))
    db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', ?)", (str(version),))
    db.execute("INSERT INTO documents(id, source_id, canonical_url, content_sha256, collected_at, enriched_at, body)"
               " VALUES (?, ?, ?, ?, ?, ?, ?)", (DOC.id, "s1", DOC.canonical_url, "h1", T0, T0, DOC.to_json()))
    db.execute("INSERT INTO outbox(doc_id, created_at, updated_at) VALUES (?, ?, ?)", (DOC.id, T0, T0))
    db.execute("INSERT INTO crawl_runs(source_id, started_at, finished_at, status, stats)"
               " VALUES ('s1', ?, ?, 'finished', '{\"items/new\": 1}')", (T0, T0))
    db.execute("INSERT INTO seen_urls VALUES (?, 's1', ?, 'h1', ?, ?)", (DOC.canonical_url, DOC.id, T0, T0))
    db.execute("INSERT INTO content_hashes VALUES ('h1', ?, ?)", (DOC.id, T0))
    db.execute("INSERT INTO cursors VALUES ('s1', 'k', '42', ?)", (T0,))
    db.execute("INSERT INTO audit_log VALUES (1, ?, 'cli:x', 'collection', '{}', NULL, ?, 'h')", (T0, audit.GENESIS))
    db.execute("INSERT INTO api_keys VALUES ('ok_1', 'n', 'analyst', 'sha', ?, NULL)", (T0,))
    db.execute("INSERT INTO retention_holds VALUES (?, 'case 7', 'cli:x', ?)", (DOC.id, T0))
    db.execute("INSERT INTO dead_letters(doc_id, stage, reason, created_at) VALUES (?, 'index', 'bad date', ?)",
               (DOC.id, T0))
    db.execute("INSERT INTO alert_rules VALUES ('r1', 'R', 'watchlist', NULL, NULL, '{}', 1, ?, ?, ?)", (T0, T0, T0))
    db.commit()
    db.close()


def _columns(path: Path, table: str) -> set[str]:
    with sqlite3.connect(path) as db:
        return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


@pytest.mark.parametrize(("release", "version"), [("6613377", 2), ("ee88c27", 1)])
def test_a_store_made_by_an_earlier_release_upgrades_in_place_with_nothing_lost(
    tmp_path: Path, release: str, version: int
) -> None:
    path = tmp_path / "osintel.sqlite3"
    _legacy_store(path, release, version)
    with sqlite3.connect(path) as db:
        before = {t: db.execute(f"SELECT * FROM {t}").fetchall() for t in
                  ("documents", "outbox", "crawl_runs", "seen_urls", "content_hashes", "cursors", "audit_log",
                   "api_keys", "retention_holds", "dead_letters", "alert_rules")}

    with ControlStore(path) as store:
        assert store.schema_version() == schema.SCHEMA_VERSION
        # Every row is still there, column for column (new columns come after the old ones).
        for table, rows in before.items():
            now = [tuple(r)[: len(rows[0])] for r in store.read(f"SELECT * FROM {table}")]
            assert now == [tuple(r) for r in rows], table
        # The new columns and tables exist, and the old rows work with the new code.
        assert {"lease_owner"} <= _columns(path, "outbox") and {"owners"} <= _columns(path, "crawl_runs")
        assert store.get_document(DOC.id) == DOC
        assert store.read("SELECT grading FROM documents")[0][0] == "1AC"  # backfilled from the body
        assert store.get_cursor("s1", "k") == "42"
        [item] = store.lease(5, owner=OWNER)
        store.ack([item.seq], [item.document.model_copy(update={"language": "en"})], owner=OWNER)
        assert store.outbox_counts() == {"pending": 0, "done": 1, "failed": 0}
        assert [d.doc_id for d in deadletter.list_letters(store)] == [DOC.id]
        assert AlertStore(store).get_rule("r1") is not None
        run = store.start_run("s1", owner=procs.current().to_dict())
        assert store.get_run(run)["owners"]  # type: ignore[index]


def test_a_store_from_before_the_dead_letter_and_alert_tables_gets_them(tmp_path: Path) -> None:
    path = tmp_path / "osintel.sqlite3"
    script = (FIXTURES / "release_6613377.sql").read_text(encoding="utf-8")
    # That release created these tables only on first use: a store may lack them.
    script = script[: script.index("-- osintel/service/deadletter.py")]
    with sqlite3.connect(path) as db:
        db.executescript(script)
        db.execute("INSERT INTO meta(key, value) VALUES ('schema_version', '2')")
    with ControlStore(path) as store:
        assert store.schema_version() == schema.SCHEMA_VERSION
        assert deadletter.count_open(store) == 0
        assert AlertStore(store).rules() == []


def test_a_new_store_and_an_upgraded_one_have_the_same_tables_and_columns(tmp_path: Path) -> None:
    _legacy_store(tmp_path / "old.sqlite3", "ee88c27", 1)
    ControlStore(tmp_path / "old.sqlite3").close()
    ControlStore(tmp_path / "new.sqlite3").close()

    def shape(path: Path) -> dict[str, set[str]]:
        with sqlite3.connect(path) as db:
            names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'index',"
                                              " 'trigger') AND name NOT LIKE 'sqlite_%'")]
            return {n: _columns(path, n) for n in names}

    assert shape(tmp_path / "old.sqlite3") == shape(tmp_path / "new.sqlite3")


def test_migrations_are_numbered_in_order_and_recorded(tmp_path: Path, store_url: str) -> None:
    assert [m.version for m in schema.MIGRATIONS] == list(range(1, len(schema.MIGRATIONS) + 1))
    with ControlStore(tmp_path / "c.sqlite3", url=store_url) as store:
        assert store.read("SELECT value FROM meta WHERE key = 'schema_version'")[0]["value"] == str(
            schema.SCHEMA_VERSION)
    with ControlStore(tmp_path / "c.sqlite3", url=store_url) as store:  # reopening applies nothing twice
        assert store.schema_version() == schema.SCHEMA_VERSION


def test_a_store_from_a_newer_release_is_refused(tmp_path: Path, store_url: str) -> None:
    path = tmp_path / "c.sqlite3"
    with ControlStore(path, url=store_url) as store, store.transaction() as tx:
        tx.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(schema.SCHEMA_VERSION + 1),))
    with pytest.raises(StoreError, match="newer than this release"):
        ControlStore(path, url=store_url)


def test_a_failed_migration_leaves_the_store_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    _legacy_store(path, "ee88c27", 1)
    # A view where migration 3 indexes a table stands in for any step that fails.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE dead_letters")
        db.execute("CREATE VIEW dead_letters AS SELECT 1 AS requeued_at, 2 AS id")
    with pytest.raises(StoreError):
        ControlStore(path)
    assert "lease_owner" not in _columns(path, "outbox")  # migration 2's column was rolled back
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0] == "1"
        assert json.loads(db.execute("SELECT body FROM documents").fetchone()[0])["id"] == DOC.id
