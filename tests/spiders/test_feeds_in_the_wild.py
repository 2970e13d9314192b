"""Feeds as they are found in the wild, crawled end to end through run_crawl on loopback.

The feeds are golden files under ``fixtures/wild/`` (``{{BASE}}`` replaced by the live site),
served with the Content-Type each case needs; the article pages they link to are generated.
One module-scoped crawl covers every feed; a second crawl checks the huge feed's backlog.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from osintel.records import Document
from osintel.store import ControlStore
from spiders.runner import CrawlResult, run_crawl

WILD = Path(__file__).parent / "fixtures" / "wild"
HUGE_ITEMS = 5000
MAX_ITEMS = 25

#: path -> (fixture file, Content-Type it is served with)
FEEDS = {
    "/wild/rss091.xml": ("rss091.xml", "application/rss+xml"),
    "/wild/rss092.xml": ("rss092.xml", "text/xml"),
    "/wild/rss10.rdf": ("rss10.rdf", "application/rdf+xml"),
    "/wild/rss20.xml": ("rss20.xml", "application/rss+xml; charset=utf-8"),
    "/wild/atom03.xml": ("atom03.xml", "application/atom+xml"),
    "/wild/atom10.xml": ("atom10.xml", "application/atom+xml"),
    "/wild/feeds/relative.xml": ("relative.xml", "application/rss+xml"),
    "/wild/html-titles.xml": ("html-titles.xml", "application/rss+xml"),
    "/wild/cp1252.xml": ("cp1252-declared-utf8.xml", "application/rss+xml; charset=utf-8"),
    "/wild/latin1.xml": ("latin1-wrong-header.xml", "text/xml; charset=utf-8"),
    "/wild/utf8.xml": ("utf8-labelled-latin1.xml", "application/rss+xml; charset=ISO-8859-1"),
    "/wild/sitemap-index.xml": ("sitemap-index.xml", "application/xml"),
    "/wild/sitemap-more.xml": ("sitemap-more.xml", "application/xml"),
}
#: Article pages that carry a publication date of their own.
PAGE_DATES = {"rss091-dated": "2024-11-05T14:20:00+00:00"}
ARTICLES = [
    "/wild/a/rss091-dated.html", "/wild/a/rss091-undated.html", "/wild/a/rss092-1.html",
    "/wild/a/rss10-1.html", "/wild/a/rss20-1.html", "/wild/a/atom03-1.html",
    "/wild/x/atom10-base.html", "/wild/deep/atom10-entrybase.html",
    "/wild/feeds/rel-1.html", "/wild/a/rel-2.html", "/wild/a/rel-3.html",
    "/wild/a/title-1.html", "/wild/a/title-2.html", "/wild/a/title-3.html",
    "/wild/a/enc-cp1252.html", "/wild/a/enc-latin1.html", "/wild/a/enc-utf8.html",
    "/wild/a/sm-1.html", "/wild/a/sm-2.html", "/wild/a/sm-3.html",
] + [f"/wild/huge/{i}.html" for i in range(HUGE_ITEMS)]


def article_html(slug: str, date: str | None = None) -> bytes:
    """A small but real article page; its text names ``slug`` so every page hashes differently."""
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    return f"""<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<title>Page title {slug}</title>{meta}</head><body><article><h1>Page headline {slug}</h1>
<p>Officers from the regional organised crime unit said the investigation {slug} began after
intelligence was shared by partner agencies. Several people were arrested and later charged.</p>
<p>A spokesperson said enquiries in case {slug} are continuing and appealed for information.</p>
</article></body></html>""".encode()


def huge_feed(base: str) -> bytes:
    items = "".join(
        f"<item><title>Item {i}</title><link>{base}/wild/huge/{i}.html</link></item>\n"
        for i in range(HUGE_ITEMS)
    )
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Huge</title>'
            f"<link>{base}/</link><description>5,000 items</description>\n{items}</channel></rss>").encode()


def register_wild_routes(site: Any) -> None:
    """Serve the wild fixtures and their article pages from the session's fixture site."""
    base = site.base.encode()

    def static(name: str, ctype: str, *, gz: bool = False) -> Any:
        def route(handler: Any) -> None:
            body = (WILD / name).read_bytes().replace(b"{{BASE}}", base)
            handler._send(200, gzip.compress(body) if gz else body, ctype)
        return route

    for path, (name, ctype) in FEEDS.items():
        site.routes[path] = static(name, ctype)
    site.routes["/wild/sitemap-pages.xml.gz"] = static("sitemap-pages.xml", "application/x-gzip", gz=True)
    huge = huge_feed(site.base)
    site.routes["/wild/huge.xml"] = lambda h: h._send(200, huge, "application/rss+xml")
    for path in ARTICLES:
        slug = path.rsplit("/", 1)[-1].removesuffix(".html")
        page = article_html(slug, PAGE_DATES.get(slug))
        site.routes[path] = lambda h, page=page: h._send(200, page)


