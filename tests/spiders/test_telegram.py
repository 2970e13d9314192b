"""TelegramSpider against the demo ``/s/<channel>`` preview on 127.0.0.1, in the real child process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta

import pytest
from lxml import html

from demo import DemoSite
from demo.social.api import ApiResponse
from demo.social.telegram import PAGE_SIZE, DemoMessage, TelegramDemoAPI, format_views
from osintel.records import Document, document_id_for_post
from osintel.settings import Settings
from osintel.sources import parse_sources
from osintel.store import ControlStore
from spiders.runner import CrawlResult, run_crawl
from spiders.telegram import element_text, parse_count

CHANNELS = ("harbour_deals", "nightshift_news")


@dataclass
class Crawl:
    result: CrawlResult
    requests: list[str]


@dataclass
class Crawled:
    site: DemoSite
    api: TelegramDemoAPI
    settings: Settings
    first: Crawl
    second: Crawl
    docs: dict[str, Document]


def _api(site: DemoSite) -> TelegramDemoAPI:
    return next(a for a in site.apis if isinstance(a, TelegramDemoAPI))


def _crawl(site: DemoSite, settings: Settings) -> Crawl:
    host = site.base_url.split("//", 1)[1]
    sources = parse_sources({"allow_private_hosts": [host], "sources": [{
        "id": "tg", "kind": "telegram", "urls": [site.base_url], "targets": ["@harbour_deals", "nightshift_news"]}]})
    site.clear_requests()
    [result] = run_crawl(settings, sources, ["tg"])
    return Crawl(result, [p for _, p in site.requests if p.startswith("/s/")])


def _docs(settings: Settings) -> dict[str, Document]:
    with ControlStore(settings.store_path) as store:
        return {d.extra["post_id"]: d for d in store.iter_documents()}


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, make_settings: Callable[..., Settings]) -> Iterator[Crawled]:
    with DemoSite(port=0) as site:
        settings = make_settings(tmp_path_factory.mktemp("telegram"))
        first = _crawl(site, settings)
        second = _crawl(site, settings)
        yield Crawled(site, _api(site), settings, first, second, _docs(settings))


def _expected_pages(messages: list[DemoMessage], channel: str) -> list[str]:
    """The page URLs a full crawl must fetch: newest, then ``before=<lowest id on the page>``."""
    ids = [m.id for m in messages]
    pages = [f"/s/{channel}"]
    shown = ids[-PAGE_SIZE:]
    while shown[0] != ids[0]:
        pages.append(f"/s/{channel}?before={shown[0]}")
        shown = [i for i in ids if i < shown[0]][-PAGE_SIZE:]
    return pages


def test_telegram_spider_pages_back_through_every_page_with_before(crawled: Crawled) -> None:
    expected = [p for c in CHANNELS for p in _expected_pages(crawled.api.messages[c], c)]
    assert sorted(crawled.first.requests) == sorted(expected)
    assert len(_expected_pages(crawled.api.messages["harbour_deals"], "harbour_deals")) == 3
    assert crawled.first.result.status == "ok"
    want = {f"{c}/{m.id}" for c in CHANNELS for m in crawled.api.messages[c]}
    assert set(crawled.docs) == want
    assert crawled.first.result.stats["items/new"] == len(want)


def test_telegram_spider_maps_every_field_of_a_message(crawled: Crawled) -> None:
    base = crawled.site.base_url
    seen = {"reply": 0, "forward": 0, "photo": 0, "signature": 0, "emoji": 0, "multiline": 0, "non_english": 0}
    for channel in CHANNELS:
        for m in crawled.api.messages[channel]:
            doc = crawled.docs[f"{channel}/{m.id}"]
            assert doc.id == document_id_for_post("telegram", f"{channel}/{m.id}")
            assert doc.url == f"{base}/{channel}/{m.id}"
            assert doc.author_handle == channel
            assert doc.published_at == m.at
            text = m.text + (f" {m.emoji}" if m.emoji else "") + (f"\n{m.link}" if m.link else "")
            assert doc.text == text
            assert doc.extra["engagement"] == {"views": parse_count(format_views(m.views))}
            assert doc.capture is not None and doc.capture.fetched_url is not None
            assert doc.capture.fetched_url.startswith(f"{base}/s/{channel}")
            if m.signature:
                assert doc.author == m.signature
                seen["signature"] += 1
            else:
                assert doc.author == ("Harbour Deals 24/7" if channel == "harbour_deals" else "Nightshift News")
            if m.reply_to is not None:
                assert doc.extra["reply_to"] == f"{channel}/{m.reply_to.id}"
                seen["reply"] += 1
            else:
                assert "reply_to" not in doc.extra
            if m.forwarded_from is not None:
                source, _, source_id = m.forwarded_from
                assert doc.extra["quote_of"] == f"{source}/{source_id}"
                seen["forward"] += 1
            else:
                assert "quote_of" not in doc.extra
            if m.photos:
                assert len(doc.extra["media_urls"]) == m.photos
                assert all(u.startswith(f"{base}/file/") and u.endswith(".jpg") for u in doc.extra["media_urls"])
                seen["photo"] += 1
            seen["emoji"] += bool(m.emoji)
            seen["multiline"] += "\n" in m.text
            seen["non_english"] += m.lang != "en"
    assert all(seen.values()), seen


def test_telegram_spider_reads_abbreviated_view_counts_as_integers(crawled: Crawled) -> None:
    shown_as_k = [m for c in CHANNELS for m in crawled.api.messages[c] if format_views(m.views) == "1.2K"]
    assert shown_as_k
    for m in shown_as_k:
        assert crawled.docs[f"{m.channel}/{m.id}"].extra["engagement"]["views"] == 1200
    millions = [m for c in CHANNELS for m in crawled.api.messages[c] if m.views >= 1_000_000]
    assert millions and all(crawled.docs[f"{m.channel}/{m.id}"].extra["engagement"]["views"] >= 1_000_000
                            for m in millions)
    assert [parse_count(v) for v in ("845", "1.2K", "12.5K", "2.1M", "3M", "1 204", "")] == \
        [845, 1200, 12500, 2_100_000, 3_000_000, 1204, None]


def test_telegram_text_keeps_line_breaks_and_links_but_not_markup() -> None:
    element = html.fragment_fromstring(
        '<div class="tgme_widget_message_text">Line <b>one</b><br/>Line two: '
        '<a href="https://x.example/">x.example</a><script>alert(1)</script><br>'
        '<i class="emoji"><b>\U0001F680</b></i> end</div>')
    assert element_text(element) == "Line one\nLine two: x.example\n\U0001F680 end"


def test_telegram_spider_second_crawl_adds_nothing_and_fetches_only_newest_pages(crawled: Crawled) -> None:
    assert crawled.second.result.status == "ok"
    assert crawled.second.result.stats.get("items/new", 0) == 0
    assert sorted(crawled.second.requests) == sorted(f"/s/{c}" for c in CHANNELS)
    with ControlStore(crawled.settings.store_path) as store:
        for channel in CHANNELS:
            assert store.get_cursor("tg", channel) == str(crawled.api.messages[channel][-1].id)


def test_demo_unknown_channel_redirects_like_t_me(crawled: Crawled) -> None:
    answer = crawled.api.handle("/s/no_such_channel", {}, "http://x")
    assert answer is not None and answer.status == 302 and answer.headers["Location"] == "http://x/no_such_channel"
    assert crawled.api.handle("/xrpc/app.bsky.feed.searchPosts", {}, "http://x") is None


def test_telegram_spider_keeps_the_cursor_when_a_page_fails_then_later_crawls_take_only_new_posts(
        tmp_path_factory: pytest.TempPathFactory, make_settings: Callable[..., Settings]) -> None:
    with DemoSite(port=0) as site:
        api = _api(site)
        serve = api.handle

        def broken(path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None:
            if "before" in query:
                return ApiResponse(500, b"<html>oops</html>", "text/html")
            return serve(path, query, base)

        settings = make_settings(tmp_path_factory.mktemp("telegram-gap"))
        api.handle = broken  # type: ignore[method-assign]
        failed = _crawl(site, settings)
        with ControlStore(settings.store_path) as store:
            assert all(store.get_cursor("tg", c) is None for c in CHANNELS)
        api.handle = serve  # type: ignore[method-assign]
        healed = _crawl(site, settings)
        docs = _docs(settings)
        full = sorted(p for c in CHANNELS for p in _expected_pages(api.messages[c], c))
        everything = {f"{c}/{m.id}" for c in CHANNELS for m in api.messages[c]}
        # A later crawl after one new message: the newest pages only, one new document.
        newest = api.messages["harbour_deals"][-1]
        fresh = replace(newest, id=newest.id + 5, text="New line open, text 07700 900123",
                        at=newest.at + timedelta(hours=1), reply_to=None, forwarded_from=None)
        api.messages["harbour_deals"].append(fresh)
        later = _crawl(site, settings)
        later_docs = _docs(settings)
    assert failed.result.stats["items/new"] == 2 * PAGE_SIZE
    assert any(k.startswith("fetch/failed/http-500") for k in failed.result.stats)
    assert sorted(healed.requests) == full
    assert set(docs) == everything
    assert later.result.stats["items/new"] == 1
    assert sorted(later.requests) == sorted(f"/s/{c}" for c in CHANNELS)
    assert later_docs[f"harbour_deals/{fresh.id}"].text.startswith("New line open, text 07700 900123")
    with ControlStore(settings.store_path) as store:
        assert store.get_cursor("tg", "harbour_deals") == str(fresh.id)
