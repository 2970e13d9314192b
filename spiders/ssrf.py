"""SSRF guard: refuse to fetch from loopback, private, link-local or otherwise internal addresses.

Every request a crawl makes passes :class:`SSRFGuardMiddleware` before anything is downloaded
for it: start URLs, robots.txt, redirects (they come back as new requests) and links found in
content. The host is resolved with ``getaddrinfo`` and refused if *any* address it resolves to is
internal, unless ``host:port`` is allow-listed (``allow_private_hosts`` in ``sources.yaml``).

Resolution here and the connection the downloader makes later are separate look-ups, so a
hostile DNS server could answer differently the second time (DNS rebinding).
:class:`PeerAddressGuardMiddleware` closes most of that gap: it checks the address the response
actually came from and drops the response, before it is captured, parsed or followed.

The guard's own look-up is bounded by ``DNS_TIMEOUT``: a host that does not resolve in time is
refused (fail closed) rather than left to stall the crawl.

The address policy itself (:class:`AddressPolicy`, :func:`is_internal_address`) lives in
:mod:`osintel.netguard`, shared with the alert webhook sink; this module adds the Scrapy
middlewares around it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from osintel.errors import BlockedAddressError
from osintel.netguard import (  # the policy's public names, re-exported ("X as X")
    AddressPolicy as AddressPolicy,
    is_internal_address as is_internal_address,
    normalise_allow_list as normalise_allow_list,
    resolve as resolve,
)

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _block(stats: StatsCollector, request: Request, exc: BlockedAddressError, where: str) -> IgnoreRequest:
    stats.inc_value("ssrf/blocked")
    log.warning("SSRF guard refused %s (%s): %s", request.url, where, exc,
                extra={"url": request.url, "reason": str(exc)})
    return IgnoreRequest(f"SSRF guard: {exc}")


class _GuardBase:
    def __init__(self, policy: AddressPolicy, stats: StatsCollector) -> None:
        self.policy = policy
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        allow = crawler.settings.getlist("OSINTEL_ALLOW_PRIVATE_HOSTS")
        policy = AddressPolicy(allow, dns_timeout=crawler.settings.getfloat("DNS_TIMEOUT"))
        return cls(policy, crawler.stats)


class SSRFGuardMiddleware(_GuardBase):
    """Downloader middleware: refuse requests to internal addresses (``ssrf/blocked``)."""

    def process_request(self, request: Request, spider: Spider | None = None) -> None:
        try:
            self.policy.check(request.url)
        except BlockedAddressError as exc:
            raise _block(self.stats, request, exc, "request") from None


class PeerAddressGuardMiddleware(_GuardBase):
    """Downloader middleware: drop responses whose peer address is internal (DNS rebinding)."""

    def process_response(self, request: Request, response: Response,
                         spider: Spider | None = None) -> Response:
        ip = getattr(response, "ip_address", None)
        if ip is not None:
            parts = urlsplit(response.url)
            port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
            try:
                self.policy.check_peer(str(ip), port)
            except BlockedAddressError as exc:
                raise _block(self.stats, request, exc, "peer") from None
        return response
