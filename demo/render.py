"""Render the demo site's pages, feeds and sitemaps as bytes. Pure functions of the corpus and base URL."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from html import escape
from xml.sax.saxutils import escape as xml_escape

from demo.content import DemoArticle

SITE_NAME = "The Harbour Courier"
SECTIONS = {
    "news": "News", "investigations": "Investigations", "courts": "Courts",
    "international": "International", "archive": "Archive",
}
FEED_PATHS = {
    "news": "/feeds/news.rss",
    "investigations": "/feeds/investigations.atom",
    "courts": "/feeds/courts.rdf",
    "international": "/feeds/international.rss",
}
PRIVATE_PATH = "/private/internal-memo.html"


def _iso(value: datetime) -> str:
    return value.isoformat().replace("+00:00", "Z")


def _page(*, title: str, lang: str, base: str, path: str, head: str = "", main: str) -> bytes:
    nav = "".join(f'<li><a href="/{key}/">{escape(label)}</a></li>' for key, label in SECTIONS.items())
    html = f"""<!DOCTYPE html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)} | {SITE_NAME}</title>
<link rel="canonical" href="{escape(base + path)}">
<link rel="alternate" type="application/rss+xml" title="News" href="/feeds/news.rss">
{head}
</head>
<body>
<div id="cookie-banner" class="cookie-consent" role="dialog" aria-label="Cookie consent">
<p>We use cookies to improve your experience and to show relevant adverts. By clicking "Accept all" you agree to our use of cookies.</p>
<button type="button">Accept all</button> <button type="button">Manage preferences</button>
</div>
<header class="site-header">
<a class="logo" href="/">{SITE_NAME}</a>
<nav class="main-nav" aria-label="Main"><ul><li><a href="/">Home</a></li>{nav}</ul></nav>
<form class="search" action="/search" method="get"><input name="q" placeholder="Search"></form>
</header>
<main>
{main}
</main>
<footer class="site-footer">
<nav aria-label="Footer"><a href="/about.html">About us</a> | <a href="/contact.html">Contact</a> | <a href="/privacy.html">Privacy notice</a> | <a href="/sitemap.xml">Sitemap</a> | <a href="/feeds/news.rss">RSS</a></nav>
<p>&copy; 2026 {SITE_NAME}. A fictional news site generated for software testing: every person, group, company, phone number, account and address in it is invented.</p>
</footer>
</body>
</html>
"""
    return html.encode("utf-8")


def _teaser(article: DemoArticle) -> str:
    return (f'<li class="teaser" lang="{article.lang}"><a href="{escape(article.path)}">{escape(article.title)}</a>'
            f' <time datetime="{_iso(article.published_at)}">{article.published_at:%d %b %Y}</time>'
            f"<p>{escape(article.summary)}</p></li>")


def article_page(article: DemoArticle, related: list[DemoArticle], base: str) -> bytes:
    """The full HTML page of one article, with the boilerplate a real news site wraps around it."""
    section = article.section
    body = "\n".join(f"<p>{escape(p)}</p>" for p in article.paragraphs)
    related_html = "".join(f'<li><a href="{escape(r.path)}">{escape(r.title)}</a></li>' for r in related)
    comments = "\n".join(
        f'<li class="comment"><span class="comment-author">{escape(c.author)}</span> '
        f'<time datetime="{_iso(c.posted_at)}">{c.posted_at:%d %b %Y %H:%M}</time>'
        f'<p class="comment-body">{escape(c.text)}</p></li>'
        for c in article.comments
    )
    head = (f'<meta property="og:title" content="{escape(article.title)}">\n'
            f'<meta property="og:type" content="article">\n'
            f'<meta name="description" content="{escape(article.summary)}">\n'
            f'<meta name="author" content="{escape(article.author)}">\n'
            f'<meta property="article:published_time" content="{_iso(article.published_at)}">\n'
            f'<meta property="article:section" content="{escape(SECTIONS[section])}">')
    main = f"""<nav class="breadcrumb" aria-label="Breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/{section}/">{escape(SECTIONS[section])}</a></nav>
