"""The rule-based site crawl (``kind: web``) against the fixture site, through run_crawl.

``fixtures/site/web/`` is a small news site: a home page and section pages (listings) linking to
articles, an archive page one hop deeper than the depth limit, a tag page the rules deny, a link
outside the allow pattern, one to another loopback port and one to another site.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from osintel.records import Document
from osintel.store import ControlStore
from spiders.runner import CrawlResult, run_crawl

FULL_CRAWL = {"/web/index.html", "/web/a1.html", "/web/news/index.html", "/web/news/a2.html",
              "/web/news/more.html"}
LISTINGS = {"/web/index.html", "/web/news/index.html", "/web/news/more.html"}


def _web_source(site: Any, **options: Any) -> dict[str, Any]:
    return {"id": "gazette", "kind": "web", "grading": "2BP", "urls": [f"{site.base}/web/index.html"],
            "options": {"allow": ["/web/"], "deny": ["/tag/"], **options}}


@dataclass
class Crawl:
    first: CrawlResult
    second: CrawlResult
    first_paths: list[str]
    second_paths: list[str]
    internal_paths: list[str]
    docs_after_first: list[Document]
    count_after_second: int


@pytest.fixture(scope="module")
def crawl(site: Any, internal: Any, make_settings: Any, make_sources: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Crawl:
    settings = make_settings(tmp_path_factory.mktemp("web"))
    sources = make_sources(site, [_web_source(site, depth=2)])
    site.clear()
    internal.clear()
    (first,) = run_crawl(settings, sources, ["gazette"])
    first_paths = site.paths()
    with ControlStore(settings.store_path) as store:
        docs = list(store.iter_documents())
    site.clear()
    (second,) = run_crawl(settings, sources, ["gazette"])
    with ControlStore(settings.store_path) as store:
        count = store.count_documents()
    return Crawl(first, second, first_paths, site.paths(), internal.paths(), docs, count)


def _pages(paths: list[str]) -> set[str]:
    return {p for p in paths if p != "/robots.txt"}


def test_web_crawl_follows_same_site_links_within_allow_deny_and_depth(crawl: Crawl) -> None:
    assert crawl.first.status == "ok", crawl.first.error
    assert _pages(crawl.first_paths) == FULL_CRAWL
    assert "/web/tag/x.html" not in crawl.first_paths  # denied
    assert "/articles/a1.html" not in crawl.first_paths  # outside the allow pattern
    assert "/web/news/deep.html" not in crawl.first_paths  # three hops: beyond depth 2
    assert crawl.internal_paths == []  # another port is another site: out of scope
    assert crawl.first.stats["links/out_of_scope"] >= 2


def test_web_crawl_makes_documents_of_articles_only(crawl: Crawl) -> None:
    urls = sorted(d.canonical_url.split("/web/", 1)[1] for d in crawl.docs_after_first)
    assert urls == ["a1.html", "news/a2.html"]
    assert crawl.first.stats["pages/listing"] == len(LISTINGS)
    assert crawl.first.stats["pages/article"] == 2 and crawl.first.stats["items/new"] == 2
    doc = next(d for d in crawl.docs_after_first if d.canonical_url.endswith("/a1.html"))
    assert doc.title.startswith("Cocaine found hidden")
    assert "Felixstowe" in doc.text and doc.source.kind == "web"
    assert doc.grading is not None and doc.grading.code == "2BP"
    assert doc.capture is not None and doc.capture.http_status == 200 and doc.capture.warc_file


def test_web_recrawl_refetches_listings_but_not_articles_and_adds_nothing(crawl: Crawl) -> None:
    assert crawl.second.status == "ok", crawl.second.error
    assert _pages(crawl.second_paths) == LISTINGS
    assert crawl.second.stats["items/new"] == 0
    assert crawl.second.stats["items/seen"] == 2
    assert crawl.count_after_second == len(crawl.docs_after_first)


def test_web_crawl_with_depth_zero_fetches_only_the_start_urls(
        site: Any, make_settings: Any, make_sources: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    site.clear()
    (result,) = run_crawl(settings, make_sources(site, [_web_source(site, depth=0)]), ["gazette"])
    assert result.status == "ok"
    assert _pages(site.paths()) == {"/web/index.html"}


def test_web_crawl_stops_at_the_page_limit(site: Any, make_settings: Any, make_sources: Any,
                                           tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    source = {**_web_source(site, depth=5), "max_pages": 3}
    site.clear()
    (result,) = run_crawl(settings, make_sources(site, [source]), ["gazette"])
    assert result.status == "page-limit"
    # robots.txt and the home page count too; requests already in flight may complete.
    assert 1 <= len(_pages(site.paths())) < len(FULL_CRAWL)
