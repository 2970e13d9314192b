"""The PostgreSQL store beyond the shared contract: start-up errors, workers leasing side by side,
processes migrating together, and the owners' SQL that the dialect rewrites.

The contract both engines keep is in tests/test_store.py and tests/test_outbox_leases.py (run
against each through the ``store_url`` fixture); here are the behaviours only a server has.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from osintel import audit
from osintel.errors import StoreError
from osintel.records import Document, SourceRef
from osintel.store import ControlStore
from alerts.state import AlertStore

SRC = SourceRef(id="s1", name="S1")
OSINTEL = [sys.executable, "-m", "osintel"]


def _doc(n: int) -> Document:
    return Document(url=f"https://example.org/pg/{n}", source=SRC, title=f"Item {n}",
                    text=f"Officers stopped van number {n} on the ring road.")


@pytest.fixture
def store(tmp_path: Path, pg_url: str) -> Iterator[ControlStore]:
    with ControlStore(tmp_path / "data" / "osintel.sqlite3", url=pg_url) as s:
        yield s


def test_an_unreachable_server_is_a_store_error_naming_the_url_without_its_password(tmp_path: Path) -> None:
    url = "postgresql://osintel:s3cret@127.0.0.1:1/osintel"  # nothing listens on port 1
    with pytest.raises(StoreError, match="cannot open control store postgresql://osintel:\\*\\*\\*@127.0.0.1:1/osintel"
                       ) as caught:
        ControlStore(tmp_path / "c.sqlite3", url=url)
    assert "s3cret" not in str(caught.value)


def test_a_missing_database_stops_a_command_at_start_up_with_the_url_and_no_password(
    tmp_path: Path, pg_database: str
) -> None:
    server = pg_database.rsplit("/", 1)[0].replace("postgresql://postgres@", "postgresql://postgres:s3cret@")
    url = f"{server}/osintel_no_such_database"
    env = {**os.environ, "OSINTEL_DATA_DIR": str(tmp_path), "OSINTEL_STORE_URL": url}
    out = subprocess.run([*OSINTEL, "outbox", "status"], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode != 0
    assert "postgresql://postgres:***@127.0.0.1:5432/osintel_no_such_database" in out.stderr
    assert "does not exist" in out.stderr and "s3cret" not in out.stderr


def test_a_lease_skips_rows_another_worker_is_leasing_instead_of_waiting_for_them(
    tmp_path: Path, pg_url: str
) -> None:
    # A lock wait fails fast here rather than hanging the test: leasing must not wait at all.
    with ControlStore(tmp_path / "c.sqlite3", url=f"{pg_url}%20-clock_timeout%3D3000") as store:
        for n in range(2):
            assert store.add_collected(_doc(n), content_sha256=f"h{n}")
        with psycopg.connect(pg_url) as other:  # another worker, mid-lease on the first row
            first = other.execute("SELECT seq FROM outbox ORDER BY seq LIMIT 1 FOR UPDATE").fetchone()
            assert first is not None
            [item] = store.lease(1, owner="worker-a")
            assert item.seq != first[0] and item.document.id == _doc(1).id
            other.rollback()
        [again] = store.lease(1, owner="worker-a")
        assert again.seq == first[0]


WORKER = """
import json, sys, time
from osintel.store import ControlStore
store = ControlStore(sys.argv[1], url=sys.argv[2])
start = float(sys.argv[3])
time.sleep(max(0.0, start - time.time()))  # both workers begin together
taken = []
while items := store.lease(2, owner=sys.argv[4]):
    taken += [i.seq for i in items]
    store.ack([i.seq for i in items], [i.document for i in items], owner=sys.argv[4])
