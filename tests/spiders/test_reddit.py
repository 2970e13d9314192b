"""RedditSpider against the demo Reddit (real HTTP on 127.0.0.1, crawls in a child process).

One module-scoped scenario crawls two subreddits twice, with comment trees for one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from demo import DemoSite
from demo.social.reddit import RedditDemoAPI, _walk
from osintel.records import Document, document_id_for_post
from osintel.sources import parse_sources
from osintel.store import ControlStore
from spiders.reddit import media_urls
from spiders.runner import CrawlResult, run_crawl

LIMIT = 25
WINDOW = 20


@dataclass
class Scenario:
    api: RedditDemoAPI
    base: str
    first: dict[str, CrawlResult]
    second: dict[str, CrawlResult]
    first_requests: list[str]
    second_requests: list[str]
    docs: dict[str, Document]
    count_after_second: int


@pytest.fixture(scope="module")
def scenario(make_settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir: Path = tmp_path_factory.mktemp("reddit")
    with DemoSite(port=0) as site:
        api = next(a for a in site.apis if isinstance(a, RedditDemoAPI))
        # Small enough that the crawl meets the end of a window (the demo default is 50 a second).
        api.limits.window, api.limits.reset_seconds = WINDOW, 3.0
        # One request at a time, so "sent before the delay" can be told apart from "already in flight"
        # (with no download delay Scrapy 2.19 dispatches a slot's whole queue at once).
        settings = make_settings(data_dir, **{"crawl.concurrent_requests_per_domain": 1,
                                              "crawl.download_delay": 0.005})
        sources = parse_sources({"allow_private_hosts": [urlsplit(site.base_url).netloc], "sources": [
            {"id": "local", "kind": "reddit", "urls": [site.base_url], "targets": ["r/harbourcity"],
             "options": {"comments": True, "limit": LIMIT}},
            {"id": "scams", "kind": "reddit", "urls": [site.base_url], "targets": ["ukscamwatch"],
             "options": {"limit": LIMIT}},
        ]})
        first = {r.source_id: r for r in run_crawl(settings, sources, [])}
        first_requests = [p for _, p in site.requests if p.startswith(("/r/", "/api/"))]
        with ControlStore(settings.store_path) as store:
            docs = {d.id: d for d in store.iter_documents()}
        site.clear_requests()
        second = {r.source_id: r for r in run_crawl(settings, sources, [])}
        second_requests = [p for _, p in site.requests if p.startswith(("/r/", "/api/"))]
        with ControlStore(settings.store_path) as store:
            count = store.count_documents()
        yield Scenario(api, site.base_url, first, second, first_requests, second_requests, docs, count)


def _params(path: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}


def _posts(api: RedditDemoAPI, sub: str) -> list[Any]:
    return [p for p in reversed(api.posts) if p.channel == sub]


def _deep(nodes: list[Any], depth: int) -> Any:
    for node in nodes:
        if depth >= 3:
            yield node
        yield from _deep(node.children, depth + 1)


def _doc(scenario: Scenario, fullname: str) -> Document:
    return scenario.docs[document_id_for_post("reddit", fullname)]


def test_listing_is_paged_with_after_until_the_end(scenario: Scenario) -> None:
    for sub in ("harbourcity", "ukscamwatch"):
        posts = _posts(scenario.api, sub)
        pages = list(dict.fromkeys(p for p in scenario.first_requests if p.startswith(f"/r/{sub}/new.json")))
        afters = [_params(p).get("after") for p in pages]
        expected = [None] + [f"t3_{scenario.api.ids[posts[n * LIMIT - 1].index]}"
                             for n in range(1, (len(posts) - 1) // LIMIT + 1)]
        assert afters == expected
        assert [_params(p).get("count") for p in pages[1:]] == [str(n * LIMIT) for n in range(1, len(pages))]
        assert all(_params(p)["raw_json"] == "1" for p in pages)
    assert all(r.status == "ok" for r in scenario.first.values())


def test_post_fields_are_mapped_into_the_document(scenario: Scenario) -> None:
    api = scenario.api
    post = next(p for p in _posts(api, "harbourcity") if len(p.media) == 1 and p.index not in api.crosspost_of)
    data = api.link(post, scenario.base, raw=True)
    doc = _doc(scenario, data["name"])
    assert doc.url == scenario.base + data["permalink"]
    assert doc.title == data["title"] and doc.text.startswith(data["title"])
    assert doc.author == post.author and doc.author_handle == f"u/{post.author}"
    assert doc.published_at == post.created_at and doc.published_at.tzinfo == timezone.utc
    assert doc.extra["post_id"] == data["name"]
    assert doc.extra["media_urls"] == [data["url"], data["preview"]["images"][0]["source"]["url"]]
    assert "&amp;" not in doc.extra["media_urls"][1]
    assert doc.extra["engagement"] == {"score": data["score"], "ups": data["ups"],
                                       "comments": data["num_comments"], "crossposts": 0}
    assert doc.extra["target"] == "r/harbourcity" and doc.source.id == "local"
    assert doc.capture is not None and doc.capture.http_status == 200


def test_a_crosspost_quotes_its_parent_and_a_video_post_keeps_its_video(scenario: Scenario) -> None:
    api = scenario.api
    index, parent = next(iter(api.crosspost_of.items()))
    doc = _doc(scenario, f"t3_{api.ids[index]}")
    assert doc.extra["quote_of"] == f"t3_{api.ids[parent]}"
    video = next(p for p in api.posts if len(p.media) == 2 and p.index not in api.crosspost_of)
    vdoc = _doc(scenario, f"t3_{api.ids[video.index]}")
    assert any(u.endswith("DASH_720.mp4?source=fallback") for u in vdoc.extra["media_urls"])


def test_comment_trees_become_documents_replying_to_their_parent(scenario: Scenario) -> None:
    api = scenario.api
    comments = [d for d in scenario.docs.values() if d.extra["post_id"].startswith("t1_")]
    reachable = 0
    for post in _posts(api, "harbourcity"):
        for node in _walk(api.threads[post.index]):
            reachable += 1
    assert comments and all(d.source.id == "local" for d in comments)
    deepest = sum(1 for post in _posts(api, "harbourcity") for node in _deep(api.threads[post.index], 0))
    # Everything but the comments behind "continue this thread" (depth >= 3) is collected.
    assert len(comments) == reachable - deepest
    by_id = {d.extra["post_id"]: d for d in scenario.docs.values()}
    deep = [d for d in comments if by_id.get(d.extra["reply_to"], None) is not None
            and by_id[d.extra["reply_to"]].extra["post_id"].startswith("t1_")]
    assert deep, "replies to comments (depth >= 2) are collected"
    assert all(d.extra["reply_to"] in by_id for d in comments)
    # A comment's permalink sits under its post's permalink.
    sample = deep[0]
    assert "/comments/" in sample.url
    assert sample.author_handle is not None and sample.author_handle.startswith("u/")
    stats = scenario.first["local"].stats
    assert stats["reddit/more"] >= 1 and stats["reddit/continue_thread"] >= 1
    assert any(p.startswith("/api/morechildren.json") for p in scenario.first_requests)
    assert not any("/comments/" in p for p in scenario.first_requests if "ukscamwatch" in p)


def test_comments_behind_more_stubs_are_fetched(scenario: Scenario) -> None:
    api = scenario.api
    post = next(p for p in _posts(api, "harbourcity") if len(api.threads[p.index]) > 3)
    hidden = api.threads[post.index][3]  # past the three top-level comments shown
    doc = _doc(scenario, f"t1_{api.comment_id(post, hidden)}")
    assert doc.extra["reply_to"] == f"t3_{api.ids[post.index]}" and doc.text == hidden.text


def test_second_crawl_stops_at_the_newest_seen_post_and_adds_nothing(scenario: Scenario) -> None:
    for sub in ("harbourcity", "ukscamwatch"):
        pages = [p for p in scenario.second_requests if p.startswith(f"/r/{sub}/new.json")]
        assert len(pages) == 1 and "after" not in _params(pages[0])
    assert not any("/comments/" in p or "morechildren" in p for p in scenario.second_requests)
    assert all(r.stats["social/stopped_at_known"] == 1 for r in scenario.second.values())
    assert all(r.stats.get("items/new", 0) == 0 for r in scenario.second.values())
    assert scenario.count_after_second == len(scenario.docs)


def test_an_exhausted_rate_limit_window_pauses_the_crawl(scenario: Scenario) -> None:
    stats = scenario.first["local"].stats
    assert stats["ratelimit/exhausted"] >= 1 and stats["ratelimit/paused"] >= 1
    assert scenario.api.limits.early == 0  # no request was sent into an exhausted window


def test_media_urls_cover_galleries_and_ignore_external_links() -> None:
    data = {"url": "https://news.example/story", "post_hint": "link", "is_video": False,
            "media_metadata": {"a": {"s": {"u": "https://i.example/a.jpg?x=1&amp;y=2"}}}}
    assert media_urls(data) == ["https://i.example/a.jpg?x=1&y=2"]