<article class="story">
<h1>{escape(article.title)}</h1>
<p class="byline">By <span class="author">{escape(article.author)}</span> &middot; <time datetime="{_iso(article.published_at)}">{article.published_at:%d %B %Y, %H:%M}</time></p>
<div class="story-body">
{body}
</div>
</article>
<aside class="related"><h2>Related stories</h2><ul>{related_html}</ul></aside>
<section class="comments"><h2>Comments ({len(article.comments)})</h2>
<p class="comments-note">Comments are the views of readers, not of {SITE_NAME}.</p>
<ol>
{comments}
</ol></section>"""
    return _page(title=article.title, lang=article.lang, base=base, path=article.path, head=head, main=main)


def listing_page(title: str, articles: list[DemoArticle], base: str, path: str) -> bytes:
    """Home or section page: a list of teasers."""
    items = "\n".join(_teaser(a) for a in articles)
    return _page(title=title, lang="en", base=base, path=path,
                 main=f'<h1>{escape(title)}</h1>\n<ul class="teasers">\n{items}\n</ul>')


def static_page(title: str, text: str, base: str, path: str) -> bytes:
    return _page(title=title, lang="en", base=base, path=path,
                 main=f"<h1>{escape(title)}</h1>\n<p>{escape(text)}</p>")


def rss2(feed: str, title: str, articles: list[DemoArticle], base: str, *, extra_links: Sequence[tuple[str, str]] = ()) -> bytes:
    """RSS 2.0 with ``dc:creator`` and per-item ``dc:language``. ``extra_links``: (title, path) items."""
    items = []
    for title_, path in extra_links:
        items.append(f"<item><title>{xml_escape(title_)}</title><link>{xml_escape(base + path)}</link>"
                     f"<guid isPermaLink=\"true\">{xml_escape(base + path)}</guid></item>")
    for a in articles:
        url = xml_escape(base + a.path)
        items.append(
            f"<item><title>{xml_escape(a.title)}</title><link>{url}</link>"
            f'<guid isPermaLink="true">{url}</guid>'
            f"<pubDate>{format_datetime(a.published_at, usegmt=True)}</pubDate>"
            f"<dc:creator>{xml_escape(a.author)}</dc:creator><dc:language>{a.lang}</dc:language>"
            f"<category>{xml_escape(a.topic)}</category>"
            f"<description>{xml_escape(a.summary)}</description></item>"
        )
    updated = format_datetime(articles[0].published_at, usegmt=True)
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:atom="http://www.w3.org/2005/Atom">
<channel>
<title>{xml_escape(f"{SITE_NAME}: {title}")}</title>
<link>{xml_escape(base + "/" + feed + "/")}</link>
<atom:link href="{xml_escape(base + FEED_PATHS[feed])}" rel="self" type="application/rss+xml"/>
<description>{xml_escape(title)} from {SITE_NAME}</description>
<lastBuildDate>{updated}</lastBuildDate>
{chr(10).join(items)}
</channel>
</rss>
"""
    return xml.encode("utf-8")


def atom(feed: str, title: str, articles: list[DemoArticle], base: str) -> bytes:
    """Atom 1.0; entry links are *relative* and resolved against ``xml:base`` (as some CMSs do)."""
    entries = []
    for a in articles:
        entries.append(
            f"<entry><title>{xml_escape(a.title)}</title>"
            f'<link rel="alternate" type="text/html" href="{xml_escape(a.path.lstrip("/"))}"/>'
            f"<id>tag:harbour-courier.example,2026:{a.slug}</id>"
            f"<published>{_iso(a.published_at)}</published><updated>{_iso(a.published_at)}</updated>"
            f"<author><name>{xml_escape(a.author)}</name></author>"
            f'<category term="{xml_escape(a.topic)}"/>'
            f"<summary>{xml_escape(a.summary)}</summary></entry>"
        )
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="{xml_escape(base)}/" xml:lang="en">
<title>{xml_escape(f"{SITE_NAME}: {title}")}</title>
<id>tag:harbour-courier.example,2026:{feed}</id>
<link rel="self" href="{xml_escape(FEED_PATHS[feed].lstrip("/"))}"/>
<link rel="alternate" type="text/html" href="{feed}/"/>
<updated>{_iso(articles[0].published_at)}</updated>
{chr(10).join(entries)}
</feed>
"""
    return xml.encode("utf-8")


def rdf(feed: str, title: str, articles: list[DemoArticle], base: str) -> bytes:
    """RSS 1.0 (RDF) with ``dc:date`` and ``dc:creator``."""
    seq = "".join(f'<rdf:li rdf:resource="{xml_escape(base + a.path)}"/>' for a in articles)
    items = "\n".join(
        f'<item rdf:about="{xml_escape(base + a.path)}"><title>{xml_escape(a.title)}</title>'
        f"<link>{xml_escape(base + a.path)}</link><description>{xml_escape(a.summary)}</description>"
        f"<dc:date>{_iso(a.published_at)}</dc:date><dc:creator>{xml_escape(a.author)}</dc:creator>"
        f"<dc:language>{a.lang}</dc:language></item>"
        for a in articles
    )
    channel = xml_escape(base + FEED_PATHS[feed])
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel rdf:about="{channel}">
<title>{xml_escape(f"{SITE_NAME}: {title}")}</title>
<link>{xml_escape(base + "/" + feed + "/")}</link>
<description>{xml_escape(title)} from {SITE_NAME}</description>
<items><rdf:Seq>{seq}</rdf:Seq></items>
</channel>
{items}
</rdf:RDF>
"""
    return xml.encode("utf-8")


def sitemap_index(base: str, children: list[tuple[str, datetime]]) -> bytes:
    entries = "".join(f"<sitemap><loc>{xml_escape(base + path)}</loc><lastmod>{_iso(when)}</lastmod></sitemap>"
                      for path, when in children)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>\n').encode("utf-8")


def urlset(base: str, articles: list[DemoArticle]) -> bytes:
    entries = "\n".join(f"<url><loc>{xml_escape(base + a.path)}</loc><lastmod>{_iso(a.published_at)}</lastmod></url>"
                        for a in articles)
    return (f'<?xml version="1.0" encoding="utf-8"?>\n'
            f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n{entries}\n</urlset>\n').encode("utf-8")
