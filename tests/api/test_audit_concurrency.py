"""The oversight record under concurrency: group commits, durable before the answer, one chain
across processes, and key lookups that never wait behind an audit write."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from osintel import apikeys, audit
from osintel.errors import StoreError
from osintel.store import ControlStore

ROOT = Path(__file__).resolve().parents[2]


def _row_for(store_path: Path, marker: str) -> int:
    """Audit rows whose detail holds ``marker``, read by a connection of its own (another reader)."""
    raw = sqlite3.connect(store_path)
    try:
        return int(raw.execute("SELECT COUNT(*) FROM audit_log WHERE detail LIKE ?", (f'%"{marker}"%',))
                   .fetchone()[0])
    finally:
        raw.close()


def test_concurrent_searches_are_each_audited_before_their_answer_and_the_chain_verifies(
        live_api: Any) -> None:
    store: ControlStore = live_api.app.state.store
    key = live_api.keys["analyst"]
    before = len(list(audit.iter_events(store)))

    def search(n: int) -> tuple[int, int]:
        marker = f"concurrency-probe-{n}"
        response = httpx.get(f"{live_api.base_url}/api/search", params={"q": marker},
                             headers={"X-API-Key": key}, timeout=60)
        # Read right after the answer, by another connection: the row must already be committed.
        return response.status_code, _row_for(store.path, marker)

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(search, range(60)))
    assert all(status == 200 for status, _ in results)
    assert [rows for _, rows in results] == [1] * 60
    events = list(audit.iter_events(store))
    probes = [e.detail["q"] for e in events if str(e.detail.get("q", "")).startswith("concurrency-probe-")]
    assert sorted(probes) == sorted(f"concurrency-probe-{n}" for n in range(60))
    assert len(events) == before + 60
    assert audit.verify(store).ok


def test_events_queued_while_the_database_is_locked_commit_together(tmp_path: Path) -> None:
    store = ControlStore(tmp_path / "s.sqlite3")
    group = audit.group_commit(store)
    blocker = sqlite3.connect(tmp_path / "s.sqlite3", isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process writing: the first logger waits for SQLite
    seqs: list[int] = []

    def log(n: int) -> None:
        seqs.append(audit.log_event(store, actor="key:t", action="consultation", detail={"n": n}))

    threads = [threading.Thread(target=log, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    while group.pending() < 8:  # all eight queued, none committed
        threading.Event().wait(0.01)
    assert seqs == [] and audit.events(store) == []
    blocker.execute("COMMIT")
    for thread in threads:
        thread.join()
    assert sorted(seqs) == list(range(1, 9))
    assert group.group_sizes == [8]  # one transaction, one fsync for all eight
    assert sorted(e.detail["n"] for e in audit.events(store)) == list(range(8))
    assert audit.verify(store).ok
    blocker.close()
    store.close()


def test_a_failed_group_commit_fails_every_event_in_it_and_logs_none(tmp_path: Path) -> None:
    store = ControlStore(tmp_path / "s.sqlite3")
    store.close()  # the store is gone: the transaction cannot begin
    with pytest.raises(StoreError):
        audit.log_event(store, actor="key:t", action="consultation", detail={})
    assert audit.group_commit(store).pending() == 0  # not left queued for a later group


_WRITER = """
import sys, threading
from osintel import audit
from osintel.store import ControlStore
store = ControlStore(sys.argv[1])
def run(t):
    for i in range(25):
        audit.log_event(store, actor="key:" + sys.argv[2], action="consultation", detail={"t": t, "i": i})
threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
store.close()
"""


def test_two_processes_logging_at_once_keep_one_verifiable_chain(tmp_path: Path) -> None:
    path = tmp_path / "data" / "osintel.sqlite3"
    ControlStore(path).close()  # migrated once, before the race
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(path), name], cwd=ROOT)
             for name in ("p1", "p2")]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with ControlStore(path) as store:
        events = audit.events(store, limit=1000)
        assert [e.seq for e in events] == list(range(1, 201))
        assert {e.actor for e in events} == {"key:p1", "key:p2"}
        report = audit.verify(store)
        assert report.ok and report.events == 200
    verified = subprocess.run([sys.executable, "-m", "osintel", "audit", "verify", "--data-dir", str(path.parent)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_key_lookups_do_not_wait_for_a_write_in_progress(tmp_path: Path) -> None:
    store = ControlStore(tmp_path / "s.sqlite3")
    _, secret = apikeys.create_key(store, role="analyst", name="t")
    inside, release = threading.Event(), threading.Event()

    def slow_write() -> None:
        with store.transaction() as tx:  # holds the store's write lock, as an audit commit does
            audit.record(tx, actor="key:t", action="consultation", detail={"kind": "slow"})
            inside.set()
            release.wait()

    writer = threading.Thread(target=slow_write)
    writer.start()
    inside.wait()
    found: list[Any] = []
    reader = threading.Thread(target=lambda: found.append(apikeys.authenticate(store, secret)))
    reader.start()
    reader.join(timeout=30)  # with one shared lock it would wait until release is set: forever
    alive = reader.is_alive()
    release.set()
    writer.join()
    reader.join()
    assert not alive and found and found[0] is not None and found[0].role == "analyst"
    store.close()


def test_a_read_inside_this_threads_transaction_sees_its_uncommitted_rows(tmp_path: Path) -> None:
    with ControlStore(tmp_path / "s.sqlite3") as store:
        with store.transaction() as tx:
            tx.execute("INSERT INTO meta(key, value) VALUES ('probe', 'x')")
            assert store.read("SELECT value FROM meta WHERE key = 'probe'")[0]["value"] == "x"
        other = sqlite3.connect(tmp_path / "s.sqlite3")
        assert other.execute("SELECT value FROM meta WHERE key = 'probe'").fetchone() == ("x",)
        other.close()
