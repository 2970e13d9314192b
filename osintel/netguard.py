"""Which network destinations osintel may connect to: one policy for crawls and alert webhooks.

A destination is refused when its host resolves to (or is) a loopback, private, link-local,
multicast, reserved or otherwise non-global address, unless its ``host:port`` is allow-listed.
The crawler's SSRF guard (:mod:`spiders.ssrf`, ``allow_private_hosts`` in ``sources.yaml``) and
the alert webhook sink (``alerts.webhook_allowed_hosts``) both use :class:`AddressPolicy`, so a
rule's webhook is judged the same way when it is created and when a message is delivered.

A host that does not resolve is not refused here: the connection attempt reports the DNS error
(for a webhook, a delivery that is retried). A look-up that does not finish within
``dns_timeout`` is refused (fail closed).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from osintel.errors import BlockedAddressError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

#: Look-ups run here so that one stuck in the system resolver can be abandoned after a timeout.
_DNS_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="ssrf-dns")
_ALLOWED_SCHEMES = {"http", "https"}
_DEFAULT_PORTS = {"http": 80, "https": 443}


def is_internal_address(ip: IPAddress | str) -> bool:
    """True for any address a crawl or a webhook has no business connecting to.

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


def host_port(host: str, port: int) -> str:
    """``host:port`` as allow-lists spell it (lower case; ``[::1]:8080`` for IPv6)."""
    host = host.lower().strip("[]")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def normalise_allow_list(entries: Iterable[str]) -> frozenset[str]:
    """Normalise ``host:port`` entries (``[::1]:8080`` for IPv6; the port is required)."""
    out = set()
    for entry in entries:
        parts = urlsplit(f"//{entry.strip()}")
        if not parts.hostname or parts.port is None:
            raise BlockedAddressError(f"allow_private_hosts entry {entry!r} is not host:port")
        out.add(host_port(parts.hostname, parts.port))
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
        if host_port(host, port) in self.allow:
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
            if is_internal_address(address) and host_port(address, port) not in self.allow:
                raise BlockedAddressError(f"{host} resolves to internal address {address}")

    def check_peer(self, ip: str, port: int) -> None:
        """Refuse a response that came from an internal address not allow-listed."""
        if is_internal_address(ip) and host_port(ip, port) not in self.allow:
            raise BlockedAddressError(f"response came from internal address {ip}")
