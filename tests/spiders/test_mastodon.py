"""MastodonSpider against the demo instance (real HTTP on 127.0.0.1, crawls in a child process).

One module-scoped scenario crawls the demo Mastodon endpoints twice; the tests read its results.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from demo import DemoSite
from demo.social.mastodon import MastodonDemoAPI
from osintel.records import Document, document_id_for_post
from osintel.sources import parse_sources
from osintel.store import ControlStore
from spiders.mastodon import html_to_text, parse_link_header
from spiders.runner import CrawlResult, run_crawl

TAG = "countylines"
ACCOUNT_ID = "109876000000000001"
TARGETS = [f"tag:{TAG}", f"account:{ACCOUNT_ID}", "account:@scamalertsuk"]
LIMIT = 20


@dataclass
class Scenario:
    api: MastodonDemoAPI
    base: str
    first: CrawlResult
    second: CrawlResult
    first_requests: list[str]
    second_requests: list[str]
    docs: dict[str, Document]
    count_after_second: int
    cursors: dict[str, str | None]


@pytest.fixture(scope="module")
def scenario(make_settings: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir: Path = tmp_path_factory.mktemp("mastodon")
    with DemoSite(port=0) as site:
        api = next(a for a in site.apis if isinstance(a, MastodonDemoAPI))
        # One request at a time, so "sent before the delay" can be told apart from "already in flight"
        # (with no download delay Scrapy 2.19 dispatches a slot's whole queue at once).
        settings = make_settings(data_dir, **{"crawl.concurrent_requests_per_domain": 1,
                                              "crawl.download_delay": 0.005})
        sources = parse_sources({"allow_private_hosts": [urlsplit(site.base_url).netloc], "sources": [
            {"id": "fedi", "kind": "mastodon", "urls": [site.base_url], "targets": TARGETS,
             "options": {"max_pages_per_target": 10, "limit": LIMIT}}]})
        first = run_crawl(settings, sources, [])[0]
        first_requests = [p for _, p in site.requests if p.startswith("/api/")]
        with ControlStore(settings.store_path) as store:
            docs = {d.id: d for d in store.iter_documents()}
            cursors = {t: store.get_cursor("fedi", t) for t in TARGETS}
        site.clear_requests()
        second = run_crawl(settings, sources, [])[0]
        second_requests = [p for _, p in site.requests if p.startswith("/api/")]
        with ControlStore(settings.store_path) as store:
            count = store.count_documents()
        yield Scenario(api, site.base_url, first, second, first_requests, second_requests, docs, count, cursors)


def _params(path: str) -> dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(urlsplit(path).query).items()}


def _doc(scenario: Scenario, status_id: str) -> Document:
    host = urlsplit(scenario.base).netloc
    return scenario.docs[document_id_for_post("mastodon", f"{host}/{status_id}")]


def test_first_crawl_pages_back_through_every_page_of_each_target(scenario: Scenario) -> None:
    assert scenario.first.status == "ok"
    tag_rows = [r for r in scenario.api.rows if r[2] is None and r[1].channel == TAG]
    account_rows = [r for r in scenario.api.rows if r[3] == ACCOUNT_ID]
    for path_part, rows in ((f"/timelines/tag/{TAG}", tag_rows), (f"/accounts/{ACCOUNT_ID}/statuses", account_rows)):
        # Served pages (a refused request is repeated; count distinct URLs).
        paths = list(dict.fromkeys(p for p in scenario.first_requests if path_part in p))
        max_ids = [_params(p).get("max_id") for p in paths]
        expected = [None] + [rows[n * LIMIT - 1][0] for n in range(1, (len(rows) - 1) // LIMIT + 1)]
        assert max_ids == expected, path_part
        assert all(_params(p)["limit"] == str(LIMIT) for p in paths)
    assert "/api/v1/accounts/lookup?acct=scamalertsuk" in scenario.first_requests


def test_every_status_and_boost_of_the_targets_becomes_one_document(scenario: Scenario) -> None:
    api = scenario.api
    ids = {r[0] for r in api.rows if (r[2] is None and r[1].channel == TAG) or r[3] in (ACCOUNT_ID, "109876000000000002")}
    boosted = {api._ids[r[2].index] for r in api.rows if r[2] is not None and r[3] in (ACCOUNT_ID, "109876000000000002")}
    assert len(scenario.docs) == len(ids | boosted)
    assert scenario.first.stats["items/new"] == len(scenario.docs)


def test_status_fields_are_mapped_into_the_document(scenario: Scenario) -> None:
    api = scenario.api
    # A reply with media, by a followed account.
    sid, post, _, account_id = next(r for r in api.rows if r[2] is None and r[1].reply_to is not None
                                    and r[1].media and r[3] == ACCOUNT_ID)
    status = api.status(post, scenario.base)
    doc = _doc(scenario, sid)
    host = urlsplit(scenario.base).netloc
    assert doc.url == status["url"] == f"{scenario.base}/@harbourwatch/{sid}"
    assert doc.author == "Harbour Watch" and doc.author_handle == f"@harbourwatch@{host}"
    assert doc.published_at == post.created_at.replace(tzinfo=timezone.utc)
    assert doc.published_at.tzinfo == timezone.utc
    assert "<" not in doc.text and post.text in doc.text.replace(",\n", ", ")
    assert doc.text.endswith(f"#{post.channel}")
    assert doc.extra["post_id"] == f"{host}/{sid}"
    assert doc.extra["reply_to"] == f"{host}/{status['in_reply_to_id']}"
    assert doc.extra["media_urls"] == [m["url"] for m in status["media_attachments"]] and doc.extra["media_urls"]
    assert doc.extra["engagement"] == {"replies": status["replies_count"], "reblogs": status["reblogs_count"],
                                       "favourites": status["favourites_count"]}
    assert doc.extra["target"] == f"account:{ACCOUNT_ID}" and doc.extra["declared_language"] == "en"
    assert doc.source.platform == "mastodon" and doc.capture is not None and doc.capture.http_status == 200


def test_a_boost_is_kept_as_a_document_quoting_the_boosted_status(scenario: Scenario) -> None:
    api = scenario.api
    sid, post, boosted, account_id = next(r for r in api.rows if r[2] is not None and r[3] == ACCOUNT_ID)
    assert boosted is not None
    host = urlsplit(scenario.base).netloc
    boost = _doc(scenario, sid)
    original = _doc(scenario, api._ids[boosted.index])
    assert boost.extra["quote_of"] == original.extra["post_id"]
    assert boost.author_handle == f"@harbourwatch@{host}" and boost.text == original.text
    assert boost.url.endswith(f"/statuses/{sid}/activity")


def test_remote_accounts_keep_their_own_domain_in_the_handle(scenario: Scenario) -> None:
    assert any(d.author_handle == "@portside@social.example.net" for d in scenario.docs.values())


def test_second_crawl_asks_only_for_newer_statuses_and_adds_nothing(scenario: Scenario) -> None:
    assert scenario.cursors[f"tag:{TAG}"] == max(
        (r[0] for r in scenario.api.rows if r[2] is None and r[1].channel == TAG), key=int)
    assert all(scenario.cursors.values())
    timeline = [p for p in scenario.second_requests if "/statuses" in p or "/timelines/" in p]
    assert timeline and all("min_id" in _params(p) and "max_id" not in _params(p) for p in timeline)
    assert {_params(p)["min_id"] for p in timeline} == set(scenario.cursors.values())
    assert scenario.second.stats.get("items/new", 0) == 0
    assert scenario.count_after_second == len(scenario.docs)


def test_a_429_with_retry_after_is_retried_after_the_delay(scenario: Scenario) -> None:
    limits = scenario.api.limits
    stats = scenario.first.stats
    assert limits.throttled >= 2 and stats["ratelimit/retry_after"] >= 1
    assert stats["downloader/response_status_count/429"] == stats["ratelimit/retry_after"]
    # The demo refuses any retry sent before Retry-After has passed: none was.
    assert limits.early == 0
    assert stats["ratelimit/wait_seconds"] >= 0.9 * stats["ratelimit/retry_after"]


def test_mastodon_html_becomes_plain_text_with_paragraphs_and_line_breaks() -> None:
    html = ('<p>new line &amp; runners,<br />text <span class="h-card"><a href="x">@<span>bob</span></a></span></p>'
            '<p><a href="https://h/tags/x" class="mention hashtag" rel="tag">#<span>x</span></a></p>')
    assert html_to_text(html) == "new line & runners,\ntext @bob\n\n#x"
    assert html_to_text("") == ""


def test_link_header_relations_are_parsed() -> None:
    links = parse_link_header('<https://m/api?max_id=1>; rel="next", <https://m/api?min_id=9>; rel="prev"')
    assert links == {"next": "https://m/api?max_id=1", "prev": "https://m/api?min_id=9"}
