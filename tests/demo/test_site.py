from __future__ import annotations

import urllib.error
import urllib.request
from html import unescape

import feedparser
import phonenumbers
import pytest
from lxml import etree, html

from demo import DemoSite, demo_sources_config
from osintel.sources import parse_sources

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
FEEDS = ["/feeds/news.rss", "/feeds/investigations.atom", "/feeds/courts.rdf", "/feeds/international.rss"]


def fetch(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def test_robots_txt_disallows_private_and_search_and_names_the_sitemap(demo_site):
    status, headers, body = fetch(demo_site.base_url + "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "User-agent: *" in text and "Disallow: /private/" in text and "Disallow: /search" in text
    assert f"Sitemap: {demo_site.base_url}/sitemap.xml" in text


@pytest.mark.parametrize("path", FEEDS)
def test_every_feed_parses_cleanly_and_its_links_resolve(demo_site, path):
    parsed = feedparser.parse(demo_site.base_url + path)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert len(parsed.entries) >= 80
    for entry in parsed.entries[:15]:
        assert entry.link.startswith(demo_site.base_url + "/")
        status, headers, _ = fetch(entry.link)
        assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"


def test_feeds_link_at_least_300_distinct_articles_each_in_one_feed(demo_site):
    links: list[str] = []
    for path in FEEDS:
        links += [e.link for e in feedparser.parse(demo_site.base_url + path).entries]
    article_links = [link for link in links if "/private/" not in link]
    assert len(set(article_links)) == len(article_links) >= 300
    expected = {demo_site.base_url + a.path for a in demo_site.articles if a.feed}
    assert set(article_links) == expected


def test_international_feed_holds_french_spanish_and_german_items(demo_site):
    parsed = feedparser.parse(demo_site.base_url + "/feeds/international.rss")
    langs = [e.get("language") for e in parsed.entries]
    assert len(parsed.entries) >= 45 and set(langs) == {"fr", "es", "de"}


def test_news_feed_dates_and_creators_are_present(demo_site):
    parsed = feedparser.parse(demo_site.base_url + "/feeds/news.rss")
    items = [e for e in parsed.entries if "/private/" not in e.link]
    assert all(e.published_parsed and e.author for e in items)


def test_sitemap_index_lists_child_sitemaps_and_archive_articles_in_no_feed(demo_site):
    _, _, body = fetch(demo_site.base_url + "/sitemap.xml")
    children = [loc.text for loc in etree.fromstring(body).iter(SM + "loc")]
    assert children == [demo_site.base_url + "/sitemaps/news.xml", demo_site.base_url + "/sitemaps/archive.xml"]
    _, _, archive_body = fetch(children[1])
    archive = {loc.text for loc in etree.fromstring(archive_body).iter(SM + "loc")}
    _, _, news_body = fetch(children[0])
    news = {loc.text for loc in etree.fromstring(news_body).iter(SM + "loc")}
    assert len(archive) >= 60 and len(news) >= 300 and not archive & news
    status, _, _ = fetch(sorted(archive)[0])
    assert status == 200


def test_article_page_has_real_world_structure_and_metadata(demo_site):
    article = next(a for a in demo_site.articles if a.lang == "fr")
    status, _, body = fetch(demo_site.base_url + article.path)
    assert status == 200
    doc = html.fromstring(body)
    assert doc.get("lang") == "fr"
    assert doc.xpath("//header//nav//a") and doc.xpath("//footer") and doc.xpath("//*[@id='cookie-banner']")
    assert doc.xpath("string(//article/h1)") == article.title
    assert doc.xpath("//meta[@property='og:title']/@content") == [article.title]
    assert doc.xpath("//meta[@name='author']/@content") == [article.author]
    assert doc.xpath("//meta[@property='article:published_time']/@content")
    assert doc.xpath("//link[@rel='canonical']/@href") == [demo_site.base_url + article.path]
    assert doc.xpath("//article//time/@datetime")
    assert len(doc.xpath("//section[@class='comments']//li")) == len(article.comments) >= 2
    assert len(doc.xpath("//aside[@class='related']//a")) == 3
    paragraphs = doc.xpath("//div[@class='story-body']/p/text()")
    assert paragraphs == article.paragraphs


def test_planted_identifiers_appear_in_the_served_page(demo_site):
    checked = 0
    for article in demo_site.articles[:60]:
        _, _, body = fetch(demo_site.base_url + article.path)
        text = unescape(body.decode("utf-8"))
        for key, values in article.planted.items():
            if key != "methods":
                for value in values:
                    assert value in text, (article.path, key, value)
                    checked += 1
        for phone in article.planted["phones"]:
            assert phonenumbers.is_valid_number(phonenumbers.parse(phone, "GB"))
    assert checked > 100


def test_generated_text_is_html_escaped(demo_site):
    article = next(a for a in demo_site.articles if any('"' in p for p in a.paragraphs))
    _, _, body = fetch(demo_site.base_url + article.path)
    page = body.decode()
    quoted = next(p for p in article.paragraphs if '"' in p)
    assert quoted not in page and quoted.replace('"', "&quot;") in page


def test_conditional_get_returns_304(demo_site):
    url = demo_site.base_url + demo_site.articles[5].path
    status, headers, _ = fetch(url)
    assert status == 200 and headers["ETag"] and headers["Last-Modified"]
    assert fetch(url, {"If-None-Match": headers["ETag"]})[0] == 304
    assert fetch(url, {"If-Modified-Since": headers["Last-Modified"]})[0] == 304
    assert fetch(url, {"If-None-Match": '"stale"'})[0] == 200
    status, headers, _ = fetch(demo_site.base_url + "/feeds/news.rss")
    assert fetch(demo_site.base_url + "/feeds/news.rss", {"If-None-Match": headers["ETag"]})[0] == 304


def test_unknown_path_is_404_and_every_request_is_logged():
    with DemoSite(seed=2026) as site:
        assert fetch(site.base_url + "/no/such/page.html")[0] == 404
        assert fetch(site.base_url + "/private/internal-memo.html")[0] == 200
        assert site.requests == [("GET", "/no/such/page.html"), ("GET", "/private/internal-memo.html")]


def test_exactly_one_feed_item_points_into_the_disallowed_private_area(demo_site):
    links = [e.link for path in FEEDS for e in feedparser.parse(demo_site.base_url + path).entries]
    assert [link for link in links if "/private/" in link] == [demo_site.base_url + "/private/internal-memo.html"]


def test_demo_sources_config_is_a_valid_sources_file(demo_site):
    config = parse_sources(demo_sources_config(demo_site.base_url))
    port = demo_site.base_url.rsplit(":", 1)[1]
    assert config.allow_private_hosts == [f"127.0.0.1:{port}"]
    ids = [s.id for s in config.sources]
    assert ids == ["demo-news", "demo-investigations", "demo-courts", "demo-international", "demo-archive",
                   "social-mastodon", "social-reddit", "social-bluesky", "social-telegram"]
    assert config.get("demo-archive").kind == "sitemap"
    for source in config.sources:
        if source.kind in ("feed", "sitemap"):
            assert fetch(source.urls[0])[0] == 200
        else:  # social sources name the demo host as their API base, and what to follow
            assert source.urls == [demo_site.base_url] and source.targets


def test_platform_endpoints_answer_before_site_routes_with_status_and_headers() -> None:
    import json
    import urllib.error
    import urllib.request

    from demo import DemoSite
    from demo.social import ApiResponse

    class Echo:
        def handle(self, path: str, query: dict[str, list[str]], base: str) -> ApiResponse | None:
            if path != "/api/echo":
                return None
            return ApiResponse.json({"q": query, "base": base}, status=429, headers={"Retry-After": "7"})

    with DemoSite(port=0) as site:
        site.apis.append(Echo())
        try:
            urllib.request.urlopen(f"{site.base_url}/api/echo?max_id=5&max_id=6")
        except urllib.error.HTTPError as err:
            assert err.code == 429 and err.headers["Retry-After"] == "7"
            assert json.loads(err.read()) == {"q": {"max_id": ["5", "6"]}, "base": site.base_url}
        else:
            raise AssertionError("expected a 429")
        assert urllib.request.urlopen(f"{site.base_url}/robots.txt").status == 200  # others fall through