@dataclass
class Wild:
    first: dict[str, CrawlResult]
    second: dict[str, CrawlResult]
    paths: list[str]
    second_paths: list[str]
    docs: dict[str, Document]


@pytest.fixture(scope="module")
def wild(site: Any, make_settings: Any, make_sources: Any,
         tmp_path_factory: pytest.TempPathFactory) -> Wild:
    register_wild_routes(site)
    settings = make_settings(tmp_path_factory.mktemp("wild"), **{"crawl.max_pages": 200})
    feed_sources = [
        {"id": path.strip("/").replace("/", "-").replace(".", "-"), "kind": "feed",
         "urls": [f"{site.base}{path}"]}
        for path in FEEDS if "sitemap" not in path
    ]
    sources = make_sources(site, [
        *feed_sources,
        {"id": "huge", "kind": "feed", "urls": [f"{site.base}/wild/huge.xml"],
         "options": {"max_items_per_feed": MAX_ITEMS}},
        {"id": "wild-sitemap", "kind": "sitemap", "urls": [f"{site.base}/wild/sitemap-index.xml"]},
    ])
    site.clear()
    first = {r.source_id: r for r in run_crawl(settings, sources, [])}
    paths = site.paths()
    site.clear()
    second = {r.source_id: r for r in run_crawl(settings, sources, ["huge"])}
    second_paths = site.paths()
    with ControlStore(settings.store_path) as store:
        docs = {d.url.split("/", 3)[-1]: d for d in store.iter_documents()}
    return Wild(first, second, paths, second_paths, docs)


def doc(wild: Wild, path: str) -> Document:
    found = wild.docs.get(path.lstrip("/"))
    assert found is not None, f"no document for {path}; have {sorted(wild.docs)[:40]}"
    return found


def test_every_feed_flavour_is_parsed_and_its_articles_collected(wild: Wild) -> None:
    for source_id, result in wild.first.items():
        assert result.status == "ok", (source_id, result.error)
        assert result.stats.get("feeds/malformed", 0) == 0, source_id
    assert doc(wild, "/wild/a/rss091-undated.html").title == "Port workers questioned"
    assert doc(wild, "/wild/a/rss092-1.html").title == "Money mule network charged"
    rdf = doc(wild, "/wild/a/rss10-1.html")
    assert (rdf.title, rdf.author) == ("Firearms smuggling gang jailed", "Ana Lima")
    assert rdf.published_at == datetime(2025, 2, 11, 8, 15, tzinfo=timezone.utc)
    rss2 = doc(wild, "/wild/a/rss20-1.html")
    assert rss2.published_at == datetime(2025, 3, 4, 18, 0, tzinfo=timezone.utc)
    assert rss2.author == "Sam Reid"
    atom03 = doc(wild, "/wild/a/atom03-1.html")
    assert (atom03.title, atom03.author) == ("Counterfeit vodka lab dismantled", "Kim Park")
    assert atom03.published_at == datetime(2025, 1, 20, 10, 30, tzinfo=timezone.utc)
    # The RSS 0.92 item with neither title nor link is counted, not fatal.
    assert wild.first["wild-rss092-xml"].stats["feeds/entries_without_link"] == 1


