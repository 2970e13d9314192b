"""run_crawl beyond feeds: sitemaps, page limits, the wall-clock timeout."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from osintel.store import ControlStore
from spiders.runner import run_crawl


def test_sitemap_spider_follows_index_and_extracts_pages_and_page_limit_stops_a_source(
    site: Any, make_settings: Any, make_sources: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path)
    sources = make_sources(site, [
        {"id": "maps", "kind": "sitemap", "urls": [f"{site.base}/sitemap-index.xml"]},
        {"id": "capped", "kind": "feed", "max_pages": 2,
         "urls": [f"{site.base}/feeds/news.rss"]},
    ])
    site.clear()
    results = {r.source_id: r for r in run_crawl(settings, sources, [])}
    paths = site.paths()

    maps = results["maps"]
    assert maps.status == "ok"
    assert maps.stats["sitemaps/fetched"] == 2  # the index and the url set it points to
    assert maps.stats["items/new"] == 3
    assert "/private/secret.html" not in paths  # listed in the sitemap, disallowed by robots.txt
    with ControlStore(settings.store_path) as store:
        docs = {d.canonical_url.rsplit("/", 1)[-1]: d for d in store.iter_documents()
                if d.source.id == "maps"}
    assert set(docs) == {"a4.html", "a5.html", "a6.html"}
    a4 = docs["a4.html"]  # no feed: title, author and date all come from the page
    assert a4.title == "Counterfeit cigarettes seized from lorry at Holyhead"
    assert a4.author == "Owen Jones"
    assert a4.published_at == datetime(2025, 3, 7, 16, 45, tzinfo=timezone.utc)
    assert "4.2 million counterfeit cigarettes" in a4.text

    capped = results["capped"]
    assert capped.status == "page-limit"
    assert capped.stats["items/new"] < 3


def test_crawl_past_process_timeout_is_killed_and_recorded_as_timeout(
    site: Any, make_settings: Any, make_sources: Any, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, **{"crawl.process_timeout": 3, "crawl.download_timeout": 60})
    sources = make_sources(site, [{"id": "slow", "kind": "feed", "urls": [f"{site.base}/slow-feed"]}])
    started = time.monotonic()
    [result] = run_crawl(settings, sources, ["slow"])
    assert time.monotonic() - started < 15
    assert result.status == "timeout"
    assert "3s" in (result.error or "")
    with ControlStore(settings.store_path) as store:
        assert store.runs(source_id="slow")[0]["status"] == "timeout"


def test_a_source_kind_without_a_spider_is_refused_before_anything_runs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from osintel.errors import ConfigError
    from osintel.settings import load_settings
    from osintel.sources import parse_sources
    from osintel.store import ControlStore
    from spiders import registry
    from spiders.runner import run_crawl

    settings = load_settings(env={}, overrides={"data_dir": str(tmp_path)})
    config = parse_sources({"sources": [{"id": "t1", "kind": "telegram", "urls": ["https://t.me"]}]})
    saved = registry.SPIDERS.pop("telegram", None)
    try:
        with pytest.raises(ConfigError, match="no spider registered for source kind"):
            run_crawl(settings, config, ["t1"])
    finally:
        if saved is not None:
            registry.SPIDERS["telegram"] = saved
    with ControlStore(settings.store_path) as store:
        assert store.runs() == []  # no run row was opened for a crawl that cannot start
