"""Hostile input: decompression bombs, XML bombs and XXE, SSRF address tricks, slow servers.

One module-scoped crawl on loopback serves every hostile case (``/safety/...`` routes on the
session's fixture site); the internal server records any request that reaches it. Unit tests
cover the XML screen, the address policy with the real resolver and the version floor.
"""

from __future__ import annotations

import re
import time
import tomllib
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import brotli
import pytest
import scrapy
from backports import zstd
from packaging.version import Version

from osintel.errors import BlockedAddressError
from osintel.records import Document
from osintel.store import ControlStore
from spiders.runner import CrawlResult, run_crawl
from spiders.settings import scrapy_settings
from spiders.ssrf import AddressPolicy
from spiders.xmlsafe import unsafe_xml_reason

INFLATED = 20 * 1024 * 1024  # 20 MiB: twenty times the tests' 1 MiB DOWNLOAD_MAXSIZE
PASSWD_MARKER = "root:x:0:0"
#: Scrapy 2.13.4 (2025-11-17) caps br/deflate output while decompressing (CVE-2025-6176,
#: GHSA-2qfp-q593-8484); 2.11.1 (2024-02-14) first applied DOWNLOAD_MAXSIZE to decompressed
#: bodies (GHSA-7j7m-v7m3-jqm7).
SCRAPY_FLOOR = Version("2.13.4")
BROTLI_FLOOR = Version("1.2.0")

ENCODERS = {
    "gzip": lambda data: __import__("gzip").compress(data, compresslevel=9),
    "deflate": lambda data: zlib.compress(data, 9),
    "br": lambda data: brotli.compress(data, quality=11),
    "zstd": lambda data: zstd.compress(data),
}

_LAUGHS_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE {root} [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""
BILLION_LAUGHS = _LAUGHS_DTD.replace(b"{root}", b"rss") + (
    b'<rss version="2.0"><channel><title>&lol9;</title>'
    b"<item><title>&lol9;</title><link>{{BASE}}/safety/a/laughs.html</link></item></channel></rss>")
QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "' + b"A" * 50_000 + b'">]>'
             b"<rss version=\"2.0\"><channel><item><title>" + b"&a;" * 20_000
             + b"</title><link>{{BASE}}/safety/a/quadratic.html</link></item></channel></rss>")
XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&xxe;</title><description>&xxe;</description>
<link>{{BASE}}/safety/a/xxe-file.html</link></item></channel></rss>"""
XXE_HTTP = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "{{INTERNAL}}/xxe-general">]>
<rss version="2.0"><channel><title>t</title>
<item><title>&xxe;</title><link>{{BASE}}/safety/a/xxe-http.html</link></item></channel></rss>"""
XXE_PARAM = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY % remote SYSTEM "{{INTERNAL}}/xxe-param.dtd"> %remote;]>
<rss version="2.0"><channel><title>t</title>
<item><title>param</title><link>{{BASE}}/safety/a/xxe-param.html</link></item></channel></rss>"""
#: No entity declared, only an external DTD named: parsed, but the DTD is never fetched.
EXTERNAL_DTD_ONLY = b"""<?xml version="1.0"?>
<!DOCTYPE rss SYSTEM "{{INTERNAL}}/evil.dtd">
<rss version="2.0"><channel><title>t</title>
<item><title>Plain item in a feed naming a DTD</title><link>{{BASE}}/safety/a/dtd-only.html</link></item>
</channel></rss>"""
SITEMAP_LAUGHS = _LAUGHS_DTD.replace(b"{root}", b"urlset") + (
    b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
    b"<url><loc>{{BASE}}/safety/a/sm-laughs.html?&lol9;</loc></url></urlset>")
SITEMAP_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{{BASE}}/safety/a/sm-xxe.html?&xxe;</loc></url></urlset>"""

XML_BOMB_FEEDS = {"laughs": BILLION_LAUGHS, "quadratic": QUADRATIC, "xxe-file": XXE_FILE,
                  "xxe-http": XXE_HTTP, "xxe-param": XXE_PARAM}