print(json.dumps(taken))
"""


def test_two_worker_processes_leasing_from_one_outbox_never_get_the_same_row(tmp_path: Path, pg_url: str) -> None:
    import time

    path = tmp_path / "data" / "osintel.sqlite3"
    with ControlStore(path, url=pg_url) as store:
        for n in range(150):
            assert store.add_collected(_doc(n), content_sha256=f"h{n}")
        seqs = {int(r["seq"]) for r in store.read("SELECT seq FROM outbox")}
    start = time.time() + 3.0
    workers = [subprocess.Popen([sys.executable, "-c", WORKER, str(path), pg_url, str(start), f"worker-{w}"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in (1, 2)]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=240)
        assert worker.returncode == 0, err[-2000:]
        results.append(json.loads(out))
    first, second = (set(r) for r in results)
    assert len(first) == len(results[0]) and len(second) == len(results[1])  # no row twice to one worker
    assert not first & second  # nor to both
    assert first | second == seqs and first and second  # every row, and both workers had some
    with ControlStore(path, url=pg_url) as store:
        assert store.outbox_counts() == {"pending": 0, "done": 150, "failed": 0}
        assert {r[0] for r in store.read("SELECT attempts FROM outbox")} == {1}


OPENER = """
import sys, time
from osintel.store import ControlStore
time.sleep(max(0.0, float(sys.argv[3]) - time.time()))
ControlStore(sys.argv[1], url=sys.argv[2]).close()
"""


def test_processes_opening_a_new_database_together_migrate_it_once(tmp_path: Path, pg_url: str) -> None:
    import time

    start = time.time() + 3.0
    openers = [subprocess.Popen([sys.executable, "-c", OPENER, str(tmp_path / f"d{n}" / "c.sqlite3"), pg_url,
                                 str(start)], stderr=subprocess.PIPE, text=True) for n in range(3)]
    for opener in openers:
        _, err = opener.communicate(timeout=120)
        assert opener.returncode == 0, err[-2000:]
    with ControlStore(tmp_path / "c.sqlite3", url=pg_url) as store:
        assert store.read("SELECT value FROM meta WHERE key = 'schema_version'")[0]["value"] == "4"


def test_the_oversight_record_is_append_only_on_postgresql_too(store: ControlStore) -> None:
    run = store.start_run("s1", owner={"pid": 1})  # logged as crawl.start
    assert run >= 1
    for sql in ("UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log"):
        with pytest.raises(StoreError, match="audit_log is append-only"):
            with store.transaction() as tx:
                tx.execute(sql)
    assert audit.verify(store).ok


def test_insert_or_replace_and_insert_or_ignore_keep_their_sqlite_meaning(store: ControlStore) -> None:
    alerts = AlertStore(store)
    spec = {"query": "van"}
    assert alerts.add_rule(rule_id="r1", name="Vans", kind="query", spec=spec, owner_id=None, owner_name=None)
    assert not alerts.add_rule(rule_id="r1", name="Other", kind="query", spec=spec, owner_id=None, owner_name=None,
                               if_missing=True)  # OR IGNORE: kept
    assert alerts.add_rule(rule_id="r1", name="Vans and lorries", kind="query", spec=spec, owner_id=None,
                           owner_name=None)  # OR REPLACE: replaced
    rule = alerts.get_rule("r1")
    assert rule is not None and rule.name == "Vans and lorries"


def test_a_new_rows_id_comes_back_from_insert(store: ControlStore) -> None:
    first = store.start_run("s1", owner={"pid": 1})
    second = store.start_run("s1", owner={"pid": 1})
    assert second == first + 1
    assert store.get_run(second) is not None


def test_every_table_owners_sql_runs_on_postgresql(store: ControlStore, tmp_path: Path) -> None:
    # Each owner of a table (tests/test_store_boundaries.py) through its public functions, once:
    # the SQL they write in SQLite's dialect must run on the server as it is, or be made portable.
    from datetime import datetime, timedelta, timezone

    from osintel import apikeys
    from osintel.service import deadletter, leases, procs, retention, sealing

    now = datetime.now(timezone.utc)
    doc = _doc(1)
    store.add_collected(doc, content_sha256="h1")
    key_id, secret = apikeys.create_key(store, role="analyst", name="desk")
    key = apikeys.authenticate(store, secret)
    assert key is not None and [k.key_id for k in apikeys.list_keys(store)] == [key_id]
    token = apikeys.create_session(store, key, ttl_seconds=60)
    assert apikeys.session_key(store, token) == key
    apikeys.end_session(store, token)
    assert apikeys.revoke_key(store, key_id).revoked_at is not None

    alerts = AlertStore(store)
    alerts.add_rule(rule_id="r1", name="R", kind="query", spec={"query": "van"}, owner_id=None, owner_name=None)
    added = alerts.get_rule("r1")
    assert added is not None
    alerts.set_enabled("r1", False)  # CASE WHEN ? = 1: an integer is no boolean on PostgreSQL
    assert alerts.get_rule("r1") == replace(added, enabled=False)  # active_since kept
    alerts.set_enabled("r1", True)
    [rule] = alerts.rules()
    assert rule.enabled and rule.active_since > added.active_since  # re-enabled: alerts from now on
    alerts.set_mark("m", "x")
    assert alerts.get_mark("m") == "x"
    message = alerts.add_message(rule_id="r1", sink="file", target="out", payload={"n": 1}, event_ids=[], now=now)
    assert [m.id for m in alerts.due_messages(now + timedelta(seconds=1))] == [message]
    assert alerts.messages_since("r1", now - timedelta(days=1))[0] == 1

    retention.set_hold(store, doc.id, actor="test", reason="case 7")
    assert retention.held_ids(store, [doc.id]) == {doc.id}
    assert retention.release_hold(store, doc.id, actor="test")
    warc = tmp_path / "w.warc.gz"
    warc.write_bytes(b"x")
    sealing.seal(store, warc, name=warc.name, run_id=None, reason="test")
    assert set(sealing.sealed(store)) == {warc.name}

    [item] = store.lease(1, owner=procs.current().token)
    deadletter.record(store, {doc.id: "bad date"}, seqs={doc.id: item.seq})
    assert deadletter.count_open(store) == 1
    deadletter.requeue(store)
    assert deadletter.count_open(store) == 0 and leases.release_dead(store) == {}
    assert audit.verify(store).ok and audit.export(store, tmp_path / "audit.jsonl", actor="test") > 0
    assert store.stats()["documents"] == 1
    with store.transaction() as tx:
        store.erase_document(tx, doc.id)
    assert store.count_documents() == 0


def test_warc_verify_checks_the_seals_recorded_in_the_postgresql_store(tmp_path: Path, pg_url: str) -> None:
    # With the store on the server there is no SQLite file in the data directory: the seals
    # (and the documents' captures) must still be read from the store, not skipped.
    from osintel.service import evidence, sealing
    from osintel.settings import load_settings

    settings = load_settings(env={"OSINTEL_DATA_DIR": str(tmp_path / "data"), "OSINTEL_STORE_URL": pg_url})
    warc = settings.warc_dir / "herald-1-20260101T000000Z.warc.gz"
    warc.parent.mkdir(parents=True)
    warc.write_bytes(b"not yet a complete record")
    with ControlStore(settings.store_path, url=pg_url) as store:
        sealing.seal(store, warc, name="warc/" + warc.name, run_id=1, reason="crawl process died")
    warc.write_bytes(b"changed after sealing")
    report = evidence.verify_warcs(settings)
    assert [m.kind for m in report.mismatches] == ["sealed-changed"]
