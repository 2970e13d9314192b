"""Processes writing one PostgreSQL store at once: what SQLite's single writer made safe must stay
safe when writers really run side by side (the oversight record's chain, storing a document two
crawlers found at the same moment).

Every test starts its processes at one agreed instant so their writes overlap.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, wait
from pathlib import Path

import psycopg

from osintel import audit
from osintel.records import Document, Grading, SourceRef
from osintel.store import ControlStore


def _run_together(script: str, args: list[list[str]], *, timeout: float = 240) -> list[str]:
    """Run ``script`` once per argument list, all starting at the same instant; their stdouts."""
    start = str(time.time() + 3.0)
    procs = [subprocess.Popen([sys.executable, "-c", script, start, *a], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for a in args]
    outs = []
    for proc in procs:
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, err[-3000:]
        outs.append(out)
    return outs


APPENDER = """
import sys, time
from osintel import audit
from osintel.store import ControlStore
start, path, url, name = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
with ControlStore(path, url=url) as store:
    time.sleep(max(0.0, start - time.time()))
    for n in range(50):
        audit.log_event(store, actor=name, action="consultation", detail={"kind": "search", "n": n})
"""


def test_four_processes_appending_to_the_oversight_record_at_once_keep_one_verifiable_chain(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "data" / "osintel.sqlite3"
    ControlStore(path, url=pg_url).close()  # migrated once, before the race
    _run_together(APPENDER, [[str(path), pg_url, f"proc-{p}"] for p in range(4)])
    with ControlStore(path, url=pg_url) as store:
        report = audit.verify(store)
        assert report.ok, report.to_dict()
        assert report.events == 200
        by_actor = {r["actor"]: int(r["n"]) for r in
                    store.read("SELECT actor, COUNT(*) AS n FROM audit_log GROUP BY actor")}
        assert by_actor == {f"proc-{p}": 50 for p in range(4)}


CRAWLER = """
import json, sys, time
from osintel.records import Document, SourceRef
from osintel.store import ControlStore
start, path, url, via = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
src = SourceRef(id="s1", name="S1")
docs = [Document(url=f"https://example.org/race/{n}", source=src, title=f"Item {n}",
                 text=f"Officers stopped van number {n} on the ring road.") for n in range(40)]
stored = []
with ControlStore(path, url=url) as store:
    time.sleep(max(0.0, start - time.time()))
    for n, doc in enumerate(docs):
        # Each crawler reached the article through a link of its own (a redirect, a feed link).
        if store.add_collected(doc, content_sha256=f"race-{n}", seen=[f"https://{via}.example.net/{n}"]):
            stored.append(doc.id)
print(json.dumps(stored))
"""


def test_two_crawlers_storing_the_same_documents_at_once_store_each_once_without_an_error(
    tmp_path: Path, pg_url: str
) -> None:
    path = tmp_path / "data" / "osintel.sqlite3"
    ControlStore(path, url=pg_url).close()
    outs = _run_together(CRAWLER, [[str(path), pg_url, "feed"], [str(path), pg_url, "short"]])
    first, second = (set(json.loads(o)) for o in outs)
    assert not first & second  # each document was new to exactly one crawler
    with ControlStore(path, url=pg_url) as store:
        assert store.count_documents() == 40 == len(first | second)
        assert store.outbox_counts()["pending"] == 40  # queued once each
        assert len(store.seen_urls("s1")) == 80  # both links are seen either way


COPIER = """
import json, sys, time
from osintel.records import Document, SourceRef
from osintel.store import ControlStore
start, path, url, mirror = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
src = SourceRef(id="s1", name="S1")
stored = []
with ControlStore(path, url=url) as store:
    time.sleep(max(0.0, start - time.time()))
    for n in range(40):
        doc = Document(url=f"https://{mirror}.example.org/story/{n}", source=src, title=f"Item {n}",
                       text=f"Customs seized parcel number {n} at the port.")
        if store.add_collected(doc, content_sha256=f"same-content-{n}", seen=[doc.url]):
            stored.append(n)
print(json.dumps(stored))
"""


def test_the_same_content_found_under_two_urls_at_once_is_stored_once(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "data" / "osintel.sqlite3"
    ControlStore(path, url=pg_url).close()
    outs = _run_together(COPIER, [[str(path), pg_url, "www"], [str(path), pg_url, "mirror"]])
    first, second = (set(json.loads(o)) for o in outs)
    assert not first & second and first | second == set(range(40))
    with ControlStore(path, url=pg_url) as store:
        assert store.count_documents() == 40
        assert int(store.read("SELECT COUNT(*) FROM content_hashes")[0][0]) == 40
        assert store.outbox_counts()["pending"] == 40
        assert len(store.seen_urls("s1")) == 80  # both copies' URLs are seen either way


RECAPTURER = """
import json, sys, time
from osintel.records import Document, SourceRef
from osintel.store import ControlStore
start, path, url, who = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
src = SourceRef(id="s1", name="S1")
new = []
with ControlStore(path, url=url) as store:
    time.sleep(max(0.0, start - time.time()))
    for n in range(30):
        doc = Document(url=f"https://example.org/capture/{n}", source=src, title=f"Item {n}",
                       text=f"Capture by {who}: the warehouse on plot {n} was searched.")
        # Each reached the page through a link of their own (as in the crawler race above).
        if store.recapture_document(doc, content_sha256=f"{who}-{n}", seen=[f"https://{who}.example.net/{n}"]):
            new.append(n)