#: URL forms that all mean a loopback address; {port} is the internal server's port.
LOOPBACK_FORMS = [
    "http://localhost:{port}/ssrf", "http://LocalHost:{port}/ssrf", "http://[::1]:{port}/ssrf",
    "http://[::ffff:127.0.0.1]:{port}/ssrf", "http://2130706433:{port}/ssrf",
    "http://0x7f000001:{port}/ssrf", "http://0x7f.0.0.1:{port}/ssrf", "http://127.1:{port}/ssrf",
    "http://0177.0.0.1:{port}/ssrf", "http://017700000001:{port}/ssrf", "http://0:{port}/ssrf",
    "http://user:pw@127.0.0.1:{port}/ssrf",
]


def page(slug: str) -> bytes:
    return (f"<html><head><title>{slug}</title></head><body><article><h1>{slug}</h1>"
            f"<p>An ordinary article page, {slug}, with more than enough text to be kept as a "
            f"document by the extractor.</p></article></body></html>").encode()


def _send(body: bytes, ctype: str, encoding: str | None = None) -> Any:
    headers = {"Content-Encoding": encoding} if encoding else None
    return lambda h: h._send(200, body, ctype, headers)


def register_safety_routes(site: Any, internal: Any) -> None:
    def fill(body: bytes) -> bytes:
        return body.replace(b"{{BASE}}", site.base.encode()).replace(
            b"{{INTERNAL}}", site.internal_base.encode())

    zeros = b"\0" * INFLATED
    bombs = {enc: encode(zeros) for enc, encode in ENCODERS.items()}
    for enc, body in bombs.items():
        assert len(body) < 200_000  # small on the wire
        site.routes[f"/safety/bomb-{enc}.html"] = _send(body, "text/html", enc)
        site.routes[f"/safety/bomb-feed-{enc}.xml"] = _send(body, "application/rss+xml", enc)
        site.routes[f"/safety/bomb-sitemap-{enc}.xml"] = _send(body, "application/xml", enc)
    # A gzipped sitemap file (no Content-Encoding): Scrapy's SitemapSpider inflates it itself.
    site.routes["/safety/bomb-sitemap.xml.gz"] = _send(bombs["gzip"], "application/x-gzip")
    items = "".join(f"<item><title>bomb {enc}</title><link>{site.base}/safety/bomb-{enc}.html</link></item>"
                    for enc in ENCODERS)
    site.routes["/safety/bomb-articles.xml"] = _send(
        f'<rss version="2.0"><channel><title>b</title>{items}</channel></rss>'.encode(), "application/rss+xml")

    for name, body in XML_BOMB_FEEDS.items():
        site.routes[f"/safety/xml-{name}.xml"] = _send(fill(body), "application/rss+xml")
    site.routes["/safety/xml-dtd-only.xml"] = _send(fill(EXTERNAL_DTD_ONLY), "application/rss+xml")
    site.routes["/safety/sitemap-laughs.xml"] = _send(fill(SITEMAP_LAUGHS), "application/xml")
    site.routes["/safety/sitemap-xxe.xml"] = _send(fill(SITEMAP_XXE), "application/xml")
    for slug in ("laughs", "quadratic", "xxe-file", "xxe-http", "xxe-param", "dtd-only",
                 "sm-laughs", "sm-xxe"):
        site.routes[f"/safety/a/{slug}.html"] = _send(page(slug), "text/html; charset=utf-8")

    # Distinct paths, so neither the seen-URL skip nor Scrapy's duplicate filter hides a case.
    forms = [f.format(port=internal.port) + f"-{i}" for i, f in enumerate(LOOPBACK_FORMS)]
    redirects = []
    for i, url in enumerate(forms):
        site.routes[f"/safety/redirect-{i}"] = (
            lambda h, url=url: h._send(302, b"", headers={"Location": url + "-via-redirect"}))
        redirects.append(f"{site.base}/safety/redirect-{i}")
    links = "".join(f"<item><title>ssrf</title><link>{u}</link></item>"
                    for u in forms + redirects)
    site.routes["/safety/ssrf.xml"] = _send(
        f'<rss version="2.0"><channel><title>s</title>{links}</channel></rss>'.encode(), "application/rss+xml")

    def slow(h: Any) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not site.stop.is_set():
            time.sleep(0.05)
        h._send(200, page("slow"))
    site.routes["/safety/slow.html"] = slow
    site.routes["/safety/slow.xml"] = _send(
        f'<rss version="2.0"><channel><title>s</title><item><title>slow</title>'
        f"<link>{site.base}/safety/slow.html</link></item></channel></rss>".encode(), "application/rss+xml")


