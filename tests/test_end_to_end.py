"""The whole pipeline through the real CLI: demo site on loopback → crawl → enrich → index → search."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

from demo import DemoSite, demo_sources_config
from osintel.settings import load_settings
from search_api.app import create_app

OSINTEL = [sys.executable, "-m", "osintel"]


def _run(args: list[str], data_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "OSINTEL_DATA_DIR": str(data_dir), **env}
    return subprocess.run(OSINTEL + args, capture_output=True, text=True, env=full_env, timeout=900)


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`osintel demo --no-serve --json` once for the session, on a free demo-site port."""
    data_dir = tmp_path_factory.mktemp("demo-data")
    proc = _run(["demo", "--no-serve", "--json"], data_dir, OSINTEL_DEMO_SITE_PORT="0")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return {"data_dir": data_dir, "summary": json.loads(proc.stdout), "stderr": proc.stderr}


def test_demo_indexes_hundreds_of_documents_in_four_languages(demo_run: dict[str, Any]) -> None:
    summary = demo_run["summary"]
    assert summary["documents"] >= 300
    assert summary["enriched"] == summary["documents"]
    assert summary["outbox"]["pending"] == 0 and summary["outbox"]["failed"] == 0
    languages = summary["by_language"]
    assert {"en", "fr", "es", "de"} <= set(languages)
    assert languages["fr"] + languages["es"] + languages["de"] >= 40
    assert len(summary["methods"]) >= 20  # most of the taxonomy shows up in the demo corpus
    for label in ("PERSON", "PHONE", "VEHICLE_PLATE"):
        assert summary["entities_by_label"].get(label, 0) > 0, label
    assert "[osintel] enriched and indexed" in demo_run["stderr"]  # progress is shown
    for platform in ("mastodon", "reddit", "bluesky", "telegram"):
        assert summary["by_source"].get(f"social-{platform}", 0) > 0, platform
    assert {run["status"] for run in summary["crawl"].values()} <= {"ok", "page-limit"}


def test_demo_progress_is_a_few_lines_per_stage_without_library_logs(demo_run: dict[str, Any]) -> None:
    lines = demo_run["stderr"].splitlines()
    assert all(line.startswith("[osintel] ") for line in lines), [ln for ln in lines if not ln.startswith("[osintel]")][:5]
    crawled = [ln for ln in lines if ln.startswith("[osintel] crawled ")]
    assert len(crawled) == len(demo_run["summary"]["crawl"])  # one line per source
    assert len(lines) - len(crawled) <= 30, lines  # Scrapy's settings dump was 955 lines


def test_most_english_documents_carry_entities_methods_and_places(demo_run: dict[str, Any]) -> None:
    out = _run(["search", "language:en AND source:demo*", "--limit", "500", "--json"], demo_run["data_dir"])
    assert out.returncode == 0, out.stderr
    hits = json.loads(out.stdout)["hits"]
    assert len(hits) >= 250
    share = lambda key: sum(1 for h in hits if h[key]) / len(hits)  # noqa: E731
    assert share("entities") >= 0.9
    assert share("methods") >= 0.8
    assert share("locations") >= 0.8
    located = [loc for h in hits for loc in h["locations"]]
    # Every place has a point; every place but a continent or macro-region has a country.
    assert all(loc["lat"] is not None and (loc["country_code"] or loc["kind"] == "continent") for loc in located)
    assert any(len(loc["mentions"]) > 1 for loc in located)  # every mention of a place is listed


def test_search_json_puts_relevant_items_first_with_snippets(demo_run: dict[str, Any]) -> None:
    out = _run(["search", "firearms AND method:firearms.converted_blank", "--json", "--limit", "5"], demo_run["data_dir"])
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"total", "stories", "stories_exact", "hits"} and result["total"] >= 1
    for hit in result["hits"]:
        assert {"id", "url", "title", "text", "source", "entities", "methods", "score", "snippet"} <= set(hit)
        assert "firearms.converted_blank" in {m["id"] for m in hit["methods"]}
        assert hit["methods"][0]["evidence"]
    assert re.search(r"<(b|mark)>", result["hits"][0]["snippet"], re.I)
    scores = [h["score"] for h in result["hits"]]
    assert scores == sorted(scores, reverse=True)


