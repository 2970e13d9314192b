"""BlueskySpider against the demo AppView on 127.0.0.1, crawled in the real child process."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from demo import DemoSite
from demo.social.bluesky import AUTHOR_FEED, SEARCH_POSTS, BlueskyDemoAPI
from osintel.records import Document, document_id_for_post
from osintel.settings import Settings
from osintel.sources import parse_sources
from osintel.store import ControlStore
from spiders.bluesky import _embed_parts, rkey
from spiders.runner import CrawlResult, run_crawl

AUTHOR = "nightdesk.example.org"
QUERY = "police"
PAGE_SIZE = 10


@dataclass
class Crawl:
    result: CrawlResult
    requests: list[str]


@dataclass
class Crawled:
    site: DemoSite
    api: BlueskyDemoAPI
    settings: Settings
    first: Crawl
    second: Crawl
    docs: dict[str, Document]


def _api(site: DemoSite) -> BlueskyDemoAPI:
    return next(a for a in site.apis if isinstance(a, BlueskyDemoAPI))


def _crawl(site: DemoSite, settings: Settings, **options: Any) -> Crawl:
    host = site.base_url.split("//", 1)[1]
    sources = parse_sources({"allow_private_hosts": [host], "sources": [{
        "id": "bsky", "kind": "bluesky", "urls": [site.base_url],
        "targets": [f"author:{AUTHOR}", f"search:{QUERY}"],
        "options": {"page_size": PAGE_SIZE, "web_base": "https://bsky.app", **options}}]})
    site.clear_requests()
    [result] = run_crawl(settings, sources, ["bsky"])
    return Crawl(result, [p for _, p in site.requests if p.startswith("/xrpc/")])


def _pages(api: BlueskyDemoAPI, path: str, params: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every page the demo serves for one target, walked directly."""
    cursor = None
    while True:
        query = {k: [v] for k, v in params.items()} | ({"cursor": [cursor]} if cursor else {})
        answer = api.handle(path, query, "http://x")
        assert answer is not None and answer.status == 200
        page = json.loads(answer.body)
        yield page
        cursor = page.get("cursor")
        if not cursor:
            return


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, make_settings: Callable[..., Settings]) -> Iterator[Crawled]:
    with DemoSite(port=0) as site:
        settings = make_settings(tmp_path_factory.mktemp("bluesky"))
        first = _crawl(site, settings)
        second = _crawl(site, settings)
        with ControlStore(settings.store_path) as store:
            docs = {d.extra["post_id"]: d for d in store.iter_documents()}
        yield Crawled(site, _api(site), settings, first, second, docs)