@dataclass
class Hostile:
    results: dict[str, CrawlResult]
    paths: list[str]
    internal_paths: list[str]
    docs: list[Document]
    log: str
    elapsed: float


@pytest.fixture(scope="module")
def hostile(site: Any, internal: Any, make_settings: Any, make_sources: Any,
            tmp_path_factory: pytest.TempPathFactory) -> Hostile:
    register_safety_routes(site, internal)
    data_dir = tmp_path_factory.mktemp("safety")
    # 5 s: long enough to inflate a bomb to its cap on a loaded machine, far below the slow page's 60 s.
    settings = make_settings(data_dir, **{"crawl.download_timeout": 5})
    b = site.base
    sources = make_sources(site, [
        {"id": "bomb-articles", "kind": "feed", "urls": [f"{b}/safety/bomb-articles.xml"]},
        {"id": "bomb-feeds", "kind": "feed", "urls": [f"{b}/safety/bomb-feed-{e}.xml" for e in ENCODERS]},
        {"id": "bomb-sitemaps", "kind": "sitemap",
         "urls": [f"{b}/safety/bomb-sitemap-{e}.xml" for e in ENCODERS] + [f"{b}/safety/bomb-sitemap.xml.gz"]},
        {"id": "xml-bombs", "kind": "feed", "urls": [f"{b}/safety/xml-{n}.xml" for n in XML_BOMB_FEEDS]},
        {"id": "dtd-only", "kind": "feed", "urls": [f"{b}/safety/xml-dtd-only.xml"]},
        {"id": "xml-sitemaps", "kind": "sitemap",
         "urls": [f"{b}/safety/sitemap-laughs.xml", f"{b}/safety/sitemap-xxe.xml"]},
        {"id": "ssrf", "kind": "feed", "urls": [f"{b}/safety/ssrf.xml"]},
        {"id": "slow", "kind": "feed", "urls": [f"{b}/safety/slow.xml"]},
    ])
    log_file = data_dir / "crawl.log"
    site.clear()
    internal.clear()
    started = time.monotonic()
    results = {r.source_id: r for r in run_crawl(settings, sources, [], log_file=log_file)}
    elapsed = time.monotonic() - started
    with ControlStore(settings.store_path) as store:
        docs = list(store.iter_documents())
    return Hostile(results, site.paths(), internal.paths(), docs,
                   log_file.read_text("utf-8", "replace"), elapsed)


# -- decompression bombs -----------------------------------------------------------------------

def test_article_bombs_in_every_encoding_are_dropped_and_counted(hostile: Hostile) -> None:
    result = hostile.results["bomb-articles"]
    # Everything refused, nothing collected: a failed run that says why, never a healthy "ok".
    assert result.status == "failed"
    assert (result.error or "").startswith("nothing collected: last run rejected ")
    assert "response(s) over crawl.max_response_bytes" in (result.error or "")
    assert {f"/safety/bomb-{e}.html" for e in ENCODERS} <= set(hostile.paths)
    assert result.stats["responses/oversize"] == len(ENCODERS)
    assert result.stats["items/failed/oversize"] == len(ENCODERS)
    assert not [d for d in hostile.docs if "bomb" in d.url]
    for enc in ENCODERS:
        assert re.search(rf"Ignored response <200 \S+/safety/bomb-{enc}\.html> .*exceeded DOWNLOAD_MAXSIZE",
                         hostile.log), enc


