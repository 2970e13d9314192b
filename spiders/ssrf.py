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
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from osintel.errors import BlockedAddressError

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.statscollectors import StatsCollector

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

#: Look-ups run here so that one stuck in the system resolver can be abandoned after a timeout.
_DNS_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ssrf-dns")
_ALLOWED_SCHEMES = {"http", "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_internal_address(ip: IPAddress | str) -> bool:
    """True for any address a public-web crawler has no business connecting to.

    Loopback, RFC 1918 / unique-local private, link-local, multicast, reserved, unspecified,
    shared (CGNAT) and every other non-global range; IPv6 addresses that embed an IPv4 address
    (IPv4-mapped, 6to4, Teredo, NAT64) are judged by the embedded address as well.
    """
    if isinstance(ip, str):
        ip = ipaddress.ip_address(ip.split("%", 1)[0])
    if (
        ip.is_loopback or ip.is_private or ip.is_link_local or ip.is_multicast
        or ip.is_reserved or ip.is_unspecified or not ip.is_global
    ):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: list[ipaddress.IPv4Address | None] = [ip.ipv4_mapped, ip.sixtofour]
        if ip.teredo:
            embedded.extend(ip.teredo)
        if ip in ipaddress.ip_network("64:ff9b::/96"):
            embedded.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        return any(e is not None and is_internal_address(e) for e in embedded)
    return False


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (``getaddrinfo``), as strings."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _host_port(host: str, port: int) -> str:
    host = host.lower().strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def normalise_allow_list(entries: Iterable[str]) -> frozenset[str]:
    """Normalise ``host:port`` entries (``[::1]:8080`` for IPv6; the port is required)."""
    out = set()
    for entry in entries:
        parts = urlsplit(f"//{entry.strip()}")
        if not parts.hostname or parts.port is None:
            raise BlockedAddressError(f"allow_private_hosts entry {entry!r} is not host:port")
        out.add(_host_port(parts.hostname, parts.port))
    return frozenset(out)


class AddressPolicy:
    """Decides whether a URL may be fetched. ``check`` raises :class:`BlockedAddressError`."""

    def __init__(self, allow: Iterable[str] = (), *, resolver: Resolver = resolve,
                 dns_timeout: float | None = None) -> None:
        self.allow = normalise_allow_list(allow)
        self._resolver = resolver
        self.dns_timeout = dns_timeout if dns_timeout and dns_timeout > 0 else None

    def check(self, url: str) -> None:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _ALLOWED_SCHEMES:
            raise BlockedAddressError(f"scheme {scheme!r} is not collected")
        host = parts.hostname
        if not host:
            raise BlockedAddressError("URL has no host")
        try:
            port = parts.port or _DEFAULT_PORTS[scheme]
        except ValueError as exc:
            raise BlockedAddressError(f"bad port: {exc}") from None
        if _host_port(host, port) in self.allow:
            return
        try:
            addresses = _DNS_POOL.submit(self._resolver, host, port).result(timeout=self.dns_timeout)
        except TimeoutError:
            raise BlockedAddressError(f"{host} did not resolve within {self.dns_timeout}s") from None
        except (OSError, UnicodeError) as exc:
            # Unresolvable: let the downloader report the DNS error as usual.
            log.debug("SSRF guard could not resolve %s: %s", host, exc)
            return
        for address in addresses:
            if is_internal_address(address) and _host_port(address, port) not in self.allow:
                raise BlockedAddressError(f"{host} resolves to internal address {address}")

    def check_peer(self, ip: str, port: int) -> None:
        """Refuse a response that came from an internal address not allow-listed."""
        if is_internal_address(ip) and _host_port(ip, port) not in self.allow:
            raise BlockedAddressError(f"response came from internal address {ip}")


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
