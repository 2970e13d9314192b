"""RateLimitMiddleware on its own: header parsing, retry decisions, exhaustion holds, ordering."""

from __future__ import annotations

from collections import Counter
from email.utils import format_datetime
from datetime import datetime, timezone
from typing import Any

import pytest
from scrapy.http import Request, Response

from spiders.ratelimit import RateLimitMiddleware, parse_reset, parse_retry_after
from spiders.settings import DOWNLOADER_MIDDLEWARES

NOW = 1_800_000_000.0


class Stats:
    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: Any = 1) -> None:
        self.values[key] += count


def _middleware(**kwargs: Any) -> tuple[RateLimitMiddleware, Stats]:
    stats = Stats()
    return RateLimitMiddleware(stats, clock=lambda: NOW, **kwargs), stats  # type: ignore[arg-type]


def _response(status: int, headers: dict[str, str]) -> tuple[Request, Response]:
    request = Request("http://127.0.0.1:9/api/v1/timelines/tag/x?limit=40")
    return request, Response(request.url, status=status, headers=headers, request=request)


def test_retry_after_is_read_as_seconds_or_as_an_http_date() -> None:
    assert parse_retry_after("7", now=NOW) == 7
    when = datetime.fromtimestamp(NOW + 30, tz=timezone.utc)
    assert parse_retry_after(format_datetime(when, usegmt=True), now=NOW) == pytest.approx(30)
    assert parse_retry_after("soon", now=NOW) is None
    assert parse_retry_after(None, now=NOW) is None


def test_reset_is_read_as_iso_time_seconds_or_unix_time() -> None:
    iso = datetime.fromtimestamp(NOW + 90, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert parse_reset(iso, now=NOW) == pytest.approx(90)  # Mastodon X-RateLimit-Reset
    assert parse_reset("412", now=NOW) == 412  # Reddit x-ratelimit-reset
    assert parse_reset(str(int(NOW + 60)), now=NOW) == pytest.approx(60)  # Unix time


def test_a_429_with_retry_after_is_rescheduled_after_the_delay_and_counted() -> None:
    mw, stats = _middleware()
    request, response = _response(429, {"Retry-After": "3"})
    retry = mw.process_response(request, response)
    assert isinstance(retry, Request) and retry.url == request.url and retry.dont_filter
    assert retry.meta["ratelimit_retries"] == 1
    assert mw.not_before["127.0.0.1:9"] == NOW + 3
    assert stats.values["ratelimit/retry_after"] == 1


def test_a_delay_beyond_the_maximum_gives_up_without_scrapy_retrying_at_once() -> None:
    mw, stats = _middleware(max_wait=10)
    request, response = _response(429, {"Retry-After": "3600"})
    assert mw.process_response(request, response) is response
    assert request.meta["dont_retry"] is True
    assert stats.values["ratelimit/gave_up"] == 1


def test_repeated_refusals_of_one_request_stop_at_the_retry_limit() -> None:
    mw, stats = _middleware(max_retries=2)
    request, response = _response(503, {"Retry-After": "1"})
    request.meta["ratelimit_retries"] = 2
    assert mw.process_response(request, response) is response
    assert stats.values["ratelimit/gave_up"] == 1


def test_a_503_without_retry_after_is_left_to_scrapys_retry_policy() -> None:
    mw, stats = _middleware()
    request, response = _response(503, {})
    assert mw.process_response(request, response) is response
    assert "dont_retry" not in request.meta and not stats.values


@pytest.mark.parametrize("headers, wait", [
    ({"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": datetime.fromtimestamp(
        NOW + 20, tz=timezone.utc).isoformat().replace("+00:00", "Z")}, 20),   # Mastodon
    ({"x-ratelimit-remaining": "0.0", "x-ratelimit-reset": "5", "x-ratelimit-used": "100"}, 5),  # Reddit
    ({"RateLimit-Limit": "3000", "RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW + 42)),
      "RateLimit-Policy": "3000;w=300"}, 42),  # Bluesky XRPC: reset in epoch seconds
    ({"ratelimit-remaining": "0", "ratelimit-reset": "12"}, 12),  # IETF draft: seconds until reset
])
def test_an_exhausted_rate_limit_holds_the_host_until_the_reset(headers: dict[str, str], wait: float) -> None:
    mw, stats = _middleware()
    request, response = _response(200, headers)
    assert mw.process_response(request, response) is response
    assert mw.not_before["127.0.0.1:9"] - NOW == pytest.approx(wait)  # approx(NOW + x) would allow ±1800s
    assert stats.values["ratelimit/exhausted"] == 1


def test_remaining_requests_do_not_hold_the_host() -> None:
    mw, stats = _middleware()
    request, response = _response(200, {"x-ratelimit-remaining": "57.0", "x-ratelimit-reset": "300"})
    mw.process_response(request, response)
    assert not mw.not_before and not stats.values


def test_a_bluesky_429_without_retry_after_waits_for_its_ratelimit_reset() -> None:
    mw, stats = _middleware()
    request, response = _response(429, {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(NOW + 8))})
    retry = mw.process_response(request, response)
    assert isinstance(retry, Request)
    assert mw.not_before["127.0.0.1:9"] - NOW == pytest.approx(8)
    assert stats.values["ratelimit/retry_after"] == 1


def test_bluesky_remaining_requests_do_not_hold_the_host() -> None:
    mw, stats = _middleware()
    request, response = _response(200, {"RateLimit-Remaining": "2999", "RateLimit-Reset": str(int(NOW + 300))})
    mw.process_response(request, response)
    assert not mw.not_before and not stats.values


def test_rate_limit_middleware_sees_responses_before_scrapys_retry_middleware() -> None:
    # process_response runs in descending priority: ours must come before RetryMiddleware (550),
    # and after the capture (950) has recorded the refusal.
    priority = DOWNLOADER_MIDDLEWARES["spiders.ratelimit.RateLimitMiddleware"]
    assert 550 < priority < DOWNLOADER_MIDDLEWARES["spiders.capture.CaptureMiddleware"]
