"""Outbox leases held by a worker process: seen, released when it died, kept while it lives.

The holder is a real process that leases outbox rows through :meth:`ControlStore.lease` (what the
enrichment worker does first) and then waits; the checks go through the real ``osintel`` CLI.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from osintel.service import procs
from osintel.records import Document, SourceRef
from osintel.store import ControlStore

OWNER = procs.current().token  # the process leases, acks and releases in its name
OSINTEL = [sys.executable, "-m", "osintel"]
DOCS = 6
HOLDER = """
import sys, time
from osintel.service import procs
from osintel.store import ControlStore
store = ControlStore(sys.argv[1], url=sys.argv[2])
print(len(store.lease(100, owner=procs.current().token)), flush=True)
time.sleep(600)
"""


@pytest.fixture
def data_dir(tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory with DOCS pending documents, its store on each engine (the CLI is given
    the store's URL through ``OSINTEL_STORE_URL``)."""
    monkeypatch.setenv("OSINTEL_STORE_URL", store_url)
    data = tmp_path / "data"
    with _store(data) as store:
        for n in range(DOCS):
            doc = Document(url=f"https://example.com/lease/{n}", source=SourceRef(id="s1", name="S1"),
                           title=f"Lease {n}", text=f"Customs officers seized parcel {n} at the port.")
            assert store.add_collected(doc, content_sha256=f"lease-{n}")
    return data


def _store(data_dir: Path) -> ControlStore:
    return ControlStore(data_dir / "osintel.sqlite3", url=os.environ["OSINTEL_STORE_URL"])


def _cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir)}
    return subprocess.run(OSINTEL + list(args), env=env, capture_output=True, text=True, timeout=300)


def _holder(data_dir: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(data_dir / "osintel.sqlite3"),
                             os.environ["OSINTEL_STORE_URL"]],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == str(DOCS)
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def _status(data_dir: Path) -> dict[str, Any]:
    out = _cli(data_dir, "outbox", "status", "--json")
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_outbox_status_and_stats_name_the_holder_whether_alive_or_dead_and_when_its_lease_expires(
    data_dir: Path
) -> None:
    holder = _holder(data_dir)
    try:
        status = _status(data_dir)
        assert status["outbox"]["pending"] == DOCS and status["leased"] == DOCS and status["available"] == 0
        [h] = status["holders"]
        assert (h["pid"], h["host"], h["liveness"], h["documents"]) == (holder.pid, procs.hostname(), "alive", DOCS)
        assert h["lease_expires_at"] > time.strftime("%Y-%m-%d")
    finally:
        _kill(holder)
    [h] = _status(data_dir)["holders"]
    assert h["liveness"] == "dead"
    stats = _cli(data_dir, "stats", "--json")
    assert stats.returncode == 0, stats.stderr
    [lease] = json.loads(stats.stdout)["outbox_leases"]
    assert (lease["pid"], lease["liveness"], lease["documents"]) == (holder.pid, "dead", DOCS)
    text = _cli(data_dir, "stats")
    assert f"leased: {DOCS} by " in text.stdout and "(dead)" in text.stdout


def test_a_live_holders_leases_are_not_released_without_force_and_enrich_says_who_holds_them(
    data_dir: Path
) -> None:
    holder = _holder(data_dir)
    try:
        refused = _cli(data_dir, "outbox", "release", "--owner", str(holder.pid))
        assert refused.returncode == 1
        [line] = refused.stderr.strip().splitlines()
        assert "refusing to release" in line and f"process {holder.pid}" in line and "(alive)" in line
        assert _status(data_dir)["leased"] == DOCS  # untouched

        # Enrich has nothing it may take: it says so (without loading any model) and succeeds,
        # because the holder is alive and will finish them.
        enrich = _cli(data_dir, "enrich", "--json")
        assert enrich.returncode == 0, enrich.stderr[-2000:]
        report = json.loads(enrich.stdout)
        assert (report["indexed"], report["leased"], report["stuck"]) == (0, DOCS, 0)
        assert f"{DOCS} document(s) leased by process {holder.pid}" in enrich.stderr
        assert "loading NLP models" not in enrich.stderr

        forced = _cli(data_dir, "outbox", "release", "--owner", f"{holder.pid}@{procs.hostname()}", "--force",
                      "--json")
        assert forced.returncode == 0, forced.stderr
        assert list(json.loads(forced.stdout)["released"].values()) == [DOCS]
        assert _status(data_dir)["available"] == DOCS
    finally:
        _kill(holder)
    events = _audit(data_dir)
    [release] = [e for e in events if e.get("kind") == "outbox.release"]
    assert release["forced"] is True and release["liveness"] == "alive" and release["documents"] == DOCS


def test_a_dead_holders_leases_are_released_by_the_next_writing_command(data_dir: Path, tmp_path: Path) -> None:
    _kill(holder := _holder(data_dir))
    sources = tmp_path / "sources.yaml"
    sources.write_text("sources: []\n")
    # Any command that writes to the data directory releases them first; an empty crawl is the cheapest.
    crawl = _cli(data_dir, "crawl", "--all", "--sources", str(sources))
    assert crawl.returncode == 0, crawl.stderr[-2000:]
    expected = f"released {DOCS} outbox lease(s) held by process {holder.pid} on {procs.hostname()}, which died"
    assert expected in crawl.stderr
    status = _status(data_dir)
    assert status["leased"] == 0 and status["available"] == DOCS and status["holders"] == []
    with _store(data_dir) as store:
        # The dead worker's attempt is not counted against the documents.
        assert {r["attempts"] for r in store.read("SELECT attempts FROM outbox")} == {0}
    [release] = [e for e in _audit(data_dir) if e.get("kind") == "outbox.release"]
    assert release["forced"] is False and release["liveness"] == "dead"


def test_a_dead_holder_can_be_released_by_name_without_force(data_dir: Path) -> None:
    _kill(holder := _holder(data_dir))
    released = _cli(data_dir, "outbox", "release", "--owner", str(holder.pid))
    assert released.returncode == 0, released.stderr
    assert f"released {DOCS} document(s) held by {procs.hostname()}/{holder.pid}/" in released.stdout
    bad = _cli(data_dir, "outbox", "release")
    assert bad.returncode == 2 and "--owner PID[@HOST]" in bad.stderr


def test_enrich_fails_when_documents_sit_under_a_lease_it_cannot_check(data_dir: Path) -> None:
    # A worker on another host (a shared data directory) cannot be checked from here: its
    # lease is the state a worker there writes, set directly.
    with _store(data_dir) as store:
        store.lease(100, owner=OWNER)
        with store.transaction() as tx:
            tx.execute("UPDATE outbox SET lease_owner = 'worker-2.example/4242/x'")
    enrich = _cli(data_dir, "enrich", "--json")
    assert enrich.returncode == 1
    report = json.loads(enrich.stdout)
    assert (report["indexed"], report["leased"], report["stuck"]) == (0, DOCS, DOCS)
    assert "process 4242 on worker-2.example (unknown)" in enrich.stderr
    assert "osintel outbox release --owner 4242@worker-2.example --force" in enrich.stderr
    refused = _cli(data_dir, "outbox", "release", "--all")
    assert refused.returncode == 1 and "(unknown)" in refused.stderr


def _audit(data_dir: Path) -> list[dict[str, Any]]:
    out = data_dir.parent / "audit.jsonl"
    assert _cli(data_dir, "audit", "export", "--output", str(out)).returncode == 0
    return [json.loads(line)["detail"] for line in out.read_text().splitlines()]