print(json.dumps(new))
"""


def test_two_analysts_capturing_the_same_urls_at_once_store_one_document_each(tmp_path: Path, pg_url: str) -> None:
    path = tmp_path / "data" / "osintel.sqlite3"
    ControlStore(path, url=pg_url).close()
    outs = _run_together(RECAPTURER, [[str(path), pg_url, "alice"], [str(path), pg_url, "bob"]])
    first, second = (set(json.loads(o)) for o in outs)
    assert not first & second and first | second == set(range(30))  # new to one, a replacement to the other
    with ControlStore(path, url=pg_url) as store:
        assert store.count_documents() == 30
        assert store.outbox_counts()["pending"] == 60  # each capture is queued for enrichment


def _stored(tmp_path: Path, pg_url: str) -> tuple[ControlStore, Document]:
    store = ControlStore(tmp_path / "data" / "osintel.sqlite3", url=pg_url)
    doc = Document(url="https://example.org/regrade/1", source=SourceRef(id="s1", name="S1"), title="Raid",
                   text="Detectives raided a lock-up garage in the early hours.")
    assert store.add_collected(doc, content_sha256="regrade-1")
    return store, doc


def test_a_worker_storing_an_enriched_document_keeps_a_regrade_committing_at_that_moment(
    tmp_path: Path, pg_url: str
) -> None:
    worker, doc = _stored(tmp_path, pg_url)
    with worker, ControlStore(tmp_path / "data" / "osintel.sqlite3", url=pg_url) as analyst, \
            ThreadPoolExecutor(1) as pool:
        [item] = worker.lease(1, owner="worker")
        enriched = item.document.model_copy(update={"language": "en"})
        with analyst.transaction() as tx:  # the analyst's regrade, not yet committed
            analyst.set_grading(tx, doc.id, Grading.parse("1AP"))
            acking = pool.submit(worker.ack, [item.seq], [enriched], owner="worker")
            wait([acking], timeout=1.5)  # the ack reaches the document while the regrade holds it
        acking.result(timeout=30)
        stored = worker.get_document(doc.id)
        assert stored is not None and stored.grading == Grading.parse("1AP") and stored.language == "en"
        assert worker.outbox_counts() == {"pending": 1, "done": 1, "failed": 0}  # re-queued: index catches up


def test_a_regrade_keeps_the_enrichment_a_worker_is_committing_at_that_moment(tmp_path: Path, pg_url: str) -> None:
    from osintel.records import utcnow

    analyst, doc = _stored(tmp_path, pg_url)
    enriched = doc.model_copy(update={"language": "en"})
    with analyst, psycopg.connect(pg_url) as worker:  # the worker's ack, not yet committed
        worker.execute("UPDATE documents SET body = %s, enriched_at = %s WHERE id = %s",
                       (enriched.to_json(), utcnow().isoformat(), doc.id))

        def regrade() -> None:
            with analyst.transaction() as tx:
                analyst.set_grading(tx, doc.id, Grading.parse("3CP"))

        with ThreadPoolExecutor(1) as pool:
            regrading = pool.submit(regrade)
            wait([regrading], timeout=1.5)  # the regrade reaches the document while the ack holds it
            worker.commit()
            regrading.result(timeout=30)
        stored = analyst.get_document(doc.id)
        assert stored is not None and stored.grading == Grading.parse("3CP") and stored.language == "en"


def test_a_key_another_api_server_is_revoking_at_that_moment_is_not_revoked_or_logged_again(tmp_path: Path, pg_url: str) -> None:
    from osintel import apikeys

    with ControlStore(tmp_path / "data" / "osintel.sqlite3", url=pg_url) as store, \
            psycopg.connect(pg_url) as other, ThreadPoolExecutor(1) as pool:
        key_id, _ = apikeys.create_key(store, role="analyst", name="desk 4")
        other.execute("UPDATE api_keys SET revoked_at = '2026-01-02T03:04:05+00:00' WHERE key_id = %s",
                      (key_id,))  # the other server's revocation, not yet committed
        revoking = pool.submit(apikeys.revoke_key, store, key_id, actor="key:admin")
        wait([revoking], timeout=1.5)
        other.commit()
        assert revoking.result(timeout=30).revoked_at == "2026-01-02T03:04:05+00:00"
        kinds = [e.detail["kind"] for e in audit.events(store)]
        assert kinds.count("key.revoke") == 0  # the other server logs its own; this one found it done
