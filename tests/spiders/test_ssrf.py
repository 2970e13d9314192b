from __future__ import annotations

import pytest

from osintel.errors import BlockedAddressError
from spiders.ssrf import AddressPolicy, is_internal_address


@pytest.mark.parametrize("ip", [
    "127.0.0.1", "127.0.0.2", "10.0.0.1", "172.16.5.4", "192.168.1.1", "169.254.169.254",
    "0.0.0.0", "224.0.0.1", "240.0.0.1", "100.64.0.1", "255.255.255.255",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "64:ff9b::a00:1", "2002:7f00:1::1",
])
def test_internal_addresses_are_recognised(ip: str) -> None:
    assert is_internal_address(ip)


@pytest.mark.parametrize("ip", ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111"])
def test_public_addresses_are_not_internal(ip: str) -> None:
    assert not is_internal_address(ip)


def _policy(allow: list[str], table: dict[str, list[str]]) -> AddressPolicy:
    return AddressPolicy(allow, resolver=lambda host, port: table[host])


def test_policy_refuses_hostnames_resolving_to_internal_addresses() -> None:
    policy = _policy([], {"intranet.example": ["93.184.216.34", "10.1.2.3"],
                          "news.example": ["93.184.216.34"]})
    with pytest.raises(BlockedAddressError):
        policy.check("http://intranet.example/")  # one internal answer is enough
    policy.check("https://news.example/story")


def test_policy_allows_only_the_allow_listed_host_and_port() -> None:
    policy = _policy(["127.0.0.1:8765", "[::1]:9000"], {"127.0.0.1": ["127.0.0.1"], "::1": ["::1"],
                                                         "localhost": ["127.0.0.1"]})
    policy.check("http://127.0.0.1:8765/feed.xml")
    policy.check("http://localhost:8765/feed.xml")  # resolves to an allow-listed ip:port
    policy.check("http://[::1]:9000/")
    for url in ("http://127.0.0.1:8766/", "http://127.0.0.1/", "http://[::1]:9001/"):
        with pytest.raises(BlockedAddressError):
            policy.check(url)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://x/", "data:,hi"])
def test_policy_refuses_non_http_schemes(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        _policy([], {}).check(url)


def test_peer_check_catches_dns_rebinding() -> None:
    policy = _policy(["127.0.0.1:8765"], {})
    policy.check_peer("93.184.216.34", 80)
    policy.check_peer("127.0.0.1", 8765)
    with pytest.raises(BlockedAddressError):
        policy.check_peer("127.0.0.1", 6379)
