"""Rate limiting for the demo platform endpoints: counts, windows, and a deterministic 429.

Two behaviours, both deterministic for a well-behaved client:

- **Scheduled 429**: every ``throttle_every``-th request to the API (1-based, counted over the
  whole API) is answered ``429 Too Many Requests`` with ``Retry-After: <retry_after>`` (seconds),
  once; a retry sent after that delay is served normally, one sent sooner is refused again and
  counted in :attr:`DemoRateLimit.early`. ``throttle_every=0`` switches this off.
- **Window**: ``window`` requests per window; the answer that uses the last one reports
  ``remaining`` 0 and the window ends ``reset_seconds`` later. A request arriving before then is
  answered 429 with ``Retry-After`` and counted in :attr:`DemoRateLimit.early` (a client that
  honours the remaining/reset headers never sees it).
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class LimitState:
    """The rate-limit facts for one answer."""

    limit: int
    remaining: int
    used: int
    reset_in: float
    retry_after: int | None = None  # set when the answer is a 429


class DemoRateLimit:
    """Thread-safe request counter for one demo API."""

    def __init__(self, *, window: int, reset_seconds: float, throttle_every: int = 7,
                 retry_after: int = 1) -> None:
        self.window = window
        self.reset_seconds = reset_seconds
        self.throttle_every = throttle_every
        self.retry_after = retry_after
        self.total = 0
        self.throttled = 0
        self.early = 0
        self._used = 0
        self._window_end: float | None = None
        self._blocked_until = 0.0
        self._lock = threading.Lock()

    def hit(self) -> LimitState:
        """Count one request and say whether to answer it or refuse it (``retry_after`` set)."""
        with self._lock:
            now = time.monotonic()
            self.total += 1
            if self._window_end is not None and now >= self._window_end:
                self._used, self._window_end = 0, None
            if now < self._blocked_until:
                self.early += 1
                return LimitState(self.window, self.window - self._used, self._used, self._reset_in(now),
                                  retry_after=max(1, math.ceil(self._blocked_until - now)))
            if self._used >= self.window and self._window_end is not None:
                self.early += 1
                wait = max(1, math.ceil(self._window_end - now))
                return LimitState(self.window, 0, self._used, self._window_end - now, retry_after=wait)
            if self.throttle_every and self.total % self.throttle_every == 0:
                self.throttled += 1
                self._blocked_until = now + self.retry_after
                return LimitState(self.window, self.window - self._used, self._used,
                                  self._reset_in(now), retry_after=self.retry_after)
            self._used += 1
            if self._window_end is None:
                self._window_end = now + self.reset_seconds
            return LimitState(self.window, self.window - self._used, self._used, self._window_end - now)

    def _reset_in(self, now: float) -> float:
        return self.reset_seconds if self._window_end is None else max(0.0, self._window_end - now)