def test_bad_query_exits_2_with_position(demo_run: dict[str, Any]) -> None:
    out = _run(["search", "method:(", "--json"], demo_run["data_dir"])
    assert out.returncode == 2
    assert "bad query" in out.stderr
    out = _run(["search", "colour:red"], demo_run["data_dir"])
    assert out.returncode == 2 and "unknown field" in out.stderr


def test_stats_json_reports_counts(demo_run: dict[str, Any]) -> None:
    out = _run(["stats", "--json"], demo_run["data_dir"])
    assert out.returncode == 0
    stats = json.loads(out.stdout)
    assert stats["documents"] == demo_run["summary"]["documents"]
    assert sum(stats["by_source"].values()) == stats["documents"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_api_serves_search_and_documents_over_a_real_socket(demo_run: dict[str, Any]) -> None:
    settings = load_settings(env={}, overrides={"data_dir": str(demo_run["data_dir"])})
    created = _run(["keys", "create", "--role", "analyst", "--name", "e2e", "--json"], demo_run["data_dir"])
    assert created.returncode == 0, created.stderr[-3000:]
    auth = {"X-API-Key": json.loads(created.stdout)["secret"]}
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + 20
        while not server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        anonymous = httpx.get(f"{base}/api/search", params={"q": "method:oic.small_boat"})
        assert anonymous.status_code == 401
        r = httpx.get(f"{base}/api/search", params={"q": "method:oic.small_boat", "limit": 3, "facet": "language"},
                      headers=auth)
        assert r.status_code == 200
        body = r.json()
        assert body["total"] >= 1 and len(body["hits"]) <= 3
        assert all("oic.small_boat" in h["methods"] for h in body["hits"])
        assert body["facets"]["language"]
        doc_id = body["hits"][0]["id"]
        doc = httpx.get(f"{base}/api/documents/{doc_id}", headers=auth).json()
        assert doc["id"] == doc_id and doc["provenance"]["capture"]["sha256"]
        missing = httpx.get(f"{base}/api/documents/nope", headers=auth)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        bad = httpx.get(f"{base}/api/search", params={"q": 'text:"unclosed'}, headers=auth)
        assert bad.status_code == 400 and bad.json()["error"]["code"] == "bad_query"
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_crawling_all_sources_twice_adds_nothing_and_fetches_no_article_twice(tmp_path: Path) -> None:
    with DemoSite(port=0) as site:
        sources_file = tmp_path / "sources.yaml"
        sources_file.write_text(yaml.safe_dump(demo_sources_config(site.base_url)))
        data_dir = tmp_path / "data"
        first = _run(["crawl", "--all", "--sources", str(sources_file), "--json"], data_dir)
        assert first.returncode == 0, first.stderr[-3000:]
        count = json.loads(_run(["stats", "--json"], data_dir).stdout)["documents"]
        assert count >= 300
        second = _run(["crawl", "--all", "--sources", str(sources_file), "--json"], data_dir)
        assert second.returncode == 0, second.stderr[-3000:]
        assert json.loads(_run(["stats", "--json"], data_dir).stdout)["documents"] == count
        assert sum(row["items/new"] for row in json.loads(second.stdout)) == 0
        fetched = Counter(path for method, path in list(site.requests) if path.endswith(".html"))
        twice = {p: n for p, n in fetched.items() if n > 1}
        assert not twice, f"articles fetched more than once: {list(twice)[:5]}"
        assert not any(p.startswith("/private/") for p in fetched)  # robots.txt obeyed
    shutil.rmtree(data_dir, ignore_errors=True)
