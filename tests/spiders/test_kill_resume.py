"""SIGKILL a crawl child mid-run: nothing stored is lost or half-written, and the next run resumes.

A real crawl (run_crawl in a thread, child process, loopback HTTP) collects 40 slow articles one
at a time. Once a few documents are stored the child is killed with SIGKILL; the child is found
as this process's child running ``spiders.child`` (so the runner needs no hook). Then the store,
the WARC file and the run row are inspected, and a second crawl must collect exactly the rest.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from warcio.archiveiterator import ArchiveIterator

from osintel.records import Document, canonical_url
from osintel.service.sealing import sealed
from osintel.store import ControlStore
from spiders.runner import CrawlResult, run_crawl

ARTICLES = 40
DELAY = 0.2
KILL_AFTER_DOCS = 5


def _article(i: int) -> bytes:
    return (f"<html><head><title>Article {i}</title></head><body><article><h1>Article {i}</h1>"
            f"<p>Report number {i}: detectives from the economic crime unit executed warrants at "
            f"{i} addresses and seized cash, phones and ledgers.</p></article></body></html>").encode()


def _register(site: Any) -> None:
    for i in range(ARTICLES):
        def route(h: Any, i: int = i) -> None:
            time.sleep(DELAY)
            h._send(200, _article(i))
        site.routes[f"/kr/a/{i}.html"] = route
    items = "".join(f"<item><title>Article {i}</title><link>{site.base}/kr/a/{i}.html</link></item>"
                    for i in range(ARTICLES))
    feed = f'<rss version="2.0"><channel><title>kr</title>{items}</channel></rss>'.encode()
    site.routes["/kr/feed.xml"] = lambda h: h._send(200, feed, "application/rss+xml")


def _crawl_children() -> list[int]:
    """PIDs of this process's children running ``spiders.child`` (Linux /proc)."""
    me, found = os.getpid(), []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"spiders.child" in cmdline:
            found.append(int(entry.name))
    return found


def _count_documents(store_path: Path) -> int:
    if not store_path.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=5) as db:
            return int(db.execute("SELECT COUNT(*) FROM documents").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_sigkill_mid_crawl_loses_nothing_stored_and_the_next_run_resumes(
    site: Any, make_settings: Any, make_sources: Any, tmp_path: Path
) -> None:
    _register(site)
    settings = make_settings(tmp_path, **{"crawl.concurrent_requests_per_domain": 1})
    sources = make_sources(site, [{"id": "kr", "kind": "feed", "urls": [f"{site.base}/kr/feed.xml"]}])
    store_path = settings.store_path

    outcome: dict[str, list[CrawlResult]] = {}
    crawl = threading.Thread(target=lambda: outcome.setdefault("first", run_crawl(settings, sources, ["kr"])))
    crawl.start()
    deadline = time.monotonic() + 60
    while _count_documents(store_path) < KILL_AFTER_DOCS and time.monotonic() < deadline:
        time.sleep(0.05)
    children = _crawl_children()
    assert len(children) == 1, children
    os.kill(children[0], signal.SIGKILL)
    crawl.join(timeout=30)
    assert not crawl.is_alive()

    # The parent closed the run row with a non-ok status.
    [first] = outcome["first"]
    assert first.status == "failed"
    assert "-9" in (first.error or "")

    with sqlite3.connect(store_path) as db:
        bodies = [r[0] for r in db.execute("SELECT body FROM documents")]
        queued = {r[0] for r in db.execute("SELECT doc_id FROM outbox")}
        seen = {r[0] for r in db.execute("SELECT url FROM seen_urls")}
        run = db.execute("SELECT status, finished_at FROM crawl_runs WHERE id = ?", (first.run_id,)).fetchone()
    assert run[0] == "failed" and run[1] is not None
    stored = [Document.from_json(b) for b in bodies]  # every stored document is whole and valid
    assert KILL_AFTER_DOCS <= len(stored) < ARTICLES, "the kill did not land mid-run"
    assert all(d.text and d.capture is not None for d in stored)
    assert {d.id for d in stored} <= queued  # each one is in the outbox
    # Nothing is marked seen that was not stored (seen-but-lost would never be fetched again).
    assert seen <= {d.canonical_url for d in stored}

    # The WARC written so far reads back up to the kill, and holds every stored capture.
    warcs = list(settings.warc_dir.glob("kr-*.warc.gz"))
    assert len(warcs) == 1
    # The parent sealed the file its killed child left open: read-only, size and hash recorded.
    assert warcs[0].stat().st_mode & 0o222 == 0
    with ControlStore(store_path) as store:
        [seal] = sealed(store).values()
    assert seal.file == f"warc/{warcs[0].name}" and seal.size == warcs[0].stat().st_size
    records: dict[str, str] = {}
    with warcs[0].open("rb") as fh:
        try:
            for record in ArchiveIterator(fh):
                if record.rec_type == "response":
                    records[record.rec_headers.get_header("WARC-Record-ID")] = (
                        record.rec_headers.get_header("WARC-Target-URI"))
        except Exception:  # noqa: BLE001 - a record cut off by the kill ends the readable part
            pass
    for doc in stored:
        assert doc.capture is not None and doc.capture.record_id is not None
        assert records.get(doc.capture.record_id) == doc.url

    # The next run collects exactly the remaining articles: 40 in all, none twice.
    site.clear()
    [second] = run_crawl(settings, sources, ["kr"])
    assert second.status == "ok"
    fetched_again = {p for p in site.paths() if p.startswith("/kr/a/")}
    assert not fetched_again & {"/" + d.url.split("/", 3)[-1] for d in stored}
    with ControlStore(store_path) as store:
        docs = list(store.iter_documents())
        assert store.outbox_counts()["pending"] == ARTICLES
    urls = [d.canonical_url for d in docs]
    assert len(urls) == len(set(urls)) == ARTICLES
    assert set(urls) == {canonical_url(f"{site.base}/kr/a/{i}.html") for i in range(ARTICLES)}
    assert second.stats["items/new"] == ARTICLES - len(stored)
    assert second.stats["items/duplicate"] == 0
