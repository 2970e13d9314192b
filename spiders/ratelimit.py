"""RateLimitMiddleware: honour a platform's ``Retry-After`` and rate-limit headers.

Two signals, both per host (``host:port``):

- **Refused** (``429``, or ``503`` with ``Retry-After``): the request is re-scheduled to run after
  the delay the server asked for. ``Retry-After`` is read as seconds or an HTTP date; a ``429``
  without it falls back to the rate-limit reset header, then to ``OSINTEL_RATELIMIT_DEFAULT_DELAY``.
  Counted as ``ratelimit/retry_after``. A delay longer than ``OSINTEL_RATELIMIT_MAX_WAIT``, or more
  than ``OSINTEL_RATELIMIT_MAX_RETRIES`` refusals of one request, gives up (``ratelimit/gave_up``):
  the response goes on to the spider as an HTTP error, marked ``dont_retry`` so Scrapy's
  ``RetryMiddleware`` does not retry it again at once.
- **Exhausted** (``X-RateLimit-Remaining``, or the un-prefixed IETF-draft ``RateLimit-Remaining``
  that Bluesky sends, below 1 on any response; header names are case-insensitive): no request to
  that host is sent before the reset (``ratelimit/exhausted``). The reset header
  (``X-RateLimit-Reset`` or ``RateLimit-Reset``) may be an ISO 8601 time (Mastodon), seconds from
  now (Reddit, and the IETF draft), or a Unix time (Bluesky's XRPC servers send
  ``RateLimit-Reset`` as epoch seconds).

Waiting never blocks the reactor: ``process_request`` awaits :func:`scrapy.utils.defer.sleep`
until the host's not-before time (``ratelimit/paused`` requests, ``ratelimit/wait_seconds`` total),
and the host's downloader slot is held with a timed call (as Scrapy's own download delay does) so
requests already queued in the slot wait as well. The hold is set from the ``response_downloaded``
signal, which Scrapy sends before it frees the slot for the next queued request (as AutoThrottle
relies on); ``process_response`` then decides about the retry and counts.
The middleware sits at 560, so its ``process_response`` runs before ``RetryMiddleware`` (550) and
after the capture middleware (950) has recorded the refusal as evidence.

Settings (Scrapy, with these defaults): ``OSINTEL_RATELIMIT_MAX_WAIT`` 300 seconds,
``OSINTEL_RATELIMIT_MAX_RETRIES`` 5, ``OSINTEL_RATELIMIT_DEFAULT_DELAY`` 30 seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.http import Request, Response
from scrapy.utils.asyncio import call_later, sleep

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

MAX_WAIT = 300.0
MAX_RETRIES = 5
DEFAULT_DELAY = 30.0
#: Statuses a server uses to say "not now".
REFUSED = frozenset({429, 503})
_RETRIES_KEY = "ratelimit_retries"
#: Rate-limit headers, in order of preference: Mastodon/Reddit's ``X-`` form, then the IETF
#: draft's un-prefixed form (Bluesky).
REMAINING_HEADERS = ("X-RateLimit-Remaining", "RateLimit-Remaining")
RESET_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reset")


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta-seconds or HTTP date); None if unusable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, when.timestamp() - now)


def parse_reset(value: str | None, *, now: float) -> float | None:
    """Seconds until a rate-limit window resets.

    Accepts an ISO 8601 time (Mastodon), a number of seconds (Reddit), or a Unix time (a number
    larger than 10⁹); None when the value cannot be read.
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return parse_retry_after(value, now=now)
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        return max(0.0, when.timestamp() - now)
    return max(0.0, number - now) if number > 1e9 else max(0.0, number)


def _header(response: Response, *names: str) -> str | None:
    """The first of ``names`` the response carries (Scrapy's Headers are case-insensitive)."""
    for name in names:
        raw = response.headers.get(name)
        if raw is not None:
            return raw.decode("latin-1")
    return None


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.lower()


