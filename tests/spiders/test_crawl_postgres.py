"""A crawl with ``[store] url`` set writes to the PostgreSQL store: the crawl child process, its
pipeline, cursors and run recorder all open the store the settings name, never the SQLite file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from osintel.store import ControlStore
from spiders.runner import run_crawl


def test_a_crawl_child_stores_documents_runs_and_seen_urls_in_the_postgresql_store(
    site: Any, make_settings: Any, make_sources: Any, tmp_path: Path, pg_url: str
) -> None:
    settings = make_settings(tmp_path / "data", **{"store.url": pg_url})
    sources = make_sources(site, [{"id": "herald", "kind": "feed", "urls": [f"{site.base}/feeds/news.rss"]}])
    site.clear()
    [result] = run_crawl(settings, sources, [])
    assert result.status == "ok", result
    with ControlStore(settings.store_path, url=pg_url) as store:
        stored = store.count_documents()
        assert stored >= 3 and store.outbox_counts()["pending"] == stored  # the site serves some bad pages
        [run] = store.runs(source_id="herald")
        assert run["status"] == "ok" and run["stats"]["items/new"] == stored  # recorded by the child
        assert len(store.seen_urls("herald")) >= stored
    assert not settings.store_path.exists()  # nothing went to the embedded file