def _query(path: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(path)
    return parts.path, parse_qs(parts.query)


def test_bluesky_spider_pages_through_every_page_of_each_target(crawled: Crawled) -> None:
    expected: list[tuple[str, str | None]] = []
    for path, params in ((AUTHOR_FEED, {"actor": AUTHOR, "limit": str(PAGE_SIZE)}),
                         (SEARCH_POSTS, {"q": QUERY, "limit": str(PAGE_SIZE), "sort": "latest"})):
        cursor = None
        for page in _pages(crawled.api, path, params):
            expected.append((path, cursor))
            cursor = page.get("cursor")
    fetched = []
    for request in crawled.first.requests:
        path, query = _query(request)
        fetched.append((path, query.get("cursor", [None])[0]))
        assert query["limit"] == [str(PAGE_SIZE)]
        if path == SEARCH_POSTS:
            assert query["q"] == [QUERY] and query["sort"] == ["latest"]
        else:
            assert query["actor"] == [AUTHOR]
    assert sorted(fetched, key=str) == sorted(expected, key=str)
    assert len([e for e in expected if e[0] == AUTHOR_FEED]) >= 3
    assert len([e for e in expected if e[0] == SEARCH_POSTS]) >= 3
    assert crawled.first.result.status == "ok"


def test_bluesky_spider_collects_every_post_of_every_target(crawled: Crawled) -> None:
    wanted = set()
    for page in _pages(crawled.api, AUTHOR_FEED, {"actor": AUTHOR, "limit": "100"}):
        for item in page["feed"]:
            wanted.add(item["reason"]["uri"] if "reason" in item else item["post"]["uri"])
    for page in _pages(crawled.api, SEARCH_POSTS, {"q": QUERY, "limit": "100"}):
        wanted |= {p["uri"] for p in page["posts"]}
    assert set(crawled.docs) == wanted
    assert crawled.first.result.stats["items/new"] == len(wanted)


def test_bluesky_spider_maps_every_field_of_a_post(crawled: Crawled) -> None:
    views = {v["uri"]: v for p in crawled.api.posts for v in [crawled.api.post_view(p, crawled.site.base_url)]}
    checked = {"reply": 0, "quote": 0, "images": 0, "non_english": 0}
    for uri, doc in crawled.docs.items():
        view = views.get(uri)
        if view is None:
            continue  # a repost, checked below
        record = view["record"]
        assert doc.id == document_id_for_post("bluesky", uri)
        assert doc.text == record["text"]
        assert doc.author_handle == view["author"]["handle"]
        assert doc.author == view["author"]["displayName"]
        assert doc.url == f"https://bsky.app/profile/{view['author']['handle']}/post/{rkey(uri)}"
        assert doc.published_at == datetime.fromisoformat(record["createdAt"].replace("Z", "+00:00"))
        assert doc.extra["declared_language"] == record["langs"][0]
        assert doc.extra["engagement"] == {"replies": view["replyCount"], "reposts": view["repostCount"],
                                           "likes": view["likeCount"], "quotes": view["quoteCount"]}
        assert doc.capture is not None and doc.capture.http_status == 200
        if "reply" in record:
            assert doc.extra["reply_to"] == record["reply"]["parent"]["uri"]
            checked["reply"] += 1
        else:
            assert "reply_to" not in doc.extra
        media, quoted = _embed_parts(view.get("embed"))
        if quoted:
            assert doc.extra["quote_of"] == quoted
            checked["quote"] += 1
        if view.get("embed", {}).get("$type") == "app.bsky.embed.images#view":
            assert doc.extra["media_urls"] == [i["fullsize"] for i in view["embed"]["images"]]
            assert all("/img/feed_fullsize/" in u for u in doc.extra["media_urls"])
            checked["images"] += 1
        if record["langs"][0] != "en":
            checked["non_english"] += 1
    assert all(checked.values()), checked


def test_bluesky_spider_turns_a_repost_into_the_reposters_post_quoting_the_original(crawled: Crawled) -> None:
    reposts = [r for r in crawled.api.reposts if r.handle == AUTHOR]
    assert reposts
    for repost in reposts:
        doc = crawled.docs[repost.uri]
        assert doc.author_handle == AUTHOR
        assert doc.extra["quote_of"] == repost.post.uri
        assert doc.text == repost.post.text
        assert doc.published_at == repost.at


def test_bluesky_spider_second_crawl_adds_nothing_and_fetches_no_older_pages(crawled: Crawled) -> None:
    assert crawled.second.result.status == "ok"
    assert crawled.second.result.stats.get("items/new", 0) == 0
    assert len(crawled.second.requests) == 2
    assert all("cursor" not in _query(r)[1] for r in crawled.second.requests)
    with ControlStore(crawled.settings.store_path) as store:
        assert store.get_cursor("bsky", f"author:{AUTHOR}") is not None
        assert store.get_cursor("bsky", f"search:{QUERY}") is not None


def test_bluesky_spider_waits_out_a_429_and_stops_at_the_page_limit(tmp_path: Path,
                                                                   make_settings: Callable[..., Settings]) -> None:
    # One child process crawls two sources: "bsky" meets the demo's one-off 429 on its first
    # next-page request; "bsky-one" may fetch one page per target and so never asks for a cursor.
    with DemoSite(port=0) as site:
        api = _api(site)
        api.rate_limit_once = True
        host = site.base_url.split("//", 1)[1]
        common = {"kind": "bluesky", "urls": [site.base_url], "targets": [f"author:{AUTHOR}", f"search:{QUERY}"]}
        sources = parse_sources({"allow_private_hosts": [host], "sources": [
            {"id": "bsky", **common, "options": {"page_size": PAGE_SIZE}},
            {"id": "bsky-one", **common, "options": {"page_size": PAGE_SIZE, "max_pages_per_target": 1}}]})
        limited, one = run_crawl(make_settings(tmp_path), sources, [])
        assert len(api.rate_limited) == 1
        requests = [p for _, p in site.requests if p.startswith("/xrpc/")]
    paged = [r for r in requests if "cursor" in _query(r)[1]]
    assert len(paged) == len(set(paged)) + 1  # the refused page was asked for again
    assert limited.stats.get("ratelimit/retry_after") == 1
    assert limited.stats["items/new"] > 0
    assert not any(k.startswith("fetch/failed") for k in limited.stats)
    assert one.stats["social/pages"] == 2 and one.stats["social/page_limit"] == 2