def test_feed_bombs_in_every_encoding_are_dropped_and_counted(hostile: Hostile) -> None:
    result = hostile.results["bomb-feeds"]
    # Everything refused, nothing collected: a failed run that says why, never a healthy "ok".
    assert result.status == "failed"
    assert (result.error or "").startswith("nothing collected: last run rejected ")
    assert "response(s) over crawl.max_response_bytes" in (result.error or "")
    assert result.stats["responses/oversize"] == len(ENCODERS)
    assert result.stats["fetch/failed/oversize"] == len(ENCODERS)
    assert result.stats.get("feeds/fetched", 0) == 0  # never handed to feedparser
    for enc in ENCODERS:
        assert f"could not fetch {hostile_base(hostile)}/safety/bomb-feed-{enc}.xml: oversize" in hostile.log


def test_sitemap_bombs_content_encoded_or_gzipped_files_are_dropped_and_counted(hostile: Hostile) -> None:
    result = hostile.results["bomb-sitemaps"]
    # Everything refused, nothing collected: a failed run that says why, never a healthy "ok".
    assert result.status == "failed"
    assert (result.error or "").startswith("nothing collected: last run rejected ")
    assert "response(s) over crawl.max_response_bytes" in (result.error or "")
    assert result.stats["responses/oversize"] == len(ENCODERS) + 1
    assert result.stats["fetch/failed/oversize"] == len(ENCODERS)
    assert "bomb-sitemap.xml.gz: it inflates past DOWNLOAD_MAXSIZE" in hostile.log


def hostile_base(hostile: Hostile) -> str:
    match = re.search(r"(http://127\.0\.0\.1:\d+)/safety/", hostile.log)
    assert match
    return match.group(1)


# -- XML bombs and external entities ------------------------------------------------------------

def test_xml_bombs_and_external_entities_are_rejected_not_expanded(hostile: Hostile) -> None:
    result = hostile.results["xml-bombs"]
    # Everything refused, nothing collected: a failed run that says why, never a healthy "ok".
    assert result.status == "failed"
    assert (result.error or "").startswith("nothing collected: last run rejected ")
    assert "declaring XML entities" in (result.error or "")
    assert result.stats["feeds/rejected-xml"] == len(XML_BOMB_FEEDS)
    assert result.stats.get("feeds/entries", 0) == 0
    # Nothing they link to was fetched, and the entity targets were never requested.
    assert not [p for p in hostile.paths if p.startswith("/safety/a/") and "dtd-only" not in p]
    assert hostile.internal_paths == []
    for name in XML_BOMB_FEEDS:
        assert re.search(rf"rejected feed \S+/safety/xml-{name}\.xml, not parsed: DOCTYPE declares entities",
                         hostile.log), name
    sitemaps = hostile.results["xml-sitemaps"]
    assert sitemaps.stats["sitemaps/rejected-xml"] == 2
    assert sitemaps.stats.get("sitemaps/entries", 0) == 0


def test_a_feed_naming_an_external_dtd_is_read_but_the_dtd_is_never_fetched(hostile: Hostile) -> None:
    result = hostile.results["dtd-only"]
    assert result.stats["items/new"] == 1
    assert hostile.internal_paths == []


def test_passwd_content_never_reaches_a_document(hostile: Hostile) -> None:
    assert Path("/etc/passwd").read_text().startswith("root:")  # the marker is what leaks
    for doc in hostile.docs:
        blob = doc.to_json() if hasattr(doc, "to_json") else doc.model_dump_json()
        assert PASSWD_MARKER not in blob


