"""CursorKeeper on its own: a mark is written only once everything it covers is stored."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from scrapy import signals
from scrapy.settings import Settings
from scrapy.signalmanager import SignalManager

from osintel.sources import Source
from osintel.store import ControlStore
from spiders.cursors import KNOWN, PAGE_LIMIT, CursorKeeper
from spiders.items import Collected
from spiders.social import Post, post_item

SOURCE = Source(id="fedi", kind="mastodon", urls=["https://mastodon.example"])


class Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: Any = 1, start: int = 0) -> None:
        self.values[key] += count


class Crawler:
    def __init__(self, store_path: Path) -> None:
        self.settings = Settings({"OSINTEL_STORE_PATH": str(store_path)})
        self.signals = SignalManager(self)
        self.stats = Stats()


@pytest.fixture()
def crawler(tmp_path: Path) -> Crawler:
    return Crawler(tmp_path / "control.sqlite")


def _keeper(crawler: Crawler, **kwargs: Any) -> CursorKeeper:
    return CursorKeeper(crawler, SOURCE.id, newer=lambda a, b: int(a) > int(b), **kwargs)


def _item(target: str, number: int) -> Collected:
    post = Post(platform="mastodon", post_id=f"mastodon.example/{number}",
                permalink=f"https://mastodon.example/@a/{number}", text=f"post {number}", target=target)
    return post_item(SOURCE, post)


def _stored(crawler: Crawler, item: Collected) -> None:
    """What the pipeline does with an item, then Scrapy's signal."""
    with ControlStore(crawler.settings["OSINTEL_STORE_PATH"]) as store:
        store.add_collected(item.document, content_sha256=item.document.id)
    crawler.signals.send_catch_log(signals.item_scraped, item=item, response=None, spider=None)


def _cursor(crawler: Crawler, target: str) -> str | None:
    with ControlStore(crawler.settings["OSINTEL_STORE_PATH"]) as store:
        return store.get_cursor(SOURCE.id, target)


def test_cursor_is_written_only_after_the_last_request_closed_and_every_item_is_stored(crawler: Crawler) -> None:
    keeper = _keeper(crawler)
    keeper.opened("tag:a")
    first, second = keeper.track("tag:a", _item("tag:a", 9)), keeper.track("tag:a", _item("tag:a", 10))
    keeper.advance("tag:a", "10")
    keeper.opened("tag:a")  # the next page, created before this page's callback ends
    keeper.closed("tag:a")
    _stored(crawler, first)
    keeper.closed("tag:a")
    assert _cursor(crawler, "tag:a") is None  # ``second`` is not stored yet
    _stored(crawler, second)
    assert _cursor(crawler, "tag:a") == "10"
    assert crawler.stats.values["cursors/updated"] == 1
    assert crawler.stats.values["social/posts"] == 2


def test_items_of_one_target_never_settle_another(crawler: Crawler) -> None:
    keeper = _keeper(crawler)
    for target in ("tag:a", "tag:b"):
        keeper.opened(target)
    a = keeper.track("tag:a", _item("tag:a", 5))
    b = keeper.track("tag:b", _item("tag:a", 5))  # the same post, seen under another target
    for target in ("tag:a", "tag:b"):
        keeper.advance(target, "5")
        keeper.closed(target)
    _stored(crawler, a)
    assert _cursor(crawler, "tag:a") == "5" and _cursor(crawler, "tag:b") is None
    _stored(crawler, b)
    assert _cursor(crawler, "tag:b") == "5"


@pytest.mark.parametrize("lose", [signals.item_error, signals.item_dropped])
def test_an_item_the_pipeline_loses_keeps_the_old_cursor(crawler: Crawler, lose: object) -> None:
    keeper = _keeper(crawler)
    keeper.opened("tag:a")
    kept, lost = keeper.track("tag:a", _item("tag:a", 1)), keeper.track("tag:a", _item("tag:a", 2))
    keeper.advance("tag:a", "2")
    keeper.closed("tag:a")
    crawler.signals.send_catch_log(lose, item=lost, response=None, spider=None, failure=None, exception=None)
    _stored(crawler, kept)
    crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")
    assert _cursor(crawler, "tag:a") is None
    assert crawler.stats.values["cursors/not_updated"] == 1


def test_a_failed_request_keeps_the_old_cursor_even_when_later_pages_succeed(crawler: Crawler) -> None:
    keeper = _keeper(crawler)
    keeper.opened("tag:a")
    keeper.opened("tag:a")
    keeper.fail("tag:a")
    keeper.closed("tag:a")  # the failed request's errback
    keeper.advance("tag:a", "7")
    keeper.closed("tag:a")
    assert _cursor(crawler, "tag:a") is None


def test_the_cursor_follows_the_comparator_and_never_moves_backwards(crawler: Crawler) -> None:
    keeper = _keeper(crawler)
    keeper.opened("tag:a")
    for value in ("9", "100", "99"):  # as strings "99" > "100"; as ids 100 is newest
        keeper.advance("tag:a", value)
    keeper.closed("tag:a")
    assert _cursor(crawler, "tag:a") == "100"
    crawler.signals.send_catch_log(signals.spider_closed, spider=None, reason="finished")

    later = Crawler(Path(crawler.settings["OSINTEL_STORE_PATH"]))
    keeper = _keeper(later)
    assert keeper.previous_cursor("tag:a") == "100"
    keeper.opened("tag:a")
    keeper.advance("tag:a", "80")  # the newest posts were deleted since
    keeper.closed("tag:a")
    assert _cursor(later, "tag:a") == "100" and not later.stats.values["cursors/updated"]


def test_page_limit_and_stop_reasons_are_counted_per_target(crawler: Crawler) -> None:
    keeper = _keeper(crawler, max_pages=2)
    assert keeper.page_fetched("tag:a") is True
    assert keeper.page_fetched("tag:b") is True
    assert keeper.page_fetched("tag:a") is False
    keeper.finished("tag:a", PAGE_LIMIT)
    keeper.finished("tag:b", KNOWN)
    assert crawler.stats.values["social/pages"] == 3
    assert crawler.stats.values["social/page_limit"] == 1
    assert crawler.stats.values["social/stopped_at_known"] == 1


def test_stored_before_means_an_earlier_crawl_not_this_one(crawler: Crawler) -> None:
    earlier = _item("tag:a", 1)
    with ControlStore(crawler.settings["OSINTEL_STORE_PATH"]) as store:
        store.add_collected(earlier.document, content_sha256="x")
    keeper = _keeper(crawler)
    assert keeper.stored_before("mastodon", "mastodon.example/1")
    keeper.opened("tag:a")
    _stored(crawler, keeper.track("tag:a", _item("tag:a", 2)))
    assert not keeper.stored_before("mastodon", "mastodon.example/2")
