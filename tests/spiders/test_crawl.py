"""End-to-end crawls of the fixture site through run_crawl (child process, real HTTP).

One module-scoped scenario crawls the same sources twice; the tests read its results.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from osintel.records import Document
from osintel.store import ControlStore
from spiders.runner import CrawlResult, run_crawl

ARTICLES = {f"/articles/a{i}.html" for i in range(1, 7)}


@dataclass
class Scenario:
    data_dir: Path
    first: dict[str, CrawlResult]
    second: dict[str, CrawlResult]
    first_paths: list[str]
    second_paths: list[str]
    internal_paths: list[str]
    docs_after_first: list[Document]
    count_after_second: int
    progress: list[tuple[str, str]]


@pytest.fixture(scope="module")
def scenario(site: Any, internal: Any, make_settings: Any, make_sources: Any,
             tmp_path_factory: pytest.TempPathFactory) -> Scenario:
    data_dir = tmp_path_factory.mktemp("crawl")
    settings = make_settings(data_dir)
    sources = make_sources(site, [
        {"id": "herald", "kind": "feed", "grading": "2BP",
         "urls": [f"{site.base}/feeds/news.rss", f"{site.base}/feeds/news.atom"]},
        {"id": "broken", "kind": "feed", "urls": [f"{site.base}/feeds/broken.xml"]},
        {"id": "lapsed", "kind": "feed", "urls": [f"{site.base}/feeds/news.rss?lapsed=1"],
         "authorisation_expires": "2020-01-31"},
    ])
    progress: list[tuple[str, str]] = []
    site.clear()
    internal.clear()
    first = run_crawl(settings, sources, [], progress=lambda r: progress.append((r.source_id, r.status)))
    first_paths = site.paths()
    with ControlStore(settings.store_path) as store:
        docs = list(store.iter_documents())
    site.clear()
    second = run_crawl(settings, sources, ["herald", "broken"])
    second_paths = site.paths()
    with ControlStore(settings.store_path) as store:
        count = store.count_documents()
    return Scenario(data_dir, {r.source_id: r for r in first}, {r.source_id: r for r in second},
                    first_paths, second_paths, internal.paths(), docs, count, progress)


def _doc(scenario: Scenario, path: str) -> Document:
    for doc in scenario.docs_after_first:
        if doc.canonical_url.endswith(path):
            return doc
    raise AssertionError(f"no document for {path}: {[d.canonical_url for d in scenario.docs_after_first]}")


def test_feed_crawl_stores_one_document_per_article_in_the_outbox(scenario: Scenario) -> None:
    urls = sorted(d.canonical_url.rsplit("/", 2)[-2] + "/" + d.canonical_url.rsplit("/", 1)[-1]
                  for d in scenario.docs_after_first)
    assert urls == sorted(p.lstrip("/") for p in ARTICLES)
    assert all(d.source.id == "herald" and d.grading and d.grading.code == "2BP"
               for d in scenario.docs_after_first)
    with ControlStore(scenario.data_dir / "osintel.sqlite3") as store:
        assert store.outbox_counts()["pending"] == 6
    assert scenario.first["herald"].stats["items/new"] == 6


def test_feed_entry_metadata_wins_and_page_text_is_clean(scenario: Scenario) -> None:
    doc = _doc(scenario, "/articles/a2.html")
    assert doc.title == "Cocaine worth £12m found in banana shipment"  # the feed's title
    assert doc.author == "Tom Baker"
    assert doc.published_at == datetime(2025, 3, 5, 8, 30, tzinfo=timezone.utc)
    assert "Guayaquil in Ecuador via Antwerp" in doc.text
    for doc in scenario.docs_after_first:
        assert "COMMENT-MARKER" not in doc.text
        assert "cookie" not in doc.text.lower()
        assert "All rights reserved" not in doc.text


def test_relative_feed_links_are_resolved_against_the_feed_url(scenario: Scenario) -> None:
    # "/articles/a2.html" and "../articles/a3.html" in the RSS feed at /feeds/news.rss
    assert "/articles/a2.html" in scenario.first_paths
    assert "/articles/a3.html" in scenario.first_paths
    # The feed gives no author for a3: the one extracted from the page is used.
    assert _doc(scenario, "/articles/a3.html").author == "Priya Shah"


def test_an_article_linked_twice_with_tracking_parameters_is_fetched_once(scenario: Scenario) -> None:
    fetched = Counter(p.split("?", 1)[0] for p in scenario.first_paths if p.startswith("/articles/a1"))
    assert fetched["/articles/a1.html"] == 1
    assert scenario.first["herald"].stats["items/seen"] >= 1


def test_second_crawl_fetches_no_article_again_and_adds_no_document(scenario: Scenario) -> None:
    assert not [p for p in scenario.second_paths if p.startswith("/articles/")]
    assert set(scenario.second_paths) <= {"/robots.txt", "/feeds/news.rss", "/feeds/news.atom",
                                          "/feeds/broken.xml", "/redirect-internal", "/redirect-10"}
    assert scenario.count_after_second == len(scenario.docs_after_first) == 6
    stats = scenario.second["herald"].stats
    assert stats["items/new"] == 0
    assert stats["items/seen"] >= 6


def test_robots_txt_disallow_is_obeyed(scenario: Scenario) -> None:
    assert "/robots.txt" in scenario.first_paths
    assert not [p for p in scenario.first_paths if p.startswith("/private/")]
    assert scenario.first["herald"].stats["robotstxt/forbidden"] == 1
    # Our own policy refusing a link is not a failure of the source.
    assert scenario.first["herald"].stats["items/refused/robots"] == 1
    assert "items/failed/robots" not in scenario.first["herald"].stats


def test_ssrf_guard_blocks_redirects_and_links_to_internal_addresses(scenario: Scenario) -> None:
    # The feed links the internal server directly and via a redirect, and redirects to 10.0.0.1.
    assert scenario.internal_paths == []
    assert "/redirect-internal" in scenario.first_paths  # allow-listed host:port is reachable
    assert scenario.first["herald"].stats["ssrf/blocked"] == 3


def test_oversize_responses_and_gzip_bombs_are_dropped_and_counted(scenario: Scenario) -> None:
    assert {"/bomb", "/big.html"} <= set(scenario.first_paths)
    stats = scenario.first["herald"].stats
    assert stats["responses/oversize"] == 2
    assert not [d for d in scenario.docs_after_first if "bomb" in d.url or "big" in d.url]
    # Oversize pages are remembered: the second crawl does not download them again.
    assert not {"/bomb", "/big.html"} & set(scenario.second_paths)


def test_page_without_text_is_counted_failed_and_not_fetched_again(scenario: Scenario) -> None:
    stats = scenario.first["herald"].stats
    assert stats["items/failed/no-text"] == 1
    assert "/articles/empty.html" in scenario.first_paths
    assert "/articles/empty.html" not in scenario.second_paths


def test_malformed_feed_is_counted_not_crashed_and_a_run_with_nothing_else_fails(scenario: Scenario) -> None:
    result = scenario.first["broken"]
    assert result.status == "failed"  # the only feed was unreadable: nothing collected
    assert "1 malformed feed(s)" in (result.error or "")
    assert result.stats["feeds/malformed"] == 1


def test_warc_capture_matches_the_document(scenario: Scenario) -> None:
    doc = _doc(scenario, "/articles/a4.html")
    assert doc.capture is not None
    assert doc.capture.http_status == 200
    assert doc.capture.content_type and doc.capture.content_type.startswith("text/html")
    assert doc.capture.ip_address == "127.0.0.1"
    assert doc.capture.warc_file is not None
    warc = scenario.data_dir / doc.capture.warc_file
    assert warc.name.startswith(f"herald-{scenario.first['herald'].run_id}-")
    found: dict[str, Any] = {}
    with warc.open("rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_headers.get_header("WARC-Record-ID") == doc.capture.record_id:
                found["type"] = record.rec_type
                found["uri"] = record.rec_headers.get_header("WARC-Target-URI")
                found["ip"] = record.rec_headers.get_header("WARC-IP-Address")
                found["sha256"] = hashlib.sha256(record.raw_stream.read()).hexdigest()
            elif record.rec_type == "request":
                found.setdefault("requests", 0)
                found["requests"] += 1
    assert found["type"] == "response"
    assert found["uri"] == doc.url
    assert found["ip"] == "127.0.0.1"
    assert found["sha256"] == doc.capture.sha256
    assert found["requests"] >= 6


def test_crawl_runs_are_recorded_with_stats(scenario: Scenario) -> None:
    result = scenario.first["herald"]
    assert result.status == "ok"
    stats = result.stats
    assert stats["pages_fetched"] >= 10
    assert stats["downloader/response_status_count/200"] >= 8
    assert stats["downloader/response_status_count/302"] == 2
    assert stats["bytes"] > 0 and stats["duration_seconds"] > 0
    with ControlStore(scenario.data_dir / "osintel.sqlite3") as store:
        rows = store.runs(source_id="herald")
    assert [r["status"] for r in rows] == ["ok", "ok"]
    assert rows[0]["finished_at"] is not None


def test_source_with_expired_authorisation_is_skipped(scenario: Scenario) -> None:
    result = scenario.first["lapsed"]
    assert result.status == "skipped-expired"
    assert "2020-01-31" in (result.error or "")
    assert not [p for p in scenario.first_paths if "lapsed" in p]


def test_progress_reports_each_source_once(scenario: Scenario) -> None:
    assert sorted(scenario.progress) == [("broken", "failed"), ("herald", "ok"), ("lapsed", "skipped-expired")]