@pytest.mark.parametrize("body", [
    BILLION_LAUGHS, QUADRATIC, XXE_FILE, XXE_HTTP, XXE_PARAM, SITEMAP_LAUGHS, SITEMAP_XXE,
    XXE_FILE.decode().encode("utf-16"),                       # UTF-16 with BOM
    b"\n\n  junk before the prolog " + XXE_FILE,               # expat cannot read it: byte scan
    XXE_FILE.replace(b"<?xml version=\"1.0\"?>", b'<?xml version="1.0" encoding="latin-1"?>'),
])
def test_xml_screen_rejects_entity_declarations(body: bytes) -> None:
    assert unsafe_xml_reason(body) is not None


@pytest.mark.parametrize("body", [
    EXTERNAL_DTD_ONLY,
    b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN" '
    b'"http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91"/>',
    b"<rss><channel><item><title>&amp; &lt;b&gt; &#163;</title></item></channel></rss>",
    b"<rss><channel><description><![CDATA[How XXE works: <!DOCTYPE x [<!ENTITY a 'b'>]>]]>"
    b"</description></channel></rss>",
    b"not xml at all",
    b"",
])
def test_xml_screen_lets_ordinary_documents_through(body: bytes) -> None:
    assert unsafe_xml_reason(body) is None


# -- SSRF ------------------------------------------------------------------------------------------

def test_loopback_in_any_spelling_is_refused_directly_and_after_redirects(hostile: Hostile) -> None:
    result = hostile.results["ssrf"]
    assert hostile.internal_paths == []
    assert result.stats["ssrf/blocked"] == 2 * len(LOOPBACK_FORMS)
    assert result.stats["items/refused/blocked"] == 2 * len(LOOPBACK_FORMS)
    assert len([p for p in hostile.paths if p.startswith("/safety/redirect-")]) == len(LOOPBACK_FORMS)


@pytest.mark.parametrize("form", LOOPBACK_FORMS)
def test_address_policy_resolves_every_loopback_spelling(form: str, internal: Any) -> None:
    # The real resolver; only the fixture site's host:port is allow-listed, not the internal one.
    with pytest.raises(BlockedAddressError):
        AddressPolicy(["127.0.0.1:1"]).check(form.format(port=internal.port))


def test_address_policy_refuses_a_host_that_does_not_resolve_in_time() -> None:
    def stuck(host: str, port: int) -> list[str]:
        time.sleep(2)
        return ["93.184.216.34"]

    started = time.monotonic()
    with pytest.raises(BlockedAddressError, match="did not resolve within"):
        AddressPolicy(resolver=stuck, dns_timeout=0.2).check("http://slow-dns.example/")
    assert time.monotonic() - started < 1.5


# -- timeouts and versions ----------------------------------------------------------------------

def test_every_network_step_has_a_timeout(make_settings: Any, tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    s = scrapy_settings(settings.crawl)
    assert 0 < s["DOWNLOAD_TIMEOUT"] <= 300
    assert 0 < s["DNS_TIMEOUT"] <= 300
    assert settings.crawl.process_timeout > 0  # the child's wall clock (test_runner kills one)


def test_a_server_that_never_answers_times_out(hostile: Hostile) -> None:
    result = hostile.results["slow"]
    assert result.status == "ok"
    assert "/safety/slow.html" in hostile.paths
    assert result.stats["items/failed"] == 1
    assert any(k.startswith("items/failed/") and "Timeout" in k for k in result.stats)
    # The 60 s response was abandoned after DOWNLOAD_TIMEOUT (5 s, three tries with the retries).
    assert hostile.elapsed < 45


def test_installed_scrapy_and_brotli_carry_the_decompression_bomb_fixes() -> None:
    from importlib.metadata import version

    assert Version(scrapy.__version__) >= SCRAPY_FLOOR
    assert Version(version("brotli")) >= BROTLI_FLOOR


def test_pyproject_pins_the_same_floors() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    deps = {re.split(r"[<>=!~ \[]", d, maxsplit=1)[0].lower(): d for d in pyproject["project"]["dependencies"]}
    assert f">={SCRAPY_FLOOR}" in deps["scrapy"]
    assert f">={BROTLI_FLOOR}" in deps["brotli"]