class RateLimitMiddleware:
    """Downloader middleware that waits as the server asks (see the module docstring)."""

    def __init__(self, stats: StatsCollector, *, max_wait: float = MAX_WAIT, max_retries: int = MAX_RETRIES,
                 default_delay: float = DEFAULT_DELAY, clock: Callable[[], float] = time.time) -> None:
        self.stats = stats
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.default_delay = default_delay
        self.clock = clock
        self.not_before: dict[str, float] = {}
        self.crawler: Crawler | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RateLimitMiddleware:
        s = crawler.settings
        middleware = cls(crawler.stats,
                         max_wait=s.getfloat("OSINTEL_RATELIMIT_MAX_WAIT", MAX_WAIT),
                         max_retries=s.getint("OSINTEL_RATELIMIT_MAX_RETRIES", MAX_RETRIES),
                         default_delay=s.getfloat("OSINTEL_RATELIMIT_DEFAULT_DELAY", DEFAULT_DELAY))
        middleware.crawler = crawler
        crawler.signals.connect(middleware.response_downloaded, signal=signals.response_downloaded)
        return middleware

    async def process_request(self, request: Request, spider: Spider | None = None) -> None:
        wait = self.not_before.get(_host(request.url), 0.0) - self.clock()
        if wait > 0:
            wait = min(wait, self.max_wait)
            self.stats.inc_value("ratelimit/paused")
            # Seconds as a float: the collector adds any number, though Scrapy annotates count as int.
            self.stats.inc_value("ratelimit/wait_seconds", round(wait, 3))  # type: ignore[arg-type]
            log.info("rate limited: waiting %.1fs before %s", wait, request.url,
                     extra={"url": request.url, "wait_seconds": wait})
            await sleep(wait)

    def assess(self, response: Response, *, now: float) -> tuple[float | None, float | None]:
        """``(exhausted_wait, refused_delay)`` read from ``response``'s headers (None: no signal)."""
        reset = parse_reset(_header(response, *RESET_HEADERS), now=now)
        if response.status not in REFUSED:
            remaining = _header(response, *REMAINING_HEADERS)
            try:
                exhausted = remaining is not None and float(remaining) < 1
            except ValueError:
                exhausted = False
            return (min(reset, self.max_wait) if exhausted and reset else None), None
        delay = parse_retry_after(_header(response, "Retry-After"), now=now)
        if delay is None and response.status == 429:
            delay = reset if reset is not None else self.default_delay
        return None, delay

    def response_downloaded(self, response: Response, request: Request, spider: Spider | None = None) -> None:
        """Signal handler: hold the host *before* Scrapy frees the slot for its next request."""
        now = self.clock()
        exhausted, refused = self.assess(response, now=now)
        wait = exhausted if exhausted is not None else refused
        if wait is not None and wait <= self.max_wait:
            self._hold(_host(request.url), now + wait, request)

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Request | Response:
        now = self.clock()
        host = _host(request.url)
        exhausted, delay = self.assess(response, now=now)
        if exhausted is not None:
            self.stats.inc_value("ratelimit/exhausted")
            log.info("%s: rate limit used up; pausing %.1fs", host, exhausted,
                     extra={"host": host, "wait_seconds": exhausted})
            self._hold(host, now + exhausted, request)
        if response.status not in REFUSED or delay is None:
            return response  # a 503 with no hint: Scrapy's RetryMiddleware policy applies
        retries = int(request.meta.get(_RETRIES_KEY, 0))
        if delay > self.max_wait or retries >= self.max_retries:
            self.stats.inc_value("ratelimit/gave_up")
            log.warning("giving up on %s: server asked to wait %.0fs (refusal %d)", request.url, delay,
                        retries + 1, extra={"url": request.url, "status": response.status})
            request.meta["dont_retry"] = True
            return response
        self.stats.inc_value("ratelimit/retry_after")
        self.stats.inc_value(f"ratelimit/retry_after/{response.status}")
        self._hold(host, now + delay, request)
        log.info("%s answered %d; retrying in %.1fs", request.url, response.status, delay,
                 extra={"url": request.url, "status": response.status, "wait_seconds": delay})
        retry = request.replace(dont_filter=True)
        retry.meta[_RETRIES_KEY] = retries + 1
        retry.meta.pop("capture", None)
        return retry

    def _hold(self, host: str, until: float, request: Request) -> None:
        if until <= self.not_before.get(host, 0.0):
            return
        self.not_before[host] = until
        self._pause_slot(request, until - self.clock())

    def _pause_slot(self, request: Request, wait: float) -> None:
        """Hold the request's downloader slot too: requests already queued in it (past
        ``process_request``) must not go out before the server's delay either."""
        downloader = getattr(getattr(self.crawler, "engine", None), "downloader", None) if self.crawler else None
        if downloader is None or wait <= 0 or not hasattr(downloader, "_latercall"):
            return
        slot = downloader.slots.get(request.meta.get("download_slot") or downloader.get_slot_key(request))
        if slot is None:
            return
        if slot.latercall is not None:
            slot.latercall.cancel()
        slot.latercall = call_later(wait, downloader._latercall, slot)