def test_items_without_dates_still_make_documents(wild: Wild) -> None:
    # No date in the feed: the page's own date is used, and when the page has none either the
    # document is still stored, undated.
    assert doc(wild, "/wild/a/rss091-dated.html").published_at == datetime(
        2024, 11, 5, 14, 20, tzinfo=timezone.utc)
    assert doc(wild, "/wild/a/rss091-undated.html").published_at is None


def test_relative_links_resolve_against_xml_base_or_the_feed_url(wild: Wild) -> None:
    for path in ("/wild/x/atom10-base.html", "/wild/deep/atom10-entrybase.html",
                 "/wild/feeds/rel-1.html", "/wild/a/rel-2.html", "/wild/a/rel-3.html"):
        assert path in wild.paths
        doc(wild, path)
    assert doc(wild, "/wild/deep/atom10-entrybase.html").title == "Relative to the entry's xml:base"
    # javascript: and file: links are never requested.
    assert wild.first["wild-feeds-relative-xml"].stats["feeds/entries_bad_link"] == 2


def test_titles_are_plain_text_with_tags_and_scripts_stripped_and_entities_decoded(wild: Wild) -> None:
    assert doc(wild, "/wild/a/title-1.html").title == "Drugs & guns seized in Leeds"
    assert doc(wild, "/wild/a/title-2.html").title == "County lines – boy, 15, “exploited”"
    third = doc(wild, "/wild/a/title-3.html")
    assert third.title == "Fraudster’s £3m villa seized"
    assert third.author is not None and "<" not in third.author
    for d in wild.docs.values():
        assert "<" not in d.title and "&amp;" not in d.title and "alert" not in d.title


def test_wrong_encodings_are_read_correctly(wild: Wild) -> None:
    assert doc(wild, "/wild/a/enc-cp1252.html").title == "Café raid: £2m “cash” seized"
    assert doc(wild, "/wild/a/enc-latin1.html").title == "Señora Núñez arrested in Málaga"
    assert doc(wild, "/wild/a/enc-utf8.html").title == "Zürich ‘crypto’ fraud – €40m"


def test_huge_feed_follows_only_the_first_n_new_items_per_crawl(wild: Wild) -> None:
    first, second = wild.first["huge"], wild.second["huge"]
    assert first.status == second.status == "ok"
    assert first.stats["feeds/entries"] == HUGE_ITEMS
    assert first.stats["items/new"] == MAX_ITEMS
    assert first.stats["feeds/entries_deferred"] == HUGE_ITEMS - MAX_ITEMS
    fetched = sorted(int(p.rsplit("/", 1)[-1].split(".")[0]) for p in wild.paths
                     if p.startswith("/wild/huge/"))
    assert fetched == list(range(MAX_ITEMS))
    # The next crawl skips what it has and takes the next N.
    assert second.stats["items/new"] == MAX_ITEMS
    assert second.stats["items/seen"] == MAX_ITEMS
    fetched2 = sorted(int(p.rsplit("/", 1)[-1].split(".")[0]) for p in wild.second_paths
                      if p.startswith("/wild/huge/"))
    assert fetched2 == list(range(MAX_ITEMS, 2 * MAX_ITEMS))


def test_sitemap_index_to_gzipped_and_plain_url_sets(wild: Wild) -> None:
    result = wild.first["wild-sitemap"]
    assert result.status == "ok"
    assert result.stats["sitemaps/fetched"] == 3  # the index, the .xml.gz and the plain url set
    assert result.stats["items/new"] == 3
    for path in ("/wild/a/sm-1.html", "/wild/a/sm-2.html", "/wild/a/sm-3.html"):
        assert doc(wild, path).source.id == "wild-sitemap"
